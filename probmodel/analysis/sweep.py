"""Sweeps: the report's two-way grids (tables 15 and 21) with uncertainty.

A sweep fixes one or more parameters at every combination of grid values (a *cell*) and
runs the Monte Carlo in each cell on **common random numbers**: every cell uses the same
rng key, and :mod:`probmodel.sampling` keys each parameter's draws by its name, so draw
``j`` of every unswept input is identical in all cells and neighbouring cells differ only
by the swept values.

Speed: the inputs of a chunk are drawn once; one compiled function evaluates the
equations for a block of cells at once (``vmap`` over a cell axis of the argument pytree),
and every block and chunk reuses it, so a 100-cell sweep compiles once, not 100 times.

Memory: only what summaries and figures need is kept, i.e. the draws of the chosen output
(plus margin and the break-even pay rate when the scenario has them) as float32, and a
streamed count of profitable draws per cell; never cells x draws x every variable.

Break-even pay rate: revenue is linear in ``pay_rate``, so per draw the pay rate at which
the margin is exactly 0 is ``total_cost / revenue_before_pay_rate``. Its distribution is
the uncertainty of the break-even point; the pay rate where the grid's P(profit > 0)
crosses 50% estimates its median.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from probmodel import sampling
from probmodel.errors import UsageError
from probmodel.model import INPUTS, NODES, evaluate, plan, unit_of
from probmodel.spec import Scenario, did_you_mean

#: Most cells a sweep may have (a 100 x 100 grid).
MAX_CELLS = 10_000
#: Cells evaluated by one call of the compiled function (bounds device memory:
#: CELL_BLOCK x CHUNK x kept variables x 4 bytes, about 100 MB).
CELL_BLOCK = 64
#: Host memory allowed for the kept draws (cells x draws x kept variables x 4 bytes).
MAX_KEPT_BYTES = 3 * 2**30
#: Draws per cell written to the run folder's netCDF by default.
KEEP_DRAWS = 10_000
STATS = ("mean", "q05", "q25", "q50", "q75", "q95")
_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)
_Z = 1.959963984540054
BREAK_EVEN = "break_even_pay_rate"


# --------------------------------------------------------------------------- grids


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


def check_output(scenario: Scenario, output: str) -> None:
    """Refuse an ``--output`` the scenario does not compute."""
    names = available_names(scenario)
    if output not in names:
        outs = [n.name for n in NODES]
        # Suggest only names this scenario has (never the very name it lacks).
        hint = did_you_mean(output, [n for n in names if n != output])
        raise UsageError(f"--output: '{output}' is not computed by scenario {scenario.name}"
                         f"{hint} (it computes: {', '.join(n for n in names if n in outs)})")


def check_grid(scenario: Scenario, grid: Grid, output: str) -> None:
    """Refuse bad swept names and values.

    Unknown names, values outside the parameter's domain, names that do not enter
    ``output`` (or profit) in this scenario, and names also fixed by ``--set``.
    """
    check_output(scenario, output)
    avail = set(scenario.parameters) | set(grid.names)
    if scenario.prices is not None:
        avail.add("prices")
    deps = _ancestors(avail, output) | _ancestors(avail, "profit") | {output}
    for name, values in zip(grid.names, grid.values, strict=True):
        if name not in INPUTS:
            raise UsageError(f"--grid: unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
        q = INPUTS[name]
        bad = [v for v in values if not q.contains(float(v))]
        if bad:
            raise UsageError(f"--grid: {name}={bad[0]:g} is outside its domain "
                             f"{q.domain_text()}")
        if name not in deps:
            raise UsageError(f"--grid: {name} does not enter {output} in scenario "
                             f"{scenario.name}")
        if name in scenario.overrides:
            raise UsageError(f"--grid: {name} is also fixed by --set; give it once")


def _fixed_scenario(scenario: Scenario, grid: Grid) -> Scenario:
    """The scenario with every swept name fixed (at its first grid value)."""
    first = {n: float(v[0]) for n, v in zip(grid.names, grid.values, strict=True)}
    sc = scenario.with_overrides(first, origin="--grid")
    # --grid values are not --set overrides: keep only the user's --set in the record.
    return replace(sc, overrides=dict(scenario.overrides))


# --------------------------------------------------------------------------- point grids


def sweep_point(scenario: Scenario, grid: Grid) -> xr.Dataset:
    """Every output at the point values in every cell (float64): the report's grids.

    Returns
    -------
    xarray.Dataset
        One variable per input and output, dims = the swept parameters.
    """
    sc = _fixed_scenario(scenario, grid)
    vals = {k: jnp.asarray(v, jnp.float64) for k, v in sc.point_values().items()}
    for name, v in grid.cells().items():
        vals[name] = jnp.asarray(v, jnp.float64)
    out = evaluate(vals)
    dims = grid.names
    data = {}
    for k, v in out.items():
        if k == "prices" or k in grid.names:
            continue
        arr = np.broadcast_to(np.asarray(v, np.float64), (grid.n_cells,)).reshape(grid.shape)
        data[k] = (dims, arr, {"units": unit_of(k) or sc.parameters[k].unit})
    ds = xr.Dataset(data, coords=_coords(grid))
    ds.attrs.update({"scenario": scenario.name, "title": scenario.title, "mode": "point"})
    return ds


def _coords(grid: Grid) -> dict:
    return {n: (n, v, {"units": unit_of(n)}) for n, v in grid.coords().items()}


# --------------------------------------------------------------------------- Monte Carlo


@partial(jax.jit, static_argnums=(0, 5, 6))
def _eval_block(model: sampling.ForwardModel, inputs, args, cells, take, n: int,
                kept: tuple[str, ...]):
    """Outputs for a block of cells on the same input draws: (block, n) per kept name.

    ``cells`` maps each swept name to a (block,) array; vmap maps over that axis only,
    so one compiled function serves every block of every chunk. Profitable draws are
    counted among the first ``take`` (traced, so a last partial chunk does not
    recompile).
    """
    valid = jnp.arange(n) < take
    inputs = {k: inputs[k][:n] for k, _ in model.uncertain}

    def one(cell):
        a = {**args, "fixed": {**args["fixed"], **cell}}
        out = model.evaluate(inputs, a, n)
        res = {k: out[k] for k in kept}
        if "profit" in out:
            res["<profitable>"] = jnp.sum((out["profit"] > 0) & valid, dtype=jnp.int32)
        return res

    return jax.vmap(one)(cells)


@dataclass
class SweepResult:
    """A finished sweep: per-cell summaries, kept draws and the break-even analysis."""

    scenario: Scenario
    grid: Grid
    output: str
    draws: int
    seed: int
    summary: xr.Dataset  # dims (*swept, stat) per variable, plus p_profitable
    kept: xr.Dataset  # dims (chain, draw, *swept), first ``keep`` draws of each cell
    crossings: list[dict] = field(default_factory=list)
    break_even: dict | None = None
    seconds: float = 0.0


def kept_names(scenario: Scenario, output: str) -> tuple[str, ...]:
    """Variables whose draws a sweep keeps: the output, margin, the break-even pay rate."""
    names = available_names(scenario)
    kept = [output]
    if "margin" in names and output != "margin":
        kept.append("margin")
    if BREAK_EVEN in names and output != BREAK_EVEN:
        kept.append(BREAK_EVEN)
    return tuple(kept)


def sweep(scenario: Scenario, grid: Grid, output: str | None = None, draws: int = 50_000,
          seed: int = 0, keep: int = KEEP_DRAWS,
          progress: Callable[[int], None] | None = None) -> SweepResult:
    """Monte Carlo in every cell of ``grid``, on common random numbers.

    Parameters
    ----------
    scenario : Scenario
        The scenario; swept parameters are fixed at each cell's values.
    grid : Grid
        The swept parameters and their values.
    output : str, optional
        The quantity summarised and drawn (default: margin, else chips_required).
    draws, seed : int
        Monte Carlo draws per cell and the seed (the same draws in every cell).
    keep : int
        Draws per cell kept in :attr:`SweepResult.kept` (a random subsample: draws are
        iid, so the first ``keep`` will do).
    progress : callable, optional
        Called with the number of draws done.

    Returns
    -------
    SweepResult
    """
    import time

    t0 = time.perf_counter()
    output = output or default_output(scenario)
    sampling.check_draws_seed(draws, seed)
    check_grid(scenario, grid, output)
    kept = kept_names(scenario, output)
    need = grid.n_cells * draws * len(kept) * 4
    if need > MAX_KEPT_BYTES:
        raise UsageError(f"--draws: {draws:,} draws x {grid.n_cells:,} cells x {len(kept)} "
                         f"variables need {need / 2**30:.1f} GiB for exact quantiles (at most "
                         f"{MAX_KEPT_BYTES / 2**30:.0f}); use fewer draws or cells")
    # Inputs are drawn by the scenario's own compiled chunk function (shared with
    # `probmodel run`, so its compilation is cached across commands); the cells are then
    # evaluated by a model in which the swept names are fixed.
    base = sampling.ForwardModel.from_scenario(scenario)
    base_args = base.args(scenario)
    sc = _fixed_scenario(scenario, grid)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    cells = grid.cells()
    n_cells = grid.n_cells
    n_blocks = math.ceil(n_cells / CELL_BLOCK)
    block = math.ceil(n_cells / n_blocks)  # equal blocks: one compiled shape
    pad = n_blocks * block - n_cells
    cell_arr = {k: np.concatenate([v, np.repeat(v[-1:], pad)]).astype(np.float32)
                for k, v in cells.items()}
    n_eval = sampling.CHUNK if draws >= sampling.CHUNK else draws
    held = {k: np.empty((n_cells, draws), np.float32) for k in kept}
    profitable = np.zeros(n_cells, np.int64)
    has_profit = "profit" in available_names(sc)
    last = math.ceil(draws / sampling.CHUNK)
    for i, key in enumerate(sampling.chunk_keys(seed, 0, last)):
        offset = i * sampling.CHUNK
        take = min(sampling.CHUNK, draws - offset)
        drawn = sampling._chunk_jit(base, key, base_args, sampling.CHUNK)
        inputs = {k: drawn[k] for k, _ in model.uncertain}
        for b in range(n_blocks):
            sl = slice(b * block, (b + 1) * block)
            res = _eval_block(model, inputs, args, {k: v[sl] for k, v in cell_arr.items()},
                              np.int32(take), n_eval, kept)
            lo, hi = b * block, min((b + 1) * block, n_cells)
            m = hi - lo
            for k in kept:
                held[k][lo:hi, offset:offset + take] = np.asarray(res[k])[:m, :take]
            if has_profit:
                profitable[lo:hi] += np.asarray(res["<profitable>"])[:m]
        if progress is not None:
            progress(offset + take)
    summary = _summarize(held, profitable if has_profit else None, draws, grid, sc)
    keep = min(keep, draws)
    kept_ds = _kept_dataset(held, keep, grid, sc, seed, draws)
    res = SweepResult(scenario, grid, output, draws, seed, summary, kept_ds)
    res.crossings = crossings(summary, grid) if has_profit else []
    res.break_even = break_even_summary(summary, grid) if BREAK_EVEN in kept else None
    res.seconds = time.perf_counter() - t0
    return res


def _quantiles_rows(x: np.ndarray, probs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise sample quantiles of (cells, N) draws and their iid MCSEs.

    Same estimator as :func:`probmodel.results.quantiles_with_mcse`: the MCSE of the
    q-quantile is the width of the order-statistic window q +- 1.96 sqrt(q(1-q)/N)
    divided by 2 x 1.96.
    """
    n = x.shape[1]
    p = np.asarray(probs, np.float64)
    s = np.sqrt(p * (1 - p) / n)
    allp = np.concatenate([p, np.clip(p - _Z * s, 0, 1), np.clip(p + _Z * s, 0, 1)])
    q = np.quantile(x, allp, axis=1)  # (3k, cells)
    k = len(p)
    return q[:k].T, ((q[2 * k:] - q[k:2 * k]) / (2 * _Z)).T


def _summarize(held: Mapping[str, np.ndarray], profitable: np.ndarray | None, draws: int,
               grid: Grid, sc: Scenario) -> xr.Dataset:
    dims = (*grid.names, "stat")
    data = {}
    for k, x in held.items():
        q, qse = _quantiles_rows(x, _PROBS)
        mean = x.mean(axis=1, dtype=np.float64)
        sd = x.std(axis=1, dtype=np.float64, ddof=1) if draws > 1 else np.zeros(len(x))
        val = np.column_stack([mean, q]).reshape(*grid.shape, len(STATS))
        se = np.column_stack([sd / math.sqrt(draws), qse]).reshape(*grid.shape, len(STATS))
        attrs = {"units": unit_of(k)}
        data[k] = (dims, val, attrs)
        data[f"{k}_mcse"] = (dims, se, attrs)
    if profitable is not None:
        p = profitable / draws
        data["p_profitable"] = (grid.names, p.reshape(grid.shape),
                                {"units": "1", "long_name": "P(profit > 0)"})
        data["p_profitable_mcse"] = (grid.names, np.sqrt(p * (1 - p) / draws)
                                     .reshape(grid.shape), {"units": "1"})
    ds = xr.Dataset(data, coords={**_coords(grid), "stat": list(STATS)})
    ds.attrs.update({"scenario": sc.name, "title": sc.title, "draws": draws,
                     "mcse": "iid Monte Carlo standard errors; quantile MCSE from the "
                             "order-statistic window"})
    return ds


def _kept_dataset(held: Mapping[str, np.ndarray], keep: int, grid: Grid, sc: Scenario,
                  seed: int, draws: int) -> xr.Dataset:
    data = {}
    for k, x in held.items():
        arr = np.moveaxis(x[:, :keep].reshape(*grid.shape, keep), -1, 0)[None]
        data[k] = (("chain", "draw", *grid.names), arr, {"units": unit_of(k)})
    ds = xr.Dataset(data, coords={"chain": [0], "draw": np.arange(keep), **_coords(grid)})
    ds.attrs.update({"scenario": sc.name, "title": sc.title, "seed": seed,
                     "draws": draws, "draws_kept": keep,
                     "common_random_numbers": "every cell uses the same rng key"})
    return ds


def _crossing_1d(x: np.ndarray, p: np.ndarray, se: np.ndarray) -> list[dict]:
    """Where p(x) crosses 0.5, by linear interpolation between grid values."""
    order = np.argsort(x)
    x, p, se = x[order], p[order], se[order]
    out = []
    for i in range(len(x) - 1):
        a, b = p[i] - 0.5, p[i + 1] - 0.5
        if a == 0 and i > 0:
            continue  # counted as the end of the previous interval
        if a * b > 0 or p[i] == p[i + 1]:
            continue
        d = p[i + 1] - p[i]
        t = (0.5 - p[i]) / d
        dx = x[i + 1] - x[i]
        # Delta method; the two estimates share random numbers and are positively
        # correlated, so the bound for perfect correlation is used (conservative).
        se_t = abs((t - 1) / d) * se[i] + abs(t / d) * se[i + 1]
        out.append({"value": float(x[i] + t * dx), "mcse": float(se_t * dx),
                    "between": [float(x[i]), float(x[i + 1])],
                    "direction": "rising" if d > 0 else "falling"})
    return out


def crossings(summary: xr.Dataset, grid: Grid) -> list[dict]:
    """Every place where P(profit > 0) crosses 50% along a swept axis.

    For each swept parameter and each combination of the others' values, the 50%
    crossing is interpolated linearly between neighbouring grid values; its MCSE is a
    delta-method bound. With a swept ``pay_rate`` it estimates the median break-even
    pay rate.
    """
    out = []
    p, se = summary["p_profitable"], summary["p_profitable_mcse"]
    for name in grid.names:
        others = [n for n in grid.names if n != name]
        stacked_p = p.transpose(*others, name).values.reshape(-1, p.sizes[name])
        stacked_se = se.transpose(*others, name).values.reshape(-1, p.sizes[name])
        combos = (np.stack(np.meshgrid(*(summary[o].values for o in others), indexing="ij"),
                           -1).reshape(-1, len(others)) if others else np.zeros((1, 0)))
        xs = summary[name].values
        for row, (pr, sr) in enumerate(zip(stacked_p, stacked_se, strict=True)):
            for c in _crossing_1d(xs, pr, sr):
                at = {o: float(v) for o, v in zip(others, combos[row], strict=True)}
                out.append({"parameter": name, "at": at, **c})
    return out


def break_even_summary(summary: xr.Dataset, grid: Grid) -> dict:
    """The break-even pay rate's median and 90% interval (with MCSE) per cell.

    It does not depend on pay_rate, so a swept pay_rate axis is dropped; what remains is
    one entry per combination of the other swept parameters.
    """
    be, se = summary[BREAK_EVEN], summary[f"{BREAK_EVEN}_mcse"]
    if "pay_rate" in be.dims:
        be, se = be.isel(pay_rate=0, drop=True), se.isel(pay_rate=0, drop=True)
    others = [d for d in be.dims if d != "stat"]
    rows = []
    flat_b = be.transpose(*others, "stat").values.reshape(-1, len(STATS))
    flat_s = se.transpose(*others, "stat").values.reshape(-1, len(STATS))
    combos = (np.stack(np.meshgrid(*(be[o].values for o in others), indexing="ij"), -1)
              .reshape(-1, len(others)) if others else np.zeros((1, 0)))
    for b, s, c in zip(flat_b, flat_s, combos, strict=True):
        row = {"at": {o: float(v) for o, v in zip(others, c, strict=True)}}
        for st, v, e in zip(STATS, b, s, strict=True):
            row[st] = float(v)
            row[f"mcse_{st}"] = float(e)
        rows.append(row)
    return {"definition": "per draw: total_cost / revenue_before_pay_rate (margin = 0)",
            "cells": rows}


# --------------------------------------------------------------------------- tables


def summary_table(res: SweepResult) -> pd.DataFrame:
    """Tidy per-cell summary: swept values, variable, statistic, value, mcse, units."""
    s = res.summary
    rows = []
    cells = res.grid.cells()
    names = res.grid.names
    for idx in range(res.grid.n_cells):
        pos = np.unravel_index(idx, res.grid.shape)
        base = {n: cells[n][idx] for n in names}
        sel = dict(zip(names, pos, strict=True))
        for var in (k for k in s.data_vars if s[k].dims[-1:] == ("stat",)
                    and not k.endswith("_mcse")):
            v = s[var].isel(sel).values
            e = s[f"{var}_mcse"].isel(sel).values
            for st, vv, ee in zip(STATS, v, e, strict=True):
                rows.append({**base, "variable": var, "statistic": st, "value": float(vv),
                             "mcse": float(ee), "units": s[var].attrs.get("units", "")})
        if "p_profitable" in s:
            rows.append({**base, "variable": "profit", "statistic": "p_gt_0",
                         "value": float(s["p_profitable"].isel(sel)),
                         "mcse": float(s["p_profitable_mcse"].isel(sel)), "units": "1"})
    return pd.DataFrame(rows, columns=[*names, "variable", "statistic", "value", "mcse",
                                       "units"])


def json_summary(res: SweepResult) -> dict:
    """The public JSON form of a sweep: grid, per-cell summaries, crossings, break-even."""
    s = res.summary
    cells = []
    flat = res.grid.cells()
    for idx in range(res.grid.n_cells):
        pos = np.unravel_index(idx, res.grid.shape)
        sel = dict(zip(res.grid.names, pos, strict=True))
        cell: dict = {n: float(flat[n][idx]) for n in res.grid.names}
        for var in (k for k in s.data_vars if s[k].dims[-1:] == ("stat",)
                    and not k.endswith("_mcse")):
            v, e = s[var].isel(sel).values, s[f"{var}_mcse"].isel(sel).values
            cell[var] = {**{st: float(x) for st, x in zip(STATS, v, strict=True)},
                         **{f"mcse_{st}": float(x) for st, x in zip(STATS, e, strict=True)}}
        if "p_profitable" in s:
            cell["p_profitable"] = float(s["p_profitable"].isel(sel))
            cell["p_profitable_mcse"] = float(s["p_profitable_mcse"].isel(sel))
        cells.append(cell)
    return {
        "scenario": res.scenario.name, "output": res.output, "draws": res.draws,
        "seed": res.seed,
        "grid": {n: [float(x) for x in v] for n, v in zip(res.grid.names, res.grid.values,
                                                          strict=True)},
        "cells": cells, "crossings_p_profit_50": res.crossings,
        "break_even_pay_rate": res.break_even,
    }


def point_table(ds: xr.Dataset, grid: Grid) -> pd.DataFrame:
    """Tidy point grid: swept values, then every output's value in each cell."""
    flat = {k: ds[k].values.ravel() for k in ds.data_vars}
    cells = grid.cells()
    cols = {n: cells[n] for n in grid.names}
    cols.update({k: v for k, v in flat.items() if k not in grid.names})
    return pd.DataFrame(cols)
