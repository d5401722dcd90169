"""Figures saved by the helper process are the files this process would save.

probmodel.plots.render hands all but the last figure to a second process; anything it
cannot do falls back to saving here. Each test compares file bytes (PNG) and names.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.ticker import FuncFormatter

from probmodel.plots import render
from probmodel.plots import run as prun


def _figures(with_lambda: bool = False) -> dict:
    rng = np.random.default_rng(1)
    profit = rng.normal(1e4, 5e4, 5_000)
    draws = {"margin": profit / 1.3e5, "profit": profit,
             "chips_required": rng.lognormal(8, 0.3, 5_000)}
    figs = {"distributions": prun.plot_distributions(draws, 0.58, 0.004, "T"),
            "exceedance": prun.plot_exceedance(profit, 0.58, 0.004, "T")}
    if with_lambda:  # a figure that cannot be pickled
        fig, ax = plt.subplots(layout="constrained")
        ax.plot([0, 1], [0, 1])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:.1f}!"))
        figs = {"lambda": fig, **figs}
    return figs


@pytest.fixture
def helper(monkeypatch):
    monkeypatch.setenv("PROBMODEL_FIGURE_PROCESS", "1")
    render._stop()
    render.start()
    assert render._WORKER is not None
    yield render._WORKER
    render._stop()


def _save_here(tmp_path, figs) -> dict[str, bytes]:
    folder = tmp_path / "here"
    folder.mkdir()
    names = [f for n, fig in figs.items() for f in render.save(fig, folder, n)]
    return {n: (folder / n).read_bytes() for n in names}


def test_helper_saves_the_same_files(tmp_path, helper):
    expected = _save_here(tmp_path, _figures())
    pending = render.submit(_figures(), tmp_path / "figures")
    assert pending.remote == ["distributions"]  # all but the last figure
    names = pending.wait()
    assert names == ["distributions.png", "distributions.svg", "exceedance.png",
                     "exceedance.svg"]
    for n in names:
        if n.endswith(".png"):
            assert (tmp_path / "figures" / n).read_bytes() == expected[n], n
        else:  # SVGs carry their creation date
            assert (tmp_path / "figures" / n).stat().st_size > 1000


def test_a_figure_that_does_not_pickle_is_saved_here(tmp_path, helper):
    pending = render.submit(_figures(with_lambda=True), tmp_path / "figures")
    assert pending.remote == ["distributions"]
    names = pending.wait()
    assert names[:2] == ["lambda.png", "lambda.svg"]
    assert all((tmp_path / "figures" / n).stat().st_size > 1000 for n in names)


def test_a_dead_helper_means_figures_saved_here(tmp_path, helper):
    expected = _save_here(tmp_path, _figures())
    pending = render.submit(_figures(), tmp_path / "figures")
    helper.kill()
    helper.wait()
    names = pending.wait()
    assert render._WORKER is None  # stopped, never reused
    for n in names:
        if n.endswith(".png"):
            assert (tmp_path / "figures" / n).read_bytes() == expected[n], n


def test_without_the_helper_everything_is_saved_here(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBMODEL_FIGURE_PROCESS", "0")
    render._stop()
    render.start()
    assert render._WORKER is None
    pending = render.submit(_figures(), tmp_path / "figures")
    assert pending.remote == []
    assert len(pending.wait()) == 4
