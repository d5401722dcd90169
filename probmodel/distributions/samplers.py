"""JAX samplers: one fast exact sampler per family (jit- and vmap-compatible).

Imported only when draws are needed (``probmodel.distributions.sample`` loads this
module on first use), so checking a scenario never imports JAX.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy import special as jsp

from probmodel.distributions import threefry
from probmodel.distributions.registry import native_values, pert_shapes

#
# jax.random.gamma and jax.random.beta draw each element with its own rejection
# while_loop; on CPU that is about 20x slower than NumPy and dominates the forward Monte
# Carlo (measured: see benchmarks/README.md). The samplers below are exact and
# vectorised instead: every Marsaglia-Tsang round proposes for the whole array, and each
# slot keeps its first accepted proposal, so a slot's value depends only on the key and
# its index (never on how many rounds other slots needed).


# _THREEFRY_NOTE: the samplers trace under jax.threefry_partitionable(False). The
# partitionable threefry (jax's default) makes the same bits under any sharding, which
# single-device Monte Carlo does not need, and generates them about 1.7x slower on CPU;
# random bits are most of the cost of a rejection round. Same key, same draws either way.


def concrete(x) -> np.ndarray | None:
    """Return ``x`` as a NumPy array if its value is known at trace time, else None."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _all_ge1(*xs) -> bool | None:
    """Answer "are all shape parameters >= 1?" statically; None under tracing."""
    vals = [concrete(x) for x in xs]
    if any(v is None for v in vals):
        return None
    return bool(all(np.all(v >= 1) for v in vals))


def log1p_tail(w, dtype):
    """Return log1p(w) - w + w**2/2 - w**3/3, accurate also for small w."""
    # Near 0 the direct form cancels catastrophically; there we sum its Taylor series
    # sum_{n>=4} (-1)^(n+1) w^n / n, truncated below the dtype's epsilon for |w| < 1/4.
    n_max = 16 if jnp.finfo(dtype).bits <= 32 else 28
    horner = jnp.zeros_like(w)
    for n in range(n_max, 3, -1):
        horner = horner * w + (1.0 if n % 2 else -1.0) / n
    series = w**4 * horner
    direct = jnp.log1p(w) - w + w * w / 2 - w**3 / 3
    return jnp.where(jnp.abs(w) < 0.25, series, direct)


def _marsaglia_tsang(key, a, shape, dtype):
    """Run vectorised Marsaglia-Tsang for Gamma(a, 1), a >= 1: G = d (1 + w)^3.

    Returns ``(d, w)``; ``w`` has ``shape``. Keeping w (rather than G) lets callers
    form log G = log d + 3 log1p(w) exactly when they need it.
    """
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    # Invalid shapes (NaN, <= 1/3) would never accept: finish them at once (callers
    # mask them with NaN) so that a bad traced parameter cannot hang the loop.
    invalid = jnp.broadcast_to(~(d > 0), shape)
    lowest = float(np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype)))

    def cond(state):
        return ~jnp.all(state[2])

    def body(state):
        i, w_kept, done = state
        # One uniform draw gives both the normal (as jax.random.normal makes it,
        # sqrt(2) erfinv(2v - 1)) and the acceptance uniform: one threefry call per
        # round instead of two roughly halves the compile time of the loop.
        v = threefry.uniform(jax.random.fold_in(key, i), (2, *shape), dtype)
        x = math.sqrt(2.0) * lax.erf_inv(jnp.maximum(2.0 * v[0] - 1.0, lowest))
        u = v[1]
        w = c * x
        positive = w > -1.0  # v = (1 + w)^3 must be positive
        w = jnp.where(positive, w, 0.0)
        # The textbook test log u < x^2/2 + d - d v + d log v, with v = (1 + w)^3 and
        # x^2/2 = 4.5 d w^2, is exactly log u < 3 d t(w) with t = log1p(w) - w + w^2/2
        # - w^3/3; evaluating t without cancellation keeps the test exact for large d.
        accept = positive & (jnp.log(u) < 3.0 * d * log1p_tail(w, dtype))
        return i + 1, jnp.where(done, w_kept, w), done | accept

    init = (jnp.int32(0), jnp.zeros(shape, dtype), invalid)
    _, w, _ = lax.while_loop(cond, body, init)
    return d, w


def _log_boost(key, a, shape, dtype):
    """Return log(U)/a where a < 1, else 0: the log of the boost factor U^(1/a).

    ``a`` may carry a leading axis of 2 (both shapes of a Beta, one draw).
    """
    tiny = jnp.finfo(dtype).tiny  # log(0) would make G = 0 and Beta 0/0
    u = threefry.uniform(key, jnp.broadcast_shapes(jnp.shape(a), shape), dtype, tiny, 1.0)
    return jnp.where(a < 1.0, jnp.log(u) / a, 0.0)


def _dispatch(static: bool | None, traced_pred, plain, general):
    """Pick a code path: statically when the parameters are known, else by lax.cond."""
    if static is True:
        return plain()
    if static is False:
        return general()
    return lax.cond(traced_pred, plain, general)


def gamma_mt(key: jax.Array, a, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """Exact Gamma(a, 1) draws, vectorised Marsaglia-Tsang (fast on CPU).

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    a : float or array_like
        Shape parameter(s) > 0, broadcastable to ``shape``; may be traced.
    shape : tuple of int
        Output shape.
    dtype : dtype, optional
        Floating dtype of the draws (float32 by default).

    Returns
    -------
    jax.Array
        Draws of ``shape`` and ``dtype``; NaN where ``a`` is not positive.

    Notes
    -----
    For a >= 1, each round proposes ``d (1 + c x)^3`` (d = a - 1/3, c = 1/sqrt(9d),
    x standard normal) for the whole array and accepts with the Marsaglia-Tsang test;
    rounds repeat until every slot has accepted, each slot keeping its first acceptance
    (acceptance is >= 95% per round, so about log(n)/3 rounds). For a < 1 the draw is
    G(a + 1) U^(1/a), computed in log space. When ``a`` is known at trace time the
    boost is compiled only if some a < 1; when it is traced, a ``lax.cond`` skips it at
    run time if all a >= 1. Either way the draws are the same, slot by slot.

    References
    ----------
    G. Marsaglia and W. W. Tsang, "A simple method for generating gamma variables",
    ACM TOMS 26(3), 2000.
    """
    with jax.threefry_partitionable(False):  # see _THREEFRY_NOTE
        return _gamma_mt(key, a, tuple(shape), dtype)


def _gamma_mt(key, a, shape: tuple[int, ...], dtype) -> jax.Array:
    a = jnp.asarray(a, dtype)
    k_mt, k_boost = jax.random.split(key)
    small = a < 1.0
    d, w = _marsaglia_tsang(k_mt, jnp.where(small, a + 1.0, a), shape, dtype)
    g = d * (1.0 + w) ** 3

    def boosted():
        # In log space: for small a, U^(1/a) underflows long before G U^(1/a) does.
        log_g = jnp.log(d) + 3.0 * jnp.log1p(w) + _log_boost(k_boost, a, shape, dtype)
        return jnp.where(small, jnp.exp(log_g), g)

    out = _dispatch(_all_ge1(a), jnp.all(a >= 1.0), lambda: g, boosted)
    return jnp.broadcast_to(jnp.where(a > 0, out, jnp.nan), shape)


def _beta(key, a, b, shape, dtype, all_ge1: bool | None = None):
    """Beta(a, b) = G1 / (G1 + G2), through log G1 - log G2 when a shape is below 1."""
    a, b = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
    if all_ge1 is None:
        all_ge1 = _all_ge1(a, b)
    ka, kb, k_boost = jax.random.split(key, 3)
    da, wa = _marsaglia_tsang(ka, jnp.where(a < 1.0, a + 1.0, a), shape, dtype)
    db, wb = _marsaglia_tsang(kb, jnp.where(b < 1.0, b + 1.0, b), shape, dtype)
    g1, g2 = da * (1.0 + wa) ** 3, db * (1.0 + wb) ** 3

    def plain():
        return g1 / (g1 + g2)

    def general():
        ab = jnp.stack(jnp.broadcast_arrays(a, b))  # one draw for both boosts
        ab = ab.reshape(2, *(1,) * (len(shape) - ab.ndim + 1), *ab.shape[1:])
        boost = _log_boost(k_boost, ab, (2, *shape), dtype)
        l1 = jnp.log(da) + 3.0 * jnp.log1p(wa) + boost[0]
        l2 = jnp.log(db) + 3.0 * jnp.log1p(wb) + boost[1]
        both = (a >= 1.0) & (b >= 1.0)
        # sigmoid(log G1 - log G2) = G1/(G1 + G2), with no underflow to 0/0.
        return jnp.where(both, g1 / (g1 + g2), jax.nn.sigmoid(l1 - l2))

    out = _dispatch(all_ge1, jnp.all(a >= 1.0) & jnp.all(b >= 1.0), plain, general)
    return jnp.where((a > 0) & (b > 0), out, jnp.nan)


def truncnormal_icdf(u, loc, scale, low, high):
    """Inverse CDF of the truncated normal at uniforms ``u`` (in u's dtype)."""
    dtype = u.dtype
    a, b = (low - loc) / scale, (high - loc) / scale
    # Work in the lower tail, where the normal CDF keeps full relative precision:
    # an interval lying above loc is sampled as the mirror image of one below it.
    flip = (a + b) > 0
    lo, hi = jnp.where(flip, -b, a), jnp.where(flip, -a, b)
    p_lo, p_hi = jsp.ndtr(lo), jsp.ndtr(hi)
    tiny, eps = jnp.finfo(dtype).tiny, jnp.finfo(dtype).eps
    # 1 - u on the mirror keeps the draw increasing in u, so that common random
    # numbers stay monotonically coupled when the bounds (and so the side) change.
    u = jnp.where(flip, 1.0 - u, u)
    u = jnp.clip(u, tiny, 1.0 - eps)  # the open interval: ndtri(0) = -inf
    # ndtri of a subnormal p is -inf: keep p normal (see TN_MAX_Z for the cost).
    p = jnp.maximum(p_lo + u * (p_hi - p_lo), tiny)
    z = jnp.clip(jsp.ndtri(p), lo, hi)
    return jnp.clip(loc + scale * jnp.where(flip, -z, z), low, high)


def triangular_icdf(u, low, mode, high):
    """Inverse CDF of the triangular law at uniforms ``u``."""
    w = high - low
    left = low + jnp.sqrt(u * w * (mode - low))
    right = high - jnp.sqrt((1.0 - u) * w * (high - mode))
    return jnp.clip(jnp.where(u * w < mode - low, left, right), low, high)


def sample(
    rng_key: jax.Array,
    family: str,
    params: Mapping[str, Any],
    shape: tuple[int, ...],
    dtype=jnp.float32,
) -> jax.Array:
    """Draw from a family by fast exact samplers; jit- and vmap-compatible.

    Parameters
    ----------
    rng_key : jax.Array
        PRNG key; the same key gives the same draws, bit for bit.
    family : str
        One of :data:`FAMILIES` (static under jit).
    params : mapping of str to float or array
        Native parameters as Python floats or (possibly traced) arrays broadcastable
        to ``shape``, e.g. one value per sweep cell.
    shape : tuple of int
        Output shape (static under jit).
    dtype : dtype, optional
        Floating dtype of the draws (float32 by default); parameters are cast to it.

    Returns
    -------
    jax.Array
        Draws of ``shape`` and ``dtype``.

    Notes
    -----
    Normal and LogNormal from ``jax.random.normal``; Uniform from ``jax.random.uniform``;
    Gamma by :func:`gamma_mt` divided by the rate; Beta as G1/(G1 + G2) of two such
    gammas (through the log-ratio when a shape is below 1); PERT as low + (high - low)
    Beta(1 + 4(mode - low)/(high - low), 1 + 4(high - mode)/(high - low));
    TruncatedNormal and Triangular by inverse CDF.
    """
    fam, raw = native_values(family, params)
    with jax.threefry_partitionable(False):  # see _THREEFRY_NOTE
        return _draw(rng_key, fam.name, raw, tuple(shape), dtype)


def _draw(rng_key, name: str, raw: list, shape: tuple[int, ...], dtype) -> jax.Array:
    p = [jnp.asarray(x, dtype) for x in raw]
    match name:
        case "Normal":
            out = p[0] + p[1] * threefry.normal(rng_key, shape, dtype)
        case "LogNormal":
            out = jnp.exp(p[0] + p[1] * threefry.normal(rng_key, shape, dtype))
        case "Beta":
            out = _beta(rng_key, p[0], p[1], shape, dtype)
        case "Gamma":
            out = _gamma_mt(rng_key, p[0], shape, dtype) / p[1]
        case "Uniform":
            out = p[0] + (p[1] - p[0]) * threefry.uniform(rng_key, shape, dtype)
        case "TruncatedNormal":
            out = truncnormal_icdf(threefry.uniform(rng_key, shape, dtype), *p)
        case "Triangular":
            out = triangular_icdf(threefry.uniform(rng_key, shape, dtype), *p)
        case _:  # PERT; both shapes are >= 1 whenever low <= mode <= high
            low, mode, high = p
            a, b = pert_shapes(low, mode, high)
            out = low + (high - low) * _beta(rng_key, a, b, shape, dtype, all_ge1=True)
    return jnp.broadcast_to(out.astype(dtype), shape)

