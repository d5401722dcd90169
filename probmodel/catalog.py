"""Hardware and model catalogs: ``chip = "H20"`` and ``model = "deepseek-v3"`` in a scenario.

The catalogs are data (priors/hardware.toml, priors/models.toml). Each entry is a set of
ordinary parameter tables (``value`` or ``dist``, ``unit``, ``source``), so picking an
entry is the same as writing those tables into the scenario: the scenario parser
validates them like any other parameter, and a parameter the scenario states itself
keeps the scenario's value (a catalog fills gaps, it never overrides the file).

The scenario parser calls :func:`expand_document` on every file it reads, and
``Scenario.with_overrides`` calls :func:`apply_overrides` so that ``--set chip=H200``
switches the pick after parsing. Unknown names are located errors that list the known
ones (exit 2).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probmodel.errors import UsageError

if TYPE_CHECKING:  # spec imports this module; the annotation only needs the name
    from probmodel.spec import Scenario

#: Where the catalogs live: the project's priors/ folder, next to the package.
CATALOG_DIR = Path(__file__).resolve().parent.parent / "priors"

#: Top-level scenario key -> (catalog file, table of entries in it).
SELECTORS: dict[str, tuple[str, str]] = {
    "chip": ("hardware.toml", "chips"),
    "model": ("models.toml", "models"),
    # a serving engine's calibrated efficiencies on the picked chip: entries "H200/sglang"
    "engine": ("serving-engines.toml", "engines"),
}

#: File names of the catalogs in priors/: data for scenarios, not scenarios themselves.
#: serving-engines.toml is written from a serving calibration
#: (``python -m probmodel.serving.engines CAL_DIR``).
CATALOG_FILES = frozenset(file for file, _ in SELECTORS.values())

#: Entry keys that are not parameter tables (strings describing the entry).
_ENTRY_META = ("description", "vendor", "generation")


def _mark(kind: str, name: str) -> str:
    """The description prefix that says a parameter came from a catalog entry."""
    return f"from the {kind} catalog ({name})"


@cache
def _table(kind: str) -> dict[str, dict[str, Any]]:
    """The raw entries of one catalog file, read once."""
    file, table = SELECTORS[kind]
    doc = tomllib.loads((CATALOG_DIR / file).read_text(encoding="utf-8"))
    return doc.get(table, {})


@cache
def entries(kind: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The entries of one catalog: entry name -> parameter name -> parameter table.

    Parameters
    ----------
    kind : {"chip", "model"}
        Which catalog.

    Returns
    -------
    dict
        Entry names in file order, each a mapping of parameter tables.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, entry in _table(kind).items():
        out[name] = {k: dict(v) for k, v in entry.items() if k not in _ENTRY_META}
    return out


@cache
def _meta(kind: str) -> dict[str, dict[str, str]]:
    """Entry name -> metadata keys (description, vendor, generation) of one catalog."""
    return {name: {k: str(entry[k]) for k in _ENTRY_META if k in entry}
            for name, entry in _table(kind).items()}


def entry_meta(kind: str, name: str) -> dict[str, str]:
    """The metadata of one catalog entry: the keys that are not parameter tables.

    Parameters
    ----------
    kind : {"chip", "model"}
        Which catalog.
    name : str
        The entry's name, e.g. ``"MI355X"``.

    Returns
    -------
    dict
        Those of ``description``, ``vendor`` (chips: "nvidia" or "amd") and
        ``generation`` (chips: "hopper", "blackwell", "blackwell-ultra", "cdna3",
        "cdna4") the entry states; a copy, so callers may change it.

    Raises
    ------
    KeyError
        When ``name`` is not in the catalog.
    """
    return dict(_meta(kind)[name])


def known(kind: str) -> str:
    """The known entry names of a catalog, for messages (engines without their chip)."""
    if kind == "engine":
        return ", ".join(engines())
    return ", ".join(entries(kind))


def engines() -> list[str]:
    """Serving engines with calibrated efficiencies on some chip (sglang, trt, atom)."""
    return list(dict.fromkeys(name.split("/", 1)[1] for name in entries("engine")))


def engine_entry(chip: str, engine: str) -> str:
    """The engine catalog's entry of ``engine`` on ``chip`` (``"H200/sglang"``).

    Raises
    ------
    UsageError
        For an unknown engine, or one with no efficiencies on that chip (TensorRT-LLM
        on an AMD chip), naming the engines the chip has.
    """
    name = f"{chip}/{engine}"
    if name in entries("engine"):
        return name
    if engine not in engines():
        raise UsageError(f"unknown engine '{engine}' (known: {known('engine')})")
    on_chip = [n.split("/", 1)[1] for n in entries("engine") if n.split("/", 1)[0] == chip]
    raise UsageError(f"no calibrated efficiencies for engine '{engine}' on chip {chip} "
                     f"(engines on {chip}: {', '.join(on_chip) or 'none'})")


def entry_tables(kind: str, name: str) -> dict[str, dict[str, Any]]:
    """The parameter tables of one entry, each marked as coming from the catalog.

    Raises
    ------
    KeyError
        When ``name`` is not in the catalog.
    """
    tables = entries(kind)[name]
    mark = _mark(kind, name)
    out = {}
    for pname, t in tables.items():
        t = dict(t)
        desc = t.get("description", "")
        t["description"] = f"{mark}: {desc}" if desc else mark
        out[pname] = t
    return out


def is_from_catalog(description: str, kind: str) -> bool:
    """Whether a parameter's description marks it as taken from a ``kind`` catalog entry."""
    return description.startswith(f"from the {kind} catalog (")


def expand_document(doc: Mapping[str, Any],
                    add_problem: Callable[[str, str], None]) -> dict[str, Any]:
    """Replace a document's ``chip``/``model`` keys by the parameter tables they name.

    Parameters
    ----------
    doc : mapping
        One scenario file as parsed TOML.
    add_problem : callable
        ``add_problem(path, message)`` records a located problem (unknown name, not a
        string).

    Returns
    -------
    dict
        A copy of ``doc`` without the selector keys, whose ``parameters`` table holds
        the picked entries' tables where the file does not state them itself.
    """
    if not any(k in doc for k in SELECTORS):
        return dict(doc)
    out = {k: v for k, v in doc.items() if k not in SELECTORS}
    params = out.get("parameters", {})
    if not isinstance(params, dict):
        return out  # the parser reports the bad parameters table itself
    params = dict(params)
    for kind in SELECTORS:
        if kind not in doc:
            continue
        name = doc[kind]
        if kind == "engine" and isinstance(name, str):
            if not isinstance(doc.get("chip"), str):
                add_problem(kind, "an engine's efficiencies are per chip: pick the chip in "
                                  "the same file (chip = \"H200\")")
                continue
            try:
                name = engine_entry(doc["chip"], name)
            except UsageError as e:
                add_problem(kind, str(e))
                continue
        if not isinstance(name, str) or name not in entries(kind):
            shown = repr(name) if isinstance(name, str) else f"{type(name).__name__} {name!r}"
            add_problem(kind, f"unknown {kind} {shown} (known: {known(kind)})")
            continue
        for pname, table in entry_tables(kind, name).items():
            params.setdefault(pname, table)
    out["parameters"] = params
    return out


def split_override(name: str, raw: str, origin: str = "--set") -> str | None:
    """The catalog entry picked by a ``--set NAME=VALUE`` item, or None if NAME is no selector.

    Raises
    ------
    UsageError
        For an unknown entry name, with the known ones listed.
    """
    if name not in SELECTORS:
        return None
    value = raw.strip()
    if name == "engine":
        if value not in engines():
            raise UsageError(f"{origin}: unknown engine '{value}' (known: {known(name)})")
        return value
    if value not in entries(name):
        raise UsageError(f"{origin}: unknown {name} '{value}' (known: {known(name)})")
    return value


def apply_overrides(scenario: Scenario, sets: Mapping[str, Any],
                    origin: str = "--set") -> tuple[Scenario, dict[str, Any]]:
    """Apply the catalog picks among ``sets`` to a parsed scenario.

    Parameters
    ----------
    scenario : Scenario
        A parsed scenario.
    sets : mapping
        ``--set`` items; selector names (chip, model) map to entry names, the rest to
        numbers.
    origin : str
        How the items are named in messages and sources.

    Returns
    -------
    tuple
        (the scenario with the picked entries' parameters, the remaining numeric sets).
        A parameter replaced is one that came from the same catalog (or was missing); a
        parameter the scenario file states itself keeps its value.
    """
    picks = {k: v for k, v in sets.items() if k in SELECTORS}
    rest = {k: v for k, v in sets.items() if k not in SELECTORS}
    if not picks:
        return scenario, rest
    # Imported here, not at module level: spec imports this module to expand documents.
    from probmodel.spec.parameters import parse_parameter
    from probmodel.spec.problems import Problems

    params = dict(scenario.parameters)
    picks = _engine_pick(scenario, picks, origin)
    picked: dict[str, tuple[list[str], list[str]]] = {}  # kind -> (replaced, kept)
    for kind, name in picks.items():
        if name not in entries(kind):
            raise UsageError(f"{origin}: unknown {kind} '{name}' (known: {known(kind)})")
        replaced, kept = picked.setdefault(kind, ([], []))
        for pname, table in entry_tables(kind, name).items():
            old = params.get(pname)
            if old is not None and not is_from_catalog(old.description, kind):
                kept.append(pname)
                continue
            replaced.append(pname)
            table = {**table, "source": f"{table['source']} [{origin} {kind}={name}]"}
            collected = Problems(SELECTORS[kind][0])
            p = parse_parameter(pname, table, collected)
            if p is None:  # a broken catalog entry: name the entry, not the user's file
                path, msg = collected.items[0][1:]
                raise UsageError(f"{SELECTORS[kind][0]}: {kind} {name}: {path}: {msg}")
            params[pname] = p
    out = replace(scenario, parameters=params)
    _say_what_stays(out, picks, picked, rest, origin)
    return out, rest


def current_pick(scenario: Scenario, kind: str) -> str | None:
    """The catalog entry of ``kind`` a parsed scenario's parameters came from, if any."""
    for p in scenario.parameters.values():
        pick = current_pick_of(p.description or "", kind)
        if pick is not None:
            return pick
    return None


def current_pick_of(description: str, kind: str) -> str | None:
    """The ``kind`` catalog entry a parameter's description names, if any."""
    mark = f"from the {kind} catalog ("
    if description.startswith(mark) and ")" in description[len(mark):]:
        return description[len(mark):description.index(")", len(mark))]
    return None


def _engine_pick(scenario: Scenario, picks: Mapping[str, Any],
                 origin: str) -> dict[str, Any]:
    """Picks with the engine entry resolved on the chip.

    ``--set chip=B200`` moves a scenario's engine efficiencies to B200, ``--set
    engine=trt`` takes trt's on the scenario's chip.
    """
    picks = dict(picks)
    old = current_pick(scenario, "engine")
    engine = picks.get("engine") or (old.split("/", 1)[1] if old else None)
    if engine is None or not ("engine" in picks or "chip" in picks):
        return picks
    chip = picks.get("chip") or current_pick(scenario, "chip") or (
        old.split("/", 1)[0] if old else None)
    if chip is None:
        raise UsageError(f"{origin} engine={engine}: an engine's efficiencies are per chip "
                         f"and {scenario.name} picks no chip (add {origin} chip=NAME)")
    try:
        picks["engine"] = engine_entry(chip, engine)
    except UsageError as e:
        raise UsageError(f"{origin}: {e}") from None
    return picks


def _say_what_stays(scenario: Scenario, picks: Mapping[str, Any],
                    picked: Mapping[str, tuple[list[str], list[str]]],
                    rest: Mapping[str, Any], origin: str) -> None:
    """Refuse a pick that changes nothing; warn about the numbers a file keeps.

    A parameter the scenario file states itself wins over the catalog, so a pick can
    leave the numbers the equations use as they were: an error (exit 2) when it changes
    none of them, a warning (:class:`probmodel.errors.InputWarning`) naming the ones
    the file keeps when it changes some.
    """
    import warnings

    from probmodel.errors import InputWarning
    from probmodel.model import plan

    available = set(scenario.parameters) | ({"prices"} if scenario.prices is not None
                                            else set())
    used = {k for node in plan(available) for k in (*node.inputs, *node.optional)}
    for kind, (replaced, kept) in picked.items():
        changed = [p for p in replaced if p in used]
        stays = [p for p in kept if p in used and p not in rest]
        pick = f"{origin} {kind}={picks[kind]}"
        if not changed:
            why = (f"{scenario.name} states {', '.join(stays)} itself (a file's own numbers "
                   f"win over the catalog) and uses no other number of the {kind}; set "
                   f"{'it' if len(stays) == 1 else 'them'} directly ({origin} "
                   f"{stays[0]}=VALUE)" if stays else
                   f"{scenario.name} uses none of the {kind}'s numbers")
            raise UsageError(f"{pick} changes nothing: {why}")
        if stays:
            warnings.warn(InputWarning(
                f"{pick}: {scenario.name} keeps its own {', '.join(stays)} (stated in the "
                f"file; a catalog never overrides it); {origin} {stays[0]}=VALUE changes "
                f"{'it' if len(stays) == 1 else 'them one by one'}"), stacklevel=3)
