"""``probmodel project``: a scenario's [projection] over years, with fan charts."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.table import Table

from probmodel.cli import JsonOpt, OutOpt, ScenarioArg, SeedOpt, SetOpt, _load, _progress, app, out

DrawsOpt = Annotated[int, typer.Option("--draws", "-n", help="Monte Carlo paths.")]


@app.command()
def project(scenario: ScenarioArg, draws: DrawsOpt = 50_000, seed: SeedOpt = 0,
            set_: SetOpt = None, out_dir: OutOpt = None, json_: JsonOpt = False) -> None:
    """Project a scenario over the years of its [projection] table; fan charts per year."""
    from probmodel import fmt, io, sampling
    from probmodel.analysis import projection as pj

    sc = _load(scenario, set_)
    pj.load_projection(sc)
    sampling.check_draws_seed(draws, seed)
    io.check_out_dir(out_dir)
    t0 = time.perf_counter()
    with _progress(draws, enabled=not json_) as progress:
        res = pj.run(sc, draws, seed, out_dir, progress=progress)
    wall = time.perf_counter() - t0
    s = res.summary
    if json_:
        out.print_json(json.dumps({"scenario": sc.name, "draws": draws, "seed": seed,
                                   "run_dir": str(res.run_dir), **pj.json_summary(s),
                                   "point_path": res.point}))
        return
    names = [k for k in pj.FAN_OUTPUTS if k in s["summary"]]
    t = Table(title=f"{sc.title}: {draws:,} paths, seed {seed}; median [90% interval]",
              title_justify="left")
    t.add_column("year", justify="right")
    for k in names:
        t.add_column(f"{k} ({fmt.scale_for(k)[1]})", justify="right")
    if "p_profitable" in s:
        t.add_column("P(profit > 0) ± MCSE", justify="right")
    for i, year in enumerate(s["years"]):
        row = [str(year)]
        for k in names:
            st = s["summary"][k][i]
            row.append(f"{fmt.show(k, st['q50'])} [{fmt.show(k, st['q05'])}, "
                       f"{fmt.show(k, st['q95'])}]")
        if "p_profitable" in s:
            row.append(f"{s['p_profitable'][i]:.4f} ± {s['p_profitable_mcse'][i]:.4f}")
        t.add_row(*row)
    out.print(t)
    out.print(f"run folder: {res.run_dir}   ({draws:,} paths in {wall:.2f} s)")
