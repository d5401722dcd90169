"""``probmodel backtest``: score the serving model against measured benchmark rows.

Also holds the serving branch of ``probmodel calibrate`` (a scenario with a
``[measurements]`` table), which :mod:`probmodel.commands.calibrate` hands over to.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from probmodel.cli import JsonOpt, OutOpt, QuietOpt, app, err, out

CvOpt = Annotated[str | None, typer.Option(
    "--cv", help="'chip': refit leaving each accelerator of the file out and predict its "
    "rows from the others (how an accelerator never measured is predicted).")]
CalOpt = Annotated[Path, typer.Option(
    "--calibration", help="A serving calibration run folder (probmodel calibrate "
    "priors/inferencex-evidence.toml).", show_default=False)]
DrawsOpt = Annotated[int, typer.Option("--draws", help="Posterior-predictive draws per row.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same answer).")]
CV_KINDS = ("chip",)
#: Host devices for the refits' parallel chains (the calibration's 4 by default).
CV_DEVICES = 4
METRIC_SHORT = {"tput_per_gpu": "tput/GPU", "median_tpot": "TPOT", "median_ttft": "TTFT",
                "median_intvty": "interactivity"}


@app.command()
def backtest(measurements: Annotated[Path, typer.Argument(
                 help="Benchmark CSV (InferenceX columns; docs/validation.md).",
                 show_default=False)],
             calibration: CalOpt, cv: CvOpt = None, out_dir: OutOpt = None,
             json_: JsonOpt = False, draws: DrawsOpt = 1000, seed: SeedOpt = 0,
             quiet: QuietOpt = False) -> int:
    """Predict each measured row with 90% intervals and score the predictions.

    Per accelerator and overall: median |log(predicted/measured)|, share within +-25%,
    coverage of the 90% interval and the mean interval score, for throughput per GPU,
    TPOT, TTFT and interactivity. Rows the model cannot express are listed with their
    reason in predictions.csv, never dropped.
    """
    from probmodel import checks, runs

    if cv is not None and cv not in CV_KINDS:
        raise typer.BadParameter(f"unknown cross-validation '{cv}' (known: "
                                 f"{', '.join(CV_KINDS)})", param_hint="'--cv'")
    if not 1 <= draws <= 100_000:
        raise typer.BadParameter(f"{draws} is not in 1..100000", param_hint="'--draws'")
    checks.check_draws_seed(draws, seed)
    runs.check_out_dir(out_dir)
    if cv is not None:
        import numpyro
        # one XLA host device per chain so the refits' chains run in parallel; only
        # takes effect before JAX starts its backend, so before anything touches JAX
        numpyro.set_host_device_count(CV_DEVICES)
    from probmodel.serving import measurements as M
    from probmodel.serving import output
    post, man = output.load(calibration)
    scale = float(man.get("length_scale", 1.0))
    meas = M.read(measurements, scale)
    from probmodel.progress import progress
    from probmodel.serving import fit

    t0 = time.perf_counter()
    chips = np.array(meas.chip)
    if cv is None:
        with progress(None, "predicting", quiet=quiet or json_):
            q = fit.quantiles(fit.predict(post, meas, seed=seed, n_draws=draws))
        full = output.full_rows(meas, q, meas.ok)
        folds = None
        fits = []
    else:
        base = M.read(Path(calibration) / "measurements.csv", scale)
        left = list(dict.fromkeys(chips[meas.ok]))
        full = {f"{k}_q{p}": np.full(len(meas), np.nan) for k in M.METRICS
                for p in ("05", "50", "95")}
        folds = [""] * len(meas)
        fits = []
        s = post.settings
        with progress(len(left), "leave-one-accelerator-out refits", unit="fits",
                      quiet=quiet or json_) as update:
            for i, chip in enumerate(left):
                keep = np.array(base.chip) != chip
                if not (keep & base.ok).any():
                    raise typer.BadParameter(f"no rows left to fit once {chip} is left out",
                                             param_hint="'--cv'")
                update.phase(f"fit {i + 1}/{len(left)}: leaving out {chip} (NUTS)", len(left))
                update(i)
                p = fit.calibrate(base, keep, chains=s["chains"], warmup=s["warmup"],
                                  samples=s["samples"], seed=s["seed"],
                                  chain_method=s.get("chain_method", "parallel"))
                fits.append({"left_out": chip, "rows_fitted": p.rows_used,
                             "seconds": round(p.seconds, 1), **p.diagnostics})
                test = chips == chip
                q = fit.quantiles(fit.predict(p, meas, test, seed=seed, n_draws=draws))
                sel = meas.ok & test
                for k, v in q.items():
                    full[k][sel] = v
                for j in np.flatnonzero(test):
                    folds[j] = chip
            update(len(left))
    wall = time.perf_counter() - t0
    measured = {k: meas.measured[k] for k in M.METRICS if k in meas.measured}
    from probmodel.serving import scores
    table = scores.table(measured, full, chips, M.METRICS, meas.ok)
    preds = output.predictions_table(meas, full, folds)
    title = ("Leave-one-accelerator-out predictions vs measurements (median and 90% interval)"
             if cv else "Posterior-predictive vs measurements (median and 90% interval)")

    def figures():
        from probmodel.plots.serving import plot_predicted_vs_measured
        return {"predicted_vs_measured": plot_predicted_vs_measured(
            measured, full, chips, meas.ok, [k for k in M.METRICS if k in measured], title)}

    from probmodel.serving.output import KIND
    tree = output.backtest_tree(
        Path(measurements).stem, preds, table, fits, wall,
        {"calibration_run": str(calibration), "cv": cv, "seed": seed, "draws": draws,
         "measurements": Path(measurements).name,
         "measurements_sha256": runs.sha256(Path(measurements)), "length_scale": scale,
         "serving": KIND})
    run_dir = runs.write(tree, figures, out=out_dir)
    summary = output.backtest_outputs(tree).summary_json
    if json_:
        out.print_json(json.dumps(runs.clean({**summary, "run_dir": str(run_dir)})))
    else:
        _print(table, {**summary, "fits": fits}, run_dir, wall)  # NaN kept for printing
    return 0


def _print(table, summary, run_dir, wall) -> None:
    cv = summary["cv"]
    t = Table(title=("Leave-one-accelerator-out backtest" if cv else "Backtest (in sample)")
              + ": median |log error|, within ±25%, 90% coverage, interval score",
              title_justify="left")
    for col in ("accelerator", "metric", "rows", "med |log|", "±25%", "cov 90%", "IS",
                "width x/÷"):
        t.add_column(col, justify="left" if col in ("accelerator", "metric") else "right")
    for r in table.to_dict("records"):
        if r["rows"] == 0:
            continue
        t.add_row(r["group"], METRIC_SHORT[r["metric"]], str(r["rows"]),
                  f"{r['median_abs_log_error']:.3f}", f"{r['within_25pct']:.0%}",
                  f"{r['coverage_90']:.0%}", f"{r['interval_score']:.2f}",
                  f"{r['median_width']:.2f}")
    out.print(t)
    skipped = {k: v for k, v in summary["status"].items() if k != "predicted"}
    out.print(f"{summary['predicted']} of {summary['rows']} rows predicted"
              + (": not predicted " + "; ".join(f"{v} {k}" for k, v in skipped.items())
                 if skipped else ""))
    for f in summary["fits"]:
        out.print(f"  fit without {f['left_out']}: {f['rows_fitted']} rows, r-hat "
                  f"{f['max_r_hat']:.3f}, ESS bulk/tail {f['min_ess_bulk']:.0f}/"
                  f"{f['min_ess_tail']:.0f}, {f['divergences']} div: "
                  f"{'OK' if f['ok'] else 'FAILED'}, {f['seconds']:.0f} s")
    out.print(f"run folder: {run_dir}   ({wall:.1f} s)")


def calibrate_serving(sc, chains: int, warmup: int, samples: int, seed: int,
                      out_dir: Path | None, json_: bool, quiet: bool, chain_method: str) -> int:
    """``probmodel calibrate`` on a scenario with ``[measurements]``: the serving hierarchy."""
    from probmodel import calibration as cal_mod
    from probmodel import runs
    from probmodel.progress import progress
    from probmodel.serving import fit, output, scores
    from probmodel.serving import measurements as M

    spec = sc.measurements
    meas = M.read(spec.path, spec.length_scale)
    method = cal_mod.resolve_chain_method(chain_method, chains)
    t0 = time.perf_counter()
    with progress(None, "serving calibration: compiling and sampling (NUTS)", unit="steps",
                  quiet=quiet or json_) as update:
        def on(phase, done, total):
            if phase != update.what:
                update.phase(f"{phase} ({chains} chains, {int(meas.ok.sum())} rows)", total)
            update(done)
        post = fit.calibrate(meas, chains=chains, warmup=warmup, samples=samples, seed=seed,
                             chain_method=method, progress=on)
    q = fit.quantiles(fit.predict(post, meas, seed=seed))
    full = output.full_rows(meas, q, meas.ok)
    measured = {k: meas.measured[k] for k in M.METRICS if k in meas.measured}
    table = scores.table(measured, full, meas.chip, M.METRICS, meas.ok)
    eff = output.efficiencies_table(post)
    d = post.diagnostics

    def figures():
        from probmodel.plots.serving import plot_predicted_vs_measured
        return {"predicted_vs_measured": plot_predicted_vs_measured(
            measured, full, meas.chip, meas.ok, [k for k in M.METRICS if k in measured],
            f"{sc.title}: posterior predictive vs measured (in sample, 90% intervals)")}

    tree = output.calibration_tree(sc, post, meas, output.predictions_table(meas, full),
                                   table, eff)
    run_dir = runs.write(tree, figures, scenarios=[sc],
                         copies={"measurements.csv": spec.path}, out=out_dir)
    summary = output.calibration_outputs(tree).summary_json
    wall = time.perf_counter() - t0
    if json_:
        out.print_json(json.dumps(runs.clean({**summary, "run_dir": str(run_dir)})))
    else:
        t = Table(title=f"{sc.title}: efficiencies (share of the chip's specification, "
                  "median [90% interval])", title_justify="left")
        for col in ("chip", "HBM bandwidth", "FLOPs", "prefill FLOPs", "links"):
            t.add_column(col, justify="left" if col == "chip" else "right")
        q = eff.set_index(["level", "name", "quantity"])

        def cell(level, name, kind):
            r = q.loc[(level, name, f"{kind}_efficiency")]
            return f"{r.q50:.2f} [{r.q05:.2f}, {r.q95:.2f}]"
        from probmodel.serving.measurements import chip_constants
        for chip in post.names["chip"]:
            vendor = chip_constants(chip)["vendor"]
            t.add_row(chip, cell("chip", chip, "bw"), cell("chip", chip, "flops"),
                      cell("vendor", vendor, "prefill"), cell("vendor", vendor, "comm"))
        out.print(t)
        out.print("prefill FLOPs and links vary by vendor only; bandwidth and FLOPs also by "
                  "serving engine (efficiencies.csv)")
        allrows = table[table.group == "all"].set_index("metric")
        out.print("in sample: " + ", ".join(
            f"{METRIC_SHORT[k]} median |log error| {allrows.loc[k, 'median_abs_log_error']:.3f}"
            f" (90% coverage {allrows.loc[k, 'coverage_90']:.0%})"
            for k in M.METRICS if k in allrows.index))
        out.print(f"NUTS: {chains} chains x ({warmup} warm-up + {samples} draws), {method}; "
                  f"{post.rows_used} of {len(meas)} rows fitted; max r-hat "
                  f"{d['max_r_hat']:.4f}, min ESS bulk {d['min_ess_bulk']:.0f} / tail "
                  f"{d['min_ess_tail']:.0f}, {d['divergences']} divergences: "
                  f"{'OK' if d['ok'] else 'FAILED'}")
        out.print(f"run folder: {run_dir}   ({wall:.1f} s)")
    if not d["ok"]:
        err.print("error: diagnostics failed: the serving posterior is not reliable (run "
                  f"folder kept as evidence: {run_dir}); try more --warmup/--samples",
                  markup=False)
        raise typer.Exit(3)
    return 0
