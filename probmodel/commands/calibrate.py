"""``probmodel calibrate``: condition a scenario on its observations with NUTS.

Exit status: 0 when the diagnostics pass; 2 for bad input (file, flag); 3 when the run
finished but r-hat > 1.01, ESS < 400 or there were divergences (the run folder is
written all the same, with ``diagnostics_ok = false`` in its manifest).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from probmodel.cli import (
    JsonOpt,
    OutOpt,
    QuietOpt,
    ReportOpt,
    ScenarioArg,
    SetOpt,
    app,
    err,
    load,
    out,
    print_json,
    write_report,
)

#: Exit status of a calibration whose diagnostics failed (2 is bad input).
EXIT_DIAGNOSTICS = 3
#: Default warm-up of a serving calibration ([measurements]); 500 for [observations].
SERVING_WARMUP = 300
#: Default draws kept per chain of a serving calibration; 1000 for [observations].
SERVING_SAMPLES = 700

ChainsOpt = Annotated[int, typer.Option("--chains", help="NUTS chains.")]
WarmupOpt = Annotated[int, typer.Option("--warmup", help="Warm-up (adaptation) iterations "
                                                          "per chain (default 500; 300 for "
                                                          "[measurements]).",
                                        show_default=False)]
SamplesOpt = Annotated[int, typer.Option("--samples", help="Draws kept per chain (default "
                                                            "1000; 700 for [measurements]).",
                                          show_default=False)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same draws).")]
ChainProgressOpt = Annotated[bool, typer.Option(
    "--chain-progress", help="Show warm-up and sampling progress from inside the sampler "
    "(parallel chains). Costs a compilation per run: JAX does not cache programs with "
    "host callbacks. Same draws either way.")]
MethodOpt = Annotated[str, typer.Option(
    "--chain-method", help="auto (parallel when one device per chain exists), parallel, "
    "vectorized or sequential.")]


@app.command()
def calibrate(scenario: ScenarioArg, chains: ChainsOpt = 4, warmup: WarmupOpt | None = None,
              samples: SamplesOpt | None = None, seed: SeedOpt = 0, out_dir: OutOpt = None,
              json_: JsonOpt = False, set_: SetOpt = None,
              chain_method: MethodOpt = "auto", report: ReportOpt = False,
              quiet: QuietOpt = False, chain_progress: ChainProgressOpt = False) -> int:
    """Bayesian calibration (NUTS): condition the priors on the file's observations.

    Exit status 3 when r-hat > 1.01, ESS < 400 or any divergence (the run folder is
    written all the same, marked diagnostics_ok = false); 2 for bad input.
    """
    sc = load(scenario, set_)  # a bad file is reported before JAX is imported
    serving = sc.measurements is not None
    if warmup is None:  # the serving hierarchy's defaults: docs/validation.md
        warmup = SERVING_WARMUP if serving else 500
    if samples is None:
        samples = SERVING_SAMPLES if serving else 1000
    from probmodel import checks, runs

    checks.check_nuts_settings(chains, warmup, samples, seed)  # bad flags: before numpyro
    checks.check_chain_method(chain_method)
    if serving and sc.observations:
        err.print(f"error: {scenario}: a scenario calibrates either [observations] or "
                  "[measurements], not both", markup=False)
        raise typer.Exit(2)
    if not serving:
        checks.check_calibratable(sc)
    runs.check_out_dir(out_dir)
    import numpyro

    # One XLA host device per chain, so chains run in parallel ("auto"); only takes
    # effect before JAX starts its backend, i.e. in a fresh process.
    if isinstance(chains, int) and 1 < chains <= 64:
        numpyro.set_host_device_count(chains)

    if serving:  # measured serving rows: the serving hierarchy
        from probmodel.commands.backtest import calibrate_serving
        return calibrate_serving(sc, chains=chains, warmup=warmup, samples=samples,
                                 seed=seed, out_dir=out_dir, json_=json_, quiet=quiet,
                                 chain_method=chain_method)
    from probmodel import calibration, calibration_output
    from probmodel.progress import progress

    calibration.resolve_chain_method(chain_method, chains)
    calibration.build(sc)  # located errors before any sampling
    t0 = time.perf_counter()
    # the first phase is compiling (no count); warm-up then starts its own clock and ETA
    with progress(None, "compiling the sampler", unit="steps",
                  quiet=quiet or json_) as update:
        def on(phase: str, done: int, total: int | None) -> None:
            what = f"{phase} ({chains} chain{'s' * (chains > 1)})"
            if what != update.what:
                update.phase(what, total)
            update(done)

        with runs.preloading_writers():
            cal = calibration.calibrate(sc, chains=chains, warmup=warmup, samples=samples,
                                        seed=seed, chain_method=chain_method, progress=on,
                                        chain_progress=chain_progress)
    tree = calibration_output.to_tree(cal)
    run_dir = runs.write(tree, lambda: calibration_output.figures(cal),
                         scenarios=[cal.scenario], out=out_dir)
    wall = time.perf_counter() - t0
    derived = calibration_output.outputs(tree)
    summ = derived.summary_json
    if json_:
        print_json({**summ, "run_dir": str(run_dir)})
    else:
        _print(cal, summ, derived.tables["prior_posterior.csv"], run_dir, wall)
    write_report(run_dir, report, json_=json_)  # before the diagnostics' exit status
    if not cal.diagnostics.ok:
        for line in cal.diagnostics.failures:
            err.print(f"error: diagnostics failed: {line}", markup=False)
        err.print(f"error: the posterior is not reliable (run folder kept as evidence: "
                  f"{run_dir}); try more --warmup/--samples, or fix the model's "
                  "identification", markup=False)
        raise typer.Exit(EXIT_DIAGNOSTICS)
    return 0


def _print(cal, summ, pp, run_dir: Path, wall: float) -> None:
    from probmodel import fmt

    t = Table(title=f"{cal.scenario.title}: prior -> posterior (median [90% interval])",
              title_justify="left")
    for col in ("quantity", "prior", "posterior", "shrinkage", "unit"):
        t.add_column(col, justify="left" if col in ("quantity", "unit") else "right")
    for r in pp.to_dict("records"):
        name = r["variable"]
        cell = lambda a, b, c, n=name: (f"{fmt.show(n, b)} [{fmt.show(n, a)}, "  # noqa: E731
                                        f"{fmt.show(n, c)}]")
        mark = " (observed)" if r["observed"] else ""
        t.add_row(name + mark, cell(r["prior_q05"], r["prior_q50"], r["prior_q95"]),
                  cell(r["posterior_q05"], r["posterior_q50"], r["posterior_q95"]),
                  f"{r['shrinkage']:.2f}", fmt.scale_for(name)[1])
    out.print(t)
    if "p_profitable" in summ:
        p = summ["p_profitable"]
        out.print(f"P(profit > 0): prior {p['prior']:.3f}, posterior {p['posterior']:.3f} "
                  f"± {p['posterior_mcse']:.3f} (MCSE)")
    s = cal.settings
    d = cal.diagnostics
    out.print(f"NUTS: {s['chains']} chains x ({s['warmup']} warm-up + {s['samples']} draws), "
              f"{s['chain_method']}; max r-hat {summ['max_r_hat']:.4f}, min ESS bulk "
              f"{summ['min_ess_bulk']:.0f} / tail {summ['min_ess_tail']:.0f}, "
              f"{d.divergences} divergences: {'OK' if d.ok else 'FAILED'}")
    out.print(f"run folder: {run_dir}   ({wall:.1f} s)")
