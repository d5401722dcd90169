"""The ``[projection]`` table of a scenario: years, growth laws, adoption curves.

This module only reads and checks the table (it imports the model's names and the
distribution registry, never spec.py, which registers :func:`validate_table` as the
validator of the ``projection`` section). Sampling lives in
:mod:`probmodel.analysis.projection`.

Format::

    [projection]
    years = [2025, 2026, 2027, 2028, 2029, 2030]   # the first is the base year
    description = "..."

    [projection.curves.agents]           # an S-curve several parameters share
    midpoint = { dist = "Normal", p05 = 2026.5, p95 = 2030.5 }   # year of half adoption
    steepness = { dist = "LogNormal", p05 = 0.5, p95 = 1.5 }     # per year
    source = "..."

    [projection.growth.users]            # x(t) = x(base) (1 + rate)^(t - base) x noise
    law = "exponential"
    rate = { dist = "PERT", p05 = -0.10, p50 = 0.25, p95 = 0.70 }  # per year, > -1
    noise = 0.10                         # sd of the yearly log shock (random walk)
    source = "..."

    [projection.growth.cache_hit_rate]   # x(t) = x(base) + (target - x(base)) a(t)
    law = "logistic"
    curve = "agents"                     # or midpoint = ..., steepness = ... inline
    target = { dist = "Beta", alpha = 18, beta = 2 }
    source = "..."

Every number may be a plain number or a distribution table like a parameter's (``dist``
plus native or elicited keys; ``point`` optional, the median by default). A path's
rates, targets and curve are drawn once per draw, so each draw is one coherent path.
The adoption share is a(t) = (L(t) - L(base)) / (1 - L(base)) with L the logistic
1 / (1 + exp(-steepness (t - midpoint))): exactly 0 in the base year, rising to 1.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass
from typing import Any

from probmodel import distributions as dists
from probmodel.errors import ParameterError
from probmodel.model import INPUTS, Quantity

LAWS = ("exponential", "logistic")
TOP_KEYS = ("years", "description", "source", "curves", "growth")
CURVE_KEYS = ("midpoint", "steepness", "source", "description")
LAW_KEYS = {
    "exponential": ("law", "rate", "noise", "source", "description"),
    "logistic": ("law", "target", "curve", "midpoint", "steepness", "source", "description"),
}
MAX_YEARS = 100


@dataclass(frozen=True)
class Value:
    """A number of the projection table: fixed (``dist`` None) or a distribution."""

    point: float
    dist: str | None = None
    params: tuple[tuple[str, float], ...] = ()

    @property
    def param_dict(self) -> dict[str, float]:
        """Native parameters as a dict."""
        return dict(self.params)


@dataclass(frozen=True)
class Curve:
    """A logistic adoption curve shared by the laws that name it."""

    name: str
    midpoint: Value
    steepness: Value
    source: str = ""


@dataclass(frozen=True)
class Law:
    """The path of one parameter over the years."""

    name: str  # the parameter it moves
    kind: str  # "exponential" or "logistic"
    rate: Value | None = None
    noise: float = 0.0
    target: Value | None = None
    curve: str = ""  # the Curve's name (inline curves are named after the parameter)
    source: str = ""


@dataclass(frozen=True)
class Projection:
    """A validated ``[projection]`` table."""

    years: tuple[int, ...]
    curves: tuple[Curve, ...]
    laws: tuple[Law, ...]
    description: str = ""

    @property
    def base_year(self) -> int:
        """The year the scenario's parameters describe (the first one)."""
        return self.years[0]

    def curve(self, name: str) -> Curve:
        """The curve called ``name``."""
        return next(c for c in self.curves if c.name == name)


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _value(raw: Any, path: str, problems: list, *, low: float = -math.inf,
           high: float = math.inf, low_open: bool = False, what: str = "") -> Value | None:
    """A number or a distribution table whose support lies in [low, high]."""
    def inside(x: float) -> bool:
        return (low < x if low_open else low <= x) and x <= high

    bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high == math.inf else ']'}"
    if _number(raw):
        if not inside(float(raw)):
            problems.append((path, f"({raw:g}) is outside {bounds}{what}"))
            return None
        return Value(float(raw))
    if not isinstance(raw, dict):
        problems.append((path, "must be a number or a distribution table "
                               "(e.g. { dist = \"LogNormal\", p05 = ..., p95 = ... })"))
        return None
    dist = raw.get("dist")
    if not isinstance(dist, str):
        problems.append((f"{path}.dist", "missing: a distribution table needs dist = \"...\""))
        return None
    numeric = {}
    for key, v in raw.items():
        if key == "dist":
            continue
        if not _number(v):
            problems.append((f"{path}.{key}", f"must be a finite number, not {v!r}"))
            return None
        numeric[key] = float(v)
    point = numeric.pop("point", None)
    try:
        params = dists.resolve(dist, numeric)
    except ParameterError as e:
        problems.append((f"{path}.{e.key}" if e.key else path, e.message))
        return None
    lo, hi = dists.support(dist, params)
    if lo < low or hi > high or (low_open and lo == low and dist not in (
            "LogNormal", "Gamma", "Beta")):
        problems.append((path, f"{dist} support [{lo:g}, {hi:g}] exceeds {bounds}{what}"))
        return None
    if point is None:
        point = float(dists.quantile(dist, params, 0.5))
    elif not dists.in_support(dist, params, point):
        problems.append((f"{path}.point", f"({point:g}) is outside the support "
                                          f"[{lo:g}, {hi:g}] of the {dist} distribution"))
        return None
    return Value(float(point), dist, tuple((k, float(v)) for k, v in params.items()))


def _source(table: dict, path: str, problems: list) -> str:
    src = table.get("source")
    if not isinstance(src, str) or not src.strip():
        problems.append((f"{path}.source", "missing (every growth assumption needs a source)"))
        return ""
    return src


def _unknown_keys(table: dict, known, path: str, problems: list) -> None:
    for key in table:
        if key not in known:
            problems.append((f"{path}.{key}", f"unknown key{_suggest(key, known)} (known: "
                                              f"{', '.join(known)})"))


def _curve(name: str, table: Any, path: str, problems: list) -> Curve | None:
    if not isinstance(table, dict):
        problems.append((path, "must be a table with midpoint, steepness and source"))
        return None
    n0 = len(problems)
    _unknown_keys(table, CURVE_KEYS, path, problems)
    vals = {}
    for key in ("midpoint", "steepness"):
        if key not in table:
            problems.append((f"{path}.{key}", "missing"))
            continue
        kw = {"low": 0.0, "low_open": True, "what": " (per year, positive)"} \
            if key == "steepness" else {}
        vals[key] = _value(table[key], f"{path}.{key}", problems, **kw)
    src = _source(table, path, problems)
    if len(problems) > n0:
        return None
    return Curve(name, vals["midpoint"], vals["steepness"], src)


def _law(name: str, table: Any, path: str, problems: list, curves: dict,
         raw_curves: dict) -> tuple[Law | None, Curve | None]:
    if not isinstance(table, dict):
        problems.append((path, f"must be a table with law = one of {', '.join(LAWS)}"))
        return None, None
    n0 = len(problems)
    if name not in INPUTS:
        problems.append((path, f"unknown parameter '{name}'{_suggest(name, INPUTS)}"))
        return None, None
    q: Quantity = INPUTS[name]
    kind = table.get("law")
    if kind not in LAWS:
        problems.append((f"{path}.law", f"({kind!r}) must be one of {', '.join(LAWS)}"))
        return None, None
    _unknown_keys(table, LAW_KEYS[kind], path, problems)
    src = _source(table, path, problems)
    inline: Curve | None = None
    if kind == "exponential":
        if q.high != math.inf:
            problems.append((f"{path}.law", f"exponential growth can leave the domain "
                                            f"{q.domain_text()} of {name}; use law = "
                                            f"\"logistic\" with a target inside it"))
        rate = None
        if "rate" not in table:
            problems.append((f"{path}.rate", "missing (growth per year, e.g. 0.3 for +30%)"))
        else:
            rate = _value(table["rate"], f"{path}.rate", problems, low=-1.0, low_open=True,
                          what=" (a yearly rate above -100%)")
        noise = table.get("noise", 0.0)
        if not _number(noise) or noise < 0:
            problems.append((f"{path}.noise", f"({noise!r}) must be a number >= 0 (sd of "
                                              "the yearly log shock)"))
            noise = 0.0
        if len(problems) > n0:
            return None, None
        return Law(name, kind, rate=rate, noise=float(noise), source=src), None
    # logistic
    target = None
    if "target" not in table:
        problems.append((f"{path}.target", "missing (the value approached as adoption "
                                           "completes)"))
    else:
        target = _value(table["target"], f"{path}.target", problems, low=q.low, high=q.high,
                        low_open=q.low_open, what=f" (the domain of {name})")
    curve = table.get("curve")
    has_inline = "midpoint" in table or "steepness" in table
    if curve is not None and has_inline:
        problems.append((f"{path}.curve", "give either curve = \"NAME\" or midpoint and "
                                          "steepness, not both"))
    elif curve is not None:
        if not isinstance(curve, str) or curve not in raw_curves:
            problems.append((f"{path}.curve", f"({curve!r}) is not a curve of "
                                              f"[projection.curves]"
                                              f"{_suggest(str(curve), raw_curves)}"))
    else:
        inline = _curve(name, {k: table[k] for k in ("midpoint", "steepness") if k in table}
                        | {"source": src or "-"}, path, problems)
        curve = name
    if len(problems) > n0:
        return None, None
    return Law(name, kind, target=target, curve=curve, source=src), inline


def parse_table(table: Any, label: str = "") -> tuple[Projection | None, list[tuple[str, str]]]:
    """Validate a ``[projection]`` table.

    Parameters
    ----------
    table : dict
        The parsed TOML table.
    label : str
        How the file is named (unused in paths, kept for the validator signature).

    Returns
    -------
    (Projection or None, list of (path, message))
        The projection when the table is valid, and every problem found.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(table, dict):
        return None, [("projection", "must be a table")]
    _unknown_keys(table, TOP_KEYS, "projection", problems)
    years = table.get("years")
    ok_years = (isinstance(years, list) and 0 < len(years) <= MAX_YEARS
                and all(isinstance(y, int) and not isinstance(y, bool) for y in years))
    if not ok_years:
        problems.append(("projection.years", f"must be a list of 1 to {MAX_YEARS} whole "
                                             f"years, e.g. [2025, 2026, 2027], not {years!r}"))
    elif any(b <= a for a, b in itertools.pairwise(years)):
        problems.append(("projection.years", f"must increase strictly ({years})"))
    elif not all(1900 <= y <= 2300 for y in years):
        problems.append(("projection.years", f"must be calendar years ({years})"))
    desc = table.get("description", "")
    if not isinstance(desc, str):
        problems.append(("projection.description", "must be a string"))
        desc = ""
    raw_curves = table.get("curves", {})
    if not isinstance(raw_curves, dict):
        problems.append(("projection.curves", "must be a table of curve tables"))
        raw_curves = {}
    curves: dict[str, Curve] = {}
    for name, ct in raw_curves.items():
        c = _curve(name, ct, f"projection.curves.{name}", problems)
        if c is not None:
            curves[name] = c
    growth = table.get("growth", {})
    if not isinstance(growth, dict):
        problems.append(("projection.growth", "must be a table of parameter tables"))
        growth = {}
    if not growth and isinstance(growth, dict):
        problems.append(("projection.growth", "missing: give at least one "
                                              "[projection.growth.NAME] table"))
    laws = []
    for name, lt in growth.items():
        law, inline = _law(name, lt, f"projection.growth.{name}", problems, curves, raw_curves)
        if law is not None:
            laws.append(law)
        if inline is not None:
            if inline.name in curves:
                problems.append((f"projection.growth.{name}", f"its inline curve clashes with "
                                                              f"[projection.curves.{name}]"))
            curves[inline.name] = inline
    if problems:
        return None, problems
    return Projection(tuple(years), tuple(curves.values()), tuple(laws), desc), []


def validate_table(table: Any, label: str = "") -> list[tuple[str, str]]:
    """The validator spec.py registers for ``[projection]``: (path, message) pairs."""
    return parse_table(table, label)[1]
