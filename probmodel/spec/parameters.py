"""``[parameters.NAME]`` and ``[prices]`` tables, and ``--set NAME=VALUE`` overrides."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probmodel import catalog
from probmodel import distributions as dists
from probmodel.distributions.registry import KEY_ORDER
from probmodel.equations.revenue import CLASSES, MODELS, WINDOWS
from probmodel.errors import UsageError
from probmodel.model import INPUTS
from probmodel.spec.problems import Problems, did_you_mean, is_finite_number
from probmodel.spec.values import number_problem, parse_distribution

META_KEYS = ("dist", "value", "point", "unit", "source", "description")
FIXED_KEYS = ("value", "unit", "source", "description")


@dataclass(frozen=True)
class Parameter:
    """One input of a scenario: fixed (``dist`` is None) or a distribution."""

    name: str
    unit: str
    source: str
    point: float
    dist: str | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""
    description: str = ""

    @property
    def is_fixed(self) -> bool:
        """True for a fixed value."""
        return self.dist is None


@dataclass(frozen=True)
class LawOverride:
    """``--set 'NAME=Beta(2, 5)'`` (native parameters in order) or ``Beta(p05=0.2, p95=0.5)``.

    ``keys`` maps the family's keys to numbers, as a ``[parameters.NAME]`` table would.
    """

    dist: str
    keys: Mapping[str, float]
    text: str


_LAW = re.compile(r"^\s*(?P<dist>[A-Za-z]\w*)\s*\((?P<args>[^()]*)\)\s*$")


def _parse_law(name: str, raw: str, origin: str) -> LawOverride:
    m = _LAW.match(raw)
    dist, args = m["dist"], [a.strip() for a in m["args"].split(",") if a.strip()]
    fam = dists.FAMILIES.get(dist)
    if fam is None:
        raise UsageError(f"{origin}: {name}: unknown distribution {dist!r}"
                         f"{did_you_mean(dist, dists.FAMILIES)}; known: "
                         f"{', '.join(dists.FAMILIES)}")
    keys: dict[str, float] = {}
    for i, a in enumerate(args):
        key, eq, num = a.partition("=")
        if not eq:
            if i >= len(fam.native):
                raise UsageError(f"{origin}: {name}: {dist} takes {len(fam.native)} native "
                                 f"parameters ({', '.join(fam.native)}), not {len(args)}")
            key, num = fam.native[i], a
        try:
            keys[key.strip()] = float(num)
        except ValueError:
            raise UsageError(f"{origin}: {name}: '{num.strip()}' in {raw.strip()} is not a "
                             "number") from None
    return LawOverride(dist, keys, " ".join(raw.split()))


def parse_overrides(items: list[str], origin: str = "--set") -> dict[str, Any]:
    """Parse ``--set`` strings from the command line.

    ``NAME=VALUE`` fixes a parameter (a float); ``NAME=Family(a, b)`` gives it a new law
    (a :class:`LawOverride`); ``NAME.KEY=VALUE`` changes one key of its table (``pay_rate.p95``,
    ``pay_rate.point``; the key ``NAME.KEY`` maps to a float); ``chip=NAME`` and
    ``model=NAME`` pick catalog entries (a str).
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{origin}: '{item}' is not of the form NAME=VALUE")
        # Roofline catalogs: chip=NAME / model=NAME pick an entry.
        if (picked := catalog.split_override(name, raw, origin)) is not None:
            out[name] = picked
            continue
        if _LAW.match(raw):
            out[name] = _parse_law(name, raw, origin)
            continue
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"{origin}: {name}: '{raw}' is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"{origin}: {name}: {raw} is not a finite number")
        problem = dists.float32_problem(value)
        if problem:
            raise UsageError(f"{origin}: {name}: {raw} {problem}")
        out[name] = value
    return out


def parse_parameter(name: str, table: Any, problems: Problems) -> Parameter | None:
    """Validate one ``[parameters.NAME]`` table; record problems, return None if bad."""
    path = f"parameters.{name}"
    if not isinstance(table, dict):
        problems.add(path, "must be a table (e.g. value = ..., unit = ..., source = ...)")
        return None
    if name not in INPUTS:
        problems.add(path, f"unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
        return None
    n0 = len(problems)
    q = INPUTS[name]
    for key in ("unit", "source"):
        v = table.get(key)
        if v is None:
            problems.add(f"{path}.{key}", f"missing (every parameter needs a {key})")
        elif not isinstance(v, str) or not v.strip():
            problems.add(f"{path}.{key}", "must be a non-empty string")
    unit = table.get("unit")
    if isinstance(unit, str) and unit.strip() and unit != q.unit:
        problems.add(f"{path}.unit", f"'{unit}' is not the unit of {name} ('{q.unit}'); "
                                     "convert the numbers and write the model's unit")
    desc = table.get("description", "")
    if not isinstance(desc, str):
        problems.add(f"{path}.description", "must be a string")
    if "value" in table:
        return _fixed(name, table, path, problems, n0)
    if "dist" not in table:
        for key in table:
            if key not in META_KEYS:
                problems.add(f"{path}.{key}", f"unknown key{did_you_mean(key, META_KEYS)} "
                                              f"(a parameter takes {', '.join(META_KEYS)} "
                                              "and the keys of its distribution)")
        problems.add(path, "needs either value = ... (fixed) or dist = ... (uncertain)")
        return None
    if "point" not in table:
        problems.add(f"{path}.point", "missing (the report's value, used by point mode)")
    d = parse_distribution(table, path, problems, meta=("unit", "source", "description"))
    if d is None or len(problems) > n0:
        return None
    lo, hi = dists.support(d.dist, d.params)
    # The support must lie inside the domain (an open bound may be touched: a
    # continuous law puts no mass on it), so no draw is ever impossible.
    if lo < q.low or hi > q.high:
        problems.add(path, f"{d.dist} support [{lo:g}, {hi:g}] exceeds the domain "
                           f"{q.domain_text()} of {name}; choose a family or bounds inside it")
        return None
    if not q.contains(d.point):
        problems.add(f"{path}.point", f"({d.point:g}) is outside the domain {q.domain_text()}")
        return None
    return Parameter(name, table["unit"], table["source"], d.point, d.dist, dict(d.params),
                     {k: v for k, v in table.items() if k not in ("unit", "source")},
                     problems.label, desc)


def _fixed(name: str, table: dict, path: str, problems: Problems, n0: int) -> Parameter | None:
    q = INPUTS[name]
    law = [k for k in table if k in ("dist", "point", *KEY_ORDER)]
    if law:  # one mistake (a law written next to value), one line
        where = f"{path}.{law[0]}" if len(law) == 1 else path
        problems.add(where, f"a fixed parameter (value = ...) takes no distribution keys "
                            f"(here {', '.join(law)}): drop "
                            f"{'it' if len(law) == 1 else 'them'}, or drop value and give "
                            "dist = ...")
    for key in table:
        if key not in FIXED_KEYS and key not in law:
            problems.add(f"{path}.{key}", f"unknown key{did_you_mean(key, FIXED_KEYS)} (a "
                                          f"fixed parameter takes {', '.join(FIXED_KEYS)})")
    problem = number_problem(table["value"])
    if problem:
        problems.add(f"{path}.value", problem)
    if len(problems) > n0:
        return None
    value = float(table["value"])
    if not q.contains(value):
        problems.add(f"{path}.value", f"({value:g}) is outside the domain {q.domain_text()}"
                                      f" of {name}")
        return None
    return Parameter(name, table["unit"], table["source"], value, file=problems.label,
                     description=table.get("description", ""), spec={"value": value})


def parse_prices(table: Any, problems: Problems) -> tuple[np.ndarray | None, dict[str, str]]:
    """Validate the ``[prices]`` table: window x model x class, USD per 1M tokens."""
    if not isinstance(table, dict):
        problems.add("prices", "must be a table")
        return None, {}
    meta = {}
    for key in ("unit", "source"):
        v = table.get(key)
        if not isinstance(v, str) or not v.strip():
            problems.add(f"prices.{key}", "missing or not a string")
        else:
            meta[key] = v
    arr = np.full((len(WINDOWS), len(MODELS), len(CLASSES)), np.nan)
    for key in table:
        if key not in (*WINDOWS, "unit", "source", "description"):
            problems.add(f"prices.{key}", f"unknown key{did_you_mean(key, WINDOWS)} (windows "
                                          f"are {', '.join(WINDOWS)})")
    for w, window in enumerate(WINDOWS):
        wt = table.get(window)
        if not isinstance(wt, dict):
            problems.add(f"prices.{window}", "missing table (one per window)")
            continue
        for key in wt:
            if key not in MODELS:
                problems.add(f"prices.{window}.{key}", f"unknown model{did_you_mean(key, MODELS)}"
                                                       f" (models are {', '.join(MODELS)})")
        for m, model in enumerate(MODELS):
            mt = wt.get(model)
            if not isinstance(mt, dict):
                problems.add(f"prices.{window}.{model}", "missing table")
                continue
            for key in mt:
                if key not in CLASSES:
                    problems.add(f"prices.{window}.{model}.{key}",
                                 f"unknown token class{did_you_mean(key, CLASSES)} (classes "
                                 f"are {', '.join(CLASSES)})")
            for c, cls in enumerate(CLASSES):
                v = mt.get(cls)
                p = f"prices.{window}.{model}.{cls}"
                if v is None:
                    problems.add(p, "missing")
                elif not is_finite_number(v):
                    problems.add(p, f"must be a finite number, not {v!r}")
                elif v < 0:
                    problems.add(p, f"({v:g}) must not be negative")
                elif dists.float32_problem(float(v)):
                    problems.add(p, f"({v:g}) {dists.float32_problem(float(v))}")
                else:
                    arr[w, m, c] = float(v)
    if np.isnan(arr).any():
        return None, meta
    return arr, meta


__all__ = ["META_KEYS", "LawOverride", "Parameter", "parse_overrides", "parse_parameter",
           "parse_prices"]
