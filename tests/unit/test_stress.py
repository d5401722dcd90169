"""Stress tests: bands against direct conditioning of simulate's draws, correlated inputs
moving with the band, MCSEs against the spread over replications, bad bands, the command
end to end and the figure."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import probmodel
from probmodel import correlation as co
from probmodel import sampling
from probmodel.analysis import stress as st
from probmodel.cli import main
from probmodel.errors import UsageError
from probmodel.model import evaluate

DRAWS = 20_000


@pytest.fixture(scope="module")
def sc(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


@pytest.fixture(scope="module")
def ds(sc):
    return probmodel.simulate(sc, draws=DRAWS, seed=3)


def _band(sc, text):
    return st.parse_band(text, list(sc.uncertain), list(sc.fixed), ["profit", "margin"])


def test_band_is_direct_conditioning_of_the_same_draws(sc, ds):
    bands = [_band(sc, "pay_rate=0:10"), _band(sc, "gpu_price_per_hour=90:100"),
             _band(sc, "v3_share=25:75")]
    res = st.stress(ds, bands)
    assert list(res["band"].values) == ["base", "pay_rate=0:10", "gpu_price_per_hour=90:100",
                                        "v3_share=25:75"]
    for b in bands:
        x = ds[b.name].values.ravel().astype(np.float64)
        lo, hi = np.percentile(x, [b.lo, b.hi])
        sel = (x >= lo) & (x <= hi)
        r = res.sel(band=b.label)
        assert int(r.n_draws) == sel.sum()
        assert sel.sum() == pytest.approx(DRAWS * (b.hi - b.lo) / 100, abs=2)
        assert float(r.band_lo_value) == lo
        assert float(r.band_hi_value) == hi
        for var in ("profit", "margin", "revenue", "total_cost"):
            y = ds[var].values.ravel().astype(np.float64)[sel]
            q05, q50, q95 = np.quantile(y, [0.05, 0.5, 0.95])
            want = {"mean": y.mean(), "sd": y.std(ddof=1), "q05": q05, "q50": q50,
                    "q95": q95, "es05": y[y <= q05].mean(), "es95": y[y >= q95].mean()}
            for s, v in want.items():
                assert float(r[var].sel(stat=s)) == pytest.approx(v, rel=1e-12), (var, s)
        profit = ds["profit"].values.ravel()
        assert float(r.p_profitable) == (profit[sel] > 0).mean()
        assert float(r.p_profitable_diff) == pytest.approx(
            (profit[sel] > 0).mean() - (profit > 0).mean(), abs=1e-15)


def test_base_row_is_the_whole_run(ds):
    res = st.stress(ds, [st.Band("pay_rate", 0, 10)])
    base = res.sel(band="base")
    p = ds["profit"].values.ravel()
    assert int(base.n_draws) == DRAWS
    assert float(base.profit.sel(stat="mean")) == pytest.approx(p.astype(np.float64).mean())
    assert float(base.p_profitable_mcse) == pytest.approx(
        np.sqrt((p > 0).mean() * (1 - (p > 0).mean()) / DRAWS))
    assert float(base.profit_mcse.sel(stat="mean")) == pytest.approx(
        p.astype(np.float64).std(ddof=1) / np.sqrt(DRAWS), rel=1e-4)
    assert np.all(base.profit_diff.values == 0)
    assert np.all(base.profit_diff_mcse.values == 0)
    # the band's own input in its bottom decile, the others barely moved
    r = res.sel(band="pay_rate=0:10")
    assert float(r.pay_rate.sel(stat="q95")) <= float(r.band_hi_value)
    assert abs(float(r.cache_hit_rate_diff.sel(stat="mean"))) < 4 * float(
        r.cache_hit_rate_diff_mcse.sel(stat="mean"))


def _correlated(sc, ds, names, target):
    """The base draws with ``names`` reordered by Iman-Conover and outputs re-evaluated
    (what the engine does inside each chunk once scenarios carry correlations)."""
    inputs = {k: jnp.asarray(ds[k].values.ravel()) for k in sc.uncertain}
    key = jax.random.fold_in(jax.random.PRNGKey(3), sampling.name_id("<correlation>"))
    inputs = co.rank_correlate(key, inputs, names, jnp.asarray(target))
    values = {k: jnp.asarray(p.point, jnp.float32) for k, p in sc.fixed.items()}
    values.update(inputs)
    values["prices"] = jnp.asarray(sc.prices, jnp.float32)
    out = evaluate(values)
    new = ds.copy(deep=True)
    for k in new.data_vars:
        new[k].values[:] = np.broadcast_to(np.asarray(out[k], np.float32), DRAWS)[None, :]
    return new


def test_conditioning_moves_the_correlated_inputs_too(sc, ds):
    corr = _correlated(sc, ds, ("pay_rate", "v3_share"), np.array([[1, -0.6], [-0.6, 1]]))
    band = st.Band("pay_rate", 0, 10)
    res = st.stress(corr, [band]).sel(band=band.label)
    d, se = (float(res[k].sel(stat="q50")) for k in ("v3_share_diff", "v3_share_diff_mcse"))
    assert d > 10 * se  # low pay_rate comes with a high V3 share
    d2, se2 = (float(res[k].sel(stat="q50"))
               for k in ("cache_hit_rate_diff", "cache_hit_rate_diff_mcse"))
    assert abs(d2) < 4 * se2  # an input not correlated with it stays put
    indep = st.stress(ds, [band]).sel(band=band.label)
    assert abs(float(indep.v3_share_diff.sel(stat="q50"))) < 4 * float(
        indep.v3_share_diff_mcse.sel(stat="q50"))
    # the marginal of every input is unchanged by the reordering
    for k in sc.uncertain:
        assert np.array_equal(np.sort(corr[k].values.ravel()), np.sort(ds[k].values.ravel()))


def test_mcse_matches_the_spread_over_replications():
    """Influence-function MCSEs of each case and of its difference to the base against the
    sd of the estimates over R independent replications. With R = 200 the sd is itself
    estimated to ~5% (1/sqrt(2(R-1))): the ratio must lie in [0.8, 1.25], 4-5 of those
    errors. Without the band-edge terms the sd/MCSE ratio of the mean of y in the 40:70
    band is 1.88 here (measured), so the test catches their loss. P(> 0) is checked on w,
    whose probability is far from 0 and 1 in both bands (near 0 or 1 a plug-in MCSE from
    a handful of events is itself unreliable)."""
    reps, n, rho = 200, 10_000, 0.95
    bands = [st.Band("x", 0, 10), st.Band("x", 40, 70)]
    vals, mcse, diffs, dmcse = [], [], [], []
    for r in range(reps):
        rng = np.random.default_rng(r)
        x = rng.normal(size=n)
        y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
        w = 0.5 * x + 0.5 * rng.normal(size=n)
        res = st.stress_arrays({"x": x, "y": y, "w": w}, bands, ["y", "w"])
        # every statistic of y, and P(w > 0) (the last column)
        pick = lambda k, res=res: np.c_[res["y"][k][:, :-1], res["w"][k][:, -1:]]  # noqa: E731
        vals.append(pick("value"))
        mcse.append(pick("mcse"))
        diffs.append(pick("diff")[1:])
        dmcse.append(pick("diff_mcse")[1:])
    ratio = np.array(vals).std(axis=0, ddof=1) / np.array(mcse).mean(axis=0)
    dratio = np.array(diffs).std(axis=0, ddof=1) / np.array(dmcse).mean(axis=0)
    assert ratio.min() > 0.8, ratio
    assert ratio.max() < 1.25, ratio
    assert dratio.min() > 0.8, dratio
    assert dratio.max() < 1.25, dratio


@pytest.mark.parametrize(("text", "message"), [
    ("paye_rate=0:10", "'paye_rate' is not an uncertain parameter of the scenario "
                       "(did you mean 'pay_rate'?)"),
    ("gpus_per_node=0:10", "gpus_per_node is a fixed parameter"),
    ("profit=0:10", "profit is an output"),
    ("pay_rate=10:10", "LO (10) must be below HI (10)"),
    ("pay_rate=20:10", "LO (20) must be below HI (10)"),
    ("pay_rate=-5:10", "percentiles must lie in 0..100"),
    ("pay_rate=90:101", "percentiles must lie in 0..100"),
    ("pay_rate=a:10", "must be percentiles"),
    ("pay_rate0:10", "not of the form NAME=LO:HI"),
    ("pay_rate=10", "not of the form NAME=LO:HI"),
])
def test_bad_bands_are_refused(sc, text, message):
    with pytest.raises(UsageError, match=r"^--band ") as e:
        _band(sc, text)
    assert message in str(e.value)


def test_too_narrow_a_band_is_refused_before_sampling():
    with pytest.raises(UsageError, match=r"selects about 50 of 10,000 draws.*--draws 20,000"):
        st.check_size([st.Band("pay_rate", 0, 0.5)], 10_000)
    st.check_size([st.Band("pay_rate", 0, 1)], 10_000)


def test_a_band_given_twice_is_refused(ds):
    with pytest.raises(UsageError, match="given twice"):
        st.check_size([st.Band("pay_rate", 0, 10), st.Band("pay_rate", 0.0, 10.0)], 10_000)
    with pytest.raises(UsageError, match="given twice"):
        st.stress(ds, [st.Band("pay_rate", 0, 10), st.Band("pay_rate", 0, 10)])


def test_ties_that_leave_too_few_draws_are_refused():
    x = np.repeat([1.0, 2.0], 5000)
    with pytest.raises(UsageError, match="selects 0 of 10,000 draws"):
        st.stress_arrays({"x": np.r_[x[:-1], np.nan], "y": x},
                         [st.Band("x", 0, 10)], ["y"])


def test_command_end_to_end(priors, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["stress", str(priors / "deepseek-adjusted.toml"), "--band", "pay_rate=0:10",
               "--band", "gpu_price_per_hour=90:100", "--draws", str(DRAWS), "--seed", "3",
               "--out", str(out), "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    cases = data["cases"]
    assert list(cases) == ["base", "pay_rate=0:10", "gpu_price_per_hour=90:100"]
    assert cases["pay_rate=0:10"]["draws"] == 2000
    assert cases["pay_rate=0:10"]["p_profitable"] < cases["base"]["p_profitable"]
    assert {"es05", "mcse_es05", "diff_q50", "mcse_diff_q50"} <= set(
        cases["base"]["summary"]["profit"])
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"manifest.json", "stress.nc", "draws.nc", "summary.csv", "summary.json",
            "figures/stress.png", "scenario/deepseek-adjusted.toml"} <= files
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "stress"
    assert man["bands"] == ["pay_rate=0:10", "gpu_price_per_hour=90:100"]
    rc = main(["stress", str(priors / "deepseek-adjusted.toml"), "--band", "pay_rate=0:10",
               "--draws", str(DRAWS), "--seed", "3", "--out", str(tmp_path / "table")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "P(profit > 0)" in text
    assert "pay_rate=0:10" in text


@pytest.mark.parametrize("band", ["paye_rate=0:10", "pay_rate=5:5", "gpus_per_node=0:10",
                                  "pay_rate=0:0.1", "pay_rate=0:10"])
def test_command_bad_band_exits_2_with_one_line(priors, tmp_path, capsys, band):
    out = tmp_path / "run"
    twice = ["--band", "pay_rate=0:10"] if band == "pay_rate=0:10" else []
    rc = main(["stress", str(priors / "deepseek-adjusted.toml"), "--band", band, *twice,
               "--draws", "10000", "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: --band {band}: ")
    assert not out.exists()


def test_fixed_by_set_is_refused(priors, capsys):
    rc = main(["stress", str(priors / "deepseek-adjusted.toml"), "--band", "pay_rate=0:10",
               "--set", "pay_rate=0.3", "--draws", "10000"])
    assert rc == 2
    assert "pay_rate is a fixed parameter" in capsys.readouterr().err


def test_figure_structure(ds):
    from probmodel.plots.stress import plot_stress

    res = st.stress(ds, [st.Band("pay_rate", 0, 10), st.Band("dau", 90, 100)])
    fig = plot_stress(res)
    axes = fig.axes
    assert [a.get_xlabel() for a in axes] == ["profit ($k/day)", "margin (%)"]
    assert [t.get_text() for t in axes[0].get_yticklabels()] == [
        "base", "pay_rate=0:10", "dau=90:100"]
    notes = [t.get_text() for t in axes[1].texts]
    assert len(notes) == 3
    assert all(n.startswith("P(profit > 0) = ") for n in notes)


def test_demand_only_scenario_has_no_profit_and_plots_chips(priors):
    from probmodel.plots.stress import plot_stress

    sc = probmodel.load_scenario(priors / "chatbot-h20.toml")
    ds = probmodel.simulate(sc, draws=5000, seed=1)
    res = st.stress(ds, [st.Band("users", 90, 100)])
    assert "p_profitable" not in res
    assert res.attrs["outputs"] == "chips_required"
    r = res.sel(band="users=90:100")
    assert float(r.chips_required_diff.sel(stat="q50")) > 0  # more users, more chips
    fig = plot_stress(res)
    assert [a.get_xlabel() for a in fig.axes] == ["chips_required (thousand chips)"]
    assert fig.axes[0].get_legend_handles_labels()[1][-1] == "es95 (mean of the highest 5%)"


def test_large_runs_sum_influence_functions_in_blocks(monkeypatch):
    """The blocked sums give the same MCSEs as one block (memory is bounded at any N)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=5000)
    d = {"x": x, "y": x + rng.normal(size=5000)}
    one = st.stress_arrays(d, [st.Band("x", 10, 30)], ["y"])["y"]
    monkeypatch.setattr(st, "_BLOCK", 777)
    many = st.stress_arrays(d, [st.Band("x", 10, 30)], ["y"])["y"]
    for k in ("value", "mcse", "diff", "diff_mcse"):
        np.testing.assert_allclose(many[k], one[k], rtol=1e-9, atol=1e-15)
