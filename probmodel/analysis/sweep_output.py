"""A sweep's result tree, and the run folder's tables and JSON derived from it.

``probmodel sweep`` returns one :class:`xarray.DataTree` (:mod:`probmodel.tree`):

``/summary``
    the result contract over the swept dims (every statistic with its MCSE,
    P(profit > 0), the events' probabilities);
``/draws``
    the kept draws per cell, dims (chain, draw, *swept);
``/crossings``
    every crossing of a probability through a level (dim ``crossing``): event, level,
    parameter, the other swept values (``at_<name>``, NaN along the crossing's own
    parameter), value, mcse, its ± 2 MCSE ``interval`` (dim ``ci_bound``), the grid
    values it lies between and its direction.

sweep.nc holds all three groups; summary.csv, crossings.csv and summary.json are derived
from the tree alone (:func:`outputs`). ``--point`` returns a tree whose ``/grid`` group
is the point grid (grid.nc), with point.csv and summary.json (:func:`point_outputs`).

Nothing here imports JAX: the report derives a sweep's tables without the engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from probmodel import results, tree
from probmodel.analysis.crossings import probability_curves
from probmodel.analysis.grid import Grid

if TYPE_CHECKING:
    from probmodel.analysis.sweep import SweepResult
    from probmodel.spec import Scenario

BREAK_EVEN = "break_even_pay_rate"
SWEEP_METHOD = "forward Monte Carlo (iid), common random numbers in every cell"
POINT_METHOD = "point values (float64)"


def grid_settings(grid: Grid) -> dict[str, list[float]]:
    """The grid as the manifest and summary.json record it: name -> values."""
    return {n: [float(v) for v in vs] for n, vs in zip(grid.names, grid.values, strict=True)}


def grid_of(t: xr.DataTree) -> Grid:
    """The swept grid of a sweep's tree (its settings' ``grid``)."""
    g = tree.settings(t)["grid"]
    return Grid(tuple(g), tuple(np.asarray(v, np.float64) for v in g.values()))


def break_even_summary(summary: xr.Dataset, grid: Grid | None = None) -> dict:
    """The break-even pay rate's median and 90% interval (with MCSE) per cell.

    It does not depend on pay_rate, so a swept pay_rate axis is dropped; what remains is
    one entry per combination of the other swept parameters.
    """
    be, se = summary[BREAK_EVEN], summary[f"{BREAK_EVEN}_mcse"]
    if "pay_rate" in be.dims:
        be, se = be.isel(pay_rate=0, drop=True), se.isel(pay_rate=0, drop=True)
    others = [d for d in be.dims if d != "stat"]
    rows = []
    stats = [str(s) for s in be["stat"].values]
    flat_b = be.transpose(*others, "stat").values.reshape(-1, len(stats))
    flat_s = se.transpose(*others, "stat").values.reshape(-1, len(stats))
    combos = (np.stack(np.meshgrid(*(be[o].values for o in others), indexing="ij"), -1)
              .reshape(-1, len(others)) if others else np.zeros((1, 0)))
    for b, s, c in zip(flat_b, flat_s, combos, strict=True):
        row = {"at": {str(o): float(v) for o, v in zip(others, c, strict=True)}}
        for st, v, e in zip(stats, b, s, strict=True):
            row[st] = float(v)
            row[f"mcse_{st}"] = float(e)
        rows.append(row)
    return {"definition": "per draw: total_cost / revenue_before_pay_rate (margin = 0)",
            "cells": rows}


# --------------------------------------------------------------------------- crossings


def crossings_dataset(cross: Sequence[Mapping], names: Sequence[str]) -> xr.Dataset:
    """The crossings (:func:`probmodel.analysis.crossings.crossings`) as a Dataset.

    Dim ``crossing``; ``at_<name>`` is NaN along the crossing's own parameter; the
    ± 2 MCSE interval has the ``ci_bound`` dim (lower, upper).
    """
    n = len(cross)

    def col(key, dtype=np.float64):
        return ("crossing", np.asarray([c[key] for c in cross], dtype))

    data = {"event": col("event", str), "level": col("level"),
            "parameter": col("parameter", str),
            **{f"at_{o}": ("crossing", np.asarray([c["at"].get(o, math.nan) for c in cross],
                                                  np.float64)) for o in names},
            "value": col("value"), "mcse": col("mcse"),
            "interval": (("crossing", tree.CI_DIM), np.asarray(
                [c["interval"] for c in cross], np.float64).reshape(n, 2)),
            "between_lo": ("crossing", np.asarray([c["between"][0] for c in cross],
                                                  np.float64)),
            "between_hi": ("crossing", np.asarray([c["between"][1] for c in cross],
                                                  np.float64)),
            "direction": col("direction", str)}
    ds = xr.Dataset(data, coords={tree.CI_DIM: list(tree.CI_BOUNDS)})
    ds["interval"].attrs["definition"] = "value ± 2 MCSE"
    return ds


def crossings_of(ds: xr.Dataset, names: Sequence[str]) -> list[dict]:
    """The crossings of a ``/crossings`` group as summary.json lists them."""
    out = []
    iv = ds["interval"].transpose("crossing", tree.CI_DIM).values
    for i in range(ds.sizes["crossing"]):
        p = str(ds["parameter"].values[i])
        out.append({
            "event": str(ds["event"].values[i]), "level": float(ds["level"].values[i]),
            "parameter": p,
            "at": {o: float(ds[f"at_{o}"].values[i]) for o in names if o != p},
            "value": float(ds["value"].values[i]), "mcse": float(ds["mcse"].values[i]),
            "interval": [float(iv[i, 0]), float(iv[i, 1])],
            "between": [float(ds["between_lo"].values[i]), float(ds["between_hi"].values[i])],
            "direction": str(ds["direction"].values[i])})
    return out


def crossings_table(cross: Sequence[Mapping], names: Sequence[str]) -> pd.DataFrame:
    """The crossings as crossings.csv's rows.

    Event, level, parameter, the other swept values, value, mcse, the ± 2 MCSE interval
    and the grid values it lies between.
    """
    at = [f"at_{n}" for n in names] if len(names) > 1 else []
    cols = ["event", "level", "parameter", *at, "value", "mcse", "lower", "upper",
            "between_lo", "between_hi", "direction"]
    rows = [{"event": c["event"], "level": c["level"], "parameter": c["parameter"],
             **{f"at_{k}": v for k, v in c["at"].items()}, "value": c["value"],
             "mcse": c["mcse"], "lower": c["interval"][0], "upper": c["interval"][1],
             "between_lo": c["between"][0], "between_hi": c["between"][1],
             "direction": c["direction"]} for c in cross]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- the tree


def to_tree(res: SweepResult) -> xr.DataTree:
    """A Monte Carlo sweep's result tree: ``/summary``, ``/draws``, ``/crossings``."""
    grid = res.grid
    return tree.make(
        "sweep", f"{res.scenario.name}_sweep", {
            "summary": res.summary, "draws": res.kept,
            "crossings": crossings_dataset(res.crossings, grid.names)},
        salt=f"{res.seed}{res.draws}{grid}", attrs={"scenario": res.scenario.name},
        files={"sweep.nc": {"/draws": "/draws", "/summary": "/summary",
                            "/crossings": "/crossings"}},
        settings=dict(method=SWEEP_METHOD, seed=res.seed, draws=res.draws,
                      draws_kept=int(res.kept.sizes["draw"]), output=res.output,
                      grid=grid_settings(grid), cells=grid.n_cells,
                      chunk_size=_chunk_size(), events=[e.label for e in res.events],
                      crossing_levels=list(res.levels), seconds=round(res.seconds, 3)))


def _chunk_size() -> int:
    from probmodel.sampling import CHUNK  # the sweep has loaded the engine already

    return CHUNK


def json_summary(t: xr.DataTree) -> dict:
    """The public JSON form of a sweep: grid, per-cell summaries, crossings, break-even."""
    s = tree.summary(t)
    st = tree.settings(t)
    grid = grid_of(t)
    cells = []
    flat = grid.cells()
    for idx in range(grid.n_cells):
        pos = np.unravel_index(idx, grid.shape)
        sel = {n: s[n].values[i] for n, i in zip(grid.names, pos, strict=True)}
        cell: dict = {n: float(flat[n][idx]) for n in grid.names}
        for var in results.summarized(s):
            cell[var] = results.stat_dict(s, var, **sel)
        if "p_profitable" in s:
            cell["p_profitable"], cell["p_profitable_mcse"] = results.p_profitable(s, **sel)
        if "p_event" in s:
            cell["events"] = results.event_list(s, **sel)
        cells.append(cell)
    cross = crossings_of(t["crossings"].to_dataset(), grid.names)
    return {
        "scenario": str(t.attrs["scenario"]), "output": st["output"], "draws": st["draws"],
        "seed": st["seed"], "grid": grid_settings(grid),
        "cells": cells, "events": list(st["events"]),
        "crossing_levels": list(st["crossing_levels"]), "crossings": cross,
        # the 50% crossings of P(profit > 0) alone, as before events were swept
        "crossings_p_profit_50": [c for c in cross if c["event"] == "profit > 0"
                                  and c["level"] == 0.5],
        "break_even_pay_rate": break_even_summary(s) if BREAK_EVEN in s else None,
    }


def outputs(t: xr.DataTree) -> tree.Outputs:
    """A sweep folder's summary.csv, crossings.csv and summary.json, from its tree."""
    s = tree.summary(t)
    tables = {"summary.csv": results.summary_table(s)}
    if probability_curves(s):
        tables["crossings.csv"] = crossings_table(
            crossings_of(t["crossings"].to_dataset(), grid_of(t).names), grid_of(t).names)
    return tree.Outputs(tables=tables, json={"summary.json": json_summary(t)})


# --------------------------------------------------------------------------- point grids


def point_tree(scenario: Scenario, grid: Grid, output: str, ds: xr.Dataset) -> xr.DataTree:
    """A point sweep's result tree: ``/grid``, every output per cell (grid.nc)."""
    return tree.make(
        "sweep-point", f"{scenario.name}_sweep-point", {"grid": ds}, salt=f"{grid}",
        files={"grid.nc": {"/": "/grid"}},
        settings=dict(method=POINT_METHOD, output=output, grid=grid_settings(grid),
                      cells=grid.n_cells))


def point_table(ds: xr.Dataset, grid: Grid) -> pd.DataFrame:
    """Tidy point grid: swept values, then every output's value in each cell."""
    flat = {k: ds[k].transpose(*grid.names).values.ravel() for k in ds.data_vars}
    cells = grid.cells()
    cols = {n: cells[n] for n in grid.names}
    cols.update({k: v for k, v in flat.items() if k not in grid.names})
    return pd.DataFrame(cols)


def point_json(ds: xr.Dataset, grid: Grid, output: str, scenario: str) -> dict:
    """The point grid of ``output`` as nested lists (first swept parameter outermost)."""
    return {"scenario": scenario, "mode": "point", "output": output,
            "units": str(ds[output].attrs.get("units", "")),
            "grid": grid_settings(grid),
            "values": ds[output].transpose(*grid.names).values.tolist()}


def point_outputs(t: xr.DataTree) -> tree.Outputs:
    """A point sweep folder's point.csv and summary.json, from its tree's ``/grid``."""
    ds = t["grid"].to_dataset()
    grid = grid_of(t)
    output = str(tree.settings(t)["output"])
    return tree.Outputs(
        tables={"point.csv": point_table(ds, grid)},
        json={"summary.json": point_json(ds, grid, output, str(ds.attrs["scenario"]))})
