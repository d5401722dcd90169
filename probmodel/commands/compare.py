"""``probmodel compare``: scenarios side by side on common random numbers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from probmodel.cli import (
    DrawsOpt,
    EventOpt,
    JsonOpt,
    OutOpt,
    QuietOpt,
    ReportOpt,
    SeedOpt,
    app,
    load,
    out,
    print_json,
    write_report,
)

FilesArg = Annotated[list[Path], typer.Argument(
    help="Two or more scenario files (TOML).", show_default=False)]
OutputOpt = Annotated[str, typer.Option("--output", help="Quantity to compare.")]
KeepOpt = Annotated[int, typer.Option(
    "--keep-draws", help="Draws per scenario stored in draws.nc (statistics use all).")]


def run_compare(scenarios, output: str = "margin", draws: int = 200_000, seed: int = 0,
                keep: int | None = None, out_dir: Path | None = None, progress=None,
                runs_dir: Path | None = None, events=()):
    """Compare scenarios and write the run folder (data, tables, figures).

    ``events``: P(event) ± MCSE per scenario and paired differences of it
    (:func:`probmodel.analysis.compare.compare`).

    Returns
    -------
    (CompareResult, xarray.DataTree, Path)
        The result, its tree (:func:`probmodel.analysis.compare.to_tree`) and the folder.
    """
    from probmodel import runs
    from probmodel.analysis import compare as cmp
    from probmodel.plots import compare as plots

    res = cmp.compare(scenarios, output, draws, seed,
                      cmp.KEEP_DRAWS if keep is None else keep, progress, events)
    figures = lambda: {"forest": plots.plot_forest(res.summary, output),  # noqa: E731
                       "ecdf": plots.plot_ecdf(res.ecdf, output),
                       "p_greater": plots.plot_p_greater(res.summary, output)}
    t = cmp.to_tree(res)
    return res, t, runs.write(t, figures, scenarios=res.scenarios, out=out_dir,
                              runs_dir=runs_dir)


@app.command()
def compare(files: FilesArg, output: OutputOpt = "margin", draws: DrawsOpt = 200_000,
            seed: SeedOpt = 0, keep: KeepOpt = 100_000, out_dir: OutOpt = None,
            json_: JsonOpt = False, report: ReportOpt = False,
            quiet: QuietOpt = False, event: EventOpt = None) -> None:
    """Compare scenarios on common random numbers: P(profit > 0), P(A > B), differences.

    With --event, P(event) ± MCSE per scenario and its paired difference between them.
    """
    from probmodel import checks, runs
    from probmodel.analysis.targets import parse_events
    from probmodel.errors import UsageError

    loaded = [load(f, None) for f in files]  # bad files and flags before the heavy imports
    events = []
    for sc in loaded:  # every scenario must compute each event's output
        events = parse_events(event, sc)
    checks.check_draws_seed(draws, seed)
    if keep < 1:
        raise UsageError(f"--keep-draws: must be a positive whole number, not {keep}")
    from probmodel.analysis import grid

    scenarios = grid.unique_names(loaded)
    grid.check_scenarios(scenarios, output)  # bad arguments: before the heavy imports
    runs.check_out_dir(out_dir)
    from probmodel.analysis import compare as cmp
    from probmodel.progress import progress

    t0 = time.perf_counter()
    with progress(draws * len(scenarios), "sampling", unit="draws",
                  quiet=quiet or json_) as update:
        res, t, run_dir = run_compare(scenarios, output, draws, seed, keep, out_dir, update,
                                      events=events)
    wall = time.perf_counter() - t0
    if json_:
        print_json({**cmp.outputs(t).summary_json, "run_dir": str(run_dir)})
        write_report(run_dir, report, json_=True)
        return
    _print(res)
    out.print(f"run folder: {run_dir}   ({len(scenarios)} scenarios x {draws:,} draws in "
              f"{wall:.2f} s)")
    write_report(run_dir, report)


def _print(res) -> None:
    import itertools

    import numpy as np

    from probmodel import fmt

    s, name = res.summary, res.output
    unit = fmt.scale_for(name)[1]
    t = Table(title=f"{name} ({unit}) per scenario: {res.draws:,} draws each, seed {res.seed},"
                    f" common random numbers", title_justify="left")
    labels = list(s["event"].values) if "p_event" in s else []
    for col in ("scenario", "P(profit > 0) ± MCSE", "median", "90% interval", "mean",
                *(f"P({lab}) ± MCSE" for lab in labels)):
        t.add_column(col, justify="left" if col == "scenario" else "right")
    for n in res.names:
        ev = [f"{float(s['p_event'].sel(scenario=n, event=lab)):.4f} ± "
              f"{float(s['p_event_mcse'].sel(scenario=n, event=lab)):.4f}" for lab in labels]
        p = float(s["p_profitable"].sel(scenario=n))
        q = {st: float(s[name].sel(scenario=n, stat=st)) for st in ("mean", "q05", "q50",
                                                                    "q95")}
        t.add_row(n, f"{p:.4f} ± {float(s['p_profitable_mcse'].sel(scenario=n)):.4f}"
                  if np.isfinite(p) else "-",
                  fmt.show(name, q["q50"]), f"[{fmt.show(name, q['q05'])}, "
                  f"{fmt.show(name, q['q95'])}]", fmt.show(name, q["mean"]), *ev)
    out.print(t)
    m = Table(title=f"P({name} of row > {name} of column) over paired draws, ± MCSE",
              title_justify="left")
    m.add_column("A \\ B")
    for n in res.names:
        m.add_column(n, justify="right")
    for a in res.names:
        m.add_row(a, *("-" if a == b else
                       f"{float(s['p_greater'].sel(scenario=a, versus=b)):.3f} ± "
                       f"{float(s['p_greater_mcse'].sel(scenario=a, versus=b)):.3f}"
                       for b in res.names))
    out.print(m)
    d = Table(title=f"paired difference A - B of {name} ({unit})", title_justify="left")
    for col in ("A", "B", "median", "90% interval", "sd paired / if independent"):
        d.add_column(col, justify="left" if col in ("A", "B") else "right")
    for a, b in itertools.combinations(res.names, 2):
        q = {st: float(s["difference"].sel(scenario=a, versus=b, stat=st))
             for st in ("q05", "q50", "q95")}
        mc = float(s["difference_mcse"].sel(scenario=a, versus=b, stat="q50"))
        sd = float(s["difference_sd"].sel(scenario=a, versus=b))
        ind = float(s["difference_sd_if_independent"].sel(scenario=a, versus=b))
        d.add_row(a, b, f"{fmt.show(name, q['q50'])} ± {fmt.show(name, mc, 1)}",
                  f"[{fmt.show(name, q['q05'])}, {fmt.show(name, q['q95'])}]",
                  f"{fmt.show(name, sd)} / {fmt.show(name, ind)}")
    out.print(d)
    if "p_profitable_difference" in s:
        for a, b in itertools.combinations(res.names, 2):
            v = float(s["p_profitable_difference"].sel(scenario=a, versus=b))
            e = float(s["p_profitable_difference_mcse"].sel(scenario=a, versus=b))
            out.print(f"P(profit > 0): {a} - {b} = {v:+.4f} ± {e:.4f} (MCSE, paired draws)")
    for lab in labels:
        for a, b in itertools.combinations(res.names, 2):
            sel = {"scenario": a, "versus": b, "event": lab}
            v = float(s["p_event_difference"].sel(sel))
            e = float(s["p_event_difference_mcse"].sel(sel))
            out.print(f"P({lab}): {a} - {b} = {v:+.4f} ± {e:.4f} (MCSE, paired draws)")
