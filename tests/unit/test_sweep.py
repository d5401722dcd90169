"""Sweeps: grid parsing, the report's point grids, common random numbers, one compile per
sweep, summaries, figures, and the command end to end."""

import importlib.util
import json
import logging
from pathlib import Path

import f32  # tests/f32.py: float32 comparisons across graphs
import jax
import numpy as np
import pytest
import xarray as xr

import probmodel
from probmodel import results
from probmodel.analysis import sweep as sw
from probmodel.cli import main
from probmodel.errors import UsageError

ADJ = "deepseek-adjusted.toml"
BOT = "chatbot-h20.toml"


def _reference():
    path = Path(__file__).resolve().parents[1] / "reference/test_report_tables.py"
    spec = importlib.util.spec_from_file_location("report_tables", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / ADJ)


@pytest.fixture(scope="module")
def bot(priors):
    return probmodel.load_scenario(priors / BOT)


# --------------------------------------------------------------------------- parsing


def test_parse_lists_and_inclusive_ranges():
    g = sw.parse_grid(["pay_rate=0.25:0.45:0.05", "gpu_cost_share=0.6, 0.7,0.8"])
    assert g.names == ("pay_rate", "gpu_cost_share")
    # STOP included, binary noise rounded away (0.25 + 1 x 0.05 is exactly 0.3 here)
    assert g.values[0].tolist() == [0.25, 0.3, 0.35, 0.4, 0.45]
    assert g.values[1].tolist() == [0.6, 0.7, 0.8]
    assert g.shape == (5, 3)
    assert g.n_cells == 15
    cells = g.cells()
    assert cells["pay_rate"][:3].tolist() == [0.25, 0.25, 0.25]  # first name outermost
    assert cells["gpu_cost_share"][:3].tolist() == [0.6, 0.7, 0.8]
    assert sw.parse_grid(["users=1e7:3e7:1e7"]).values[0].tolist() == [1e7, 2e7, 3e7]
    assert sw.parse_grid(["x=0:1:0.3"]).values[0].tolist() == [0, 0.3, 0.6, 0.9]  # 1 not on grid


@pytest.mark.parametrize(("item", "fragment"), [
    ("pay_rate", "NAME=V1,V2"),
    ("pay_rate=", "no values"),
    ("pay_rate=0.3,,0.4", "empty value"),
    ("pay_rate=0.3,abc", "'abc' is not a number"),
    ("pay_rate=nan", "not a number"),
    ("pay_rate=inf,0.3", "not a number"),
    ("pay_rate=0.1:0.5:0", "step (0) must be positive"),
    ("pay_rate=0.1:0.5:-0.1", "must be positive"),
    ("pay_rate=0.5:0.1:0.1", "below start"),
    ("pay_rate=0.1:0.5", "START:STOP:STEP"),
    ("pay_rate=0:1e9:1", "at most 10,000"),
    ("pay_rate=0.3,0.3", "repeated"),
])
def test_bad_grid_syntax(item, fragment):
    with pytest.raises(UsageError) as e:
        sw.parse_grid([item])
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_grid_combinations(adj):
    with pytest.raises(UsageError, match="given twice"):
        sw.parse_grid(["pay_rate=0.3", "pay_rate=0.4"])
    with pytest.raises(UsageError, match=r"1,000 x 1,000|1000 x 1000"):
        sw.parse_grid(["pay_rate=0:0.999:0.001", "gpu_cost_share=0.001:1:0.001"])
    with pytest.raises(UsageError, match="at least one"):
        sw.parse_grid([])
    cases = [
        ("pay_rat=0.3", "did you mean 'pay_rate'"),
        ("pay_rate=0.3,1.5", "pay_rate=1.5 is outside its domain (0, 1]"),
        ("gpu_cost_share=0", "outside its domain"),
        ("users=1e7,2e7", "users does not enter margin"),
    ]
    for item, fragment in cases:
        with pytest.raises(UsageError) as e:
            sw.check_grid(adj, sw.parse_grid([item]), "margin")
        assert fragment in str(e.value)
    with pytest.raises(UsageError, match="not computed by scenario deepseek-adjusted"):
        sw.check_grid(adj, sw.parse_grid(["pay_rate=0.3"]), "chips_required")
    set_adj = adj.with_overrides({"pay_rate": 0.3})
    with pytest.raises(UsageError, match="also fixed by --set"):
        sw.check_grid(set_adj, sw.parse_grid(["pay_rate=0.3,0.4"]), "margin")


def test_default_output(adj, bot):
    assert sw.default_output(adj) == "margin"
    assert sw.default_output(bot) == "chips_required"


# --------------------------------------------------------------------------- point grids


def test_point_grid_reproduces_table15(adj):
    ref = _reference()
    g = sw.parse_grid(["pay_rate=0.25:0.45:0.05", "gpu_cost_share=0.6,0.7,0.8"])
    ds = sw.sweep_point(adj, g)
    for (pay, share), expected in ref.TABLE15.items():
        m = float(ds["margin"].sel(pay_rate=pay, gpu_cost_share=share))
        assert m == pytest.approx(expected, abs=5e-5)  # the report's 4-decimal values
        single = probmodel.point(adj.with_overrides({"pay_rate": pay, "gpu_cost_share": share}))
        assert m == pytest.approx(single["margin"], rel=1e-12)
    assert ds["margin"].dims == ("pay_rate", "gpu_cost_share")
    assert ds["margin"].attrs["units"] == "1"


def test_point_grid_reproduces_table21(bot):
    ref = _reference()
    g = sw.make_grid({"users": ref.TABLE21_USERS, "requests_per_user_per_day": ref.TABLE21_REQ})
    chips = sw.sweep_point(bot, g)["chips_required"]
    for users in ref.TABLE21_USERS:
        for req in ref.TABLE21_REQ:
            v = float(chips.sel(users=users, requests_per_user_per_day=req))
            assert v == pytest.approx(661_375.66 * (users / 5e7) * (req / 20), rel=1e-6)
    # corners in the report's unit (万 = 10,000 chips)
    assert round(float(chips.isel(users=0, requests_per_user_per_day=0)) / 1e4, 1) == 19.8
    assert round(float(chips.isel(users=-1, requests_per_user_per_day=-1)) / 1e4, 1) == 198.4


# --------------------------------------------------------------------------- Monte Carlo


def test_one_compile_for_100_cells_and_common_random_numbers(adj, caplog):
    g = sw.parse_grid(["pay_rate=0.1:1:0.1", "gpu_cost_share=0.1:1:0.1"])
    assert g.n_cells == 100
    before = sw._eval_block._cache_size()
    # 1,499 draws: a shape no other test uses, so this sweep must compile exactly once
    with caplog.at_level(logging.WARNING, logger="jax"), jax.log_compiles():
        res = sw.sweep(adj, g, draws=1499, seed=3, keep=1499)
    compiles = [r for r in caplog.records if "Compiling" in r.getMessage()
                and "_eval_block" in r.getMessage()]
    assert len(compiles) == 1  # two blocks of 50 cells, one compiled function
    assert sw._eval_block._cache_size() - before == 1
    # Common random numbers: the break-even pay rate does not depend on pay_rate, so its
    # draws are bit-identical along the pay_rate axis; margin rises with pay_rate in
    # every single draw.
    be = res.kept["break_even_pay_rate"].isel(chain=0)
    assert (be == be.isel(pay_rate=0)).all()
    m = res.kept["margin"].isel(chain=0).transpose("draw", "gpu_cost_share", "pay_rate").values
    assert (np.diff(m, axis=-1) > 0).all()
    assert dict(res.kept.sizes) == {"chain": 1, "draw": 1499, "pay_rate": 10,
                                    "gpu_cost_share": 10}


def test_cell_draws_are_the_run_draws(adj):
    # Draw j of every unswept input is draw j of `probmodel run` with the same seed, so a
    # cell's margin is the run's cost and revenue with pay_rate set to the cell's value.
    g = sw.parse_grid(["pay_rate=0.3,0.4"])
    res = sw.sweep(adj, g, draws=3000, seed=11, keep=3000)
    ds = probmodel.simulate(adj, draws=3000, seed=11).isel(chain=0)
    cost = ds["total_cost"].values.astype(np.float64)
    rev = ds["revenue_before_pay_rate"].values.astype(np.float64)
    for pay in (0.3, 0.4):
        cell = res.kept["margin"].sel(pay_rate=pay).isel(chain=0).values
        # margin = 1 - cost / revenue in another graph: ulps of its operands 1 and cost/rev
        f32.assert_close(cell, 1 - cost / (pay * rev), 1.0, cost / (pay * rev), what="margin")
        p = float(res.summary["p_profitable"].sel(pay_rate=pay))
        assert p == pytest.approx(float((pay * rev > cost).mean()), abs=2 / 3000)


def test_summary_crossing_and_break_even(adj):
    g = sw.parse_grid(["pay_rate=0.2:0.5:0.05"])
    res = sw.sweep(adj, g, draws=20_000, seed=0, keep=500)
    s = res.summary
    assert s["margin"].dims == ("pay_rate", "stat")
    assert list(s["stat"].values) == list(results.STATS)
    q = s["margin"].sel(stat=["q05", "q25", "q50", "q75", "q95"]).values
    assert (np.diff(q, axis=1) >= 0).all()
    p, se = s["p_profitable"].values, s["p_profitable_mcse"].values
    np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / 20_000))
    assert (np.diff(p) >= 0).all()  # CRN: P(profit > 0) is monotone in pay_rate exactly
    # P(profit > 0 | pay = x) = P(break_even < x): the ECDF of the per-draw break-even
    be = res.kept["break_even_pay_rate"].isel(chain=0, pay_rate=0).values
    assert res.kept.sizes["draw"] == 500
    full = sw.sweep(adj, sw.parse_grid(["pay_rate=0.35"]), draws=20_000, seed=0,
                    keep=20_000).kept["break_even_pay_rate"].values.ravel()
    assert np.array_equal(full[:500], be)
    p35 = float(s["p_profitable"].sel(pay_rate=0.35))
    assert abs(p35 - (full < 0.35).mean()) <= 3 / 20_000  # float32 ties at the boundary
    # One 50% crossing, inside the grid interval that holds the median break-even
    (c,) = res.crossings
    med = res.break_even["cells"][0]["q50"]
    assert c["parameter"] == "pay_rate"
    assert c["between"][0] <= med <= c["between"][1]
    assert c["between"][0] <= c["value"] <= c["between"][1]
    assert c["mcse"] > 0
    row = res.break_even["cells"][0]
    assert row["q05"] < row["q50"] < row["q95"]
    assert row["at"] == {}


def test_memory_guard(adj, monkeypatch):
    monkeypatch.setattr(sw, "MAX_KEPT_BYTES", 1000)
    with pytest.raises(UsageError, match="GiB for exact quantiles"):
        sw.sweep(adj, sw.parse_grid(["pay_rate=0.3,0.4"]), draws=1000)


def test_h20_sweep_has_no_profit(bot):
    g = sw.parse_grid(["users=3e7,5e7", "peak_factor=2,4"])
    res = sw.sweep(bot, g, draws=2000, seed=0, keep=100)
    assert "p_profitable" not in res.summary
    assert res.crossings == []
    assert res.break_even is None
    med = res.summary["chips_required"].sel(stat="q50")
    # chips are proportional to users and to peak_factor, draw by draw
    assert float(med.sel(users=5e7, peak_factor=4)) == pytest.approx(
        float(med.sel(users=3e7, peak_factor=2)) * (5 / 3) * 2, rel=1e-5)


# --------------------------------------------------------------------------- figures


def test_figures_structure(adj, bot):
    from probmodel.plots import sweep as plots

    res = sw.sweep(adj, sw.parse_grid(["pay_rate=0.2:0.5:0.1"]), draws=2000, keep=10)
    fig = plots.plot_fan(res.summary, "margin", res.crossings[0], res.break_even["cells"][0])
    top, bottom, strip = fig.axes  # the break-even interval has its own strip
    assert top.get_ylabel() == "margin (%)"
    assert bottom.get_ylabel() == "P(profit > 0)"
    assert strip.get_xlabel() == "pay_rate (%)"
    assert "against pay_rate" in top.get_title()
    labels = [t.get_text() for t in bottom.get_legend().get_texts()]
    assert any(t.startswith("50% at pay_rate") for t in labels)
    assert any(t.get_text().startswith("break-even pay_rate per draw: median")
               for t in strip.texts)
    res2 = sw.sweep(adj, sw.parse_grid(["pay_rate=0.3,0.4", "gpu_cost_share=0.6,0.7,0.8"]),
                    draws=2000, keep=10)
    fig = plots.plot_profit_heatmap(res2.summary)
    ax = fig.axes[0]
    assert len(ax.texts) == 6  # one per cell: median margin and P
    assert all("%" in t.get_text() and "P=" in t.get_text() for t in ax.texts)
    assert ax.get_ylabel() == "pay_rate (%)"
    assert ax.get_xlabel() == "gpu_cost_share (%)"
    assert fig.axes[1].get_ylabel() == "P(profit > 0)"  # the colour bar
    res3 = sw.sweep(bot, sw.parse_grid(["users=3e7,5e7", "peak_factor=2,4"]), draws=500,
                    keep=10)
    fig = plots.plot_output_heatmap(res3.summary, "chips_required")
    assert len(fig.axes[0].texts) == 4
    assert "thousand chips" in fig.axes[0].get_title()
    fig = plots.plot_point_grid(sw.sweep_point(bot, res3.grid), "chips_required")
    assert len(fig.axes[0].texts) == 4
    import matplotlib.pyplot as plt

    plt.close("all")


# --------------------------------------------------------------------------- CLI


def _run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return json.loads(cap.out)


def test_cli_point_table15_and_table21(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ref = _reference()
    res = _run(capsys, "sweep", str(priors / ADJ), "--grid", "pay_rate=0.25:0.45:0.05",
               "--grid", "gpu_cost_share=0.6,0.7,0.8", "--point", "--json")
    assert res["output"] == "margin"
    for i, pay in enumerate(res["grid"]["pay_rate"]):
        for j, share in enumerate(res["grid"]["gpu_cost_share"]):
            assert res["values"][i][j] == pytest.approx(ref.TABLE15[(pay, share)], abs=5e-5)
    run_dir = tmp_path / res["run_dir"]
    assert {p.name for p in run_dir.iterdir()} >= {"grid.nc", "point.csv", "summary.json",
                                                  "manifest.json", "scenario", "figures"}
    assert (run_dir / "figures" / "point_margin.png").exists()
    assert main(["sweep", str(priors / BOT), "--grid", "users=0.3e8,0.5e8,1e8", "--grid",
                 "requests_per_user_per_day=10:30:10", "--point", "--scale", "1e4"]) == 0
    out = capsys.readouterr().out
    assert "chip / 10000" in out
    for cell in ("19.84", "66.14", "198.4"):  # table 21 in 万
        assert cell in out


def test_cli_sweep_run_folder(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _run(capsys, "sweep", str(priors / ADJ), "--grid", "pay_rate=0.2:0.5:0.1",
               "-n", "3000", "--seed", "2", "--keep-draws", "100", "--json")
    assert res["draws"] == 3000
    assert len(res["cells"]) == 4
    c = res["cells"][1]
    assert c["pay_rate"] == 0.3
    assert set(c["margin"]) >= {"q05", "q50", "q95", "mcse_q50"}
    assert 0 <= c["p_profitable"] <= 1
    assert res["crossings_p_profit_50"][0]["parameter"] == "pay_rate"
    run_dir = tmp_path / res["run_dir"]
    names = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}
    assert {"sweep.nc", "summary.csv", "summary.json", "manifest.json",
            "figures/fan_margin.png", "figures/fan_margin.svg",
            "scenario/deepseek-adjusted.toml"} <= names
    man = json.loads((run_dir / "manifest.json").read_text())
    assert (man["kind"], man["draws"], man["seed"], man["cells"]) == ("sweep", 3000, 2, 4)
    tree = xr.open_datatree(run_dir / "sweep.nc")
    assert dict(tree["draws"].dataset.sizes) == {"chain": 1, "draw": 100, "pay_rate": 4}
    assert tree["summary"].dataset["p_profitable"].dims == ("pay_rate",)
    tree.close()
    csv = (run_dir / "summary.csv").read_text().splitlines()
    assert csv[0] == "pay_rate,variable,statistic,value,mcse,units"
    assert any(",profit,p_gt_0," in line for line in csv)

    assert main(["sweep", str(priors / BOT), "--grid", "users=3e7,5e7", "--grid",
                 "peak_factor=2,4", "-n", "500", "--out", "h20"]) == 0
    out = capsys.readouterr().out
    assert "median chips_required (thousand chips)" in out
    assert (tmp_path / "h20" / "figures" / "heatmap_chips_required.png").exists()


@pytest.mark.parametrize(("args", "fragment"), [
    (["--grid", "pay_rat=0.3"], "did you mean 'pay_rate'"),
    (["--grid", "pay_rate="], "no values"),
    (["--grid", "pay_rate=a,b"], "not a number"),
    (["--grid", "pay_rate=0.3,1.2"], "outside its domain"),
    (["--grid", "pay_rate=0.1:0.5:0"], "must be positive"),
    (["--grid", "pay_rate=0:1000:0.0001"], "at most 10,000"),
    (["--grid", "users=1e7"], "does not enter margin"),
    (["--grid", "pay_rate=0.3", "--output", "chips"], "not computed"),
    ([], "at least one"),
    (["--grid", "pay_rate=0.3", "--draws", "0"], "--draws"),
])
def test_cli_bad_input_exit_2_one_line(priors, capsys, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(priors / ADJ), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert fragment in err[0]
    assert not (tmp_path / "runs").exists()
