"""Paired scenario comparison: common random numbers, paired statistics with MCSE,
figures, bad input, and the command end to end."""

import json

import f32  # tests/f32.py: float32 comparisons across graphs
import numpy as np
import pytest
import xarray as xr

import probmodel
from probmodel import sampling
from probmodel.analysis import compare as cmp
from probmodel.cli import main
from probmodel.errors import UsageError

ADJ = "deepseek-adjusted.toml"
OFF = "deepseek-offpeak-measured.toml"
PAY = "deepseek-pay45.toml"
USD = "deepseek-usd-prices.toml"
THEO = "deepseek-theoretical.toml"


@pytest.fixture(scope="module")
def sc(priors):
    return {f: probmodel.load_scenario(priors / f) for f in (ADJ, OFF, PAY, USD, THEO)}


@pytest.fixture(scope="module")
def res(sc):
    return cmp.compare([sc[ADJ], sc[OFF], sc[USD]], "margin", draws=20_000, seed=5,
                       keep=1000)


def test_shared_parameters_have_identical_draws(sc):
    a = sampling.sample_arrays(sc[ADJ], 4000, seed=9)
    b = sampling.sample_arrays(sc[OFF], 4000, seed=9)
    for name in ("pay_rate", "gpu_cost_share", "cache_hit_rate", "v3_share",
                 "gpu_price_per_hour", "dau"):
        assert np.array_equal(a[name], b[name]), name
    assert not np.array_equal(a["offpeak_share"], b["offpeak_share"])  # the one change
    # Another structure (the theoretical view draws one LogNormal, the adjusted view two,
    # batched): the same random numbers, equal up to float32 rounding of the transform.
    t = sampling.sample_arrays(sc[THEO], 4000, seed=9)
    f32.assert_close(t["gpu_price_per_hour"], a["gpu_price_per_hour"], what="gpu price")


def test_per_scenario_summary_matches_a_run(sc, res):
    s = res.summary
    assert res.names == ["deepseek-adjusted", "deepseek-offpeak-measured",
                         "deepseek-usd-prices"]
    ds = probmodel.simulate(sc[ADJ], draws=20_000, seed=5)
    p = float((ds["profit"] > 0).mean())
    # another graph may flip the sign only of profits within ulps of revenue and cost of 0
    flips = f32.sign_ambiguous(ds["profit"], ds["revenue"], ds["total_cost"])
    assert abs(float(s["p_profitable"].sel(scenario="deepseek-adjusted")) - p) <= flips / 20_000
    assert float(s["p_profitable_mcse"].sel(scenario="deepseek-adjusted")) == pytest.approx(
        np.sqrt(p * (1 - p) / 20_000))
    # an order statistic moves by at most the largest change of the draws: margin =
    # 1 - cost / revenue, so ulps of 1 + cost / revenue
    ratio = (ds["total_cost"] / ds["revenue"]).values
    assert abs(float(s["margin"].sel(scenario="deepseek-adjusted", stat="q50"))
               - float(ds["margin"].median())) <= float(f32.bound(1.0 + ratio).max())
    q = s["margin"].sel(stat=["q05", "q25", "q50", "q75", "q95"]).values
    assert (np.diff(q, axis=1) > 0).all()


def test_paired_statistics(res):
    s = res.summary
    pg, se = s["p_greater"].values, s["p_greater_mcse"].values
    assert np.isnan(np.diag(pg)).all()
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(se[off], np.sqrt(pg[off] * (1 - pg[off]) / 20_000))
    # continuous outputs: no ties, so P(A > B) + P(B > A) = 1
    np.testing.assert_allclose((pg + pg.T)[off], 1.0, atol=1e-12)
    # Identical draws except the price table, and every USD list price is lower than the
    # CNY-converted one: the adjusted margin beats the USD-price margin in every draw.
    assert float(s["p_greater"].sel(scenario="deepseek-adjusted",
                                    versus="deepseek-usd-prices")) == 1.0
    d = s["difference"].sel(scenario="deepseek-adjusted", versus="deepseek-usd-prices")
    assert float(d.sel(stat="q05")) > 0
    # Antisymmetry of the paired difference
    np.testing.assert_allclose(
        s["difference"].sel(scenario="deepseek-offpeak-measured", versus="deepseek-adjusted",
                            stat="mean"),
        -s["difference"].sel(scenario="deepseek-adjusted", versus="deepseek-offpeak-measured",
                             stat="mean"), rtol=1e-9)
    # Pairing pays: the paired difference varies far less than independent draws would.
    sd = float(s["difference_sd"].sel(scenario="deepseek-adjusted",
                                      versus="deepseek-offpeak-measured"))
    indep = float(s["difference_sd_if_independent"].sel(scenario="deepseek-adjusted",
                                                        versus="deepseek-offpeak-measured"))
    assert sd < indep / 5
    # Measured off-peak share (~17% instead of 33%) means more revenue at full price:
    # the mean difference is positive by far more than 5 MCSE (bound stated in MCSE).
    diff = s["difference"].sel(scenario="deepseek-offpeak-measured",
                               versus="deepseek-adjusted", stat="mean")
    mc = s["difference_mcse"].sel(scenario="deepseek-offpeak-measured",
                                  versus="deepseek-adjusted", stat="mean")
    assert float(diff) > 5 * float(mc)
    assert res.shared["deepseek-adjusted|deepseek-offpeak-measured"] == sorted(
        set(res.scenarios[0].uncertain))
    assert dict(res.kept.sizes) == {"chain": 1, "draw": 1000, "scenario": 3}
    assert res.ecdf["margin"].dims == ("scenario", "level")


def test_tables(res):
    t = cmp.summary_table(res)
    assert list(t.columns) == ["scenario", "variable", "statistic", "value", "mcse", "units"]
    assert len(t[(t.variable == "profit") & (t.statistic == "p_gt_0")]) == 3
    pairs = cmp.pairs_table(res)
    assert len(pairs) == 6
    j = cmp.json_summary(res)
    assert set(j["scenarios"]) == set(res.names)
    assert j["scenarios"]["deepseek-adjusted"]["p_profitable"] == pytest.approx(
        float(res.summary["p_profitable"].sel(scenario="deepseek-adjusted")))


def test_bad_scenario_sets(sc, priors, tmp_path):
    with pytest.raises(UsageError, match="at least two"):
        cmp.check_scenarios([sc[ADJ]], "margin")
    with pytest.raises(UsageError, match="given twice"):
        cmp.check_scenarios([sc[ADJ], sc[ADJ]], "margin")
    with pytest.raises(UsageError, match="'chips_required' is not computed by scenario "
                                         "deepseek-adjusted"):
        cmp.check_scenarios([sc[ADJ], probmodel.load_scenario(priors / "chatbot-h20.toml")],
                            "chips_required")
    a, b = _disjoint(tmp_path)
    with pytest.raises(UsageError, match="share no parameters"):
        cmp.check_scenarios([probmodel.load_scenario(a), probmodel.load_scenario(b)],
                            "tokens_per_day")


def _disjoint(tmp_path):
    a = tmp_path / "tokens.toml"
    a.write_text('schema_version = 1\n[parameters.input_tokens_per_day]\nvalue = 6e11\n'
                 'unit = "token/day"\nsource = "test"\n[parameters.output_tokens_per_day]\n'
                 'value = 2e11\nunit = "token/day"\nsource = "test"\n')
    b = tmp_path / "usage.toml"
    b.write_text('schema_version = 1\n[parameters.users]\nvalue = 5e7\nunit = "user"\n'
                 'source = "test"\n[parameters.requests_per_user_per_day]\nvalue = 5\n'
                 'unit = "request/(user day)"\nsource = "test"\n'
                 '[parameters.tokens_per_request]\ndist = "LogNormal"\np05 = 1e4\np95 = 4e4\n'
                 'point = 2e4\nunit = "token/request"\nsource = "test"\n')
    return a, b


def test_figures_structure(res):
    import matplotlib.pyplot as plt

    from probmodel.plots import compare as plots

    fig = plots.plot_forest(res.summary, "margin")
    left, right = fig.axes
    assert left.get_xlabel() == "margin (%)"
    ticks = [t.get_text() for t in left.get_yticklabels()]
    assert len(ticks) == 3
    assert all("P(profit > 0) = " in t for t in ticks)
    assert "paired" in right.get_title()
    assert sum("P(> deepseek-adjusted)" in t.get_text() for t in right.texts) == 2
    fig = plots.plot_ecdf(res.ecdf, "margin")
    ax = fig.axes[0]
    # one curve per scenario (told apart by line style too), the zero line, and the dots
    # marking each curve's height at 0
    curves = [ln for ln in ax.get_lines() if ln.get_label() in res.names]
    assert len(curves) == 3
    assert len({ln.get_linestyle() for ln in curves}) == 3
    assert len(ax.get_lines()) == 3 + 1 + 1
    assert ax.get_ylabel() == "P(margin ≤ x)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == res.names
    fig = plots.plot_p_greater(res.summary, "margin")
    assert len(fig.axes[0].texts) == 6
    plt.close("all")


def test_cli_compare_run_folder(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["compare", str(priors / ADJ), str(priors / PAY), str(priors / THEO),
                 "-n", "4000", "--seed", "1", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    res = json.loads(cap.out)
    assert res["draws"] == 4000
    assert set(res["scenarios"]) == {"deepseek-adjusted", "deepseek-pay45",
                                     "deepseek-theoretical"}
    assert res["scenarios"]["deepseek-theoretical"]["p_profitable"] == 1.0
    assert len(res["pairs"]) == 6
    run_dir = tmp_path / res["run_dir"]
    names = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}
    assert {"draws.nc", "summary.csv", "pairs.csv", "summary.json", "manifest.json",
            "figures/forest.png", "figures/forest.svg", "figures/ecdf.png",
            "figures/ecdf.svg", "figures/p_greater.png", "scenario/deepseek-pay45.toml",
            "scenario/deepseek-adjusted.toml", "scenario/deepseek-theoretical.toml"} <= names
    man = json.loads((run_dir / "manifest.json").read_text())
    assert (man["kind"], man["seed"], man["draws"]) == ("compare", 1, 4000)
    assert set(man["scenarios"]) == set(res["scenarios"])
    tree = xr.open_datatree(run_dir / "draws.nc")
    assert dict(tree["prior"].dataset.sizes) == {"chain": 1, "draw": 4000, "scenario": 3}
    tree.close()
    assert main(["compare", str(priors / THEO), str(priors / PAY), "-n", "2000",
                 "--output", "profit", "--out", "cmp"]) == 0
    out = capsys.readouterr().out
    for word in ("P(profit > 0) ± MCSE", "$k/day", "paired difference", "deepseek-pay45"):
        assert word in out
    assert (tmp_path / "cmp" / "figures" / "forest.png").exists()


@pytest.mark.parametrize(("extra", "fragment"), [
    (["--output", "chips_required"], "not computed"),
    (["--output", "marginn"], "did you mean 'margin'"),
    (["--draws", "-5"], "--draws"),
])
def test_cli_bad_input_exit_2_one_line(priors, capsys, tmp_path, monkeypatch, extra, fragment):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(priors / ADJ), str(priors / OFF), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert fragment in err[0]
    assert not (tmp_path / "runs").exists()


def test_cli_disjoint_and_single(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = _disjoint(tmp_path)
    assert main(["compare", str(a), str(b), "--output", "tokens_per_day"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "share no parameters" in err[0]
    assert main(["compare", str(priors / ADJ)]) == 2
    assert "at least two" in capsys.readouterr().err
