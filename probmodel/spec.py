"""Scenario files: schema, parsing and validation with located errors.

A scenario is a TOML file (format in docs/scenarios.md). This module turns the parsed
tables into a frozen :class:`Scenario`; it never touches the disk itself (io.py reads the
files and hands their bytes over), and it reports every problem in a file at once.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from probmodel import catalog
from probmodel import distributions as dists
from probmodel.analysis.projection_schema import validate_table as validate_projection
from probmodel.equations import CLASSES, MODELS, WINDOWS
from probmodel.errors import ParameterError, ScenarioError, UsageError
from probmodel.model import INPUTS
from probmodel.observations import validate as validate_observations

SCHEMA_VERSION = 1
TOP_LEVEL_KEYS = (
    "schema_version", "title", "description", "extends", "parameters", "prices",
    "observations", "projection",
)
META_KEYS = ("dist", "value", "point", "unit", "source", "description")

#: Validators for optional top-level tables owned by other modules (observations,
#: projection). Each takes (table, file_label) and returns a list of (path, message).
SECTION_VALIDATORS: dict[str, Callable[[Any, str], list[tuple[str, str]]]] = {}
SECTION_VALIDATORS["projection"] = validate_projection
SECTION_VALIDATORS["observations"] = validate_observations


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
class Scenario:
    """A validated scenario, with everything inherited through ``extends`` resolved."""

    name: str
    title: str
    path: Path
    files: tuple[Path, ...]
    parameters: Mapping[str, Parameter]
    prices: np.ndarray | None = None
    prices_meta: Mapping[str, str] = field(default_factory=dict)
    observations: Mapping[str, Any] = field(default_factory=dict)
    projection: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    overrides: Mapping[str, float] = field(default_factory=dict)

    @property
    def uncertain(self) -> dict[str, Parameter]:
        """Parameters with a distribution, in file order."""
        return {k: p for k, p in self.parameters.items() if not p.is_fixed}

    @property
    def fixed(self) -> dict[str, Parameter]:
        """Parameters with a fixed value."""
        return {k: p for k, p in self.parameters.items() if p.is_fixed}

    def point_values(self) -> dict[str, Any]:
        """Every input at its point value (the report's number), prices included."""
        vals: dict[str, Any] = {k: p.point for k, p in self.parameters.items()}
        if self.prices is not None:
            vals["prices"] = self.prices
        return vals

    def with_overrides(self, sets: Mapping[str, float], origin: str = "--set") -> Scenario:
        """A copy with some parameters replaced by fixed values.

        Raises
        ------
        UsageError
            For a name the model does not know or a value outside its domain.
        """
        # Roofline catalogs: --set chip=NAME / model=NAME (logic in probmodel.catalog).
        self, sets = catalog.apply_overrides(self, sets, origin)
        params = dict(self.parameters)
        for name, value in sets.items():
            if name not in INPUTS:
                raise UsageError(f"{origin}: unknown parameter '{name}'{_suggest(name, INPUTS)}")
            q = INPUTS[name]
            if not math.isfinite(value) or not q.contains(value):
                raise UsageError(
                    f"{origin}: {name}={value!r} is outside its domain {q.domain_text()}"
                )
            old = params.get(name)
            params[name] = Parameter(
                name=name, unit=old.unit if old else q.unit,
                source=f"set on the command line ({origin} {name}={value:g})",
                point=float(value), file="",
            )
        merged = {**self.overrides, **{k: float(v) for k, v in sets.items()}}
        return replace(self, parameters=params, overrides=merged)


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def parse_overrides(items: list[str], origin: str = "--set") -> dict[str, float]:
    """Parse ``NAME=VALUE`` strings from the command line."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{origin}: '{item}' is not of the form NAME=VALUE")
        # Roofline catalogs: chip=NAME / model=NAME pick an entry (probmodel.catalog).
        if (picked := catalog.split_override(name, raw, origin)) is not None:
            out[name] = picked
            continue
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"{origin}: {name}: '{raw}' is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"{origin}: {name}: {raw} is not a finite number")
        out[name] = value
    return out


class _Problems:
    def __init__(self, label: str):
        self.label = label
        self.items: list[tuple[str, str, str]] = []

    def add(self, path: str, msg: str) -> None:
        self.items.append((self.label, path, msg))


def parse_parameter(
    name: str, table: Any, problems: _Problems, file_label: str
) -> Parameter | None:
    """Validate one ``[parameters.NAME]`` table; record problems, return None if bad."""
    path = f"parameters.{name}"
    if not isinstance(table, dict):
        problems.add(path, "must be a table (e.g. value = ..., unit = ..., source = ...)")
        return None
    n_before = len(problems.items)
    if name not in INPUTS:
        problems.add(path, f"unknown parameter '{name}'{_suggest(name, INPUTS)}")
        return None
    q = INPUTS[name]
    for key in ("unit", "source"):
        v = table.get(key)
        if v is None:
            problems.add(f"{path}.{key}", f"missing (every parameter needs a {key})")
        elif not isinstance(v, str) or not v.strip():
            problems.add(f"{path}.{key}", "must be a non-empty string")
    desc = table.get("description", "")
    if not isinstance(desc, str):
        problems.add(f"{path}.description", "must be a string")
    numeric: dict[str, float] = {}
    for key, v in table.items():
        if key in ("dist", "unit", "source", "description"):
            continue
        if not _is_number(v):
            problems.add(f"{path}.{key}", f"must be a number, not {type(v).__name__} {v!r}")
        elif not math.isfinite(v):
            problems.add(f"{path}.{key}", f"must be finite, not {v}")
        else:
            numeric[key] = float(v)
    if len(problems.items) > n_before:
        return None

    if "value" in table:
        extra = sorted(set(table) - {"value", "unit", "source", "description"})
        if extra:
            problems.add(f"{path}.{extra[0]}",
                         "a fixed parameter (value = ...) takes no distribution keys"
                         f" ({', '.join(extra)})")
            return None
        value = numeric["value"]
        if not q.contains(value):
            problems.add(f"{path}.value", f"({value:g}) is outside the domain {q.domain_text()}"
                                          f" of {name}")
            return None
        return Parameter(name, table["unit"], table["source"], value, file=file_label,
                         description=desc, spec={"value": value})

    dist = table.get("dist")
    if dist is None:
        problems.add(path, "needs either value = ... (fixed) or dist = ... (uncertain)")
        return None
    if not isinstance(dist, str):
        problems.add(f"{path}.dist", "must be a string naming a distribution")
        return None
    if "point" not in numeric:
        problems.add(f"{path}.point", "missing (the report's value, used by point mode)")
        return None
    point = numeric.pop("point")
    try:
        params = dists.resolve(dist, numeric)
    except ParameterError as e:
        problems.add(f"{path}.{e.key}" if e.key else path, e.message)
        return None
    lo, hi = dists.support(dist, params)
    # The support must lie inside the domain (an open bound may be touched: a
    # continuous law puts no mass on it), so no draw is ever impossible.
    if lo < q.low or hi > q.high:
        problems.add(path, f"{dist} support [{lo:g}, {hi:g}] exceeds the domain "
                           f"{q.domain_text()} of {name}; choose a family or bounds inside it")
        return None
    if not q.contains(point):
        problems.add(f"{path}.point", f"({point:g}) is outside the domain {q.domain_text()}")
        return None
    if not dists.in_support(dist, params, point):
        problems.add(f"{path}.point", f"({point:g}) is outside the support [{lo:g}, {hi:g}] of"
                                      f" the {dist} distribution")
        return None
    return Parameter(name, table["unit"], table["source"], point, dist, dict(params),
                     {k: v for k, v in table.items() if k not in ("unit", "source")},
                     file_label, desc)


def parse_prices(table: Any, problems: _Problems) -> tuple[np.ndarray | None, dict[str, str]]:
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
            problems.add(f"prices.{key}", f"unknown key (windows are {', '.join(WINDOWS)})")
    for w, window in enumerate(WINDOWS):
        wt = table.get(window)
        if not isinstance(wt, dict):
            problems.add(f"prices.{window}", "missing table (one per window)")
            continue
        for key in wt:
            if key not in MODELS:
                problems.add(f"prices.{window}.{key}", f"unknown model (models are "
                                                       f"{', '.join(MODELS)})")
        for m, model in enumerate(MODELS):
            mt = wt.get(model)
            if not isinstance(mt, dict):
                problems.add(f"prices.{window}.{model}", "missing table")
                continue
            for key in mt:
                if key not in CLASSES:
                    problems.add(f"prices.{window}.{model}.{key}",
                                 f"unknown token class (classes are {', '.join(CLASSES)})")
            for c, cls in enumerate(CLASSES):
                v = mt.get(cls)
                p = f"prices.{window}.{model}.{cls}"
                if v is None:
                    problems.add(p, "missing")
                elif not _is_number(v) or not math.isfinite(v):
                    problems.add(p, f"must be a finite number, not {v!r}")
                elif v < 0:
                    problems.add(p, f"({v:g}) must not be negative")
                else:
                    arr[w, m, c] = float(v)
    if np.isnan(arr).any():
        return None, meta
    return arr, meta


def parse_document(doc: Mapping[str, Any], label: str) -> tuple[dict[str, Any], list]:
    """Validate one file's tables (without following ``extends``).

    Returns the pieces found and the list of problems.
    """
    problems = _Problems(label)
    # Roofline catalogs: chip = "...", model = "..." become parameter tables (probmodel.catalog).
    doc = catalog.expand_document(doc, problems.add)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            problems.add(key, f"unknown top-level key{_suggest(key, TOP_LEVEL_KEYS)} (known: "
                              f"{', '.join(TOP_LEVEL_KEYS)})")
    sv = doc.get("schema_version", SCHEMA_VERSION)
    if sv != SCHEMA_VERSION:
        problems.add("schema_version", f"({sv!r}) is not supported; this probmodel reads "
                                       f"version {SCHEMA_VERSION}")
    for key in ("title", "description", "extends"):
        if key in doc and not isinstance(doc[key], str):
            problems.add(key, "must be a string")
    out: dict[str, Any] = {"parameters": {}}
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        problems.add("parameters", "must be a table of parameter tables")
        params = {}
    for name, table in params.items():
        p = parse_parameter(name, table, problems, label)
        if p is not None:
            out["parameters"][name] = p
    if "prices" in doc:
        out["prices"], out["prices_meta"] = parse_prices(doc["prices"], problems)
    for section in ("observations", "projection"):
        if section in doc:
            table = doc[section]
            if not isinstance(table, dict):
                problems.add(section, "must be a table")
                continue
            validator = SECTION_VALIDATORS.get(section)
            if validator is not None:
                for path, msg in validator(table, label):
                    problems.add(path, msg)
            out[section] = table
    for key in ("title", "description", "extends"):
        if isinstance(doc.get(key), str):
            out[key] = doc[key]
    return out, problems.items


def parse_toml(text: str, label: str) -> dict[str, Any]:
    """Parse TOML text, turning a syntax error into a located ScenarioError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([(label, "", f"TOML syntax error: {e}")]) from None
    except UnicodeDecodeError as e:
        raise ScenarioError([(label, "", f"not UTF-8 text: {e}")]) from None


def build_scenario(
    path: Path,
    read_text: Callable[[Path], str],
    label_of: Callable[[Path], str] = str,
) -> Scenario:
    """Read a scenario and everything it extends, validate, and merge.

    Parameters
    ----------
    path : Path
        The scenario file.
    read_text : callable
        Reads a file's text (io.py supplies it); raises FileNotFoundError or OSError.
    label_of : callable
        How a path is named in messages.
    """
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []
    current: Path | None = path
    child_label = None
    problems: list = []
    while current is not None:
        resolved = current.resolve()
        label = label_of(current)
        if resolved in seen:
            cycle = " -> ".join(label_of(p) for p in [*seen, resolved])
            raise ScenarioError([(child_label or label, "extends", f"cycle: {cycle}")])
        seen.append(resolved)
        try:
            text = read_text(current)
        except FileNotFoundError:
            if child_label is None:
                raise ScenarioError([(label, "", "no such file")]) from None
            raise ScenarioError([(child_label, "extends", f"file not found: {label}")]) from None
        except IsADirectoryError:
            raise ScenarioError([(label, "", "is a directory, not a scenario file")]) from None
        except OSError as e:
            raise ScenarioError([(label, "", f"cannot read: {e.strerror or e}")]) from None
        doc = parse_toml(text, label)
        parsed, file_problems = parse_document(doc, label)
        problems.extend(file_problems)
        chain.append((current, parsed))
        ext = parsed.get("extends")
        child_label = label
        current = (current.parent / ext) if ext else None
    if problems:
        raise ScenarioError(problems)

    # Merge from the root ancestor down: a child replaces whole tables.
    params: dict[str, Parameter] = {}
    merged: dict[str, Any] = {"title": "", "description": ""}
    for _, parsed in reversed(chain):
        params.update(parsed["parameters"])
        for key in ("title", "description", "prices", "prices_meta", "observations",
                    "projection"):
            if key in parsed:
                merged[key] = parsed[key]
    name = path.name.removesuffix(".toml")
    return Scenario(
        name=name,
        title=merged["title"] or name,
        description=merged["description"],
        path=path,
        files=tuple(p for p, _ in chain),
        parameters=params,
        prices=merged.get("prices"),
        prices_meta=merged.get("prices_meta", {}),
        observations=merged.get("observations", {}),
        projection=merged.get("projection", {}),
    )


def check_complete(scenario: Scenario) -> None:
    """Refuse a scenario whose revenue inputs are partly there without a price table."""
    names = set(scenario.parameters)
    label = str(scenario.path)
    rev_inputs = {"input_tokens_per_day", "output_tokens_per_day", "cache_hit_rate",
                  "offpeak_share", "v3_share"}
    if rev_inputs <= names and scenario.prices is None:
        raise ScenarioError([(label, "prices", "missing: revenue needs a [prices] table")])
