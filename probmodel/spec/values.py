"""The one parser of distribution tables, shared by parameters and projections.

A distribution table names a family and gives either its native parameters or an
elicitation (``dist = "Beta"``, ``p05 = 0.2``, ``p95 = 0.5``), optionally a ``point``;
:func:`parse_distribution` checks its keys and numbers, solves the native parameters
(:func:`probmodel.distributions.resolve`) and checks the point against the support.
What the numbers mean (the domain of a parameter, the bounds of a growth rate) is the
caller's to check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from probmodel import distributions as dists
from probmodel.distributions.registry import describe, forms
from probmodel.errors import ParameterError
from probmodel.spec.problems import Problems, did_you_mean, is_number


@dataclass(frozen=True)
class Distribution:
    """A parsed distribution table: family, native parameters and the point if given."""

    dist: str
    params: dict[str, float]
    point: float | None


def number_problem(v: Any) -> str | None:
    """Why a TOML value is not a usable number (a float32-representable finite one), or None."""
    if not is_number(v):
        return f"must be a number, not {type(v).__name__} {v!r}"
    if not math.isfinite(v):
        return f"must be finite, not {v}"
    problem = dists.float32_problem(float(v))
    return f"({v:g}) {problem}" if problem else None


def parse_distribution(table: dict, path: str, problems: Problems,
                       meta: Iterable[str] = ()) -> Distribution | None:
    """Parse one distribution table; record every problem, return None when it has any.

    Parameters
    ----------
    table : dict
        The TOML table.
    path : str
        Its dotted path in the file (``parameters.pay_rate``).
    problems : Problems
        Where problems are recorded.
    meta : iterable of str
        Other keys the caller allows and reads itself (``unit``, ``source``...).

    Returns
    -------
    Distribution or None
    """
    n0 = len(problems)
    dist = table.get("dist")
    if not isinstance(dist, str):
        problems.add(f"{path}.dist", "missing: a distribution table needs dist = \"...\""
                     if dist is None else "must be a string naming a distribution")
        return None
    if dist not in dists.FAMILIES:
        problems.add(f"{path}.dist", f"unknown distribution {dist!r}"
                     f"{did_you_mean(dist, dists.FAMILIES)}; known: {', '.join(dists.FAMILIES)}")
        return None
    fam = dists.FAMILIES[dist]
    meta = tuple(meta)
    family_keys = set().union(*forms(fam))
    numeric: dict[str, float] = {}
    for key, v in table.items():
        if key in ("dist", *meta):
            continue
        if key != "point" and key not in family_keys:
            known = [*sorted(family_keys), "point", *meta]
            problems.add(f"{path}.{key}", f"unknown key{did_you_mean(key, known)} (a {dist} "
                                          f"takes {describe(fam)}, and point)")
            continue
        problem = number_problem(v)
        if problem:
            problems.add(f"{path}.{key}", problem)
        else:
            numeric[key] = float(v)
    if len(problems) > n0:
        return None
    point = numeric.pop("point", None)
    try:
        params = dists.resolve(dist, numeric)
    except ParameterError as e:
        problems.add(f"{path}.{e.key}" if e.key else path, e.message)
        return None
    if point is not None and not dists.in_support(dist, params, point):
        lo, hi = dists.support(dist, params)
        problems.add(f"{path}.point", f"({point:g}) is outside the support [{lo:g}, {hi:g}] "
                                      f"of the {dist} distribution")
        return None
    return Distribution(dist, params, point)
