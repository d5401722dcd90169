"""``probmodel sensitivity``: tornado, Sobol indices and drivers of loss."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from probmodel.cli import (
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

OutputOpt = Annotated[str | None, typer.Option(
    "--output", help="Quantity to analyse (default: margin, else chips_required).",
    show_default=False)]
DrawsOpt = Annotated[int, typer.Option(
    "--draws", "-n", help="Monte Carlo draws for the drivers of loss.")]
SobolOpt = Annotated[int, typer.Option(
    "--sobol-n", help="Sobol base sample N (a power of two); N x (inputs + 2) model "
    "evaluations.")]


@app.command()
def sensitivity(scenario: ScenarioArg, output: OutputOpt = None, draws: DrawsOpt = 200_000,
                seed: SeedOpt = 0, sobol_n: SobolOpt = 2**13, set_: SetOpt = None,
                out_dir: OutOpt = None, json_: JsonOpt = False, report: ReportOpt = False,
                quiet: QuietOpt = False) -> None:
    """What drives the answer (tornado, Sobol indices) and what drives losses."""
    sc = load(scenario, set_)  # a bad file is reported before JAX is imported
    from probmodel import checks, runs

    checks.check_draws_seed(draws, seed)  # bad flags too: before the heavy imports
    checks.check_sobol_n(sobol_n)
    runs.check_out_dir(out_dir)
    from probmodel import fmt
    from probmodel.analysis import sensitivity as se
    from probmodel.analysis import sensitivity_output as so
    from probmodel.plots import sensitivity as plots
    from probmodel.progress import progress

    se.choose_output(sc, output)
    t0 = time.perf_counter()
    # tornado and Sobol indices first (not counted), then the drivers' draws
    with progress(draws, "tornado, Sobol indices, then drivers' draws", unit="draws",
                  quiet=quiet or json_) as update:
        res = se.analyse(sc, output, draws, seed, sobol_n, progress=update)
    tree = so.to_tree(sc, res, sobol_n)
    res.run_dir = runs.write(tree, lambda: figures(sc, res, se, plots), scenarios=[sc],
                             out=out_dir)
    wall = time.perf_counter() - t0
    t, s, d = res.tornado, res.sobol, res.drivers
    if json_:
        body = so.outputs(tree).summary_json  # summary.json, and where it was written
        head = {k: body.pop(k) for k in ("scenario", "draws", "seed")}
        print_json({**head, "run_dir": str(res.run_dir), **body})
        write_report(res.run_dir, report, json_=True)
        return
    name = t.output
    unit = fmt.scale_for(name)[1]
    tt = Table(title=f"{sc.title}: tornado of {name} ({unit}); point value "
                     f"{fmt.show(name, t.point)}; each input at its p05 / p95, others at "
                     "point", title_justify="left")
    for col in ("input", "p05", "p95", f"{name} at p05", f"{name} at p95", "swing"):
        tt.add_column(col, justify="left" if col == "input" else "right")
    for i, n in enumerate(t.names):
        tt.add_row(n, fmt.number(float(t.low_input[i]), 3), fmt.number(float(t.high_input[i]), 3),
                   fmt.show(name, t.at_low[i]), fmt.show(name, t.at_high[i]),
                   fmt.show(name, t.swing[i]))
    out.print(tt)
    dep = res.dependence
    indep = " - inputs taken as INDEPENDENT" if dep is not None else ""
    st = Table(title=f"Sobol indices of {name} ({s.n_evals:,} evaluations, "
                     f"{s.conf_level:.0%} bootstrap intervals){indep}", title_justify="left")
    for col in ("input", "S1", "S1 interval", "ST", "ST interval"):
        st.add_column(col, justify="left" if col == "input" else "right")
    for i, n in enumerate(s.names):
        st.add_row(n, f"{s.s1[i]:.3f}", f"[{s.s1[i] - s.s1_conf[i]:.3f}, "
                   f"{s.s1[i] + s.s1_conf[i]:.3f}]", f"{s.st[i]:.3f}",
                   f"[{s.st[i] - s.st_conf[i]:.3f}, {s.st[i] + s.st_conf[i]:.3f}]")
    out.print(st)
    for note in s.notes:
        out.print(f"note: {escape(note)}")
    if dep is not None:
        dtab = Table(title=f"Importance of inputs for {name} under the scenario's "
                           f"correlations (joint draws, first {int(dep.attrs['draws']):,}; "
                           f"{float(dep.attrs['conf_level']):.0%} bootstrap intervals)",
                     title_justify="left")
        for col in ("input", "delta", "delta interval", "S1", "S1 interval"):
            dtab.add_column(col, justify="left" if col == "input" else "right")
        for i, n in enumerate(dep.input.values):
            dv, dc = float(dep.delta[i]), float(dep.delta_conf[i])
            sv, sc_ = float(dep.s1[i]), float(dep.s1_conf[i])
            dtab.add_row(str(n), f"{dv:.3f}", f"[{dv - dc:.3f}, {dv + dc:.3f}]", f"{sv:.3f}",
                         f"[{sv - sc_:.3f}, {sv + sc_:.3f}]")
        out.print(dtab)
    if d.tail_note:
        out.print(f"note: {d.tail_note}")
    dt = Table(title=f"Drivers of {d.event}: P = {d.p_event:.4f} ± {d.p_event_mcse:.4f} "
                     f"(MCSE), {d.n_event:,} of {d.n_draws:,} draws; ranked by KS distance",
               title_justify="left")
    for col in ("rank", "input", "median (all)", "median (event)", "shift",
                "shift / 90% width", "KS", "rank corr."):
        dt.add_column(col, justify="left" if col == "input" else "right")
    for i, n in enumerate(d.names):
        dt.add_row(str(i + 1), n, fmt.number(float(d.median_all[i]), 3),
                   fmt.number(float(d.median_event[i]), 3),
                   f"{d.shift[i]:+.3g}", f"{d.shift_fraction[i] * 100:+.1f}%",
                   f"{d.ks[i]:.3f}", f"{d.rank_corr[i]:+.2f}")
    out.print(dt)
    out.print(f"run folder: {res.run_dir}   ({draws:,} draws in {wall:.2f} s)")
    write_report(res.run_dir, report)


def figures(sc, res, se, plots) -> dict:
    """Tornado (p05/p95), the tornado at two ranges, spider, Sobol and drivers figures."""
    from probmodel.report.sensitivity import spider_from_draws

    t = res.tornado
    figs = {"tornado": plots.plot_tornado(t),
            "tornado_ranges": plots.plot_tornado_ranges(
                t, res.tornado_inner or se.tornado(sc, t.output, (0.10, 0.90)))}
    moving = [n for n, sw in zip(t.names, t.swing, strict=True) if sw > 0][:8]
    sp = spider_from_draws(res.dataset, t.output, moving)
    if sp.medians:
        figs["spider"] = plots.plot_spider(t.output, sp.percentiles, sp.medians, sp.overall,
                                           sc.title, sp.per_bin)
    figs["sobol"] = plots.plot_sobol(res.sobol)
    figs["drivers"] = plots.plot_drivers(res.drivers)
    if res.dependence is not None:
        figs["dependence"] = plots.plot_dependence(res.dependence)
    return figs
