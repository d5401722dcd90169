"""The result kernel: expected shortfall and its MCSE against known laws and seeds.

R = 400 independent replicates of N draws. The spread of the estimates over replicates
is compared with the MCSE the kernel reports: the ratio of the empirical variance to
the mean squared MCSE has relative sd about sqrt(2 / R) = 0.07, so the bound
[0.75, 1.3] is about 4 of those sds. Each mean over replicates must lie within 4 of
its standard errors (sd / sqrt(R)) of the exact value.
"""

import numpy as np
import pytest
from scipy import stats

from probmodel import results

R, N = 400, 20_000


def _exact_es(law, alpha: float, lower: bool) -> float:
    """Mean of the law below its alpha quantile (above its 1 - alpha quantile)."""
    if lower:
        q = law.ppf(alpha)
        return law.expect(lambda x: x, ub=q) / alpha
    q = law.ppf(1 - alpha)
    return law.expect(lambda x: x, lb=q) / alpha


@pytest.mark.parametrize("law", [stats.norm(3.0, 2.0), stats.lognorm(0.6, scale=5.0),
                                 stats.beta(2.0, 5.0)], ids=["normal", "lognormal", "beta"])
def test_expected_shortfall_and_its_mcse_match_the_spread_over_seeds(law):
    rng = np.random.default_rng(11)
    x = law.rvs(size=(R, N), random_state=rng).astype(np.float32)
    val, se = results.stats_kernel(x)
    for stat, lower in (("es05", True), ("es95", False)):
        i = results.STATS.index(stat)
        est, mcse = val[:, i], se[:, i]
        ratio = est.var(ddof=1) / np.mean(mcse**2)
        assert 0.75 < ratio < 1.3, (stat, ratio)
        truth = _exact_es(law, results.TAIL, lower)
        assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / np.sqrt(R), (stat, truth)


def test_kernel_statistics_equal_numpy_on_the_same_draws():
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 3.0, size=(2, 3, 5001)).astype(np.float32)
    val, se = results.stats_kernel(x)
    assert val.shape == se.shape == (2, 3, len(results.STATS))
    x64 = x.astype(np.float64)
    for idx in np.ndindex(2, 3):
        v = x64[idx]
        lo, hi = np.quantile(v, [0.05, 0.95])
        want = [v.mean(), v.std(ddof=1), *np.quantile(v, results.QUANTILES),
                v[v <= lo].mean(), v[v >= hi].mean()]
        np.testing.assert_allclose(val[idx], want, rtol=1e-12)
        assert se[idx][0] == pytest.approx(v.std(ddof=1) / np.sqrt(v.size))


def test_summarize_keeps_extra_dims_and_p_profitable():
    import xarray as xr

    rng = np.random.default_rng(4)
    profit = rng.normal(0.5, 1.0, size=(1, 1000, 3))
    ds = xr.Dataset({"profit": (("chain", "draw", "year"), profit)},
                    coords={"year": [2025, 2026, 2027]})
    s = results.summarize(ds)
    assert s["profit"].dims == ("year", "stat")
    assert s["profit_mcse"].dims == ("year", "stat")
    assert list(s["stat"].values) == list(results.STATS)
    np.testing.assert_allclose(s["p_profitable"].values, (profit[0] > 0).mean(axis=0))
    t = results.summary_table(s, variables_first=True)
    assert list(t.columns) == ["variable", "year", "statistic", "value", "mcse", "units"]
    assert len(t) == 3 * len(results.STATS) + 3
