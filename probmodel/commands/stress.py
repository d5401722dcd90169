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
#: draws.nc keeps every draw up to this many, an evenly thinned subset beyond.
KEEP_DRAWS = 1 << 20


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
    run_dir = write_run(sc, res, ds, draws, seed, out_dir, time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    if json_:
        print_json({"scenario": sc.name, "draws": draws, "seed": seed,
                    "run_dir": str(run_dir), **st_json(res)})
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


def st_json(res) -> dict:
    """The public JSON form: per case its band, draws, P(profit > 0) and statistics."""
    from probmodel.analysis.stress import STATS

    cases = {}
    for i, label in enumerate(res["band"].values):
        r = res.isel(band=i)
        case = {"variable": str(r.band_variable.values) or None,
                "percentiles": [float(r.band_lo), float(r.band_hi)],
                "values": [float(r.band_lo_value), float(r.band_hi_value)] if i else None,
                "draws": int(r.n_draws)}
        if "p_profitable" in res:
            for k in ("p_profitable", "p_profitable_mcse", "p_profitable_diff",
                      "p_profitable_diff_mcse"):
                case[k] = float(r[k])
        if "p_event" in res:
            case["events"] = [
                {"event": str(lab), "output": str(r.event_output.values[j]),
                 "statistic": str(r.event_statistic.values[j]), "p": float(r.p_event[j]),
                 "mcse": float(r.p_event_mcse[j]), "diff": float(r.p_event_diff[j]),
                 "diff_mcse": float(r.p_event_diff_mcse[j])}
                for j, lab in enumerate(res["event"].values)]
        case["summary"] = {
            var: {**{s: float(r[var].sel(stat=s)) for s in STATS},
                  **{f"mcse_{s}": float(r[f"{var}_mcse"].sel(stat=s)) for s in STATS},
                  **{f"diff_{s}": float(r[f"{var}_diff"].sel(stat=s)) for s in STATS},
                  **{f"mcse_diff_{s}": float(r[f"{var}_diff_mcse"].sel(stat=s))
                     for s in STATS}}
            for var in res.attrs["outputs"].split(", ") if var}
        cases[str(label)] = case
    return {"cases": cases}


def summary_frame(res):
    """Tidy table: case, variable, statistic, value, mcse, diff, diff_mcse, units."""
    import pandas as pd

    rows = []
    for var in [v for v in res.data_vars if f"{v}_mcse" in res and "stat" in res[v].dims
                and not v.endswith("_diff")]:
        for label in res["band"].values:
            for s in res["stat"].values:
                sel = {"band": label, "stat": s}
                rows.append({"case": str(label), "variable": var, "statistic": str(s),
                             "value": float(res[var].sel(sel)),
                             "mcse": float(res[f"{var}_mcse"].sel(sel)),
                             "diff": float(res[f"{var}_diff"].sel(sel)),
                             "diff_mcse": float(res[f"{var}_diff_mcse"].sel(sel)),
                             "units": res[var].attrs.get("units", "")})
    if "p_profitable" in res:
        for label in res["band"].values:
            r = res.sel(band=label)
            rows.append({"case": str(label), "variable": "profit", "statistic": "p_gt_0",
                         "value": float(r.p_profitable), "mcse": float(r.p_profitable_mcse),
                         "diff": float(r.p_profitable_diff),
                         "diff_mcse": float(r.p_profitable_diff_mcse), "units": "1"})
    if "p_event" in res:
        for label in res["band"].values:
            r = res.sel(band=label)
            for j in range(res.sizes["event"]):
                rows.append({"case": str(label), "variable": str(r.event_output.values[j]),
                             "statistic": str(r.event_statistic.values[j]),
                             "value": float(r.p_event[j]), "mcse": float(r.p_event_mcse[j]),
                             "diff": float(r.p_event_diff[j]),
                             "diff_mcse": float(r.p_event_diff_mcse[j]), "units": "1"})
    return pd.DataFrame(rows)


def write_run(sc, res, ds, draws: int, seed: int, out_dir, seconds: float):
    """The run folder: stress.nc (the result), draws.nc, summary CSV/JSON, figure."""
    import xarray as xr

    from probmodel import runs, sampling
    from probmodel.plots.stress import plot_stress

    stride = -(-draws // KEEP_DRAWS)  # draws.nc keeps at most ~KEEP_DRAWS draws, as run does
    if stride > 1:
        ds = ds.isel(draw=slice(None, None, stride))
        ds.attrs["thinned"] = f"every {stride}th of {draws} draws"
    return runs.write(runs.Run(
        kind="stress", label=sc.name, salt=f"stress{seed}{draws}{res.attrs['bands']}",
        scenarios=[sc],
        netcdf={"stress.nc": res, "draws.nc": xr.DataTree.from_dict({"prior": ds})},
        tables={"summary.csv": summary_frame(res)},
        summary_json={"scenario": sc.name, "draws": draws, "seed": seed, **st_json(res)},
        figures=lambda: {"stress": plot_stress(res)},
        manifest=dict(
            method="forward Monte Carlo (iid); cases are subsets of the same draws",
            seed=seed, draws=draws, chunk_size=sampling.CHUNK,
            bands=res.attrs["bands"].split(", "), mcse_method=res.attrs["mcse_method"],
            events=[str(x) for x in res["event"].values] if "p_event" in res else [],
            draws_kept=int(ds.sizes["draw"]), kept_stride=stride, seconds=round(seconds, 3)),
    ), out_dir)
