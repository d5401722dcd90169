"""What differs between two scenarios: every parameter side by side.

For each parameter of either scenario: its law (family and native parameters, or the
fixed value), median and 90% interval (the law's 5/50/95% quantiles), point, unit,
source, and the file that states it (the scenario's own file, or one it inherits from
through ``extends``). Parameters whose law or point differ come first. Prices and rank
correlations are compared as wholes. Nothing is sampled; nothing here imports JAX.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from probmodel import distributions as dists
from probmodel.spec import Parameter, Scenario
from probmodel.spec.scenario import label_of


def law_text(p: Parameter) -> str:
    """``Beta(4.362, 8.1)`` (native parameters in the registry's order) or ``fixed``."""
    if p.is_fixed:
        return "fixed"
    return f"{p.dist}({', '.join(f'{v:.4g}' for v in p.params.values())})"


def describe(sc: Scenario, name: str) -> dict | None:
    """One parameter of ``sc`` as the diff shows it (None when ``sc`` lacks it)."""
    p = sc.parameters.get(name)
    if p is None:
        return None
    if p.is_fixed:
        q05 = q50 = q95 = p.point
    else:
        q05, q50, q95 = (float(v) for v in dists.quantile(p.dist, p.params, [0.05, 0.5, 0.95]))
    own = label_of(sc.path)
    where = p.file or "--set"
    return {"law": law_text(p), "dist": p.dist, "params": dict(p.params), "median": q50,
            "interval_90": [q05, q95], "point": p.point, "unit": p.unit, "source": p.source,
            "file": where,
            "stated": ("stated" if where == own else
                       "overridden" if where == "--set" else "inherited")}


def _same(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    if a["dist"] != b["dist"] or set(a["params"]) != set(b["params"]):
        return False
    close = lambda x, y: math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-15)  # noqa: E731
    return (all(close(a["params"][k], b["params"][k]) for k in a["params"])
            and close(a["point"], b["point"]))


def side_by_side(scenarios: Sequence[Scenario]) -> list[dict]:
    """Every parameter of any of ``scenarios``, one column each, differences first.

    Returns
    -------
    list of dict
        ``{"name", "differs", "sides"}``: ``sides`` holds :func:`describe` of each
        scenario in order (None where it lacks the parameter); ``differs`` is true when
        any side's law or point differs from the first's. The order within the
        differing and the equal rows is the files' (first scenario first).
    """
    names = list(dict.fromkeys(n for sc in scenarios for n in sc.parameters))
    rows = []
    for n in names:
        sides = [describe(sc, n) for sc in scenarios]
        rows.append({"name": n, "differs": any(not _same(sides[0], x) for x in sides[1:]),
                     "sides": sides})
    rows.sort(key=lambda r: not r["differs"])  # stable: file order within each group
    return rows


def diff(a: Scenario, b: Scenario) -> dict:
    """Every parameter of ``a`` and ``b`` side by side, differences first.

    Returns
    -------
    dict
        ``a``, ``b`` (scenario names and files), ``parameters`` (a list of {name,
        differs, a, b}, each side as :func:`describe` or None), ``differing`` (the
        names that differ), ``prices`` and ``correlations`` ("same" or "differ").
    """
    rows = [{"name": r["name"], "a": r["sides"][0], "b": r["sides"][1],
             "differs": r["differs"]} for r in side_by_side([a, b])]
    prices_same = ((a.prices is None and b.prices is None) or
                   (a.prices is not None and b.prices is not None
                    and np.array_equal(a.prices, b.prices)))
    corr = lambda sc: sorted((c.pair, c.rank) for c in sc.correlations)  # noqa: E731
    return {
        "a": {"scenario": a.name, "title": a.title,
              "files": [label_of(f) for f in a.files]},
        "b": {"scenario": b.name, "title": b.title,
              "files": [label_of(f) for f in b.files]},
        "parameters": rows,
        "differing": [r["name"] for r in rows if r["differs"]],
        "prices": "same" if prices_same else "differ",
        "correlations": "same" if corr(a) == corr(b) else "differ",
    }
