"""The hand-written scalar special functions and root finders, against SciPy.

They exist so that validating a scenario does not import SciPy (start-up); each must
agree with scipy.special / scipy.optimize / scipy.stats to the stated relative error,
and report OutOfRange rather than answer badly outside its range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from probmodel import distributions as D
from probmodel.distributions import registry
from probmodel.distributions import special as sf


def test_z95_literal_is_scipys():
    assert registry.Z95 == float(special.ndtri(0.95))


def test_ndtri_matches_scipy_to_a_few_ulp():
    rng = np.random.default_rng(0)
    ps = np.concatenate([rng.uniform(0, 1, 4000), 10.0 ** -rng.uniform(1, 300, 500),
                         [1e-300, 0.02425, 0.25, 0.5, 0.75, 0.975, 1 - 2**-53]])
    for p in ps:
        want = float(special.ndtri(p))
        assert abs(sf.ndtri(p) - want) <= 1e-15 * abs(want) + 1e-300, p
    assert sf.ndtri(0.0) == -math.inf
    assert sf.ndtri(1.0) == math.inf
    assert math.isnan(sf.ndtri(1.5))


@pytest.mark.parametrize(("log_lo", "log_hi", "rtol"), [(-3, 7, 1e-12), (-3, math.log(1e5), 1e-10)])
def test_betainc_matches_scipy(log_lo, log_hi, rtol):
    rng = np.random.default_rng(1)
    for _ in range(4000):
        a, b = np.exp(rng.uniform(log_lo, log_hi, 2))
        x = rng.uniform()
        lower, upper = sf.betainc_pair(a, b, x)
        want_l, want_u = special.betainc(a, b, x), special.betaincc(a, b, x)
        # Each side is compared where it is not underflowing to the scale of 1e-200.
        if want_l > 1e-200:
            assert abs(lower - want_l) <= rtol * want_l, (a, b, x)
        if want_u > 1e-200:
            assert abs(upper - want_u) <= rtol * want_u, (a, b, x)


def test_betaincinv_matches_scipy():
    rng = np.random.default_rng(2)
    for _ in range(2000):
        a, b = np.exp(rng.uniform(-3, 7, 2))
        p = rng.uniform()
        want = special.betaincinv(a, b, p)
        assert abs(sf.betaincinv(a, b, p) - want) <= 1e-11 * want, (a, b, p)


def test_out_of_range_is_reported_not_answered():
    with pytest.raises(sf.OutOfRange):
        sf.betainc(2e5, 1.0, 0.5)
    with pytest.raises(sf.OutOfRange):
        sf.betainc(1.0, 1.0, 1.5)


def test_brentq_matches_scipy():
    for f, a, b in [(lambda x: x**3 - 2 * x - 5, 2.0, 3.0), (math.cos, 0.0, 3.0),
                    (lambda c: special.betaincinv(1 + 4 * c, 5 - 4 * c, 0.5) - 0.42, 0.0, 1.0)]:
        want = optimize.brentq(f, a, b, xtol=1e-15, rtol=1e-15)
        assert abs(sf.brentq(f, a, b, xtol=1e-15, rtol=1e-15) - want) <= 4e-15 * max(1, abs(want))


def test_newton2_solves_a_2d_system():
    def resid(x):
        return [x[0] ** 2 + x[1] ** 2 - 4.0, math.exp(x[0]) + x[1] - 1.0]

    got = sf.newton2(resid, [1.0, -1.5])
    want = optimize.root(resid, [1.0, -1.5], method="hybr", tol=1e-14).x
    np.testing.assert_allclose(got, want, rtol=1e-12)


FAMILIES = [
    ("Normal", {"loc": 3.0, "scale": 2.0}),
    ("LogNormal", {"loc": 10.0, "scale": 0.7}),
    ("Beta", {"alpha": 3.2, "beta": 11.5}),
    ("Beta", {"alpha": 0.3, "beta": 0.8}),
    ("Uniform", {"low": -1.0, "high": 4.0}),
    ("Triangular", {"low": 0.0, "mode": 0.2, "high": 1.0}),
    ("PERT", {"low": 10.0, "mode": 14.0, "high": 30.0}),
    ("Gamma", {"shape": 2.5, "rate": 0.1}),
    ("TruncatedNormal", {"loc": 0.0, "scale": 1.0, "low": 0.5, "high": 3.0}),
]


@pytest.mark.parametrize(("family", "params"), FAMILIES)
def test_small_quantile_requests_match_scipy_stats(family, params):
    q = np.array([0.0, 0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 1.0])
    got = D.quantile(family, params, q)
    want = D.scipy_dist(family, params).ppf(q)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=0)
    # Large arrays go to scipy.stats itself: the very same numbers.
    u = np.random.default_rng(3).uniform(size=1000)
    np.testing.assert_array_equal(D.quantile(family, params, u),
                                  D.scipy_dist(family, params).ppf(u))


def test_beta_elicitation_matches_the_scipy_solver():
    # The hand-written solve finds the root MINPACK finds (to its tolerance).
    for lo, hi in [(0.2, 0.5), (0.01, 0.05), (0.6, 0.99), (0.3, 0.31)]:
        got = D.resolve("Beta", {"p05": lo, "p95": hi})

        def resid(theta, lo=lo, hi=hi):
            a, b = np.exp(theta)
            return [special.ndtri(special.betainc(a, b, lo)) + registry.Z95,
                    special.ndtri(special.betaincc(a, b, hi)) + registry.Z95]

        th = optimize.root(resid, np.log([got["alpha"], got["beta"]]) + 0.1, method="hybr",
                           tol=1e-14).x
        np.testing.assert_allclose([got["alpha"], got["beta"]], np.exp(th), rtol=1e-9)
        law = stats.beta(got["alpha"], got["beta"])
        np.testing.assert_allclose(law.ppf([0.05, 0.95]), [lo, hi], rtol=1e-9)


def test_beta_elicitation_beyond_the_hand_written_range_falls_back_to_scipy():
    got = D.resolve("Beta", {"p05": 0.5, "p95": 0.5001})  # shapes of about 1e8
    assert min(got.values()) > sf.MAX_SHAPE
    np.testing.assert_allclose(stats.beta(got["alpha"], got["beta"]).ppf([0.05, 0.95]),
                               [0.5, 0.5001], rtol=1e-9)
