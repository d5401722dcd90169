"""Grids of swept parameters: parsing ``--grid``, and checking names against a scenario.

A grid fixes one or more parameters at every combination of its values (a *cell*, in C
order). Used by :mod:`probmodel.analysis.sweep`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from probmodel.errors import UsageError
from probmodel.model import INPUTS, NODES, plan
from probmodel.spec import Scenario, did_you_mean

#: Most cells a sweep may have (a 100 x 100 grid).
MAX_CELLS = 10_000


@dataclass(frozen=True)
class Grid:
    """Swept parameters and their values; cells are all combinations (C order)."""

    names: tuple[str, ...]
    values: tuple[np.ndarray, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values per swept parameter."""
        return tuple(len(v) for v in self.values)

    @property
    def n_cells(self) -> int:
        """Number of cells (product of the axis lengths)."""
        return math.prod(self.shape)

    def cells(self) -> dict[str, np.ndarray]:
        """Each swept parameter's value in every cell, as flat float64 arrays."""
        mesh = np.meshgrid(*self.values, indexing="ij")
        return {n: m.ravel() for n, m in zip(self.names, mesh, strict=True)}

    def coords(self) -> dict[str, np.ndarray]:
        """Coordinates for xarray: one per swept parameter."""
        return dict(zip(self.names, self.values, strict=True))


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _number(text: str, name: str) -> float:
    t = text.strip()
    if not t:
        raise UsageError(f"--grid: {name}: empty value in the list")
    if not re.fullmatch(_NUM, t):
        raise UsageError(f"--grid: {name}: '{t}' is not a number")
    v = float(t)
    if not math.isfinite(v):
        raise UsageError(f"--grid: {name}: '{t}' is not a finite number")
    return v


def parse_grid_item(item: str) -> tuple[str, np.ndarray]:
    """Parse ``NAME=V1,V2,...`` or ``NAME=START:STOP:STEP`` (STOP included).

    Raises
    ------
    UsageError
        For a malformed item, an empty or non-numeric list, a non-positive step, a
        STOP below START, duplicate values, or more than :data:`MAX_CELLS` values.
    """
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--grid: '{item}' is not of the form NAME=V1,V2,... or "
                         f"NAME=START:STOP:STEP")
    raw = raw.strip()
    if not raw:
        raise UsageError(f"--grid: {name}: no values given")
    if ":" in raw:
        parts = raw.split(":")
        if len(parts) != 3:
            raise UsageError(f"--grid: {name}: '{raw}' must be START:STOP:STEP")
        start, stop, step = (_number(p, name) for p in parts)
        if step <= 0:
            raise UsageError(f"--grid: {name}: step ({step:g}) must be positive")
        if stop < start:
            raise UsageError(f"--grid: {name}: stop ({stop:g}) is below start ({start:g})")
        span = (stop - start) / step
        if span + 1 > MAX_CELLS:
            raise UsageError(f"--grid: {name}: {start:g}:{stop:g}:{step:g} gives "
                             f"{math.floor(span) + 1:,} values (at most {MAX_CELLS:,} cells)")
        n = math.floor(span + 1e-9) + 1  # STOP is included when it lies on the grid
        # Round away binary noise (0.1 * 3 = 0.30000000000000004) to 12 significant digits.
        values = np.array([float(f"{start + i * step:.12g}") for i in range(n)])
    else:
        values = np.array([_number(p, name) for p in raw.split(",")])
    if len(values) > MAX_CELLS:
        raise UsageError(f"--grid: {name}: {len(values):,} values (at most {MAX_CELLS:,})")
    if len(np.unique(values)) != len(values):
        raise UsageError(f"--grid: {name}: repeated values in '{raw}'")
    return name, values


def parse_grid(items: Sequence[str]) -> Grid:
    """Parse every ``--grid`` option into a :class:`Grid` (syntax and size only)."""
    if not items:
        raise UsageError("--grid: give at least one NAME=V1,V2,... or NAME=START:STOP:STEP")
    names, values = [], []
    for item in items:
        name, v = parse_grid_item(item)
        if name in names:
            raise UsageError(f"--grid: {name} is given twice")
        names.append(name)
        values.append(v)
    grid = Grid(tuple(names), tuple(values))
    if grid.n_cells > MAX_CELLS:
        shape = " x ".join(str(s) for s in grid.shape)
        raise UsageError(f"--grid: {shape} = {grid.n_cells:,} cells (at most {MAX_CELLS:,})")
    return grid


def make_grid(values: Mapping[str, Sequence[float]]) -> Grid:
    """A :class:`Grid` from a mapping name -> values (the Python API's form)."""
    items = [f"{k}={','.join(repr(float(v)) for v in vs)}" for k, vs in values.items()]
    return parse_grid(items)


def _ancestors(available: set[str], target: str) -> set[str]:
    """Every name ``target`` depends on, through the equations ``available`` selects."""
    chosen = {n.name: n for n in plan(available)}
    seen: set[str] = set()
    todo = [target]
    while todo:
        name = todo.pop()
        node = chosen.get(name)
        if node is None:
            continue
        for i in node.inputs:
            if i not in seen and (i in available or i in chosen):
                seen.add(i)
                todo.append(i)
    return seen


def enters(scenario: Scenario, name: str, output: str) -> bool:
    """Whether input ``name`` (defined by ``scenario`` or not) enters ``output`` there."""
    avail = set(scenario.parameters) | {name} | (
        {"prices"} if scenario.prices is not None else set())
    return name in _ancestors(avail, output)


def available_names(scenario: Scenario) -> list[str]:
    """Inputs and outputs a scenario defines or computes."""
    avail = set(scenario.parameters) | ({"prices"} if scenario.prices is not None else set())
    return [*scenario.parameters, *(n.name for n in plan(avail))]


def default_output(scenario: Scenario) -> str:
    """``margin`` when the scenario computes it, else ``chips_required``, else refuse."""
    names = available_names(scenario)
    for cand in ("margin", "chips_required"):
        if cand in names:
            return cand
    raise UsageError(f"{scenario.name}: computes neither margin nor chips_required; "
                     f"choose --output among {', '.join(names)}")


def check_output(scenario: Scenario, output: str, flag: str = "--output") -> None:
    """Refuse an output (``--output``, or the one ``flag`` names) the scenario lacks."""
    names = available_names(scenario)
    if output not in names:
        outs = [n.name for n in NODES]
        # Suggest only names this scenario has (never the very name it lacks).
        hint = did_you_mean(output, [n for n in names if n != output])
        raise UsageError(f"{flag}: '{output}' is not computed by scenario {scenario.name}"
                         f"{hint} (it computes: {', '.join(n for n in names if n in outs)})")


def check_grid(scenario: Scenario, grid: Grid, output: str, flag: str = "--grid") -> None:
    """Refuse bad swept names and values.

    Unknown names, values outside the parameter's domain, names that do not enter
    ``output`` (or profit) in this scenario, and names also fixed by ``--set``; messages
    name ``flag``.
    """
    check_output(scenario, output, "--output" if flag == "--grid" else "--target")
    avail = set(scenario.parameters) | set(grid.names)
    if scenario.prices is not None:
        avail.add("prices")
    deps = _ancestors(avail, output) | _ancestors(avail, "profit") | {output}
    for name, values in zip(grid.names, grid.values, strict=True):
        if name not in INPUTS:
            raise UsageError(f"{flag}: unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
        q = INPUTS[name]
        bad = [v for v in values if not q.contains(float(v))]
        if bad:
            raise UsageError(f"{flag}: {name}={bad[0]:g} is outside its domain "
                             f"{q.domain_text()}")
        if name not in deps:
            raise UsageError(f"{flag}: {name} does not enter {output} in scenario "
                             f"{scenario.name}")
        if name in scenario.overrides:
            raise UsageError(f"{flag}: {name} is also fixed by --set; give it once")


def unique_names(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Scenarios whose file names clash, named by their shortest distinguishing path.

    ``a/base.toml`` and ``b/base.toml`` become ``a/base`` and ``b/base`` (the fewest
    trailing path parts that tell them apart); other names are kept. The same file given
    twice is left as is (:func:`check_scenarios` refuses it).
    """
    from dataclasses import replace

    names = [s.name for s in scenarios]
    paths = [s.files[0].resolve() if s.files else None for s in scenarios]
    out = list(scenarios)
    for name in {n for n in names if names.count(n) > 1}:
        idx = [i for i, n in enumerate(names) if n == name]
        group = {paths[i] for i in idx}
        if None in group or len(group) < len(idx):
            continue  # the same file twice: refused as a duplicate
        parts = {i: paths[i].with_suffix("").parts for i in idx}
        for k in range(2, max(len(p) for p in parts.values()) + 1):
            label = {i: "/".join(parts[i][-k:]) for i in idx}
            if len(set(label.values())) == len(idx):
                break
        for i in idx:
            out[i] = replace(scenarios[i], name=label[i])
    return out


def check_scenarios(scenarios: Sequence[Scenario], output: str) -> dict:
    """Refuse bad scenario sets before any sampling.

    Fewer than two scenarios, duplicate names, a missing output, or a pair of
    scenarios that share no parameter.

    Returns
    -------
    dict
        ``"A|B"`` -> the uncertain parameters A and B share (paired random numbers).
    """
    if len(scenarios) < 2:
        raise UsageError("compare: give at least two scenario files")
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"compare: scenario '{dup[0]}' is given twice (the same file; "
                         f"different files that share a name are named by their path)")
    for sc in scenarios:
        check_output(sc, output)
    shared = {}
    for a, b in itertools.combinations(scenarios, 2):
        common = set(a.parameters) & set(b.parameters)
        if not common:
            raise UsageError(f"compare: {a.name} and {b.name} share no parameters, so they "
                             f"have no random numbers in common to pair")
        shared[f"{a.name}|{b.name}"] = sorted(set(a.uncertain) & set(b.uncertain))
    return shared
