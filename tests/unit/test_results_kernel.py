"""The sorted summary kernel agrees with the unsorted reference path."""

from __future__ import annotations

import numpy as np
import pytest

from probmodel import results


@pytest.mark.parametrize("n", [2, 3, 7, 1000, 100_001])
def test_sorted_kernel_matches_reference(n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((3, n)) * 3 + rng.gamma(0.5, size=(3, n))).astype(np.float32)
    probs = np.asarray(results.QUANTILES)
    lo, hi = results.quantile_window(probs, n)
    pp = np.concatenate([probs, lo, hi])
    # quantiles: bit for bit NumPy's
    got = results._sorted_quantiles(np.sort(x, axis=-1).astype(np.float64), pp)
    want = np.moveaxis(np.quantile(x.astype(np.float64), pp, axis=-1), 0, -1)
    assert np.array_equal(got, want)
    # every statistic and MCSE: only the summation order differs (float64 rounding)
    v1, s1 = results._kernel_rows(x)
    v0, s0 = results._kernel_rows_unsorted(x)
    np.testing.assert_allclose(v1, v0, rtol=1e-12, atol=1e-12 * np.abs(x).max())
    np.testing.assert_allclose(s1, s0, rtol=1e-9, atol=1e-12 * np.abs(x).max())


def test_non_finite_rows_take_reference_path():
    x = np.arange(20, dtype=np.float32).reshape(2, 10)
    x[1, 3] = np.nan
    v1, s1 = results._kernel_rows(x)
    v0, s0 = results._kernel_rows_unsorted(x)
    np.testing.assert_array_equal(v1, v0)
    np.testing.assert_array_equal(s1, s0)
