"""``probmodel project``: a scenario's [projection] over years, with fan charts."""

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

DrawsOpt = Annotated[int, typer.Option("--draws", "-n", help="Monte Carlo paths.")]


@app.command()
def project(scenario: ScenarioArg, draws: DrawsOpt = 50_000, seed: SeedOpt = 0,
            set_: SetOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False,
            report: ReportOpt = False, quiet: QuietOpt = False,
            event: EventOpt = None) -> None:
    """Project a scenario over the years of its [projection] table; fan charts per year.

    With --event, P(event) ± MCSE in every year.
    """
    sc = load(scenario, set_)  # a bad file is reported before JAX is imported
    from probmodel import checks, runs
    from probmodel.analysis.targets import parse_events

    events = parse_events(event, sc)
    checks.check_draws_seed(draws, seed)  # bad flags too: before the heavy imports
    checks.check_projection(sc)
    runs.check_out_dir(out_dir)
    from probmodel import fmt
    from probmodel.analysis import projection as pj
    from probmodel.plots import projection as plots
    from probmodel.progress import progress

    t0 = time.perf_counter()
    with progress(draws, "projecting", unit="paths", quiet=quiet or json_) as update:
        res = pj.project(sc, draws, seed, progress=update, events=events)
    t = pj.to_tree(sc, res)
    res.run_dir = runs.write(t, lambda: figures(sc, res, pj, plots), scenarios=[sc],
                             out=out_dir)
    wall = time.perf_counter() - t0
    s = res.summary
    if json_:
        files = pj.outputs(t).json  # summary.json, the run folder, the point path
        summ = files["summary.json"]
        print_json({**{k: summ[k] for k in ("scenario", "draws", "seed")},
                    "run_dir": str(res.run_dir), **summ, "point_path": {
                        k: v for k, v in files["point_path.json"].items() if k != "years"}})
        write_report(res.run_dir, report, json_=True)
        return
    names = [k for k in pj.fan_outputs(res.dataset) if k in s]
    t = Table(title=f"{sc.title}: {draws:,} paths, seed {seed}; median [90% interval]",
              title_justify="left")
    t.add_column("year", justify="right")
    for k in names:
        t.add_column(f"{k} ({fmt.scale_for(k)[1]})", justify="right")
    if "p_profitable" in s:
        t.add_column("P(profit > 0) ± MCSE", justify="right")
    labels = [str(x) for x in s["event"].values] if "p_event" in s else []
    for lab in labels:
        t.add_column(f"P({lab}) ± MCSE", justify="right")
    for year in s["year"].values:
        row = [str(year)]
        for k in names:
            st = s[k].sel(year=year)
            row.append(f"{fmt.show(k, float(st.sel(stat='q50')))} "
                       f"[{fmt.show(k, float(st.sel(stat='q05')))}, "
                       f"{fmt.show(k, float(st.sel(stat='q95')))}]")
        if "p_profitable" in s:
            row.append(f"{float(s['p_profitable'].sel(year=year)):.4f} ± "
                       f"{float(s['p_profitable_mcse'].sel(year=year)):.4f}")
        for lab in labels:
            row.append(f"{float(s['p_event'].sel(year=year, event=lab)):.4f} ± "
                       f"{float(s['p_event_mcse'].sel(year=year, event=lab)):.4f}")
        t.add_row(*row)
    out.print(t)
    if "p_cap_binds" in s:
        out.print(supply_table(s, res.dataset.attrs["capped_fleet"]))
    if "cost_per_mtok" in s and "revenue_per_mtok" in s:
        out.print(per_token_table(s))
    out.print(f"run folder: {res.run_dir}   ({draws:,} paths in {wall:.2f} s)")
    write_report(res.run_dir, report)


def _interval(s, k, year, scale=1.0, fmt="{:,.0f}") -> str:
    st = s[k].sel(year=year)
    q = [float(st.sel(stat=x)) / scale for x in ("q50", "q05", "q95")]
    return f"{fmt.format(q[0])} [{fmt.format(q[1])}, {fmt.format(q[2])}]"


def supply_table(s, fleet: str) -> Table:
    """Per year: the cap, the chips demanded, the capped fleet, share served, P(cap binds)."""
    t = Table(title="Supply cap: chips that can be had per year (thousand chips), "
                    "median [90% interval]", title_justify="left")
    for col in ("year", "supply cap", "demanded", f"{fleet} (capped)", "served (mean)",
                "P(cap binds) ± MCSE"):
        t.add_column(col, justify="right")
    for year in s["year"].values:
        t.add_row(str(year), _interval(s, "supply_cap", year, 1e3),
                  _interval(s, "chips_demanded", year, 1e3), _interval(s, fleet, year, 1e3),
                  f"{100 * float(s['served_share'].sel(year=year, stat='mean')):.1f}%",
                  f"{float(s['p_cap_binds'].sel(year=year)):.4f} ± "
                  f"{float(s['p_cap_binds_mcse'].sel(year=year)):.4f}")
    return t


def per_token_table(s) -> Table:
    """Per year: cost and revenue per 1M tokens served."""
    t = Table(title="Per 1M tokens served (USD, all classes), median [90% interval]",
              title_justify="left")
    for col in ("year", "cost", "revenue"):
        t.add_column(col, justify="right")
    for year in s["year"].values:
        t.add_row(str(year), _interval(s, "cost_per_mtok", year, fmt="{:.3f}"),
                  _interval(s, "revenue_per_mtok", year, fmt="{:.3f}"))
    return t


def figures(sc, res, pj, plots) -> dict:
    """Fan charts, P(profit > 0) per year, cost and revenue per 1M tokens by year.

    A fan chart per key output and all of them together.
    """
    fans = pj.fans(sc, res)
    s = res.summary
    p = s["p_profitable"].values if "p_profitable" in s else None
    se = s["p_profitable_mcse"].values if "p_profitable" in s else None
    figs = {f"fan_{f.name}": plots.plot_fan(f) for f in fans}
    if fans:
        figs["fans"] = plots.plot_fans(fans, p, se)
    if p is not None:
        figs["p_profitable"] = plots.plot_probability_by_year(
            [int(y) for y in s["year"].values], p, se, title=sc.title)
    per_token = pj.per_token_fans(sc, res)
    if per_token is not None:
        served = (s["served_share"].sel(stat="mean").values if "served_share" in s else None)
        figs["cost_revenue_per_mtok"] = plots.plot_cost_revenue_per_mtok(*per_token, served)
    return figs
