"""``[[correlations]]``: rank correlations between uncertain parameters.

Format (each entry one pair)::

    [[correlations]]
    between = ["pay_rate", "v3_share"]
    rank = -0.4            # Spearman rank correlation, -1 < rank < 1
    source = "why, with a reference"

A file checks its own entries (keys, names, |rank| < 1, a source, no pair twice); the
scenario checks the merged list (``extends`` merges lists, a child's entry replacing its
parent's for the same pair): both names uncertain parameters, and the whole matrix
positive definite once each Spearman correlation is turned into the Pearson correlation
of the normal scores it implies, 2 sin(pi r / 6) (the conversion a Gaussian copula or
Iman-Conover reordering uses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probmodel.spec.problems import Problems, did_you_mean, is_number, unknown_keys

KEYS = ("between", "rank", "source", "description")


@dataclass(frozen=True)
class Correlation:
    """A Spearman rank correlation between two uncertain parameters (``a < b``).

    ``file`` and ``index`` say where it was written (for messages); they take no part
    in comparisons.
    """

    a: str
    b: str
    rank: float
    source: str
    file: str = field(default="", compare=False)
    index: int = field(default=-1, compare=False)

    @property
    def pair(self) -> tuple[str, str]:
        """The two names, sorted."""
        return (self.a, self.b)

    @property
    def path(self) -> str:
        """Where it sits in its file, e.g. ``correlations[2]``."""
        return f"correlations[{self.index}]" if self.index >= 0 else "correlations"


def parse(raw: Any, problems: Problems, known: Sequence[str]) -> tuple[Correlation, ...] | None:
    """Check one file's ``[[correlations]]`` list; None when it has problems.

    Parameters
    ----------
    raw : list of dict
        The parsed TOML array of tables.
    problems : Problems
        Where problems are recorded.
    known : sequence of str
        Every parameter name the model knows (for "did you mean").
    """
    if not isinstance(raw, list):
        problems.add("correlations", "must be an array of tables: write each pair as "
                                     "[[correlations]] with between, rank and source")
        return None
    n0 = len(problems)
    out: list[Correlation] = []
    seen: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(raw):
        path = f"correlations[{i}]"
        if not isinstance(entry, dict):
            problems.add(path, "must be a table with between, rank and source")
            continue
        m0 = len(problems)
        unknown_keys(entry, KEYS, path, problems)
        between = entry.get("between")
        if between is None:
            problems.add(f"{path}.between", "missing: the two parameters, e.g. "
                                            "between = [\"pay_rate\", \"v3_share\"]")
        elif (not isinstance(between, list) or len(between) != 2
              or not all(isinstance(n, str) for n in between)):
            problems.add(f"{path}.between", f"must list two parameter names, not {between!r}")
        elif between[0] == between[1]:
            problems.add(f"{path}.between", f"names '{between[0]}' twice; a correlation "
                                            "is between two different parameters")
        else:
            for n in between:
                if n not in known:
                    problems.add(f"{path}.between", f"unknown parameter '{n}'"
                                                    f"{did_you_mean(n, known)}")
        rank = entry.get("rank")
        if rank is None:
            problems.add(f"{path}.rank", "missing: the Spearman rank correlation, in (-1, 1)")
        elif not is_number(rank) or not math.isfinite(rank):
            problems.add(f"{path}.rank", f"must be a number, not {rank!r}")
        elif not abs(rank) < 1:
            problems.add(f"{path}.rank", f"({rank:g}) must lie strictly between -1 and 1 "
                                         "(a rank correlation of +-1 makes one parameter a "
                                         "function of the other: model that as an equation)")
        source = entry.get("source")
        if source is None:
            problems.add(f"{path}.source", "missing (every correlation needs a source: why, "
                                           "with a reference)")
        elif not isinstance(source, str) or not source.strip():
            problems.add(f"{path}.source", "must be a non-empty string")
        desc = entry.get("description", "")
        if not isinstance(desc, str):
            problems.add(f"{path}.description", "must be a string")
        if len(problems) > m0:
            continue
        a, b = sorted(between)
        if (a, b) in seen:
            problems.add(f"{path}.between", f"the pair ({a}, {b}) is already given at "
                                            f"correlations[{seen[a, b]}]; give each pair once")
            continue
        seen[a, b] = i
        out.append(Correlation(a, b, float(rank), source, problems.label, i))
    return None if len(problems) > n0 else tuple(out)


def merge(parent: Sequence[Correlation], child: Sequence[Correlation]) -> tuple[Correlation, ...]:
    """A child's list over its parent's: a pair the child gives replaces the parent's."""
    by_pair = {c.pair: c for c in parent}
    for c in child:
        by_pair[c.pair] = c
    return tuple(by_pair.values())


def check_names(correlations: Sequence[Correlation], uncertain: Sequence[str],
                fixed: Mapping[str, float]) -> list[tuple[str, str, str]]:
    """Problems (file, path, message) for names that are not uncertain parameters."""
    out = []
    for c in correlations:
        for n in c.pair:
            if n in fixed:
                out.append((c.file, f"{c.path}.between", f"{n} is fixed (value = "
                            f"{fixed[n]:g}) in this scenario; only uncertain parameters "
                            "can be correlated"))
            elif n not in uncertain:
                out.append((c.file, f"{c.path}.between", f"'{n}' is not a parameter of "
                            f"this scenario{did_you_mean(n, uncertain)}"))
    return out


def spearman_matrix(correlations: Sequence[Correlation],
                    order: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """Names (in ``order``, correlated ones only) and their target Spearman matrix."""
    involved = {n for c in correlations for n in c.pair}
    names = tuple(n for n in order if n in involved)
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for c in correlations:
        i, j = index[c.a], index[c.b]
        m[i, j] = m[j, i] = c.rank
    return names, m


#: Smallest eigenvalue the normal-score (Pearson) matrix must exceed to count as
#: positive definite: a margin for the float32 Cholesky factor taken inside a chunk.
PD_TOLERANCE = 1e-6


def pearson_for_spearman(spearman):
    """Pearson correlation of a normal pair whose Spearman rank correlation is ``spearman``.

    ``rho_P = 2 sin(pi rho_S / 6)`` (Pearson 1907; Kruskal 1958), elementwise; the
    diagonal stays exactly 1. Works on NumPy and JAX arrays alike (returns the same kind).

    Parameters
    ----------
    spearman : array_like
        A Spearman rank correlation, or a matrix of them with ones on the diagonal.

    Returns
    -------
    ndarray or jax.Array
        The Pearson correlation(s) of the normal scores.
    """
    # NumPy here (the parser must not import JAX); JAX arrays inside the sampler.
    xp = spearman.__array_namespace__() if hasattr(spearman, "__array_namespace__") else np
    s = xp.asarray(spearman)
    p = 2.0 * xp.sin(xp.pi * s / 6.0)
    if s.ndim == 2:
        p = xp.where(xp.eye(s.shape[0], dtype=bool), 1.0, p)
    return p


def check_positive_definite(names: Sequence[str], matrix) -> list[tuple[str, str]]:
    """The pairs that make a target rank-correlation matrix impossible; [] when it is fine.

    ``matrix`` is the target *Spearman* matrix (ones on the diagonal, in ``names``
    order). It is converted with :func:`pearson_for_spearman` and must be positive
    definite with smallest eigenvalue above :data:`PD_TOLERANCE`.

    Rule for "the pairs involved": for each eigenvector ``v`` of an eigenvalue below the
    tolerance, ``v' P v = sum_i v_i^2 + 2 sum_{i<j} v_i v_j P_ij`` is (nearly) negative,
    and the pairs with negative terms ``v_i v_j P_ij`` are the ones that pull it below
    zero. A pair is reported when its term is at least 10% of the most negative term of
    that eigenvector; pairs are listed most negative first (union over such
    eigenvectors, each pair once). Only pairs with a non-zero target can have a term, so
    every pair reported is one the scenario states. For ``a~b = b~c = 0.9`` and
    ``a~c = -0.9`` all three pairs are reported; for ``a~b = a~c = 0.9`` with ``b~c``
    unstated (0), the two stated pairs.

    Parameters
    ----------
    names : sequence of str
        Names of the rows/columns.
    matrix : array_like
        Square symmetric Spearman matrix.

    Returns
    -------
    list of (str, str)
        Pairs ``(a, b)`` with ``a`` before ``b`` in ``names``; empty if positive definite.
    """
    r = np.asarray(matrix, dtype=np.float64)
    k = len(names)
    if r.shape != (k, k):
        raise ValueError(f"matrix of shape {r.shape} for {k} names")
    p = pearson_for_spearman(r)
    w, v = np.linalg.eigh(p)
    out: list[tuple[str, str]] = []
    iu, ju = np.triu_indices(k, 1)
    for idx in np.flatnonzero(w <= PD_TOLERANCE):
        vec = v[:, idx]
        terms = vec[iu] * vec[ju] * p[iu, ju]
        worst = terms.min()
        if worst >= 0:  # nothing off-diagonal pulls this one down (cannot happen for k > 1)
            continue
        for t in np.argsort(terms, kind="stable"):
            if terms[t] > 0.1 * worst:
                break
            pair = (names[iu[t]], names[ju[t]])
            if pair not in out:
                out.append(pair)
    return out
