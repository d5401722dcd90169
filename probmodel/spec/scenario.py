"""A scenario: the files it is made of, merged through ``extends``, validated once.

A scenario is a TOML file (format in docs/scenarios.md). :func:`build_scenario` reads it
and everything it extends, parses every table into typed objects (parameters, prices,
observations, projection, correlations), reports every problem of every file at once,
and returns a frozen :class:`Scenario`. Nothing downstream parses a table again.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from probmodel import catalog
from probmodel import distributions as dists
from probmodel.distributions.registry import forms
from probmodel.errors import ParameterError, ScenarioError, UsageError, file_label
from probmodel.model import INPUTS, NODES, plan
from probmodel.spec import correlations as corr
from probmodel.spec import measurements as meas
from probmodel.spec import observations as obs
from probmodel.spec import projection as proj
from probmodel.spec.correlations import Correlation
from probmodel.spec.measurements import MeasurementsSpec
from probmodel.spec.observations import Observation
from probmodel.spec.parameters import LawOverride, Parameter, parse_parameter, parse_prices
from probmodel.spec.problems import Problems, did_you_mean
from probmodel.spec.projection import Projection

SCHEMA_VERSION = 1
TOP_LEVEL_KEYS = (
    "schema_version", "title", "description", "extends", "parameters", "prices",
    "observations", "projection", "correlations", "measurements",
)
#: Tables a child file replaces whole (correlations merge pair by pair instead).
REPLACED_TABLES = ("title", "description", "prices", "prices_meta", "observations",
                   "projection", "measurements")


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
    observations: Mapping[str, Observation] = field(default_factory=dict)
    projection: Projection | None = None
    correlations: tuple[Correlation, ...] = ()
    description: str = ""
    overrides: Mapping[str, float] = field(default_factory=dict)
    measurements: MeasurementsSpec | None = None
    #: ``--set`` items that changed a law: ``{"pay_rate.p95": "0.7", "dau": "LogNormal(17, 0.3)"}``
    law_overrides: Mapping[str, str] = field(default_factory=dict)
    #: Correlated inputs held at a value (``--set``, a sweep cell): each one's own law,
    #: and the correlations that tie it to its partners, which are then drawn given it
    #: (:func:`probmodel.correlation.condition`).
    conditioned: Mapping[str, Parameter] = field(default_factory=dict)
    conditioning: tuple[Correlation, ...] = ()

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

    def correlation_matrix(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The correlated names (in :attr:`uncertain` order) and their Spearman matrix.

        Returns
        -------
        (tuple of str, numpy.ndarray)
            Names and the target Spearman rank correlation matrix (float64, ones on the
            diagonal, 0 for pairs not given); ``((), array of shape (0, 0))`` when the
            scenario has no correlations.
        """
        return corr.spearman_matrix(self.correlations, tuple(self.uncertain))

    def settable(self) -> list[str]:
        """Names ``--set`` may fix.

        The scenario's parameters, and the optional inputs (such as ``price_index``) of
        the equations it evaluates.
        """
        available = set(self.parameters) | ({"prices"} if self.prices is not None else set())
        optional = [k for node in plan(available) for k in node.optional]
        return [*self.parameters, *(k for k in dict.fromkeys(optional)
                                    if k not in self.parameters)]

    def with_overrides(self, sets: Mapping[str, float], origin: str = "--set") -> Scenario:
        """A copy with some parameters replaced by fixed values.

        A correlated parameter fixed this way keeps its correlations as conditioning: its
        partners are drawn given its value (:attr:`conditioned`, :attr:`conditioning`).

        Raises
        ------
        UsageError
            For a name the scenario does not use or a value outside its domain.
        """
        # Roofline catalogs: --set chip=NAME / model=NAME switch the pick first.
        self, sets = catalog.apply_overrides(self, sets, origin)
        laws = {k: v for k, v in sets.items() if isinstance(v, LawOverride) or "." in k}
        if laws:
            self = self.with_laws(laws, origin)
            sets = {k: v for k, v in sets.items() if k not in laws}
        params = dict(self.parameters)
        settable = self.settable()
        for name, value in sets.items():
            if name not in INPUTS:
                raise UsageError(f"{origin}: unknown parameter '{name}'"
                                 f"{did_you_mean(name, INPUTS)}")
            if name not in settable:
                raise UsageError(f"{origin}: {name} is not used by {self.name}"
                                 f"{did_you_mean(name, settable)}; it would change nothing "
                                 f"(its parameters: {', '.join(self.parameters)})")
            q = INPUTS[name]
            if not math.isfinite(value) or not q.contains(value):
                raise UsageError(
                    f"{origin}: {name}={value!r} is outside its domain {q.domain_text()}"
                )
            problem = dists.float32_problem(float(value))
            if problem:
                raise UsageError(f"{origin}: {name}={value!r} {problem}")
            old = params.get(name)
            params[name] = Parameter(
                name=name, unit=old.unit if old else q.unit,
                source=f"set on the command line ({origin} {name}={value:g})",
                point=float(value), file="",
            )
        merged = {**self.overrides, **{k: float(v) for k, v in sets.items()}}
        kept = tuple(c for c in self.correlations if c.a not in sets and c.b not in sets)
        held = tuple(c for c in self.correlations if c not in kept)
        conditioned = dict(self.conditioned)
        for c in held:  # a correlated input held at a value: its partners drawn given it
            for nm in (c.a, c.b):
                old = self.parameters.get(nm)
                if nm in sets and nm not in conditioned and old is not None \
                        and not old.is_fixed:
                    conditioned[nm] = old
        return replace(self, parameters=params, overrides=merged, correlations=kept,
                       conditioned=conditioned, conditioning=self.conditioning + held)


    def with_laws(self, laws: Mapping[str, Any], origin: str = "--set") -> Scenario:
        """A copy with new laws: ``{"pay_rate": LawOverride(...), "pay_rate.p95": 0.7, ...}``.

        Each changed parameter's table is validated exactly as a scenario file's
        (the same located messages, with ``origin`` as the file); every problem is
        reported at once.

        Raises
        ------
        ScenarioError
            For a table that breaks its law (p95 below p05, a point outside the support).
        UsageError
            For an unknown name, or a key override of a fixed parameter.
        """
        params = dict(self.parameters)
        problems = Problems(origin)
        for key, value in laws.items():
            _with_law(self, params, key, value, origin, problems)
        if problems.items:
            raise ScenarioError(problems.items)
        texts = {k: (v.text if isinstance(v, LawOverride) else f"{v:g}") for k, v in laws.items()}
        return replace(self, parameters=params,
                       law_overrides={**self.law_overrides, **texts})

def _table_for(p: Parameter, key: str) -> dict[str, Any]:
    """``p``'s table, rewritten when needed so that it has ``key``.

    A key the table's form lacks (``p95`` where the file gives ``mean`` and ``sd``)
    switches to the family's first form with that key, its other keys taken from the
    law as it stands (so ``pay_rate.p95=0.7`` keeps the law's 5% quantile).
    """
    table = {k: v for k, v in p.spec.items()}
    fam = dists.FAMILIES[p.dist]
    if key == "point" or key in table:
        return table
    form = next((f for f in forms(fam) if key in f), None)
    if form is None:
        return table  # the parser names the unknown key
    keep = {k: v for k, v in table.items() if k in ("dist", "point", "description")}
    for k in form:
        if k in fam.native:
            keep[k] = p.params[k]
        elif re.fullmatch(r"p\d\d", k):  # 6 digits, as a file would state it
            keep[k] = float(f"{dists.quantile(p.dist, p.params, [int(k[1:]) / 100])[0]:.6g}")
        elif k in ("mean", "sd"):
            law = dists.scipy_dist(p.dist, p.params)
            keep[k] = float(f"{law.mean() if k == 'mean' else law.std():.6g}")
        else:  # bounds (low, high, mode) are native or given already
            keep[k] = table.get(k)
    return keep


def _with_law(sc: Scenario, params: dict, key: str, value: Any, origin: str,
              problems: Problems) -> None:
    """Apply one law override to ``params`` (validated as a file's table would be)."""
    name, _, sub = key.partition(".")
    if name not in INPUTS:
        raise UsageError(f"{origin}: unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
    settable = sc.settable()
    if name not in settable:
        raise UsageError(f"{origin}: {name} is not used by {sc.name}"
                         f"{did_you_mean(name, settable)}; it would change nothing")
    p = params.get(name)
    unit = p.unit if p is not None else INPUTS[name].unit
    text = value.text if isinstance(value, LawOverride) else f"{value:g}"
    source = (f"set on the command line ({origin} {key}={text})"
              + (f"; file: {p.source}" if p is not None else ""))
    if isinstance(value, LawOverride):
        table: dict[str, Any] = {"dist": value.dist, **value.keys}
        point = p.point if p is not None else None
        try:
            native = dists.resolve(value.dist, dict(value.keys))
            if point is None or not dists.in_support(value.dist, native, point):
                point = float(dists.quantile(value.dist, native, [0.5])[0])
        except ParameterError:
            pass  # the parser below reports the law's problem
        if point is not None:
            table["point"] = point
    else:
        if p is None or p.is_fixed:
            what = "fixed" if p is not None else f"not a parameter of {sc.name}"
            raise UsageError(f"{origin}: {key}: {name} is {what}; set its value with "
                             f"{origin} {name}=VALUE or give it a law with {origin} "
                             f"'{name}=FAMILY(...)' (e.g. LogNormal(loc, scale))")
        table = _table_for(p, sub)
        table[sub] = value
    new = parse_parameter(name, {**table, "unit": unit, "source": source}, problems)
    if new is not None:
        params[name] = new


def parse_document(doc: Mapping[str, Any], label: str) -> tuple[dict[str, Any], list]:
    """Validate one file's tables (without following ``extends``).

    Returns the pieces found and the list of problems, as (file, path, message).
    """
    problems = Problems(label)
    # Roofline catalogs: chip = "...", model = "..." become parameter tables.
    doc = catalog.expand_document(doc, problems.add)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            problems.add(key, f"unknown top-level key{did_you_mean(key, TOP_LEVEL_KEYS)} "
                              f"(known: {', '.join(TOP_LEVEL_KEYS)})")
    if "schema_version" not in doc:
        problems.add("schema_version", f"missing: a scenario file starts with "
                                       f"schema_version = {SCHEMA_VERSION}"
                     + (" (this file is empty)" if not doc else ""))
    elif doc["schema_version"] != SCHEMA_VERSION or isinstance(doc["schema_version"], bool):
        problems.add("schema_version", f"({doc['schema_version']!r}) is not supported; this "
                                       f"probmodel reads version {SCHEMA_VERSION}")
    for key in ("title", "description", "extends"):
        if key in doc and not isinstance(doc[key], str):
            problems.add(key, "must be a string")
    out: dict[str, Any] = {"parameters": {}}
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        problems.add("parameters", "must be a table of parameter tables")
        params = {}
    for name, table in params.items():
        p = parse_parameter(name, table, problems)
        if p is not None:
            out["parameters"][name] = p
    if "prices" in doc:
        out["prices"], out["prices_meta"] = parse_prices(doc["prices"], problems)
    if "observations" in doc:
        parsed = obs.parse(doc["observations"], problems)
        if parsed is not None:
            out["observations"] = parsed
    if "projection" in doc:
        parsed = proj.parse(doc["projection"], problems)
        if parsed is not None:
            out["projection"] = (parsed, label)
    if "measurements" in doc:
        parsed = meas.parse(doc["measurements"], problems)
        if parsed is not None:
            out["measurements"] = parsed
    if "correlations" in doc:
        parsed = corr.parse(doc["correlations"], problems, tuple(INPUTS))
        if parsed is not None:
            out["correlations"] = parsed
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
    except RecursionError:
        raise ScenarioError([(label, "", "nested too deeply to be a scenario file (arrays or "
                                         "tables inside each other hundreds of levels "
                                         "deep)")]) from None


def label_of(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    return file_label(path)


def read_text(path: Path) -> str:
    """A scenario file's text (UTF-8; a byte-order mark is allowed).

    Raises OSError for anything but a regular file or a folder: reading a FIFO or a
    terminal would wait for a writer without end.
    """
    import stat

    mode = os.stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special")
        raise OSError(0, f"not a regular file ({kind}); a scenario is a TOML file")
    return path.read_bytes().decode("utf-8-sig")


def build_scenario(
    path: Path,
    read_text: Callable[[Path], str] = read_text,
    label_of: Callable[[Path], str] = label_of,
) -> Scenario:
    """Read a scenario and everything it extends, validate, and merge.

    Parameters
    ----------
    path : Path
        The scenario file.
    read_text : callable
        Reads a file's text; raises FileNotFoundError or OSError, or UnicodeDecodeError
        for a file that is not UTF-8 text.
    label_of : callable
        How a path is named in messages.

    Raises
    ------
    ScenarioError
        With every problem found, each located by file and key path.
    """
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []
    current: Path | None = Path(path)
    child_label = None
    problems: list = []
    while current is not None:
        label = label_of(current)
        try:
            resolved = current.resolve()
        except (RuntimeError, OSError):  # RuntimeError: a symbolic link loop (Python 3.12)
            where = (child_label, "extends") if child_label else (label, "")
            raise ScenarioError([(*where, f"{label}: a symbolic link loop" if child_label
                                  else "a symbolic link loop")]) from None
        if resolved in seen:
            cycle = " -> ".join(label_of(p) for p in [*seen, resolved])
            raise ScenarioError([(child_label or label, "extends", f"cycle: {cycle}")])
        seen.append(resolved)
        text = _read(current, read_text, label, child_label)
        doc = parse_toml(text, label)
        parsed, file_problems = parse_document(doc, label)
        problems.extend(file_problems)
        chain.append((current, parsed))
        ext = parsed.get("extends")
        child_label = label
        current = (current.parent / ext) if ext else None
    if problems:
        raise ScenarioError(problems)
    scenario, projection_file = _merge(Path(path), chain)
    problems = _check_merged(scenario, projection_file, label_of(Path(path)))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _read(path: Path, read: Callable[[Path], str], label: str, child_label: str | None) -> str:
    try:
        return read(path)
    except FileNotFoundError:
        if child_label is None:
            raise ScenarioError([(label, "", "no such file")]) from None
        raise ScenarioError([(child_label, "extends", f"file not found: {label}")]) from None
    except IsADirectoryError:
        raise ScenarioError([(label, "", "is a directory, not a scenario file")]) from None
    except UnicodeDecodeError as e:
        raise ScenarioError([(label, "", f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at "
                                         f"offset {e.start}); a scenario is a TOML file "
                                         "saved as UTF-8")]) from None
    except OSError as e:
        raise ScenarioError([(label, "", f"cannot read: {e.strerror or e}")]) from None


def _merge(path: Path, chain: list[tuple[Path, dict[str, Any]]]) -> tuple[Scenario, str]:
    """Merge from the root ancestor down: a child replaces whole tables.

    Returns the scenario and the file its projection comes from (for messages).
    """
    params: dict[str, Parameter] = {}
    merged: dict[str, Any] = {"title": "", "description": ""}
    correlations: tuple[Correlation, ...] = ()
    for file, parsed in reversed(chain):
        if "measurements" in parsed:
            parsed = {**parsed, "measurements": parsed["measurements"].resolved(file)}
        params.update(parsed["parameters"])
        for key in REPLACED_TABLES:
            if key in parsed:
                merged[key] = parsed[key]
        correlations = corr.merge(correlations, parsed.get("correlations", ()))
    name = path.name.removesuffix(".toml")
    projection, projection_file = merged.get("projection", (None, ""))
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
        projection=projection,
        correlations=correlations,
        measurements=merged.get("measurements"),
    ), projection_file


def _check_merged(sc: Scenario, projection_file: str, label: str) -> list[tuple[str, str, str]]:
    """Problems only the merged scenario shows.

    No parameters, a projection or a correlation naming what the scenario does not
    define, an impossible correlation matrix.
    """
    out: list[tuple[str, str, str]] = []
    if not sc.parameters:
        out.append((label, "parameters", "missing: a scenario needs at least one "
                                          "[parameters.NAME] table"))
    for law in sc.projection.laws if sc.projection is not None else ():
        path, p = f"projection.growth.{law.name}", sc.parameters.get(law.name)
        if p is None:
            out.append((projection_file, path, f"'{law.name}' is not a parameter of the "
                                               f"scenario; add [parameters.{law.name}] (its "
                                               "value is the base-year value)"))
        elif law.kind == "exponential" and p.point <= 0:
            out.append((projection_file, path, "exponential growth needs a positive base "
                                               "value"))
    m = sc.measurements
    if m is not None and m.path is not None and not m.path.is_file():
        out.append((label, "measurements.file", f"{m.file}: no such file (relative to the "
                                                "scenario file that states it)"))
    fixed = {k: p.point for k, p in sc.fixed.items()}
    out += corr.check_names(sc.correlations, tuple(sc.uncertain), fixed)
    if sc.correlations and not out:
        names, matrix = sc.correlation_matrix()
        bad = {tuple(sorted(pair)) for pair in corr.check_positive_definite(names, matrix)}
        if bad:
            where = [c for c in sc.correlations if c.pair in bad]
            pairs = ", ".join(f"{c.path} ({c.a}, {c.b}, rank {c.rank:g})" for c in where)
            out.append((where[0].file if where else label, "correlations",
                        f"not positive definite: no joint distribution has these rank "
                        f"correlations together: {pairs} (checked on the normal-score "
                        "correlations 2 sin(pi r/6)); weaken one of them"))
    return out


def _missing_inputs(name: str, available: set[str]) -> str:
    """Why ``name`` is not computed: the inputs its equations lack."""
    have = available | {n.name for n in plan(available)}
    reasons = []
    for node in (n for n in NODES if n.name == name):
        miss = [i for i in node.inputs if i not in have and i not in node.optional]
        reasons.append(" and ".join(miss))
    return " or ".join(r for r in reasons if r) or "an equation"


def check_observations(scenario: Scenario) -> list[tuple[str, str, str]]:
    """Observations the scenario cannot use, as (file, path, message).

    An observation must name an uncertain parameter or an output the scenario computes
    (an observed fixed value informs nothing).
    """
    label = str(scenario.path)
    available = set(scenario.parameters) | ({"prices"} if scenario.prices is not None
                                            else set())
    outputs = {n.name for n in plan(available)}
    problems = []
    for name in scenario.observations:
        p = scenario.parameters.get(name)
        if p is not None and p.is_fixed:
            problems.append((label, f"observations.{name}",
                             f"{name} is fixed (value = {p.point:g}) in this scenario; an "
                             "observation can only inform an uncertain parameter or an "
                             "output computed from one"))
        elif p is None and name not in outputs:
            problems.append((label, f"observations.{name}",
                             f"{name} is not computed by this scenario (it needs "
                             f"{_missing_inputs(name, available)})"))
    return problems


def check_complete(scenario: Scenario) -> None:
    """Refuse a scenario whose revenue inputs are partly there without a price table."""
    names = set(scenario.parameters)
    label = str(scenario.path)
    rev_inputs = {"input_tokens_per_day", "output_tokens_per_day", "cache_hit_rate",
                  "offpeak_share", "v3_share"}
    if rev_inputs <= names and scenario.prices is None:
        raise ScenarioError([(label, "prices", "missing: revenue needs a [prices] table")])


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (and what it extends), ready to run.

    Raises
    ------
    ScenarioError
        With every problem found, each located by file and key path.
    """
    scenario = build_scenario(Path(path))
    check_complete(scenario)
    return scenario
