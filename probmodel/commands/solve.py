"""``probmodel solve``: goal seek on a probability, quantile, expected shortfall or mean."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from probmodel.cli import (
    EventOpt,
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
ChooseOpt = Annotated[str | None, typer.Option(
    "--choose", help="Choose among options instead: NAME=A,B,... (chip=H20,H200,B200, a "
    "model, or values of an input), all on the same draws.", show_default=False)]
MinimiseOpt = Annotated[str | None, typer.Option(
    "--minimise", "--minimize", help="With --choose: the statistic to minimise, e.g. "
    "'q50(cost_per_mtok_output)'.", show_default=False)]
MaximiseOpt = Annotated[str | None, typer.Option(
    "--maximise", "--maximize", help="With --choose: the statistic to maximise, e.g. "
    "'P(profit > 0)'.", show_default=False)]
SubjectToOpt = Annotated[list[str] | None, typer.Option(
    "--subject-to", help="With --choose: a constraint every chosen option must meet, "
    "written as a --target (repeatable).", show_default=False)]
SolveDrawsOpt = Annotated[int, typer.Option(
    "--draws", "-n", help="Monte Carlo draws, the same ones at every tried value.")]


@app.command()
def solve(scenario: ScenarioArg, vary: VaryOpt = None, target: TargetOpt = None,
          draws: SolveDrawsOpt = 200_000, seed: SeedOpt = 0, set_: SetOpt = None,
          event: EventOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False,
          quiet: QuietOpt = False, choose: ChooseOpt = None, minimise: MinimiseOpt = None,
          maximise: MaximiseOpt = None, subject_to: SubjectToOpt = None) -> None:
    """Find the value of an input at which a target starts to hold, or the best option."""
    from probmodel import checks, runs
    from probmodel.analysis import targets as tg
    from probmodel.errors import UsageError

    sc = load(scenario, set_)
    if choose is not None or minimise is not None or maximise is not None or subject_to:
        if vary is not None or target is not None or event:
            raise UsageError("--choose: give either --vary with --target, or --choose with "
                             "--minimise/--maximise, not both")
        _choose(sc, choose, minimise, maximise, subject_to or [], draws, seed, out_dir,
                json_, quiet)
        return
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
    t = so.to_tree(res)
    run_dir = runs.write(t, lambda: {f"solve_{name}": plot_solve(t)}, scenarios=[res.scenario],
                         out=out_dir)
    wall = time.perf_counter() - t0
    if json_:
        out.print_json(json.dumps(runs.clean({**so.outputs(t).summary_json,
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


def _choose(sc, choose, minimise, maximise, subject_to, draws, seed, out_dir, json_,
            quiet) -> None:
    """``solve --choose``: every option on the same draws, ranked, P(best in a draw)."""
    from probmodel import checks, runs
    from probmodel.analysis import targets as tg
    from probmodel.errors import UsageError

    if choose is None:
        raise UsageError("--choose: give the options, e.g. --choose chip=H20,H200,B200")
    if (minimise is None) == (maximise is None):
        raise UsageError("--minimise: give one of --minimise or --maximise, e.g. "
                         "--minimise 'q50(cost_per_mtok_output)'")
    from probmodel.analysis import choose as ch

    name, options = ch.parse_choose(choose, sc)
    objective = tg.parse_statistic(minimise or maximise, sc,
                                   "--minimise" if minimise else "--maximise")
    constraints = [tg.parse_target(c, sc, "--subject-to") for c in subject_to]
    ch.option_scenarios(sc, name, options)  # every option checked before any sampling
    checks.check_draws_seed(draws, seed)
    runs.check_out_dir(out_dir)
    from probmodel.plots.solve import plot_choose
    from probmodel.progress import progress

    t0 = time.perf_counter()
    with runs.preloading_writers(), progress(None, "sampling options", unit="draws",
                                             quiet=quiet or json_):
        res = ch.choose(sc, name, options, objective, minimise is not None, constraints,
                        draws, seed)
    t = ch.to_tree(res)
    run_dir = runs.write(t, lambda: {f"choose_{name}": plot_choose(
        res.summary.assign_attrs(draws=draws))}, scenarios=[res.scenario], out=out_dir)
    wall = time.perf_counter() - t0
    if json_:
        out.print_json(json.dumps(runs.clean({**ch.outputs(t).summary_json,
                                              "run_dir": str(run_dir)})))
        return
    print_choose(res)
    out.print(f"run folder: {run_dir}   ({len(options)} options x {draws:,} draws in "
              f"{wall:.2f} s)")


def print_choose(res) -> None:
    """Feasible options ranked, with P(best in a draw); the others with their estimates."""
    from rich.table import Table

    o = res.objective
    how = "minimise" if res.minimise else "maximise"
    t = Table(title=f"{res.scenario.title}: choose {res.name} to {how} {o.text}"
              + (f" subject to {'; '.join(c.text for c in res.constraints)}"
                 if res.constraints else "") + f"; {res.draws:,} draws, seed {res.seed}",
              title_justify="left")
    for col in ("rank", res.name, f"{o.heading} ± MCSE", "P(best in a draw) ± MCSE",
                *(c.heading for c in res.constraints)):
        t.add_column(col, justify="left" if col == res.name else "right")
    order = res.ranking + [lab for lab in res.estimates if lab not in res.ranking]
    for lab in order:
        e = res.estimates[lab]
        v, se = e["objective"]
        pb = res.p_best.get(lab)
        cons = [f"{c.number(ce)} ± {c.number(cse)}" + ("" if m else " (fails)")
                for c, (ce, cse, m) in zip(res.constraints, e["constraints"], strict=True)]
        t.add_row(str(res.ranking.index(lab) + 1) if lab in res.ranking else "-", lab,
                  f"{o.number(v)} ± {o.number(se)}",
                  f"{pb[0]:.3f} ± {pb[1]:.3f}" if pb else "fails a constraint", *cons)
    out.print(t)
    out.print(f"best: {res.ranking[0]} (P(best in a draw) = {res.p_best[res.ranking[0]][0]:.3f}"
              " among the options meeting every constraint)")
