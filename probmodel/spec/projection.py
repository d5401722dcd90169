"""The ``[projection]`` table of a scenario: years, growth laws, adoption curves.

This module reads and checks the table once, into a frozen :class:`Projection` that
:class:`probmodel.spec.Scenario` holds; sampling lives in
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

    [projection.supply]                  # optional: chips that can be had, per year
    chips = "chips_required"             # the fleet it caps (or "chips_required_roofline")
    source = "..."
    [projection.supply.cap]              # one entry per year of `years`
    2025 = { dist = "LogNormal", p05 = 9e5, p95 = 2.2e6 }
    2026 = 3e6

Every number may be a plain number or a distribution table like a parameter's (``dist``
plus native or elicited keys; ``point`` optional, the median by default). A path's
rates, targets and curve are drawn once per draw, so each draw is one coherent path.
The adoption share is a(t) = (L(t) - L(base)) / (1 - L(base)) with L the logistic
1 / (1 + exp(-steepness (t - midpoint))): exactly 0 in the base year, rising to 1.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from probmodel import distributions as dists
from probmodel.model import INPUTS, Quantity
from probmodel.spec.problems import Problems, did_you_mean, is_finite_number, unknown_keys
from probmodel.spec.values import parse_distribution

LAWS = ("exponential", "logistic")
TOP_KEYS = ("years", "description", "source", "curves", "growth", "supply")
SUPPLY_KEYS = ("chips", "cap", "source", "description")
#: The fleets a supply cap can bound (outputs in chips).
SUPPLY_CHIPS = ("chips_required", "chips_required_roofline")
#: Inputs that carry the demand; the first the scenario defines is scaled to what the
#: capped fleet serves.
SUPPLY_DRIVERS = ("users", "tokens_per_day")
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
class Supply:
    """A cap per year on the chips a fleet can have (``[projection.supply]``).

    ``caps`` holds one :class:`Value` per year of the projection. A path draws one
    uniform for all its years, so a path with ample supply has it every year.
    """

    chips: str
    caps: tuple[Value, ...]
    source: str = ""


@dataclass(frozen=True)
class Projection:
    """A validated ``[projection]`` table."""

    years: tuple[int, ...]
    curves: tuple[Curve, ...]
    laws: tuple[Law, ...]
    description: str = ""
    supply: Supply | None = None

    @property
    def base_year(self) -> int:
        """The year the scenario's parameters describe (the first one)."""
        return self.years[0]

    def curve(self, name: str) -> Curve:
        """The curve called ``name``."""
        return next(c for c in self.curves if c.name == name)


def _value(raw: Any, path: str, problems: Problems, *, low: float = -math.inf,
           high: float = math.inf, low_open: bool = False, what: str = "") -> Value | None:
    """A number or a distribution table whose support lies in [low, high]."""
    def inside(x: float) -> bool:
        return (low < x if low_open else low <= x) and x <= high

    bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high == math.inf else ']'}"
    if is_finite_number(raw):
        if not inside(float(raw)):
            problems.add(path, f"({raw:g}) is outside {bounds}{what}")
            return None
        return Value(float(raw))
    if not isinstance(raw, dict):
        problems.add(path, "must be a number or a distribution table "
                           "(e.g. { dist = \"LogNormal\", p05 = ..., p95 = ... })")
        return None
    d = parse_distribution(raw, path, problems)
    if d is None:
        return None
    lo, hi = dists.support(d.dist, d.params)
    if lo < low or hi > high or (low_open and lo == low and d.dist not in (
            "LogNormal", "Gamma", "Beta")):
        problems.add(path, f"{d.dist} support [{lo:g}, {hi:g}] exceeds {bounds}{what}")
        return None
    point = d.point
    if point is None:
        point = float(dists.quantile(d.dist, d.params, 0.5))
    return Value(float(point), d.dist, tuple((k, float(v)) for k, v in d.params.items()))


def _source(table: dict, path: str, problems: Problems) -> str:
    src = table.get("source")
    if not isinstance(src, str) or not src.strip():
        problems.add(f"{path}.source", "missing (every growth assumption needs a source)")
        return ""
    return src


def _curve(name: str, table: Any, path: str, problems: Problems) -> Curve | None:
    if not isinstance(table, dict):
        problems.add(path, "must be a table with midpoint, steepness and source")
        return None
    n0 = len(problems)
    unknown_keys(table, CURVE_KEYS, path, problems)
    vals = {}
    for key in ("midpoint", "steepness"):
        if key not in table:
            problems.add(f"{path}.{key}", "missing")
            continue
        kw = {"low": 0.0, "low_open": True, "what": " (per year, positive)"} \
            if key == "steepness" else {}
        vals[key] = _value(table[key], f"{path}.{key}", problems, **kw)
    src = _source(table, path, problems)
    if len(problems) > n0:
        return None
    return Curve(name, vals["midpoint"], vals["steepness"], src)


def _law(name: str, table: Any, path: str, problems: Problems, curves: dict,
         raw_curves: dict) -> tuple[Law | None, Curve | None]:
    if not isinstance(table, dict):
        problems.add(path, f"must be a table with law = one of {', '.join(LAWS)}")
        return None, None
    n0 = len(problems)
    if name not in INPUTS:
        problems.add(path, f"unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
        return None, None
    q: Quantity = INPUTS[name]
    kind = table.get("law")
    if kind not in LAWS:
        problems.add(f"{path}.law", f"({kind!r}) must be one of {', '.join(LAWS)}")
        return None, None
    unknown_keys(table, LAW_KEYS[kind], path, problems)
    src = _source(table, path, problems)
    inline: Curve | None = None
    if kind == "exponential":
        if q.high != math.inf:
            problems.add(f"{path}.law", f"exponential growth can leave the domain "
                                            f"{q.domain_text()} of {name}; use law = "
                                            f"\"logistic\" with a target inside it")
        rate = None
        if "rate" not in table:
            problems.add(f"{path}.rate", "missing (growth per year, e.g. 0.3 for +30%)")
        else:
            rate = _value(table["rate"], f"{path}.rate", problems, low=-1.0, low_open=True,
                          what=" (a yearly rate above -100%)")
        noise = table.get("noise", 0.0)
        if not is_finite_number(noise) or noise < 0:
            problems.add(f"{path}.noise", f"({noise!r}) must be a number >= 0 (sd of "
                                              "the yearly log shock)")
            noise = 0.0
        if len(problems) > n0:
            return None, None
        return Law(name, kind, rate=rate, noise=float(noise), source=src), None
    # logistic
    target = None
    if "target" not in table:
        problems.add(f"{path}.target", "missing (the value approached as adoption "
                                           "completes)")
    else:
        target = _value(table["target"], f"{path}.target", problems, low=q.low, high=q.high,
                        low_open=q.low_open, what=f" (the domain of {name})")
    curve = table.get("curve")
    has_inline = "midpoint" in table or "steepness" in table
    if curve is not None and has_inline:
        problems.add(f"{path}.curve", "give either curve = \"NAME\" or midpoint and "
                                          "steepness, not both")
    elif curve is not None:
        if not isinstance(curve, str) or curve not in raw_curves:
            problems.add(f"{path}.curve", f"({curve!r}) is not a curve of "
                                              f"[projection.curves]"
                                              f"{did_you_mean(str(curve), raw_curves)}")
    else:
        inline = _curve(name, {k: table[k] for k in ("midpoint", "steepness") if k in table}
                        | {"source": src or "-"}, path, problems)
        curve = name
    if len(problems) > n0:
        return None, None
    return Law(name, kind, target=target, curve=curve, source=src), inline


def _supply(table: Any, years: Any, path: str, problems: Problems) -> Supply | None:
    """The ``[projection.supply]`` table: which fleet it caps and a cap per year."""
    if not isinstance(table, dict):
        problems.add(path, "must be a table with chips, cap and source")
        return None
    n0 = len(problems)
    unknown_keys(table, SUPPLY_KEYS, path, problems)
    chips = table.get("chips", "chips_required")
    if chips not in SUPPLY_CHIPS:
        problems.add(f"{path}.chips", f"({chips!r}) must be one of {', '.join(SUPPLY_CHIPS)}"
                                      f"{did_you_mean(str(chips), SUPPLY_CHIPS)}")
    src = _source(table, path, problems)
    raw = table.get("cap")
    caps: list[Value | None] = []
    if not isinstance(raw, dict) or not raw:
        problems.add(f"{path}.cap", "missing: give a table with one cap per year, e.g. "
                                    "2025 = 1e6 (chips)")
    elif isinstance(years, list):
        wanted = [str(y) for y in years]
        for key in raw:
            if key not in wanted:
                problems.add(f"{path}.cap.{key}", f"is not a year of projection.years "
                                                  f"({', '.join(wanted)})")
        for y in wanted:
            if y not in raw:
                problems.add(f"{path}.cap.{y}", "missing (every year needs a cap)")
                continue
            caps.append(_value(raw[y], f"{path}.cap.{y}", problems, low=0.0, low_open=True,
                               what=" (chips, positive)"))
    if len(problems) > n0 or any(c is None for c in caps):
        return None
    return Supply(chips, tuple(caps), src)


def parse(table: Any, problems: Problems) -> Projection | None:
    """Validate a ``[projection]`` table.

    Parameters
    ----------
    table : dict
        The parsed TOML table.
    problems : Problems
        Where every problem found is recorded.

    Returns
    -------
    Projection or None
        The projection when the table is valid.
    """
    n0 = len(problems)
    if not isinstance(table, dict):
        problems.add("projection", "must be a table")
        return None
    unknown_keys(table, TOP_KEYS, "projection", problems)
    years = table.get("years")
    ok_years = (isinstance(years, list) and 0 < len(years) <= MAX_YEARS
                and all(isinstance(y, int) and not isinstance(y, bool) for y in years))
    if not ok_years:
        problems.add("projection.years", f"must be a list of 1 to {MAX_YEARS} whole "
                                             f"years, e.g. [2025, 2026, 2027], not {years!r}")
    elif any(b <= a for a, b in itertools.pairwise(years)):
        problems.add("projection.years", f"must increase strictly ({years})")
    elif not all(1900 <= y <= 2300 for y in years):
        problems.add("projection.years", f"must be calendar years ({years})")
    desc = table.get("description", "")
    if not isinstance(desc, str):
        problems.add("projection.description", "must be a string")
        desc = ""
    raw_curves = table.get("curves", {})
    if not isinstance(raw_curves, dict):
        problems.add("projection.curves", "must be a table of curve tables")
        raw_curves = {}
    curves: dict[str, Curve] = {}
    for name, ct in raw_curves.items():
        c = _curve(name, ct, f"projection.curves.{name}", problems)
        if c is not None:
            curves[name] = c
    growth = table.get("growth", {})
    if not isinstance(growth, dict):
        problems.add("projection.growth", "must be a table of parameter tables")
        growth = {}
    if not growth and isinstance(growth, dict):
        problems.add("projection.growth", "missing: give at least one "
                                              "[projection.growth.NAME] table")
    laws = []
    for name, lt in growth.items():
        law, inline = _law(name, lt, f"projection.growth.{name}", problems, curves, raw_curves)
        if law is not None:
            laws.append(law)
        if inline is not None:
            if inline.name in curves:
                problems.add(f"projection.growth.{name}", f"its inline curve clashes with "
                                                              f"[projection.curves.{name}]")
            curves[inline.name] = inline
    supply = None
    if "supply" in table:
        supply = _supply(table["supply"], years if ok_years else None,
                         "projection.supply", problems)
    if len(problems) > n0:
        return None
    return Projection(tuple(years), tuple(curves.values()), tuple(laws), desc, supply)


def parse_table(table: Any, label: str = "") -> tuple[Projection | None, list[tuple[str, str]]]:
    """:func:`parse` returning ``(projection or None, [(path, message), ...])``.

    Kept for callers that parse a table outside a scenario file; a scenario's
    projection is parsed once, into :attr:`probmodel.spec.Scenario.projection`.
    """
    problems = Problems(label)
    proj = parse(table, problems)
    return proj, [(path, msg) for _, path, msg in problems.items]
