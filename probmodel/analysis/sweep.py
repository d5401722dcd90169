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

A sweep's result tree and the run folder's files derived from it are in
:mod:`probmodel.analysis.sweep_output`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from probmodel import checks, results, sampling
from probmodel.analysis.crossings import (  # noqa: F401  (probability_curves)
    check_levels,
    crossings,
    probability_curves,
)
from probmodel.analysis.grid import (  # noqa: F401
    MAX_CELLS,
    Grid,
    available_names,
    check_grid,
    check_output,
    default_output,
    make_grid,
    parse_grid,
    parse_grid_item,
)
from probmodel.analysis.sweep_output import (  # noqa: F401  (re-exported)
    BREAK_EVEN,
    break_even_summary,
    point_table,
)
from probmodel.errors import UsageError
from probmodel.model import evaluate, unit_of
from probmodel.spec import Scenario

#: Cells evaluated by one call of the compiled function (bounds device memory:
#: CELL_BLOCK x CHUNK x kept variables x 4 bytes, about 100 MB).
CELL_BLOCK = 64
#: Host memory allowed for the kept draws (cells x draws x kept variables x 4 bytes).
MAX_KEPT_BYTES = 3 * 2**30
#: Draws per cell written to the run folder's netCDF by default.
KEEP_DRAWS = 10_000


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


_OPS = {">": jnp.greater, ">=": jnp.greater_equal, "<": jnp.less, "<=": jnp.less_equal}
#: Cell entries carrying a swept correlated input's normal score (its partners are drawn
#: given it in each cell).
Z_PREFIX = "<z>"


@partial(jax.jit, static_argnums=(0, 5, 6, 8))
def _eval_block(model: sampling.ForwardModel, inputs, args, cells, take, n: int,
                kept: tuple[str, ...], event_x=None, events: tuple = ()):
    """Outputs for a block of cells on the same input draws: (block, n) per kept name.

    ``cells`` maps each swept name to a (block,) array; vmap maps over that axis only,
    so one compiled function serves every block of every chunk. Profitable draws, and
    the draws in which each event (output, op) holds against its threshold in
    ``event_x`` (a traced argument: other thresholds reuse the compiled function), are
    counted among the first ``take`` (traced, so a last partial chunk does not
    recompile).
    """
    valid = jnp.arange(n) < take
    full = {k: inputs[k] for k, _ in model.uncertain}  # the chunk: its blocks for condition
    inputs = {k: v[:n] for k, v in full.items()}

    def one(cell):
        z = {k[len(Z_PREFIX):]: v for k, v in cell.items() if k.startswith(Z_PREFIX)}
        cell = {k: v for k, v in cell.items() if not k.startswith(Z_PREFIX)}
        a = {**args, "fixed": {**args["fixed"], **cell}}
        if model.given:  # partners of a swept correlated input, drawn given the cell
            scores = jnp.stack([z[k] if k in z else args["cond"]["z"][i]
                                for i, k in enumerate(model.held)])
            a["cond"] = {**args["cond"], "z": scores}
        given = {k: v[:n] for k, v in model.condition(full, a).items()}
        out = model.evaluate(given, a, n)
        res = {k: out[k] for k in kept}
        if "profit" in out:
            res["<profitable>"] = jnp.sum((out["profit"] > 0) & valid, dtype=jnp.int32)
        if events:
            vals = {**a["fixed"], **given, **out}
            res["<events>"] = jnp.stack([
                jnp.sum(_OPS[op](jnp.broadcast_to(vals[k], (n,)), event_x[j]) & valid,
                        dtype=jnp.int32) for j, (k, op) in enumerate(events)])
        return res

    return jax.vmap(one)(cells)


@dataclass(frozen=True)
class BlockPlan:
    """How a sweep's cells are cut into equal blocks (one compiled shape) and evaluated.

    Inputs come from the engine's chunks of the scenario itself (the compiled chunk
    function is shared with `probmodel run`); the cells are then evaluated by a model in
    which the swept names are fixed. Picklable, so a cluster worker rebuilds the same
    compiled functions from it.
    """

    scenario: Scenario
    sc: Scenario  # the scenario with the swept names fixed
    kept: tuple[str, ...]
    cell_arr: dict  # swept name -> (n_blocks * block,) float32, last cell repeated
    n_cells: int
    n_blocks: int
    block: int
    has_profit: bool
    events: tuple[tuple[str, str], ...] = ()  # (output, op) of each event
    event_x: tuple[float, ...] = ()  # their thresholds

    @classmethod
    def of(cls, scenario: Scenario, grid: Grid, output: str, events=()) -> BlockPlan:
        """The blocks of ``grid`` (at most CELL_BLOCK cells each); ``events`` counted."""
        cells = grid.cells()
        n_cells = grid.n_cells
        n_blocks = math.ceil(n_cells / CELL_BLOCK)
        block = math.ceil(n_cells / n_blocks)  # equal blocks: one compiled shape
        pad = n_blocks * block - n_cells
        cell_arr = {k: np.concatenate([v, np.repeat(v[-1:], pad)]).astype(np.float32)
                    for k, v in cells.items()}
        sc = _fixed_scenario(scenario, grid)
        held, _ = sampling.held_and_given(sc, tuple(sc.uncertain))
        for k in (k for k in held if k in cells):  # each cell's score of the swept value
            cell_arr[Z_PREFIX + k] = np.asarray(
                [sampling.held_scores(sc, (k,), {k: float(v)})[0] for v in cell_arr[k]],
                np.float64)
        return cls(scenario, sc, kept_names(scenario, output), cell_arr, n_cells, n_blocks,
                   block, "profit" in available_names(sc),
                   tuple((e.output, e.op) for e in events), tuple(e.x for e in events))

    def cells_of(self, b: int) -> tuple[int, int]:
        """The cells [lo, hi) of block ``b``."""
        return b * self.block, min((b + 1) * self.block, self.n_cells)


def _eval_blocks(plan: BlockPlan, draws: int, seed: int, blocks, held, profitable, hits,
                 progress=None, first: int = 0) -> None:
    """Fill ``held``, ``profitable`` and ``hits`` for ``blocks``, chunk by chunk.

    ``held``: (cells, draws) per kept name; ``hits``: (cells, events) counts. Rows are
    cells counted from cell ``first`` (0: the whole grid's arrays).
    """
    model = sampling.ForwardModel.from_scenario(plan.sc)
    args = model.args(plan.sc)
    n_eval = sampling.CHUNK if draws >= sampling.CHUNK else draws
    event_x = jnp.asarray(plan.event_x, sampling.DTYPE) if plan.events else None
    if model.given:
        # a swept correlated input: its partners' own (independent) draws, conditioned
        # on each cell's value in the cell's evaluation
        def drawn_chunks():
            for c in sampling.chunks(seed, draws):
                yield c, sampling.inputs_jit(model, c.key, args, sampling.CHUNK)
    else:
        base = sampling.ForwardModel.from_scenario(plan.scenario)
        base_args = base.args(plan.scenario)

        def drawn_chunks():
            yield from sampling.iter_chunks(base, base_args, draws, seed, host=False)
    n_cells = sum(plan.cells_of(b)[1] - plan.cells_of(b)[0] for b in blocks)
    for c, drawn in drawn_chunks():
        offset, take = c.offset, c.take
        inputs = {k: drawn[k] for k, _ in model.uncertain}
        done_cells = 0
        for b in blocks:
            sl = slice(b * plan.block, (b + 1) * plan.block)
            res = _eval_block(model, inputs, args, {k: v[sl] for k, v in plan.cell_arr.items()},
                              np.int32(take), n_eval, plan.kept, event_x, plan.events)
            lo, hi = plan.cells_of(b)
            m = hi - lo
            for k in plan.kept:
                held[k][lo - first:hi - first, offset:offset + take] = (
                    np.asarray(res[k])[:m, :take])
            if plan.has_profit:
                profitable[lo - first:hi - first] += np.asarray(res["<profitable>"])[:m]
            if plan.events:
                hits[lo - first:hi - first] += np.asarray(res["<events>"])[:m]
            done_cells += m
            if progress is not None:  # cell-draws: a bar that moves block by block
                progress(offset * n_cells + take * done_cells)


def sweep_block(plan: BlockPlan, draws: int, seed: int, b: int):
    """Block ``b`` of a sweep over every chunk: (kept draws, profitable and event counts).

    The task a cluster worker runs (module level, so the worker's jit caches of the
    chunk and block functions stay warm from one block to the next).
    """
    lo, hi = plan.cells_of(b)
    held = {k: np.empty((hi - lo, draws), np.float32) for k in plan.kept}
    profitable = np.zeros(hi - lo, np.int64)
    hits = np.zeros((hi - lo, len(plan.events)), np.int64)
    _eval_blocks(plan, draws, seed, [b], held, profitable, hits, first=lo)
    return held, profitable, hits


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
    events: tuple = ()  # the Events counted (probmodel.analysis.targets)
    levels: tuple[float, ...] = (0.5,)  # the probabilities whose crossings are found


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
          progress: Callable[[int], None] | None = None,
          scheduler: str | None = None, events: Sequence = (),
          levels: Sequence[float] = (0.5,)) -> SweepResult:
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
        Called with the number of cell-draws done (draws x cells, block by block: the
        whole grid's total is draws x grid.n_cells).
    scheduler : str, optional
        Address of a Dask distributed scheduler: blocks of cells run on its workers
        (:mod:`probmodel.cluster`), with results equal to the local run's bit for bit.
    events : sequence of Event, optional
        Events (:func:`probmodel.analysis.targets.parse_events`) whose probability is
        counted in every cell (``p_event`` in the summary, with its MCSE).
    levels : sequence of float
        Probabilities in (0, 1) at which the crossings of P(profit > 0) and of every
        event's probability are found along each swept axis (:func:`crossings`).

    Returns
    -------
    SweepResult
    """
    import time

    t0 = time.perf_counter()
    output = output or default_output(scenario)
    checks.check_draws_seed(draws, seed)
    check_grid(scenario, grid, output)
    kept = kept_names(scenario, output)
    need = grid.n_cells * draws * len(kept) * 4
    if need > MAX_KEPT_BYTES:
        raise UsageError(f"--draws: {draws:,} draws x {grid.n_cells:,} cells x {len(kept)} "
                         f"variables need {need / 2**30:.1f} GiB for exact quantiles (at most "
                         f"{MAX_KEPT_BYTES / 2**30:.0f}); use fewer draws or cells")
    levels = check_levels(levels)
    events = tuple(events)
    plan = BlockPlan.of(scenario, grid, output, events)
    held = {k: np.empty((grid.n_cells, draws), np.float32) for k in kept}
    profitable = np.zeros(grid.n_cells, np.int64)
    hits = np.zeros((grid.n_cells, len(events)), np.int64)
    if scheduler is None:
        # chunk-major: each chunk's input draws serve every block of cells
        _eval_blocks(plan, draws, seed, range(plan.n_blocks), held, profitable, hits,
                     progress)
    else:
        from probmodel import cluster

        # the same blocks, each over every chunk, on the cluster's workers; every block
        # runs the same compiled function on the same draws as here (bit for bit)
        done = 0
        for b, (h, prof, hit) in cluster.map_blocks(scheduler, sweep_block, plan, draws,
                                                     seed, range(plan.n_blocks)):
            lo, hi = plan.cells_of(b)
            for k in kept:
                held[k][lo:hi] = h[k]
            profitable[lo:hi] = prof
            hits[lo:hi] = hit
            done += (hi - lo) * draws
            if progress is not None:  # cell-draws, as each block comes back
                progress(done)
    if progress is not None and hasattr(progress, "phase"):  # the summaries take a while
        progress.phase(f"summarising {grid.n_cells:,} cells x {len(kept)} variables", None)
    sc, has_profit = plan.sc, plan.has_profit
    blocked = bool(plan_model_correlated(scenario, sc))
    summary = summarize(held, profitable if has_profit else None, draws, grid, sc,
                        hits, events, blocks=blocked)
    keep = min(keep, draws)
    kept_ds = _kept_dataset(held, keep, grid, sc, seed, draws)
    res = SweepResult(scenario, grid, output, draws, seed, summary, kept_ds,
                      events=events, levels=levels)
    res.crossings = crossings(summary, grid, levels)
    res.break_even = break_even_summary(summary, grid) if BREAK_EVEN in kept else None
    res.seconds = time.perf_counter() - t0
    return res


def plan_model_correlated(scenario: Scenario, fixed: Scenario) -> bool:
    """Whether a sweep's draws are dependent within blocks.

    True with correlated inputs: the scenario's own reordering, or partners drawn given a
    swept input.
    """
    base = sampling.ForwardModel.from_scenario(scenario)
    m = sampling.ForwardModel.from_scenario(fixed)
    return bool(base.correlated or m.correlated or m.given)


def summarize(held: Mapping[str, np.ndarray], profitable: np.ndarray | None, draws: int,
              grid: Grid, sc: Scenario, hits: np.ndarray | None = None,
              events: Sequence = (), blocks: bool = False) -> xr.Dataset:
    """The result contract over the swept dims from (cells, draws) arrays.

    ``hits`` (cells, events): the draws in which each of ``events`` holds, per cell.
    ``blocks``: correlated inputs make the draws dependent within the reordering's blocks;
    each kept variable's MCSEs, and P(profit > 0)'s (from margin > 0, its sign), are then
    scaled by their batch-means factors (:func:`probmodel.mcse.draw_factors`); an event's
    stays iid.
    """
    from probmodel.mcse import draw_factors

    values = {}
    for k, x in held.items():
        val, se = results.stats_kernel(x.reshape(*grid.shape, draws))
        if blocks:
            se = se * draw_factors(x).reshape(grid.shape)[..., None]
        values[k] = (val, se)

    def share(count, factor=1.0):
        pp = (count / draws).reshape(grid.shape)
        return pp, np.sqrt(pp * (1 - pp) / draws) * factor

    pf = 1.0
    if blocks and profitable is not None and "margin" in held:
        pf = draw_factors(held["margin"] > 0).reshape(grid.shape)
    p = share(profitable, pf) if profitable is not None else None
    ev = [(e.label, e.output, e.statistic, *share(hits[:, j])) for j, e in enumerate(events)]
    return results.build(values, grid.names, _coords(grid), p,
                         {"scenario": sc.name, "title": sc.title, "draws": draws}, events=ev)


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
