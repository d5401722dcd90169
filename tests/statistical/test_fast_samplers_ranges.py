"""The forward engine's batched Beta sampler against scipy.stats, at 1e6 draws per row.

``probmodel.sampling.beta_batch`` (Cheng's algorithm BB with compacted retries when
every shape exceeds 1; a ratio of Marsaglia-Tsang gammas otherwise) is not the sampler
of ``probmodel.distributions.sample``, so it is checked here on its own: every Beta
the shipped scenarios use (read from priors/*.toml), the edges of BB's domain, and
shapes at and below 1 (the gamma-ratio path).

Bounds: KS p > 1e-3 and |mean - exact| < 4 standard errors per row. With R rows an
exact sampler fails somewhere with probability about R x 1e-3 (KS) + R x 6.3e-5 (mean),
about 2% for the ~15 rows; seeds are fixed (the rows' keys), not tuned.
"""

import dataclasses
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import probmodel
from probmodel import sampling
from probmodel.catalog import CATALOG_FILES

N = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def shipped_betas() -> list[tuple[float, float]]:
    pairs = set()
    for f in sorted((ROOT / "priors").glob("*.toml")):
        if f.name in CATALOG_FILES:  # hardware/model catalogs, not scenarios
            continue
        sc = probmodel.load_scenario(f)
        for p in sc.uncertain.values():
            if p.dist == "Beta":
                pairs.add((round(p.params["alpha"], 6), round(p.params["beta"], 6)))
    return sorted(pairs)


EDGES_BB = [(1.01, 1.01), (1.5, 300.0), (300.0, 1.5), (2.0, 2.0)]
BELOW_ONE = [(0.5, 0.5), (0.2, 3.0), (0.9, 5.0), (1.0, 1.0), (4.0, 0.7)]


def _draw(pairs, fast, seed):
    keys = jnp.stack([jax.random.PRNGKey(1000 * seed + i) for i in range(len(pairs))])
    a = jnp.asarray([p[0] for p in pairs], jnp.float32)
    b = jnp.asarray([p[1] for p in pairs], jnp.float32)
    f = jax.jit(lambda k, a, b: sampling.beta_batch(k, a, b, N, fast))
    return np.asarray(f(keys, a, b), np.float64)


def _check(x, a, b):
    # KS against the exact CDF (regularised incomplete beta), and the mean
    x = np.sort(x)
    assert np.all((x >= 0) & (x <= 1)), (a, b)
    cdf = special.betainc(a, b, x)
    n = x.size
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    p = special.kolmogorov(d * math.sqrt(n))  # asymptotic; exact enough at n = 1e6
    assert p > 1e-3, (a, b, d, p)
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / n), (a, b, x.mean(), mean)


@pytest.mark.slow
def test_cheng_bb_on_every_shipped_beta_and_its_domain_edges():
    pairs = shipped_betas() + EDGES_BB
    assert len(pairs) >= 6  # the shipped scenarios use Betas
    x = _draw(pairs, True, 1)
    for row, (a, b) in zip(x, pairs, strict=True):
        _check(row, a, b)


@pytest.mark.slow
def test_gamma_ratio_path_for_shapes_at_and_below_one():
    x = _draw(BELOW_ONE, False, 2)
    for row, (a, b) in zip(x, BELOW_ONE, strict=True):
        _check(row, a, b)


def test_a_beta_below_one_does_not_change_the_other_betas(priors):
    # Each Beta's sampler follows from its own shapes: adding a U-shaped Beta to a
    # scenario leaves every other parameter's draws unchanged (common random numbers).
    base = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    params = dict(base.parameters)
    p = params["v3_share"]
    params["v3_share"] = dataclasses.replace(p, params={"alpha": 0.5, "beta": 0.5})
    odd = dataclasses.replace(base, parameters=params)
    a = sampling.sample_arrays(base, 5000, 3)
    b = sampling.sample_arrays(odd, 5000, 3)
    assert sampling.ForwardModel.from_scenario(odd).beta_boost == ("v3_share",)
    for k in ("pay_rate", "gpu_cost_share", "cache_hit_rate", "offpeak_share"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["v3_share"], b["v3_share"])


def test_bad_shapes_give_nan_not_an_endless_loop():
    keys = jnp.stack([jax.random.PRNGKey(0), jax.random.PRNGKey(1)])
    for fast in (True, False):
        # jitted, as the engine runs it (op by op, each operation compiles on its own)
        f = jax.jit(lambda k, a, b, fast=fast: sampling.beta_batch(k, a, b, 256, fast))
        x = np.asarray(f(keys, jnp.asarray([-1.0, 3.0]), jnp.asarray([2.0, 4.0])))
        assert np.all(np.isnan(x[0]))
        assert np.all((x[1] > 0) & (x[1] < 1))
