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

#: Smallest eigenvalue of the normal-score correlation matrix accepted as positive
#: definite: below it the Cholesky factor is so ill-conditioned that a reordering
#: cannot reach the target (and rounding decides whether it exists at all).
MIN_EIGENVALUE = 1e-9


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


def pearson_for_spearman(spearman: Any) -> np.ndarray:
    """The Pearson correlation of normal scores with this Spearman correlation.

    For a bivariate normal, Spearman's rho_S = (6 / pi) arcsin(rho / 2), so
    rho = 2 sin(pi rho_S / 6); ones stay ones.
    """
    return 2.0 * np.sin(np.pi * np.asarray(spearman, dtype=np.float64) / 6.0)


def check_positive_definite(names: Sequence[str], spearman: Any) -> list[tuple[str, str]]:
    """The pairs behind a Spearman matrix that no joint distribution can have.

    Parameters
    ----------
    names : sequence of str
        Row (and column) names.
    spearman : array_like
        Target Spearman matrix, ones on the diagonal.

    Returns
    -------
    list of (str, str)
        Empty when the normal-score matrix (:func:`pearson_for_spearman`) is positive
        definite (its smallest eigenvalue above :data:`MIN_EIGENVALUE`); otherwise the
        correlated pairs among the parameters that carry the eigenvector of the
        smallest eigenvalue (the direction in which the matrix fails).
    """
    rho = pearson_for_spearman(spearman)
    if rho.size == 0:
        return []
    vals, vecs = np.linalg.eigh(rho)
    if vals[0] > MIN_EIGENVALUE:
        return []
    v = np.abs(vecs[:, 0])
    heavy = v >= 0.25 * v.max()
    n = len(names)
    return [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
            if heavy[i] and heavy[j] and spearman[i][j] != 0]
