"""Threefry random bits, uniforms and normals: jax.random's numbers, three times cheaper on CPU.

Every function here returns exactly what ``jax.random.bits``, ``jax.random.uniform`` and
``jax.random.normal`` return for float32 and uint32 under
``jax.threefry_partitionable(False)`` (the sequential form the engine uses): the same
Threefry-2x32 cipher (20 rounds, Salmon et al. 2011) on the same counters, the same
conversion to floats. Only the program differs. jax builds a key's counters as one
iota split into two halves, runs the cipher as its own primitive and concatenates the
halves, and XLA's CPU compiler does not fuse those steps: 8 rows x 2 x 2^17 uniforms
took 13-19 ms of CPU time there, 4.5-4.9 ms here, where the counters of both halves are
computed inside the one fused loop (benchmarks/README.md, ``bench_block.py``).

``tests/statistical/test_threefry.py`` checks bit equality with jax.random for batches of
keys, odd and even sizes, and each function. Keys are raw ``(..., 2)`` uint32 arrays
(``jax.random.PRNGKey``); a typed key, or another generator's key, goes to jax.random.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x, d: int):
    return (x << np.uint32(d)) | (x >> np.uint32(32 - d))


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32, 20 rounds, on broadcastable uint32 key words and counters."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = x0 + ks[0]
    x1 = x1 + ks[1]
    for r in range(20):
        x0 = x0 + x1
        x1 = _rotl(x1, _ROTATIONS[r % 8]) ^ x0
        if r % 4 == 3:  # key injection j after every 4 rounds
            j = r // 4 + 1
            x0 = x0 + ks[j % 3]
            x1 = x1 + ks[(j + 1) % 3] + np.uint32(j)
    return x0, x1


def _raw(key) -> bool:
    return (not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
            and key.dtype == jnp.uint32 and key.shape[-1:] == (2,))


def bits(keys, shape: tuple[int, ...]) -> jax.Array:
    """uint32 bits of ``shape`` for every key of ``keys`` (shape ``(..., 2)``).

    Equal to ``vmap(lambda k: jax.random.bits(k, shape, jnp.uint32))(keys)`` in the
    sequential threefry form: the ``size`` counters 0..size-1 are split into two halves
    (a zero appended when ``size`` is odd), enciphered as pairs, and concatenated.
    """
    shape = tuple(int(s) for s in shape)
    keys = jnp.asarray(keys)
    size = math.prod(shape)
    if not _raw(keys) or size >= 1 << 32:
        return _jax_bits(keys, shape)
    batch = keys.shape[:-1]
    if size == 0:
        return jnp.zeros((*batch, *shape), jnp.uint32)
    half = (size + 1) // 2
    c = lax.broadcasted_iota(jnp.uint32, (*(1,) * len(batch), half), len(batch))
    k0, k1 = keys[..., 0:1], keys[..., 1:2]
    second = c + np.uint32(half)
    if size % 2:  # the appended zero counter
        second = jnp.where(c == np.uint32(half - 1), np.uint32(0), second)
    y0, y1 = threefry2x32(k0, k1, c, second)
    out = jnp.concatenate([y0, y1], axis=-1)[..., :size]
    return out.reshape(*batch, *shape)


def _jax_bits(keys, shape):
    def one(k):
        return jax.random.bits(k, shape, jnp.uint32)

    with jax.threefry_partitionable(False):
        for _ in range(keys.ndim - (1 if not jax.dtypes.issubdtype(
                keys.dtype, jax.dtypes.prng_key) else 0)):
            one = jax.vmap(one)
        return one(keys)


@partial(jax.jit, static_argnames=("shape", "dtype"))
def uniform(key, shape: tuple[int, ...], dtype=jnp.float32, minval=0.0, maxval=1.0):
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``, bit for bit.

    float32 only goes through :func:`bits`; other dtypes are jax.random's. Jitted, as
    jax.random's is: op by op, ``f * (maxval - minval) + minval`` would round
    differently from the fused program.
    """
    shape = tuple(int(s) for s in shape)
    key = jnp.asarray(key)
    if jnp.dtype(dtype) != jnp.float32 or not _raw(key) or key.ndim != 1:
        with jax.threefry_partitionable(False):
            return jax.random.uniform(key, shape, dtype, minval, maxval)
    lo = lax.convert_element_type(minval, jnp.float32)
    hi = lax.convert_element_type(maxval, jnp.float32)
    lo = lax.broadcast_to_rank(lo, len(shape))
    hi = lax.broadcast_to_rank(hi, len(shape))
    b = bits(key, shape)
    one = np.array(1.0, np.float32).view(np.uint32)
    f = lax.bitcast_convert_type((b >> np.uint32(32 - 23)) | one, jnp.float32) - np.float32(1.0)
    return lax.max(lo, f * (hi - lo) + lo)


@partial(jax.jit, static_argnames=("shape", "dtype"))
def normal(key, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """``jax.random.normal(key, shape, dtype)``, bit for bit (float32 via :func:`uniform`)."""
    key = jnp.asarray(key)
    if jnp.dtype(dtype) != jnp.float32 or not _raw(key) or key.ndim != 1:
        with jax.threefry_partitionable(False):
            return jax.random.normal(key, shape, dtype)
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0), dtype=np.float32)
    u = uniform(key, shape, jnp.float32, lo, np.float32(1.0))
    return lax.mul(np.float32(np.sqrt(2)), lax.erf_inv(u))
