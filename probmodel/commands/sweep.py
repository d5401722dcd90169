"""``probmodel sweep``: the report's grids with uncertainty (or at the point values)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from probmodel.cli import (
    EventOpt,
    JsonOpt,
    OutOpt,
    QuietOpt,
    ReportOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    app,
    load,
    out,
    print_json,
    write_report,
)

GridOpt = Annotated[list[str] | None, typer.Option(
    "--grid", help="A swept parameter: NAME=V1,V2,... or NAME=START:STOP:STEP (STOP "
    "included). Repeat for a two-way grid.", show_default=False)]
OutputOpt = Annotated[str | None, typer.Option(
    "--output", help="Quantity to summarise and draw (default: margin, else "
    "chips_required).", show_default=False)]
SweepDrawsOpt = Annotated[int, typer.Option("--draws", "-n", help="Monte Carlo draws per cell.")]
PointOpt = Annotated[bool, typer.Option(
    "--point", help="Evaluate every cell at the point values (the report's grids).")]
KeepOpt = Annotated[int, typer.Option(
    "--keep-draws", help="Draws per cell stored in sweep.nc (summaries use all draws).")]
CrossingOpt = Annotated[list[str] | None, typer.Option(
    "--crossing", help="Find where P(profit > 0) and each --event's probability cross this "
    "level along each swept axis (0.9 or 90%; repeatable; default 0.5).",
    show_default=False)]
ScaleOpt = Annotated[float | None, typer.Option(
    "--scale", help="Print values divided by this number (e.g. 1e4 for the report's "
    "万 = 10,000 chips); the files keep raw values.", show_default=False)]


def run_sweep(scenario, grid, output: str | None = None, draws: int = 50_000, seed: int = 0,
              keep: int | None = None, out_dir: Path | None = None, progress=None,
              runs_dir: Path | None = None, scheduler=None, events=(), levels=(0.5,)):
    """Run a Monte Carlo sweep and write its run folder (data, summaries, figures).

    ``scheduler``: a Dask client or scheduler address (blocks of cells run on its
    workers; :mod:`probmodel.cluster`), or None to run here. ``events`` and ``levels``
    as :func:`probmodel.analysis.sweep.sweep`.

    Returns
    -------
    (SweepResult, xarray.DataTree, Path)
        The result, its result tree (:func:`probmodel.analysis.sweep_output.to_tree`)
        and the run folder written from it.
    """
    from probmodel import runs
    from probmodel.analysis import sweep as sw
    from probmodel.analysis import sweep_output as so
    from probmodel.plots import sweep as plots

    res = sw.sweep(scenario, grid, output, draws, seed,
                   sw.KEEP_DRAWS if keep is None else keep, progress, scheduler,
                   events=events, levels=levels)
    t = so.to_tree(res)
    return res, t, runs.write(t, lambda: sweep_figures(res, plots), scenarios=[scenario],
                              out=out_dir, runs_dir=runs_dir)


def sweep_figures(res, plots) -> dict:
    """The figures of a sweep, by file name (none for three or more swept parameters)."""
    s = res.summary
    figs = {}
    ndim = len(res.grid.names)
    has_p = "p_profitable" in s
    if ndim == 1:
        x = res.grid.names[0]
        cross = next((c for c in res.crossings if c["parameter"] == x
                      and c["event"] == "profit > 0" and c["level"] == 0.5), None)
        be = (res.break_even["cells"][0] if res.break_even and x == "pay_rate"
              and len(res.break_even["cells"]) == 1 else None)
        figs[f"fan_{res.output}"] = plots.plot_fan(s, res.output, cross, be)
        if res.output != "margin" and "margin" in s:
            figs["fan_margin"] = plots.plot_fan(s, "margin", cross, be)
    elif ndim == 2:
        if has_p:
            text = "margin" if "margin" in s else res.output
            figs["heatmap_p_profit"] = plots.plot_profit_heatmap(s, text)
        if res.output != "margin" or not has_p:
            figs[f"heatmap_{res.output}"] = plots.plot_output_heatmap(s, res.output)
    return figs


def run_point(scenario, grid, output: str, out_dir: Path | None = None,
              runs_dir: Path | None = None):
    """Evaluate the grid at the point values and write its run folder.

    Returns
    -------
    (xarray.DataTree, Path)
        The result tree (:func:`probmodel.analysis.sweep_output.point_tree`; its
        ``/grid`` is every output per cell) and the run folder written from it.
    """
    from probmodel import runs
    from probmodel.analysis import sweep as sw
    from probmodel.analysis import sweep_output as so
    from probmodel.plots import sweep as plots

    ds = sw.sweep_point(scenario, grid)
    figs = ({f"point_{output}": plots.plot_point_grid(ds, output)}
            if len(grid.names) <= 2 else {})
    t = so.point_tree(scenario, grid, output, ds)
    return t, runs.write(t, figs, scenarios=[scenario], out=out_dir, runs_dir=runs_dir)


SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Address of a Dask distributed scheduler (e.g. tcp://host:8786): "
    "blocks of cells run on its workers; needs pip install -e '.[cluster]'.",
    show_default=False)]


@app.command()
def sweep(scenario: ScenarioArg, grid: GridOpt = None, output: OutputOpt = None,
          draws: SweepDrawsOpt = 50_000, seed: SeedOpt = 0, set_: SetOpt = None,
          point: PointOpt = False, keep: KeepOpt = 10_000, scale: ScaleOpt = None,
          out_dir: OutOpt = None, json_: JsonOpt = False,
          scheduler: SchedulerOpt = None, report: ReportOpt = False,
          quiet: QuietOpt = False, event: EventOpt = None,
          crossing: CrossingOpt = None) -> None:
    """Sweep one or two parameters over a grid: P(profit > 0) and intervals per cell.

    With --event, P(event) in every cell too; the crossings of every probability at 50%
    (or each --crossing level) along each swept axis, with their MCSE.
    """
    from probmodel import checks, runs
    from probmodel.analysis.targets import parse_events, parse_number
    from probmodel.errors import UsageError

    sc = load(scenario, set_)
    events = parse_events(event, sc)
    levels = [parse_number(c, "--crossing", "level") for c in crossing or ["0.5"]]
    if point and (events or crossing):
        raise UsageError(f"{'--event' if events else '--crossing'}: needs a Monte Carlo "
                         "sweep (not --point: there every probability is 0 or 1)")
    if not point:  # bad flags before the heavy imports
        checks.check_draws_seed(draws, seed)
        if keep < 1:
            raise UsageError(f"--keep-draws: must be a positive whole number, not {keep}")
    if scale is not None and not scale > 0:
        raise UsageError(f"--scale: must be a positive number, not {scale:g}")
    from probmodel.analysis import grid as gr

    g = gr.parse_grid(grid or [])  # a bad --grid or --output: before the heavy imports
    output = output or gr.default_output(sc)
    gr.check_grid(sc, g, output)
    if scheduler is not None and not point:
        from probmodel import cluster

        cluster.check(scheduler)  # before the engine's import: one line at once
    runs.check_out_dir(out_dir)
    from probmodel.analysis import sweep as sw
    from probmodel.analysis import sweep_output as so
    from probmodel.progress import progress

    levels = sw.check_levels(levels)
    t0 = time.perf_counter()
    if point:
        t, run_dir = run_point(sc, g, output, out_dir)
        if json_:
            print_json({**so.point_outputs(t).summary_json, "run_dir": str(run_dir)})
            write_report(run_dir, report, json_=True)
            return
        _print_point(sc, t["grid"].to_dataset(), g, output, scale)
        out.print(f"run folder: {run_dir}")
        write_report(run_dir, report)
        return
    client = None
    if scheduler is not None:
        from probmodel import cluster

        client = cluster.connect(scheduler)  # before any work: exit 2 if it cannot
    try:
        with progress(draws * g.n_cells, "sampling", unit="draws (all cells)",
                      quiet=quiet or json_) as update:
            # the sweep reports cell-draws block by block
            res, t, run_dir = run_sweep(sc, g, output, draws, seed, keep, out_dir, update,
                                        scheduler=client, events=events, levels=levels)
    finally:
        if client is not None:
            client.close()
    wall = time.perf_counter() - t0
    if json_:
        print_json({**so.outputs(t).summary_json, "run_dir": str(run_dir)})
        write_report(run_dir, report, json_=True)
        return
    _print_sweep(res, scale)
    out.print(f"run folder: {run_dir}   ({g.n_cells} cells x {draws:,} draws in {wall:.2f} s)")
    write_report(run_dir, report)


def _show(name: str, v: float, scale: float | None, digits: int = 3) -> str:
    from probmodel import fmt

    if scale is not None:
        return fmt.number(v / scale, digits)
    return fmt.show(name, v, digits)


def _fixed(name: str, v: float, scale: float | None) -> str:
    """Point-grid cells with fixed decimals, as the report prints them (2 for %)."""
    from probmodel import fmt

    if scale is None and fmt.scale_for(name)[1] == "%":
        return f"{100 * v:.2f}"
    return _show(name, v, scale, 4)


def _unit(name: str, scale: float | None) -> str:
    from probmodel import fmt
    from probmodel.model import unit_of

    if scale is not None:
        return f"{unit_of(name)} / {scale:g}"
    return fmt.scale_for(name)[1]


def _matrix(title: str, g, cell) -> Table:
    """Rows: the first swept parameter's values; columns: the second's; ``cell(i, j)``."""
    r, c = g.names
    t = Table(title=title, title_justify="left")
    t.add_column(f"{r} \\ {c}")
    for v in g.values[1]:
        t.add_column(_show(c, v, None, 3), justify="right")
    for i, rv in enumerate(g.values[0]):
        t.add_row(_show(r, rv, None, 3), *(cell(i, j) for j in range(len(g.values[1]))))
    return t


def _print_point(sc, ds, g, output, scale) -> None:
    title = f"{sc.title}: {output} ({_unit(output, scale)}) at the point values"
    vals = ds[output].transpose(*g.names).values
    if len(g.names) == 2:
        out.print(_matrix(title, g, lambda i, j: _fixed(output, vals[i, j], scale)))
        return
    t = Table(title=title, title_justify="left")
    for n in g.names:
        t.add_column(n, justify="right")
    t.add_column(output, justify="right")
    cells = g.cells()
    for i, v in enumerate(vals.ravel()):
        t.add_row(*(_show(n, cells[n][i], None, 4) for n in g.names),
                  _fixed(output, v, scale))
    out.print(t)


def _print_sweep(res, scale) -> None:
    import numpy as np

    from probmodel.analysis.sweep import probability_curves

    s, g, name = res.summary, res.grid, res.output
    has_p = "p_profitable" in s
    ev = [c for c in probability_curves(s) if c[0] != "profit > 0"]
    head = f"{res.scenario.title}: {res.draws:,} draws per cell, seed {res.seed}"
    if len(g.names) == 2:
        if has_p:
            p = s["p_profitable"].transpose(*g.names).values
            se = s["p_profitable_mcse"].transpose(*g.names).values
            out.print(_matrix(f"{head}\nP(profit > 0) ± MCSE", g,
                              lambda i, j: f"{p[i, j]:.3f} ± {se[i, j]:.3f}"))
        for label, pe, pse in ev:
            pe, pse = pe.transpose(*g.names).values, pse.transpose(*g.names).values
            out.print(_matrix(f"P({label}) ± MCSE", g,
                              lambda i, j, pe=pe, pse=pse: f"{pe[i, j]:.3f} ± {pse[i, j]:.3f}"))
        med = s[name].sel(stat="q50").transpose(*g.names).values
        title = f"median {name} ({_unit(name, scale)})"
        out.print(_matrix(title if has_p else f"{head}\n{title}", g,
                          lambda i, j: _show(name, med[i, j], scale)))
        lo = s[name].sel(stat="q05").transpose(*g.names).values
        hi = s[name].sel(stat="q95").transpose(*g.names).values
        out.print(_matrix(f"90% interval of {name} ({_unit(name, scale)})", g,
                          lambda i, j: f"[{_show(name, lo[i, j], scale)}, "
                                       f"{_show(name, hi[i, j], scale)}]"))
    else:
        t = Table(title=head, title_justify="left")
        for n in g.names:
            t.add_column(n, justify="right")
        unit = _unit(name, scale)
        for col in (f"median {name}", "50% interval", "90% interval"):
            t.add_column(f"{col} ({unit})" if col.startswith("median") else col,
                         justify="right")
        if has_p:
            t.add_column("P(profit > 0) ± MCSE", justify="right")
        for label, _, _ in ev:
            t.add_column(f"P({label}) ± MCSE", justify="right")
        cells = g.cells()
        for i in range(g.n_cells):
            pos = dict(zip(g.names, np.unravel_index(i, g.shape), strict=True))
            q = {st: float(s[name].isel(pos).sel(stat=st)) for st in
                 ("q05", "q25", "q50", "q75", "q95")}
            row = [*(_show(n, cells[n][i], None) for n in g.names),
                   _show(name, q["q50"], scale),
                   f"[{_show(name, q['q25'], scale)}, {_show(name, q['q75'], scale)}]",
                   f"[{_show(name, q['q05'], scale)}, {_show(name, q['q95'], scale)}]"]
            if has_p:
                row.append(f"{float(s['p_profitable'].isel(pos)):.3f} ± "
                           f"{float(s['p_profitable_mcse'].isel(pos)):.3f}")
            for _, pe, pse in ev:
                row.append(f"{float(pe.isel(pos)):.3f} ± {float(pse.isel(pos)):.3f}")
            t.add_row(*row)
        out.print(t)
    from probmodel.report import numbers as nb

    for c in res.crossings:
        at = ", ".join(f"{k} = {_show(k, v, None)} {_unit(k, None)}"
                       for k, v in c["at"].items())
        x = c["parameter"]
        # the value rounded to its MCSE's precision, as the report and crossings.csv
        u = _unit(x, None)
        out.print(f"P({c['event']}) = {100 * c['level']:g}% at {x} = "
                  f"{nb.with_mcse(x, None, c['value'], c['mcse'])}"
                  f"{'%' if u == '%' else ' ' + u} ({c['direction']}; "
                  f"interpolated between {_show(x, c['between'][0], None)} and "
                  f"{_show(x, c['between'][1], None)}){' at ' + at if at else ''}")
    if res.break_even:
        for row in res.break_even["cells"]:
            at = ", ".join(f"{k} = {_show(k, v, None)} {_unit(k, None)}"
                           for k, v in row["at"].items())
            out.print(f"break-even pay rate (per draw total_cost / revenue_before_pay_rate)"
                      f"{' at ' + at if at else ''}: median {100 * row['q50']:.1f}% "
                      f"(MCSE {100 * row['mcse_q50']:.2f}%), 90% interval "
                      f"[{100 * row['q05']:.1f}%, {100 * row['q95']:.1f}%]")
