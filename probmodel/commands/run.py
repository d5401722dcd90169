"""``probmodel run``: Monte Carlo of one scenario, summarised while streaming."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from probmodel.cli import (
    DrawsOpt,
    EventOpt,
    JsonOpt,
    KeepDrawsOpt,
    OutOpt,
    PosteriorOpt,
    PrecisionOpt,
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

CoordinatorOpt = Annotated[str | None, typer.Option(
    "--coordinator", help="HOST:PORT of process 0, for one run across several processes or "
    "hosts (jax.distributed; the same flags on every process).", show_default=False)]
NumProcessesOpt = Annotated[int | None, typer.Option(
    "--num-processes", help="Processes in the run (with --coordinator).", show_default=False)]
CoordinatorTimeoutOpt = Annotated[float, typer.Option(
    "--coordinator-timeout", help="Seconds to wait for process 0 and every other process "
    "to join (with --coordinator); then one line and exit 2.")]
ProcessIdOpt = Annotated[int | None, typer.Option(
    "--process-id", help="This process's number, 0 to N-1; process 0 writes the run folder "
    "and prints (with --coordinator).", show_default=False)]



@app.command()
def run(scenario: ScenarioArg, draws: DrawsOpt = 200_000, seed: SeedOpt = 0,
        set_: SetOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False,
        posterior: PosteriorOpt = None, precision: PrecisionOpt = None,
        keep_draws: KeepDrawsOpt = False, coordinator: CoordinatorOpt = None,
        num_processes: NumProcessesOpt = None, process_id: ProcessIdOpt = None,
        coordinator_timeout: CoordinatorTimeoutOpt = 60.0,
        report: ReportOpt = False, quiet: QuietOpt = False, event: EventOpt = None) -> None:
    """Monte Carlo: sample all uncertain parameters jointly; write a run folder."""
    sc = load(scenario, set_)  # a bad file is reported before JAX is imported
    from probmodel import checks, distributed, runs
    from probmodel.analysis.targets import parse_events

    events = parse_events(event, sc)

    multi = distributed.check_flags(coordinator, num_processes, process_id,
                                    coordinator_timeout)
    checks.check_draws_seed(draws, seed)  # bad flags too: before the heavy imports
    checks.check_precision(precision)
    checks.check_weights_fit(sc)
    if posterior is not None:
        from probmodel import io

        io.check_posterior(posterior, scenario=sc)  # a bad folder: before the heavy imports
    if not multi or process_id == 0:
        runs.check_out_dir(out_dir)
    from probmodel import api, io
    from probmodel.progress import progress

    if multi:
        # after every check that needs no other process, before any JAX computation
        distributed.initialize(coordinator, num_processes, process_id, coordinator_timeout)
    leader = distributed.is_leader()
    post = api.posterior_for(sc, api.load_posterior(posterior)) if posterior else None
    t0 = time.perf_counter()
    total = None if precision is not None else draws
    what = "sampling" if precision is None else "sampling until precise"
    with progress(total, what, unit="draws", quiet=quiet or json_ or not leader) as update:
        res = api.run(sc, draws=draws, seed=seed, out=out_dir, progress=update,
                      posterior=post, posterior_source=str(posterior) if posterior else None,
                      precision=precision, keep_draws=keep_draws,
                      posterior_ess=io.posterior_ess(posterior, list(post)) if post else None,
                      events=events)
    wall = time.perf_counter() - t0
    if not leader:
        return  # process 0 writes the run folder and prints
    draws = int(res.summary.attrs["draws"])
    if json_:
        print_json({**api.run_json(res.summary, sc.name, seed),
                    "run_dir": str(res.run_dir)})
        write_report(res.run_dir, report, json_=True)
        return
    print_summary(sc, res.summary, draws, seed)
    if not sc.uncertain and not post:
        out.print(f"every input of {sc.name} is fixed, so every output has one value: "
                  f"probmodel point {scenario} prints them")
    if post:
        out.print(f"from the posterior of {posterior}: {', '.join(post)} (jointly); the "
                  "rest from the priors")
        a = res.summary.attrs
        if "p_profitable_mcse_posterior" in a:
            out.print(f"MCSE of P(profit > 0): {a['p_profitable_mcse_forward']:.4f} from the "
                      f"forward draws, {a['p_profitable_mcse_posterior']:.4f} from the "
                      f"posterior sample (its ESS for P(profit > 0) "
                      f"{a.get('posterior_ess_p_profitable', a['posterior_ess']):,.0f}; the "
                      f"calibration's smallest bulk ESS {a['posterior_ess']:,.0f})")
        elif "p_profitable" in res.summary:
            out.print("MCSE of P(profit > 0) excludes the posterior sample's error (the "
                      "calibration's manifest gives no ESS)")
    if precision is not None:
        p = res.precision or {}
        verdict = ("reached" if p.get("met") else
                   f"NOT reached: the posterior sample alone gives P(profit > 0) an MCSE of "
                   f"{p['posterior_mcse']:.4f} (calibration ESS {p['posterior_ess']:,.0f}); "
                   f"more draws cannot help, a calibration about "
                   f"{(p['posterior_mcse'] / precision) ** 2:.0f}x longer can; stopped"
                   if p.get("posterior_limited") else
                   "NOT reached (stopped at the draw limit)")
        out.print(f"precision {precision:g} {verdict} after {draws:,} draws (worst: "
                  f"{p.get('worst_quantile')} relative MCSE "
                  f"{p.get('worst_relative_quantile_mcse', float('nan')):.2g})")
    if res.kept_stride > 1:
        from probmodel.fmt import ordinal

        out.print(f"draws.nc keeps every {ordinal(res.kept_stride)} draw "
                  f"({res.dataset.sizes['draw']:,}); summaries use all {draws:,} "
                  "(--keep-draws keeps every draw)")
    out.print(f"run folder: {res.run_dir}   ({draws:,} draws in {wall:.2f} s)")
    write_report(res.run_dir, report)


def print_summary(sc, summary, draws: int, seed: int) -> None:
    """The key outputs' mean, median and 90% interval; P(profit > 0); profit's es05."""
    from probmodel import fmt, results

    t = Table(title=f"{sc.title}: {draws:,} draws, seed {seed}", title_justify="left")
    for col in ("quantity", "mean", "median", "90% interval", "unit"):
        t.add_column(col, justify="left" if col in ("quantity", "unit") else "right")
    names = [k for k in results.KEY_OUTPUTS if k in summary] or results.summarized(summary)
    for name in names:
        s = results.stat_dict(summary, name)
        t.add_row(name, fmt.show(name, s["mean"]), fmt.show(name, s["q50"]),
                  f"[{fmt.show(name, s['q05'])}, {fmt.show(name, s['q95'])}]",
                  fmt.scale_for(name)[1])
    out.print(t)
    p, se = results.p_profitable(summary)
    if p is not None:
        out.print(f"P(profit > 0) = {p:.4f} ± {se:.4f} (MCSE)")
    for e in results.event_list(summary):
        out.print(f"P({e['event']}) = {e['p']:.4f} ± {e['mcse']:.4f} (MCSE)")
    if "profit" in summary:
        s = results.stat_dict(summary, "profit")
        out.print(f"expected shortfall: mean profit in the worst 5% of draws (es05) "
                  f"{fmt.show('profit', s['es05'])} ± {fmt.show('profit', s['mcse_es05'], 1)} "
                  f"{fmt.scale_for('profit')[1]}")
