"""Correlated inputs: Iman-Conover rank reordering within blocks of a chunk's draws.

Each correlated input is first drawn on its own, exactly as without correlations; this
module then *reorders* the draws of the correlated inputs, block by block (:data:`BLOCK`
draws each), so that their Spearman rank correlations are close to the target. Every
input keeps exactly the values it had in each block (the same multiset, permuted), so
every marginal is unchanged over each block, and the inputs that are not correlated are
not touched at all. Reordering makes the draws of one block dependent; blocks are
independent, and the Monte Carlo standard errors of a correlated run come from batch
means over them.

Method (Iman & Conover 1982, "A distribution-free approach to inducing rank correlation
among input variables", Commun. Statist. B11(3), 311-334):

1. Score matrix ``S`` (n x k): column j holds the van der Waerden normal scores
   ``a_r = Phi^-1(r / (n + 1))`` in the rank order of input j's draws. The draws of
   different inputs come from independent keys, so each column is a uniformly random
   permutation of the scores, independent of the others: exactly the random score
   matrix Iman-Conover starts from, without spending a sort on a fresh permutation.
2. ``E`` = sample correlation of ``S`` (every column is a permutation of the same mean-0
   scores, so ``E = S'S / a'a``) and its Cholesky factor ``F``; ``L`` = Cholesky of the
   target *Pearson* matrix of the scores, ``P = 2 sin(pi R / 6)`` for the target
   Spearman matrix ``R`` (the normal-copula relation between Pearson and Spearman).
3. ``S* = S (L F^-1)'``: its sample Pearson correlation is exactly ``P`` (the "T" matrix
   correction for the chance correlation of ``S``), so its rank correlation is close to
   ``R`` with far less noise than a plain Gaussian copula of the same size.
4. Each input's draws are placed in the rank order of its column of ``S*``.

``L F^-1`` is lower triangular with a unit first diagonal entry, so the first column of
``S*`` is the first column of ``S``: the first input keeps its order, and the work is one
argsort per input (its own ranks) plus one per further input (the ranks of ``S*``).

The whole function is traced once per (static) tuple of names and chunk size; the
target matrix is an ordinary array argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri

from probmodel.spec.correlations import (  # noqa: F401 - the public names live here too
    PD_TOLERANCE,
    check_positive_definite,
    pearson_for_spearman,
)

#: Draws reordered together: a chunk's draws are cut into independent blocks of this many,
#: each reordered on its own. Reordering makes the draws of one block dependent (their
#: ranks are placed jointly), so an estimate's variance is larger than iid draws'; the
#: blocks are independent, so batch means over them measure it
#: (:func:`probmodel.mcse.block_factors`). 1,024 draws give a chunk 128 blocks,
#: enough for batch means from one chunk, and each block's score matrix keeps the
#: T-matrix correction's exact Pearson correlation of the scores.
BLOCK = 1024


def rank_order(x):
    """Indices that sort the float32 vector ``x`` (stable: ties keep their draw order).

    XLA's CPU sort of floats goes through a total-order comparator and is ~7x slower
    than its integer sort (measured at n = 2^17: 50 ms vs 7 ms). So the float bits are
    mapped to an order-preserving int32 (negative floats have their magnitude bits
    flipped), widened to int64 with the draw index in the low 32 bits, and sorted as
    one integer operand: the low bits of the result are the argsort. Needs x64 (the
    package enables it); without it, plain :func:`jax.numpy.argsort`.
    """
    if not jax.config.jax_enable_x64:
        return jnp.argsort(x, stable=True)
    bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.int32)
    key = bits ^ ((bits >> 31) & jnp.int32(0x7FFFFFFF))
    packed = (key.astype(jnp.int64) << 32) | jnp.arange(x.shape[0], dtype=jnp.int64)
    return (jnp.sort(packed) & jnp.int64(0xFFFFFFFF)).astype(jnp.int32)


def rank_correlate(key, draws: Mapping[str, jax.Array], names: tuple[str, ...],
                   spearman) -> dict[str, jax.Array]:
    """Reorder the draws of ``names`` so that their Spearman matrix is close to ``spearman``.

    Iman-Conover within one chunk (see the module docstring): each listed input keeps
    exactly its values, permuted; names not listed are returned untouched.

    Parameters
    ----------
    key : jax.Array
        An rng key (``fold_in(chunk_key, name_id("<correlation>"))`` in the engine). The
        method needs no randomness beyond the draws themselves (their ranks are the random
        score permutation), so the result is a deterministic function of the draws and the
        target; ``key`` is kept so the engine's call needs no change should a variant with
        fresh scores be chosen.
    draws : mapping of str to jax.Array
        One chunk: every input, each of shape (n,).
    names : tuple of str
        The correlated inputs, in the order of ``spearman`` (static under jit).
    spearman : array_like
        Target Spearman rank-correlation matrix, (k, k), positive definite after
        :func:`pearson_for_spearman` (see :func:`check_positive_definite`).

    Returns
    -------
    dict of str to jax.Array
        ``draws`` with each of ``names`` reordered.
    """
    del key  # see the docstring: the draws' own ranks are the random permutation
    out = dict(draws)
    k = len(names)
    if k < 2:
        return out
    x = jnp.stack([draws[nm] for nm in names])  # (k, n)
    n = x.shape[1]
    chol = jnp.linalg.cholesky(pearson_for_spearman(jnp.asarray(spearman, jnp.float64)))
    if n > BLOCK and n % BLOCK == 0:
        # independent blocks of BLOCK draws, each reordered on its own
        xb = jnp.moveaxis(x.reshape(k, n // BLOCK, BLOCK), 1, 0)  # (blocks, k, BLOCK)
        placed = jax.vmap(lambda b: _reorder(b, chol))(xb)
        placed = jnp.moveaxis(placed, 0, 1).reshape(k - 1, n)
    else:
        placed = _reorder(x, chol)
    for j, nm in enumerate(names[1:]):
        out[nm] = placed[j]
    return out


def _reorder(x, chol):
    """Iman-Conover on one block: rows 1.. of ``x`` (k, n) reordered (row 0 keeps its order).

    ``chol`` is the Cholesky factor of the target Pearson matrix of the scores.
    """
    k, n = x.shape
    order = jax.vmap(rank_order)(x)  # (k, n): order[j, r] = draw holding rank r of input j
    xs = jnp.take_along_axis(x, order, axis=1)  # each input's values, sorted
    # van der Waerden scores, computed in float64 then kept as float32 for the sorts.
    a = ndtri(jnp.arange(1, n + 1, dtype=jnp.float64) / (n + 1))
    rows = jnp.arange(k)[:, None]
    s = jnp.zeros((k, n), jnp.float64).at[rows, order].set(a)  # S': scores at the ranks
    e = (s @ s.T) / jnp.dot(a, a)  # sample correlation of the score columns
    f = jnp.linalg.cholesky(e)
    m = jax.scipy.linalg.solve_triangular(f, chol.T, lower=True, trans="T").T  # L F^-1
    s_star = (m[1:] @ s).astype(jnp.float32)  # rows 1..k-1; row 0 equals S's row 0
    new_order = jax.vmap(rank_order)(s_star)
    return jnp.zeros((k - 1, n), x.dtype).at[jnp.arange(k - 1)[:, None], new_order].set(
        xs[1:])


def condition(draws: Mapping[str, jax.Array], names: tuple[str, ...], coef, chol,
              z) -> dict[str, jax.Array]:
    """Draws of ``names`` given fixed correlated inputs, under the Gaussian copula.

    A correlated input held at a value (``--set``, a sweep cell) has the normal score
    ``z = Phi^-1(F(value))`` under its own law; its partners' scores are then
    ``coef z + chol u``: ``coef = P_RF P_FF^-1`` and ``chol`` the Cholesky factor of
    ``P_RR - P_RF P_FF^-1 P_FR`` (P the Pearson matrix of the scores, 2 sin(pi R / 6) of
    the Spearman targets; R the partners, F the held inputs), ``u`` the van der Waerden
    scores of the partners' own independent draws within each block. Each value is read
    back from the partner's own draws of that block at the score's probability
    (interpolated between order statistics), so each partner keeps the file's law
    marginally over the held input's law, and draws its conditional law given the value.
    With no correlation (``coef`` 0, ``chol`` the identity) every draw is unchanged.

    Parameters
    ----------
    draws : mapping of str to jax.Array
        One chunk (or any batch) of draws, each of shape (n,); the partners' draws
        independent of each other.
    names : tuple of str
        The partners R (static under jit).
    coef, chol : array_like
        (k_R, k_F) and (k_R, k_R), float64.
    z : array_like
        (k_F,) normal scores of the held values.

    Returns
    -------
    dict
        ``draws`` with each of ``names`` replaced.
    """
    out = dict(draws)
    if not names:
        return out
    x = jnp.stack([draws[nm] for nm in names])  # (k, n)
    k, n = x.shape
    b = BLOCK if n > BLOCK and n % BLOCK == 0 else n
    shift = jnp.asarray(coef, jnp.float64) @ jnp.asarray(z, jnp.float64)  # (k,)
    chol = jnp.asarray(chol, jnp.float64)
    a = ndtri(jnp.arange(1, b + 1, dtype=jnp.float64) / (b + 1))

    def one(block):  # (k, b)
        order = jax.vmap(rank_order)(block)
        xs = jnp.take_along_axis(block, order, axis=1)
        u = jnp.zeros((k, b), jnp.float64).at[jnp.arange(k)[:, None], order].set(a)
        zc = shift[:, None] + chol @ u
        q = jnp.clip(jax.scipy.special.ndtr(zc) * (b + 1) - 1.0, 0.0, b - 1.0)
        lo = jnp.floor(q).astype(jnp.int32)
        hi = jnp.minimum(lo + 1, b - 1)
        w = (q - lo).astype(x.dtype)
        return (jnp.take_along_axis(xs, lo, axis=1) * (1 - w)
                + jnp.take_along_axis(xs, hi, axis=1) * w)

    blocks = jnp.moveaxis(x.reshape(k, n // b, b), 1, 0)  # (blocks, k, b)
    vals = jnp.moveaxis(jax.vmap(one)(blocks), 0, 1).reshape(k, n)
    for j, nm in enumerate(names):
        out[nm] = vals[j]
    return out
