"""``probmodel frontier``: throughput per GPU against interactivity, chips at an SLO."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from probmodel.cli import (
    JsonOpt,
    OutOpt,
    QuietOpt,
    ReportOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    app,
    err,
    load,
    out,
    print_json,
    write_report,
)

SloOpt = Annotated[list[str] | None, typer.Option(
    "--slo", help="A latency target: 'interactivity >= 20' (output tokens/s per user), "
    "'ttft <= 2' (s; or 2000ms), 'tpot <= 50ms'; repeatable. Default: the scenario's "
    "slo_interactivity and slo_ttft, else none.", show_default=False)]
ChipsOpt = Annotated[str | None, typer.Option(
    "--chips", help="Chips to put on one chart: H20,H800,B200 (catalog names; default the "
    "scenario's chip).", show_default=False)]
FrontierDrawsOpt = Annotated[int, typer.Option(
    "--draws", "-n", help="Monte Carlo draws per chip (each runs the physics at 61 "
    "concurrencies).")]

#: Most chips one chart takes.
MAX_CHIPS = 8


@app.command()
def frontier(scenario: ScenarioArg, slo: SloOpt = None, chips: ChipsOpt = None,
             draws: FrontierDrawsOpt = 16_384, seed: SeedOpt = 0, set_: SetOpt = None,
             out_dir: OutOpt = None, json_: JsonOpt = False, quiet: QuietOpt = False,
             report: ReportOpt = False) -> None:
    """Throughput per GPU against interactivity over concurrency, and the cost at an SLO."""
    from probmodel import checks, runs
    from probmodel.analysis import frontier as fa
    from probmodel.errors import UsageError

    sc = load(scenario, set_)
    target = fa.parse_slos(slo or [], sc)
    fa.check_serving(sc)
    names = fa.parse_chips(chips, sc)
    if len(names) > MAX_CHIPS:
        raise UsageError(f"--chips: {len(names)} chips (at most {MAX_CHIPS} on one chart)")
    from probmodel.errors import clip

    # every chip checked before any sampling; what the picks keep said once
    fa.chip_scenarios(sc, names, say=lambda m: err.print(f"warning: {clip(m)}", markup=False))
    checks.check_draws_seed(draws, seed)
    runs.check_out_dir(out_dir)
    from probmodel.plots.frontier import plot_frontier
    from probmodel.progress import progress

    t0 = time.perf_counter()
    with runs.preloading_writers(), progress(draws * len(names), "serving physics",
                                             unit="draws", quiet=quiet or json_) as update:
        res = fa.frontier(sc, names, target, draws, seed, update)
    tree = fa.to_tree(res)
    run_dir = runs.write(tree, lambda: {"frontier": plot_frontier(tree)},
                         scenarios=[res.scenario], out=out_dir)
    wall = time.perf_counter() - t0
    if json_:
        print_json({**fa.outputs(tree).summary_json, "run_dir": str(run_dir)})
        write_report(run_dir, report, json_=True)
        return
    print_frontier(res)
    out.print(f"run folder: {run_dir}   ({len(names)} chip(s) x {draws:,} draws in "
              f"{wall:.2f} s)")
    write_report(run_dir, report)


def _iv(s, name, digits=3) -> str:
    """``median [q05, q95]`` of a summary variable."""
    from probmodel import fmt

    q = [float(s[name].sel(stat=k)) for k in ("q50", "q05", "q95")]
    return f"{fmt.number(q[0], digits)} [{fmt.number(q[1], digits)}, {fmt.number(q[2], digits)}]"


def print_frontier(res) -> None:
    """Per chip the operating point at the SLO; P(A cheaper than B) per pair."""
    from rich.table import Table

    from probmodel.analysis import frontier as fa

    summ = fa.summary(res)
    t = Table(title=f"{res.scenario.title}: at the SLO {res.slo.text}; {res.draws:,} draws "
              f"per chip, seed {res.seed}; median [90% interval]", title_justify="left")
    for col in ("chip", "P(SLO met)", "concurrency", "tokens/s per GPU",
                "output tokens/s per decode GPU", "TTFT (s)", "$ per 1M output tokens",
                "$ per 1M tokens"):
        t.add_column(col, justify="left" if col == "chip" else "right")
    for c in res.labels:
        s = summ.sel(chip=c)
        t.add_row(c, f"{float(s['p_slo_met']):.3f} ± {float(s['p_slo_met_mcse']):.3f}",
                  _iv(s, "concurrency"), _iv(s, "tput_per_gpu"),
                  _iv(s, "output_tput_per_gpu"), _iv(s, "median_ttft"),
                  _iv(s, "cost_per_mtok_output"), _iv(s, "cost_per_mtok"))
    out.print(t)
    for p in res.pairs:
        out.print(f"P({p['a']} cheaper than {p['b']} per 1M output tokens at the SLO) = "
                  f"{p['p_a_cheaper']:.3f} ± {p['mcse']:.3f}")
    for n in res.notes:
        out.print(f"note: {n}")
