"""probmodel.distributions.threefry gives jax.random's numbers bit for bit.

The engine draws its random bits, uniforms and normals through the module (a program
XLA's CPU compiler fuses, about 3x cheaper than jax.random's); every draw, and so every
documented number, stays what jax.random made.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probmodel.distributions import threefry

SHAPES = [(1,), (2,), (7,), (2, 9), (3, 4, 5), (0,), (4099,)]


@pytest.fixture(scope="module")
def keys():
    root = jax.random.PRNGKey(20261206)
    return jnp.stack([jax.random.fold_in(root, k) for k in range(5)])


def test_known_answer_of_the_cipher():
    # Random123's known-answer vectors for Threefry-2x32-20 (kat_vectors)
    def cipher(k0, k1, x0, x1):
        u = [jnp.asarray(v, jnp.uint32) for v in (k0, k1, x0, x1)]
        return [int(v) for v in threefry.threefry2x32(*u)]

    assert cipher(0, 0, 0, 0) == [0x6B200159, 0x99BA4EFE]
    assert cipher(*[0xFFFFFFFF] * 4) == [0x1CB996FC, 0xBB002BE7]
    assert cipher(0x13198A2E, 0x03707344, 0x243F6A88, 0x85A308D3) == [0xC4923A9C, 0x483DF7A0]


@pytest.mark.parametrize("shape", SHAPES)
def test_bits_equal_jax_random_bits_for_a_batch_of_keys(keys, shape):
    with jax.threefry_partitionable(False):
        want = jax.vmap(lambda k: jax.random.bits(k, shape, jnp.uint32))(keys)
    got = threefry.bits(keys, shape)
    jitted = jax.jit(lambda k: threefry.bits(k, shape))(keys)
    assert got.shape == want.shape == (5, *shape)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(want))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.3, 2.0), (np.float32(1.1754944e-38), 1.0)])
def test_uniform_and_normal_equal_jax_random(keys, shape, bounds):
    lo, hi = bounds
    with jax.threefry_partitionable(False):
        u = jax.random.uniform(keys[1], shape, jnp.float32, lo, hi)
        z = jax.random.normal(keys[2], shape, jnp.float32)
        zj = jax.jit(lambda k: jax.random.normal(k, shape, jnp.float32))(keys[2])
    np.testing.assert_array_equal(np.asarray(threefry.uniform(keys[1], shape, jnp.float32, lo, hi)),
                                  np.asarray(u))
    np.testing.assert_array_equal(np.asarray(threefry.normal(keys[2], shape, jnp.float32)),
                                  np.asarray(z))
    inside = jax.jit(lambda k: threefry.normal(k, shape, jnp.float32) * 2.0)(keys[2])
    np.testing.assert_array_equal(np.asarray(inside), np.asarray(zj) * 2.0)


def test_under_vmap_and_for_other_dtypes_and_key_kinds(keys):
    with jax.threefry_partitionable(False):
        want = jax.vmap(lambda k: jax.random.normal(k, (33,), jnp.float32))(keys)
        w16 = jax.random.uniform(keys[0], (9,), jnp.float16)
        typed = jax.random.key(3)
        wt = jax.random.bits(typed, (6,), jnp.uint32)
    got = jax.vmap(lambda k: threefry.normal(k, (33,), jnp.float32))(keys)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    # another dtype, or a typed key, is jax.random's own path
    np.testing.assert_array_equal(np.asarray(threefry.uniform(keys[0], (9,), jnp.float16)),
                                  np.asarray(w16))
    np.testing.assert_array_equal(np.asarray(threefry.bits(typed, (6,))), np.asarray(wt))
