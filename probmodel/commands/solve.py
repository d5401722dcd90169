"""``probmodel solve``: goal seek on a probability, quantile, expected shortfall or mean."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from probmodel.cli import (
    JsonOpt,
    OutOpt,
    QuietOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    app,
    load,
    out,
)

VaryOpt = Annotated[str | None, typer.Option(
    "--vary", help="The input to solve for: NAME, or NAME=LO:HI to search only there "
    "(default: its law's 0.1%-99.9% range, widened within its domain when needed).",
    show_default=False)]
TargetOpt = Annotated[str | None, typer.Option(
    "--target", help="What must hold: 'P(OUTPUT > X) >= p', 'qNN(OUTPUT) >= X', "
    "'es05(OUTPUT) >= X' or 'mean(OUTPUT) <= X' (any of > >= < <=; X as the tables print "
    "it: 20%, -50k, 1.2M).", show_default=False)]
EventOpt = Annotated[list[str] | None, typer.Option(
    "--event", help="Also report P(event) ± MCSE, e.g. 'margin > 20%' (repeatable).",
    show_default=False)]
SolveDrawsOpt = Annotated[int, typer.Option(
    "--draws", "-n", help="Monte Carlo draws, the same ones at every tried value.")]


@app.command()
def solve(scenario: ScenarioArg, vary: VaryOpt = None, target: TargetOpt = None,
          draws: SolveDrawsOpt = 200_000, seed: SeedOpt = 0, set_: SetOpt = None,
          event: EventOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False,
          quiet: QuietOpt = False) -> None:
    """Find the value of one input at which a target on the outputs starts to hold."""
    from probmodel import checks, runs
    from probmodel.analysis import targets as tg
    from probmodel.errors import UsageError

    sc = load(scenario, set_)
    if vary is None:
        raise UsageError("--vary: give the input to solve for (NAME or NAME=LO:HI)")
    if target is None:
        raise UsageError("--target: give what must hold, e.g. 'P(profit > 0) >= 0.9'")
    tgt = tg.parse_target(target, sc)
    name, rng = tg.parse_vary(vary)
    tg.check_vary(sc, name, tgt)
    if rng is not None:
        tg.check_range(sc, name, *rng)
    events = tg.parse_events(event, sc)
    checks.check_draws_seed(draws, seed)
    runs.check_out_dir(out_dir)
    from probmodel.analysis import solve as so
    from probmodel.plots.solve import plot_solve
    from probmodel.progress import progress

    t0 = time.perf_counter()
    with runs.preloading_writers(), progress(draws, "sampling", unit="draws",
                                             quiet=quiet or json_) as update:
        res = so.solve(sc, name, tgt, draws, seed, rng, events, update)
    run_dir = runs.write(so.run_record(res, lambda: {
        f"solve_{name}": plot_solve(so.to_tree(res))}), out_dir)
    wall = time.perf_counter() - t0
    if json_:
        out.print_json(json.dumps(runs.clean({**so.json_summary(res),
                                              "run_dir": str(run_dir)})))
        return
    print_solve(res)
    out.print(f"run folder: {run_dir}   ({len(res.tries)} tries x {draws:,} draws in "
              f"{wall:.2f} s)")


def print_solve(res) -> None:
    """The answer, its Monte Carlo range, the estimate there, the tries; any events."""
    from probmodel.analysis.targets import show

    t, name = res.target, res.name
    side = "at and above" if res.direction == "above" else "at and below"
    out.print(f"{res.scenario.title}: {t.text}, varying {name}; {res.draws:,} draws, "
              f"seed {res.seed}")
    out.print(f"{name} = {show(name, res.value)}   ({t.text} holds {side} it)")
    lo, hi = res.value_interval
    out.print(f"Monte Carlo range: [{show(name, lo)}, {show(name, hi)}]   (where "
              f"{t.label} is within 2 MCSE of {t.show(t.threshold)})")
    out.print(f"{t.label} = {t.show(res.achieved)} ± {t.show(res.achieved_mcse)} (MCSE) there")
    if res.conditioned:
        out.print(f"correlated inputs drawn given {name}: {', '.join(res.conditioned)}")
    for e in res.events:
        out.print(f"P({e['event']}) = {e['p']:.4f} ± {e['mcse']:.4f} (MCSE) there")
    a, b = res.search_range
    out.print(f"{len(res.tries)} tries on the same {res.draws:,} draws (searched {name} in "
              f"[{show(name, a)}, {show(name, b)}])")
