"""Iman-Conover rank correlation within a chunk: exact marginals, Spearman targets within
MCSE-based bounds, determinism, and the positive-definiteness check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import probmodel
from probmodel import correlation as co
from probmodel import sampling

N = 100_000
# Standard error of a sample Spearman correlation at N draws: at most 1/sqrt(N - 1)
# (its value under independence; it shrinks as |rho| grows), 0.0032 at 1e5. The issue's
# bound 0.02 is 6.3 MCSE; Iman-Conover's correction makes the *score* Pearson matrix
# exact, so the achieved ranks are far closer than plain sampling noise, and we also
# hold them to 3 MCSE.
MCSE = 1 / np.sqrt(N - 1)
BOUND = 0.02

_correlate = jax.jit(co.rank_correlate, static_argnums=2)


def _draws(n=N, seed=1):
    rng = np.random.default_rng(seed)
    return {
        "a": jnp.asarray(rng.beta(2, 5, n), jnp.float32),
        "b": jnp.asarray(rng.lognormal(0, 1, n), jnp.float32),
        "c": jnp.asarray(rng.normal(0, 1, n), jnp.float32),
        "d": jnp.asarray(rng.beta(0.5, 0.7, n), jnp.float32),
        "z": jnp.asarray(rng.random(n), jnp.float32),  # never correlated
    }


def _spearman(out, names):
    x = np.stack([np.asarray(out[k]) for k in names], axis=1)
    r = scipy.stats.spearmanr(x).statistic
    return np.array([[1.0, r], [r, 1.0]]) if np.ndim(r) == 0 else r


FOUR = np.array([[1.0, -0.4, 0.3, 0.2],
                 [-0.4, 1.0, 0.5, 0.0],
                 [0.3, 0.5, 1.0, -0.3],
                 [0.2, 0.0, -0.3, 1.0]])


@pytest.mark.parametrize("rank", [-0.8, -0.4, 0.1, 0.5, 0.9])
def test_pair_reaches_its_spearman_target(rank):
    target = np.array([[1.0, rank], [rank, 1.0]])
    out = _correlate(jax.random.PRNGKey(0), _draws(), ("a", "b"), jnp.asarray(target))
    err = _spearman(out, ("a", "b"))[0, 1] - rank
    assert abs(err) < BOUND
    assert abs(err) < 3 * MCSE


def test_four_by_four_matrix_reaches_every_target():
    names = ("a", "b", "c", "d")
    out = _correlate(jax.random.PRNGKey(0), _draws(), names, jnp.asarray(FOUR))
    err = _spearman(out, names) - FOUR
    assert np.abs(err).max() < BOUND
    assert np.abs(err).max() < 3 * MCSE
    # the input left out stays independent of the correlated ones
    rz = _spearman(out, ("a", "b", "c", "d", "z"))[-1, :-1]
    assert np.abs(rz).max() < 4 * MCSE


def test_marginals_are_exactly_the_same_values():
    d = _draws()
    out = _correlate(jax.random.PRNGKey(3), d, ("a", "b", "c", "d"), jnp.asarray(FOUR))
    for k in d:
        assert np.array_equal(np.sort(np.asarray(out[k])), np.sort(np.asarray(d[k]))), k
    assert np.array_equal(out["z"], d["z"])  # not listed: untouched, same order
    assert np.array_equal(out["a"], d["a"])  # the first name keeps its order (see module)
    assert not np.array_equal(out["b"], d["b"])


def test_deterministic_and_a_function_of_the_correlated_draws_only():
    d = _draws()
    names, m = ("a", "b", "c"), jnp.asarray(FOUR[:3, :3])
    one = _correlate(jax.random.PRNGKey(0), d, names, m)
    two = _correlate(jax.random.PRNGKey(0), dict(d), names, m)
    # another key, and another value of an input that is not correlated
    other = _correlate(jax.random.PRNGKey(7), {**d, "z": d["z"] * 2}, names, m)
    for k in names:
        assert np.array_equal(one[k], two[k])
        assert np.array_equal(one[k], other[k])


def test_engine_chunk_keeps_prefix_and_marginals(priors):
    """On real draws of a chunk (Betas with float32 ties, LogNormals): each chunk is
    reordered on its own, so chunk 0 is the same whatever follows it."""
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    names = ("gpu_price_per_hour", "gpu_cost_share", "cache_hit_rate", "pay_rate",
             "v3_share")
    target = np.eye(5)
    target[0, 1] = target[1, 0] = -0.5
    target[3, 4] = target[4, 3] = -0.4
    target[2, 3] = target[3, 2] = 0.3
    keys = [c.key for c in sampling.chunks(0, 2 * sampling.CHUNK)]
    chunks = [model.draw_inputs(k, args, sampling.CHUNK) for k in keys]
    outs = [_correlate(jax.random.fold_in(k, sampling.name_id("<correlation>")), c, names,
                       jnp.asarray(target)) for k, c in zip(keys, chunks, strict=True)]
    again = _correlate(jax.random.fold_in(keys[0], sampling.name_id("<correlation>")),
                       model.draw_inputs(keys[0], args, sampling.CHUNK), names,
                       jnp.asarray(target))
    for k in chunks[0]:
        assert np.array_equal(outs[0][k], again[k]), k
        assert np.array_equal(np.sort(outs[0][k]), np.sort(chunks[0][k])), k
    mcse = 1 / np.sqrt(sampling.CHUNK - 1)
    for o in outs:
        err = _spearman(o, names) - target
        assert np.abs(err).max() < 3 * mcse


def test_a_single_name_or_identity_changes_nothing():
    d = _draws(1000)
    out = co.rank_correlate(jax.random.PRNGKey(0), d, ("a",), jnp.eye(1))
    assert all(np.array_equal(out[k], d[k]) for k in d)


def test_pearson_for_spearman():
    assert co.pearson_for_spearman(0.5) == pytest.approx(2 * np.sin(np.pi / 12))
    assert co.pearson_for_spearman(-1.0) == pytest.approx(-1.0)
    m = co.pearson_for_spearman(np.array([[1.0, 0.3], [0.3, 1.0]]))
    assert m[0, 0] == 1.0
    assert m[1, 1] == 1.0
    assert m[0, 1] == pytest.approx(2 * np.sin(np.pi * 0.3 / 6))
    # the relation it inverts: Spearman of a normal pair = (6 / pi) asin(rho / 2)
    assert 6 / np.pi * np.arcsin(m[0, 1] / 2) == pytest.approx(0.3)


def test_positive_definite_matrix_has_no_bad_pairs():
    assert co.check_positive_definite(list("abcd"), FOUR) == []
    assert co.check_positive_definite(["a"], np.eye(1)) == []


def test_impossible_triangle_names_all_three_pairs():
    m = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
    assert sorted(co.check_positive_definite(list("abc"), m)) == [
        ("a", "b"), ("a", "c"), ("b", "c")]


def test_unstated_pair_that_breaks_definiteness_names_the_stated_pairs():
    # a~b and a~c at 0.9 force b~c > 0.6; leaving it at 0 is impossible. The bystander
    # d (weakly tied to a and b) is not blamed.
    m = np.eye(4)
    m[0, 1] = m[1, 0] = m[0, 2] = m[2, 0] = 0.9
    m[0, 3] = m[3, 0] = m[1, 3] = m[3, 1] = 0.05
    assert sorted(co.check_positive_definite(list("abcd"), m)) == [("a", "b"), ("a", "c")]


def test_shape_mismatch_is_a_programming_error():
    with pytest.raises(ValueError, match="shape"):
        co.check_positive_definite(["a", "b"], np.eye(3))
