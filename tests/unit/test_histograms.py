"""probmodel.histograms: ranges from a pilot, quantiles from bin counts."""

import numpy as np
import pytest

from probmodel import histograms
from probmodel.histograms import BINS


def test_hist_quantiles_of_evenly_spread_draws_are_exact():
    # 1,000 draws, 10 per bin of width 1 on [0, 100): the q-quantile is 100 q
    counts = np.full(100, 10)
    edges = np.arange(101, dtype=np.float64)
    got = histograms.hist_quantiles(counts, edges, [0.05, 0.25, 0.5, 0.95])
    np.testing.assert_allclose(got, [5.0, 25.0, 50.0, 95.0], rtol=0, atol=1e-12)


def test_hist_quantiles_skip_empty_bins():
    counts = np.array([5, 0, 0, 5])
    edges = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    lo, hi = histograms.hist_quantiles(counts, edges, [0.25, 0.75])
    assert 0.0 <= lo <= 1.0
    assert 3.0 <= hi <= 4.0


def test_ranges_choose_log_bins_for_positive_draws_and_bracket_the_tails():
    rng = np.random.default_rng(0)
    pilot = np.stack([rng.lognormal(0.0, 1.0, 100_000), rng.normal(0.0, 1.0, 100_000)])
    lo, inv_w, logs, k_lo, k_hi = histograms.ranges(pilot)
    assert logs.tolist() == [True, False]
    for j, x in enumerate(pilot):
        t = np.log(x) if logs[j] else x
        top = lo[j] + BINS / inv_w[j]
        # the bins cover the pilot's 0.1%-99.9% range with half a span to spare each side
        assert lo[j] < np.quantile(t, 0.001) < np.quantile(t, 0.999) < top
        # the tail bins hold the pilot's 5% and 95% quantiles (device bin numbering)
        for k, q in ((k_lo[j], 0.05), (k_hi[j], 0.95)):
            a = lo[j] + (k - 1) / inv_w[j]
            assert a <= np.quantile(t, q) < a + 1 / inv_w[j]


@pytest.mark.parametrize("value", [0.0, 3.5, -2.0])
def test_ranges_of_a_constant_pilot_are_finite(value):
    lo, inv_w, _logs, k_lo, k_hi = histograms.ranges(np.full((1, 1000), value))
    assert np.isfinite(lo).all()
    assert np.isfinite(inv_w).all()
    assert (inv_w > 0).all()
    assert 0 <= k_lo[0] <= k_hi[0] <= BINS + 1


def test_ranges_ignore_non_finite_pilot_draws():
    x = np.linspace(1.0, 2.0, 1000)
    x[::10] = np.nan
    a = histograms.ranges(x[None, :])
    b = histograms.ranges(x[np.isfinite(x)][None, :])
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
