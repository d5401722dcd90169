"""Figures: what was drawn (structure, labels), not pixels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from probmodel.analysis.sensitivity import Tornado
from probmodel.plots import run as prun
from probmodel.plots import sensitivity as ps


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_xlabel()]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
            out.append(leg.get_title().get_text())
    return out


def test_distributions_one_panel_per_output_with_p_profit():
    rng = np.random.default_rng(0)
    profit = rng.normal(1e4, 5e4, 20_000)
    draws = {"margin": profit / 1.3e5, "profit": profit,
             "chips_required": rng.lognormal(8, 0.3, 20_000)}
    fig = prun.plot_distributions(draws, 0.5793, 0.004, "T")
    assert len(fig.axes) == 3
    assert [a.get_xlabel() for a in fig.axes] == [
        "margin (%)", "profit ($k/day)", "chips_required (thousand chips)"]
    notes = [t for t in _texts(fig) if "P(profit > 0)" in t]
    assert len(notes) == 2  # margin and profit panels, not chips
    assert all("57.9% ± 0.4% (MCSE)" in t for t in notes)
    with pytest.raises(ValueError, match="none of"):
        prun.plot_distributions({"revenue": profit})


def test_exceedance_is_one_minus_the_cdf_and_marks_zero():
    x = np.arange(1, 1001, dtype=float) * 1000 - 300_000  # 300 of 1000 draws <= 0
    fig = prun.plot_exceedance(x)
    ax = fig.axes[0]
    line = ax.lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert np.all(np.diff(xs) >= 0)
    assert np.all(np.diff(ys) <= 0)
    assert ax.get_xlabel() == "profit ($k/day)"
    # the marked point: P(profit > 0) = 700/1000 at x = 0
    assert any("70.0% ±" in t for t in _texts(fig))


def _tornado(scale=1.0):
    return Tornado("margin", 0.04, ("pay_rate", "gpu_price_per_hour", "dau"),
                   np.array([0.1507, 1.5, 1.67e7]), np.array([0.578, 2.67, 3.75e7]),
                   np.array([-1.2, 0.28, 0.04]) * scale, np.array([0.42, -0.28, 0.04]) * scale,
                   ("1", "USD/(GPU h)", "user"), "T")


def test_tornado_leaves_out_inputs_without_effect_and_labels_with_units():
    fig = ps.plot_tornado(_tornado())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pay_rate", "gpu_price_per_hour"]
    labels = [t.get_text() for t in ax.texts]
    assert "15.1%" in labels
    assert "57.8%" in labels
    assert "$1.50/GPU-h" in labels
    assert "$2.67/GPU-h" in labels
    assert any("dau" in t and "no effect" in t for t in _texts(fig))
    # the legend sits under the axes, not over a bar
    assert ax.get_legend().get_bbox_to_anchor().y0 < ax.get_window_extent().y0


def test_two_range_tornado_has_inner_bars_inside_outer_ones():
    outer, inner = _tornado(1.0), _tornado(0.6)
    fig = ps.plot_tornado_ranges(outer, inner)
    bars = fig.axes[0].patches
    assert len(bars) == 4 * 2  # outer low/high and inner low/high for 2 moving inputs
    widths = np.array([abs(b.get_width()) for b in bars]).reshape(4, 2)
    assert np.all(widths[2:] < widths[:2])


def test_spider_one_line_per_input_over_percentiles():
    pct = np.arange(5, 100, 10)
    med = {"pay_rate": np.linspace(-1, 0.4, 10), "v3_share": np.linspace(0.1, -0.1, 10)}
    fig = ps.plot_spider("margin", pct, med, 0.0, "T", per_bin=500)
    ax = fig.axes[0]
    names = [ln.get_label() for ln in ax.lines]
    assert names[:2] == ["pay_rate", "v3_share"]
    assert np.allclose(ax.lines[0].get_ydata(), med["pay_rate"] * 100)
    assert ax.get_xlabel() == "percentile of the input (%)"
    assert "500 draws per point" in ax.get_title()


def test_projection_margin_is_linear_with_the_50pct_band_in_view():
    from probmodel.analysis.projection import Fan
    from probmodel.plots import projection as pp

    years = np.arange(2025, 2031)
    q = np.array([[-30.0] * 6, [-4.0] * 6, [-2.0] * 6, [-0.5] * 6, [0.2] * 6])
    inside = np.full(6, -1.0)
    outside = np.array([-1.0, -1.0, -40.0, -1.0, -1.0, -1.0])  # below the 5% quantile
    fan = Fan("margin", years, (0.05, 0.25, 0.5, 0.75, 0.95), q, np.stack([inside, outside]))
    fig = pp.plot_fans([fan])
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    lo, hi = ax.get_ylim()
    assert -3000 < lo < -400  # 50% band (-400%) in view, the 5% quantile (-3000%) cut
    assert hi > 20
    paths = [ln for ln in ax.lines if ln.get_color() == pp.PATH_COLOUR]
    assert len(paths) == 1
    assert np.allclose(paths[0].get_ydata(), inside * 100)
    assert sum("5%: -3,000" in t.get_text() for t in ax.texts) == 6


def test_compare_forest_legend_is_outside_the_axes():
    import xarray as xr

    from probmodel.plots import compare as pc

    names = ["a", "b"]
    stats = ["q05", "q25", "q50", "q75", "q95"]
    vals = np.array([[-1.0, -0.5, 0.0, 0.3, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5]])
    diff = np.zeros((2, 1, 5))
    diff[1, 0] = [0.1, 0.2, 0.3, 0.4, 0.5]
    ds = xr.Dataset(
        {"margin": (("scenario", "stat"), vals),
         "p_profitable": ("scenario", [0.5, 0.9]),
         "p_profitable_mcse": ("scenario", [0.01, 0.01]),
         "difference": (("scenario", "versus", "stat"), diff),
         "p_greater": (("scenario", "versus"), [[0.5], [0.8]]),
         "p_greater_mcse": (("scenario", "versus"), [[0.0], [0.01]])},
        coords={"scenario": names, "versus": ["a"], "stat": stats})
    fig = pc.plot_forest(ds, "margin")
    assert fig.axes[0].get_legend() is None
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "90% interval", "50% interval", "median"]


@pytest.mark.parametrize(("p", "se", "shown"), [
    (0.4895, 0.0003, "48.95% ± 0.03%"),     # 2^22 draws: never "± 0.0%"
    (0.4895, 0.00005, "48.950% ± 0.005%"),  # 1e8 draws
    (0.4895, 0.0011, "48.9% ± 0.1%"),
])
def test_figure_probability_never_rounds_a_nonzero_mcse_to_zero(p, se, shown):
    text = prun._p_text(p, se)
    assert shown in text
    assert "± 0.0%" not in text
    assert "± 0.00%" not in text


def test_probabilities_in_figures_keep_a_digit_of_their_mcse():
    from probmodel.report.numbers import probability

    assert probability(0.48952, 0.0004) == "0.4895 ± 0.0004"
    assert probability(0.48952, 0.012) == "0.490 ± 0.012"
    assert probability(0.5, 0.0) == "0.500"
