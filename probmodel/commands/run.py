"""``probmodel run``: Monte Carlo of one scenario, summarised while streaming."""

from __future__ import annotations

import json
import time

from rich.table import Table

from probmodel.cli import (
    DrawsOpt,
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
    write_report,
)


@app.command()
def run(scenario: ScenarioArg, draws: DrawsOpt = 200_000, seed: SeedOpt = 0,
        set_: SetOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False,
        posterior: PosteriorOpt = None, precision: PrecisionOpt = None,
        keep_draws: KeepDrawsOpt = False, report: ReportOpt = False,
        quiet: QuietOpt = False) -> None:
    """Monte Carlo: sample all uncertain parameters jointly; write a run folder."""
    from probmodel import api, runs, sampling
    from probmodel.progress import progress

    sc = load(scenario, set_)
    sampling.check_draws_seed(draws, seed)
    api.check_precision(precision)
    runs.check_out_dir(out_dir)
    post = api.posterior_for(sc, api.load_posterior(posterior)) if posterior else None
    t0 = time.perf_counter()
    total = None if precision is not None else draws
    what = "sampling" if precision is None else "sampling until precise"
    with progress(total, what, unit="draws", quiet=quiet or json_) as update:
        res = api.run(sc, draws=draws, seed=seed, out=out_dir, progress=update,
                      posterior=post, posterior_source=str(posterior) if posterior else None,
                      precision=precision, keep_draws=keep_draws)
    wall = time.perf_counter() - t0
    draws = int(res.summary.attrs["draws"])
    if json_:
        out.print_json(json.dumps(runs.clean({**api.run_json(res.summary, sc.name, seed),
                                              "run_dir": str(res.run_dir)})))
        write_report(res.run_dir, report, json_=True)
        return
    print_summary(sc, res.summary, draws, seed)
    if post:
        out.print(f"from the posterior of {posterior}: {', '.join(post)} (jointly); the "
                  "rest from the priors")
    if precision is not None:
        p = res.precision or {}
        verdict = "reached" if p.get("met") else "NOT reached (stopped at the draw limit)"
        out.print(f"precision {precision:g} {verdict} after {draws:,} draws (worst: "
                  f"{p.get('worst_quantile')} relative MCSE "
                  f"{p.get('worst_relative_quantile_mcse', float('nan')):.2g})")
    if res.kept_stride > 1:
        out.print(f"draws.nc keeps every {res.kept_stride}th draw "
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
    if "profit" in summary:
        s = results.stat_dict(summary, "profit")
        out.print(f"expected shortfall: mean profit in the worst 5% of draws (es05) "
                  f"{fmt.show('profit', s['es05'])} ± {fmt.show('profit', s['mcse_es05'], 1)} "
                  f"{fmt.scale_for('profit')[1]}")
