"""The streaming engine: histogram quantiles, moments, P(profit > 0), precision control.

Most checks compare the streaming summary with exact statistics of the *same* draws
(kept in full), so they are deterministic discretisation bounds, not statistical ones:
a histogram quantile may differ from the exact sample quantile by its bin-interpolation
error, which must stay well inside the quantile's MCSE (bound: 0.25 MCSE). The sampler
checks (KS p > 1e-3 and means within 4 standard errors at 1e6 draws) are statistical:
with 3 inputs, a false failure has probability about 3e-3 (KS) and 3 x 6.3e-5 (means);
seeds are fixed.
"""

import math

import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel import distributions as dists
from probmodel import results, sampling, streaming
from probmodel.histograms import hist_quantiles
from probmodel.streaming import run_stream

N = 1 << 20  # one call of the compiled block (8 chunks)


@pytest.fixture(scope="module")
def adjusted(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    model = sampling.ForwardModel.from_scenario(sc)
    return sc, model, model.args(sc)


@pytest.fixture(scope="module")
def streamed(adjusted):
    # histograms on, every draw kept: streaming and exact statistics of the same draws
    _, model, args = adjusted
    return run_stream(model, args, N, 5, keep_all=True, exact_when_kept=False)


def test_histogram_quantiles_agree_with_exact_quantiles_of_the_same_draws(streamed):
    assert streamed.stride == 1
    assert streamed.quantile_method.startswith("histogram")
    for name in results.summarized(streamed.summary):
        st = results.stat_dict(streamed.summary, name)
        x = streamed.kept[name]
        assert x.size == N
        if st["sd"] == 0:
            assert np.all(x == x[0]), name
            continue
        q, se = results.quantiles_with_mcse(x, results.QUANTILES)
        for p, qe, see in zip(results.QUANTILES, q, se, strict=True):
            qn = results.qname(p)
            assert abs(st[qn] - qe) <= 0.25 * see, (name, qn, st[qn], qe, see)
            # the MCSEs agree too (same order-statistic window, histogram CDF)
            assert st[f"mcse_{qn}"] == pytest.approx(see, rel=0.1, abs=1e-12), (name, qn)


def test_streamed_expected_shortfall_agrees_with_numpy_on_the_same_draws(streamed):
    # exact tail sums from the pilot's bins, moved to the final quantile by histogram
    # bins: the discretisation error must stay well inside the MCSE (bound: 0.1 MCSE)
    for name in results.summarized(streamed.summary):
        st = results.stat_dict(streamed.summary, name)
        x = streamed.kept[name].astype(np.float64)
        if st["sd"] == 0:
            continue
        lo, hi = np.quantile(x, [0.05, 0.95])
        _, exact_se = results.stats_kernel(streamed.kept[name])
        for stat, want in (("es05", x[x <= lo].mean()), ("es95", x[x >= hi].mean())):
            i = results.STATS.index(stat)
            assert abs(st[stat] - want) <= 0.1 * exact_se[i], (name, stat, st[stat], want)
            assert st[f"mcse_{stat}"] == pytest.approx(exact_se[i], rel=0.05), (name, stat)


def test_moments_and_probability_are_those_of_the_draws(streamed):
    s = streamed.summary
    assert s.attrs["draws"] == N
    for name in results.summarized(s):
        st = results.stat_dict(s, name)
        x = streamed.kept[name].astype(np.float64)
        assert st["mean"] == pytest.approx(x.mean(), rel=1e-12, abs=1e-12), name
        assert st["sd"] == pytest.approx(x.std(ddof=1), rel=1e-9, abs=1e-12), name
    p = float(np.mean(streamed.kept["profit"] > 0))
    assert float(s["p_profitable"]) == p
    assert float(s["p_profitable_mcse"]) == pytest.approx(math.sqrt(p * (1 - p) / N))


def test_lognormal_batch_matches_the_scenario_distributions(adjusted, streamed):
    # the normal batch of the engine (the Beta batch: test_fast_samplers_ranges.py)
    sc, model, _ = adjusted
    for name, fam in model.uncertain:
        if fam != "LogNormal":
            continue
        x = streamed.kept[name].astype(np.float64)
        law = dists.scipy_dist(fam, sc.parameters[name].params)
        ks = stats.kstest(x, law.cdf)
        assert ks.pvalue > 1e-3, (name, ks)
        assert abs(x.mean() - law.mean()) < 4 * law.std() / math.sqrt(x.size), name


def test_same_seed_same_summary_bit_for_bit(adjusted, streamed):
    _, model, args = adjusted
    again = run_stream(model, args, N, 5, keep_all=True, exact_when_kept=False)
    assert again.summary.identical(streamed.summary)
    for k in streamed.kept:
        np.testing.assert_array_equal(again.kept[k], streamed.kept[k])


def test_prefix_stable_and_thinned_kept_draws_are_the_same_draws(adjusted, streamed):
    # twice the draws, kept every 4th: draw j is the same draw whatever N
    _, model, args = adjusted
    longer = run_stream(model, args, 2 * N, 5, precision=0.5, max_draws=2 * N,
                        keep_cap=N // 2)
    assert longer.stride == 4
    for k in streamed.kept:
        np.testing.assert_array_equal(longer.kept[k][:N // 4], streamed.kept[k][::4])


def test_precision_control_stops_when_the_mcse_is_small_enough(adjusted):
    _, model, args = adjusted
    res = run_stream(model, args, N, 7, precision=0.002, max_draws=16 * N)
    pr = res.precision
    assert pr["met"]
    assert res.draws == pr["draws"]
    assert res.draws % N == 0
    assert res.draws > N
    assert float(res.summary["p_profitable_mcse"]) <= 0.002
    assert pr["worst_relative_quantile_mcse"] <= 0.002
    # one call less would not have been enough (it stops at the first call that meets it)
    shorter = run_stream(model, args, res.draws - N, 7, precision=0.002,
                         max_draws=res.draws - N)
    assert not shorter.precision["met"]


def test_hist_quantiles_on_known_counts():
    # four bins of width 1 on [0, 4], 10 draws each: the CDF is linear
    edges = np.arange(5.0)
    counts = np.full(4, 10)
    np.testing.assert_allclose(hist_quantiles(counts, edges, [0.0, 0.25, 0.5, 0.9, 1.0]),
                               [0.0, 1.0, 2.0, 3.6, 4.0])
    # the median of 5 draws in [0, 1] and 5 in [2, 3] lies in the empty bin's [1, 2]
    med = hist_quantiles(np.array([5, 0, 5]), np.arange(4.0), [0.5])[0]
    assert 1.0 <= med <= 2.0


def test_run_writes_thinned_draws_and_says_so(tmp_path, adjusted, monkeypatch):
    sc, _, _ = adjusted
    # the engine keeps every 2nd draw in memory, and draws.nc every 2nd of those
    monkeypatch.setattr(streaming, "KEEP_CAP", N // 2)
    monkeypatch.setattr(probmodel.api, "WRITE_CAP", N // 4)
    # (a precision run: its device-side plan is the one the other tests compiled)
    res = probmodel.api.run(sc, draws=N, seed=5, out=tmp_path / "r", precision=0.5,
                            max_draws=N)
    import json

    import xarray as xr

    man = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert man["draws"] == N
    assert man["kept_stride"] == res.kept_stride == 4
    assert man["draws_kept"] == N // 4 == res.dataset.sizes["draw"]
    assert man["draws_nc"].startswith("evenly thinned: every 4th draw")
    assert res.dataset["draw"].values[1] == 4
    with xr.open_datatree(tmp_path / "r" / "draws.nc", engine="h5netcdf") as t:
        assert t["prior"].sizes["draw"] == N // 4
        assert int(t["prior"]["draw"].values[-1]) == N - 4
    # --keep-draws writes every draw the engine kept (here all of them)
    res = probmodel.api.run(sc, draws=N, seed=5, out=tmp_path / "k", keep_draws=True)
    assert res.kept_stride == 1
    assert res.dataset.sizes["draw"] == N
