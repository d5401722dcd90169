"""``probmodel stress``: the outputs when an input sits in a percentile band."""

from __future__ import annotations

import time
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

BandOpt = Annotated[list[str], typer.Option(
    "--band", help="A stressed case NAME=LO:HI: the draws with NAME between its LO-th and "
    "HI-th percentile (e.g. pay_rate=0:10, its bottom decile). Repeatable.",
    show_default=False)]
DrawsOpt = Annotated[int, typer.Option("--draws", "-n", help="Monte Carlo draws of the base.")]
#: draws.nc keeps every draw up to this many, an evenly thinned subset beyond (as run).
KEEP_DRAWS = 1 << 18


@app.command()
def stress(scenario: ScenarioArg, band: BandOpt, draws: DrawsOpt = 200_000,
           seed: SeedOpt = 0, set_: SetOpt = None, out_dir: OutOpt = None,
           json_: JsonOpt = False, report: ReportOpt = False,
           quiet: QuietOpt = False, event: EventOpt = None) -> None:
    """Stress tests: P(profit > 0), quantiles and expected shortfall per percentile band.

    With --event, P(event) ± MCSE in every case and its difference to the base.
    """
    sc = load(scenario, set_)
    from probmodel import checks, runs
    from probmodel.analysis.targets import parse_events

    events = parse_events(event, sc)
    checks.check_draws_seed(draws, seed)  # bad flags too: before the heavy imports
    runs.check_out_dir(out_dir)
    from probmodel.analysis import stress as st
    from probmodel.model import plan
    from probmodel.progress import progress

    outputs = [n.name for n in plan(set(sc.parameters) | {"prices"})]
    bands = [st.parse_band(b, list(sc.uncertain), list(sc.fixed), outputs) for b in band]
    st.check_size(bands, draws)
    t0 = time.perf_counter()
    with progress(draws, "sampling", unit="draws", quiet=quiet or json_) as update:
        res, ds = st.run(sc, bands, draws, seed, progress=update, events=events)
    from probmodel.plots.stress import plot_stress

    tree = st.to_tree(sc, res, ds, draws, seed, time.perf_counter() - t0, KEEP_DRAWS)
    run_dir = runs.write(tree, lambda: {"stress": plot_stress(res)}, scenarios=[sc],
                         out=out_dir)
    wall = time.perf_counter() - t0
    if json_:
        body = st.outputs(tree).summary_json  # summary.json, and where it was written
        head = {k: body.pop(k) for k in ("scenario", "draws", "seed")}
        print_json({**head, "run_dir": str(run_dir), **body})
        write_report(run_dir, report, json_=True)
        return
    _print_tables(sc, res, bands, draws, seed)
    out.print(f"run folder: {run_dir}   ({draws:,} draws in {wall:.2f} s)")
    write_report(run_dir, report)


def _print_tables(sc, res, bands, draws: int, seed: int) -> None:
    from rich.text import Text

    from probmodel import fmt

    t = Table(title=f"{sc.title}: stress test, {draws:,} draws, seed {seed}; each case is "
                    "the subset of those draws with the input in its band (± MCSE)",
              title_justify="left")
    profit = "p_profitable" in res
    labels = [str(x) for x in res["event"].values] if "p_event" in res else []
    cols = ("case", "input range", "draws", *(("P(profit > 0)", "difference to base")
                                               if profit else ()),
            *(x for lab in labels for x in (f"P({lab})", "difference to base ")))
    for c in cols:
        t.add_column(c, justify="left" if c in ("case", "input range") else "right")
    for i, label in enumerate(res["band"].values):
        r = res.isel(band=i)
        rng = "" if i == 0 else (f"{fmt.number(float(r.band_lo_value), 4)} to "
                                 f"{fmt.number(float(r.band_hi_value), 4)}")
        row = [Text(str(label)), rng, f"{int(r.n_draws):,}"]
        if profit:
            row.append(f"{float(r.p_profitable):.4f} ± {float(r.p_profitable_mcse):.4f}")
            row.append("" if i == 0 else (f"{float(r.p_profitable_diff):+.4f} ± "
                                          f"{float(r.p_profitable_diff_mcse):.4f}"))
        for j in range(len(labels)):
            row.append(f"{float(r.p_event[j]):.4f} ± {float(r.p_event_mcse[j]):.4f}")
            row.append("" if i == 0 else (f"{float(r.p_event_diff[j]):+.4f} ± "
                                          f"{float(r.p_event_diff_mcse[j]):.4f}"))
        t.add_row(*row)
    out.print(t)
    names = [n for n in ("margin", "profit") if n in res] or res.attrs["outputs"].split(", ")[:2]
    # the bad tail: low for money earned, high for chips (demand) and cost
    tail = "es05" if profit else "es95"
    side = "worst 5%" if profit else "highest 5%"
    q = Table(title=f"Outputs per case: quantiles, {tail} (mean of the {side} of the case) "
                    f"and the difference of the median and {tail} to the base (± MCSE)",
              title_justify="left")
    for c in ("case", "output", "q05", "q50", "q95", tail, "Δ q50", f"Δ {tail}"):
        q.add_column(c, justify="left" if c in ("case", "output") else "right")
    for i, label in enumerate(res["band"].values):
        for name in names:
            v, d, dse = (res[k].isel(band=i) for k in (name, f"{name}_diff", f"{name}_diff_mcse"))

            def diff(s, d=d, dse=dse, name=name):
                return (f"{fmt.show(name, float(d.sel(stat=s)))} ± "
                        f"{fmt.show(name, float(dse.sel(stat=s)), 2)}")

            stats = ("q05", "q50", "q95", tail)
            q.add_row(Text(str(label)), fmt.label(name),
                      *(fmt.show(name, float(v.sel(stat=s))) for s in stats),
                      "" if i == 0 else diff("q50"), "" if i == 0 else diff(tail))
    out.print(q)
