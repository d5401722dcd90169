"""The engine catalog: a serving calibration's efficiencies per chip and engine, as priors.

``python -m probmodel.serving.engines CAL_DIR [--out priors/serving-engines.toml]`` writes
priors/serving-engines.toml from a serving calibration (``probmodel calibrate
priors/inferencex-evidence.toml``): for every catalog chip and the serving engines of its
vendor, the posterior predictive of each efficiency and constant of the physics, drawn
exactly as ``backtest`` draws a row's (an unseen chip from its generation's and
vendor's fitted effects and the chip spread, so H20 and H800, never benchmarked, get the
pooled, wider prior), and written as an ordinary parameter table: a Beta (shares) or a
LogNormal (times, factors) matched to the predictive 5% and 95% quantiles, its median as
the point value. A scenario picks an entry with ``chip = "H20"`` and ``engine =
"sglang"``.

Each parameter is a marginal: the calibration's posterior correlations between them
(a higher step overhead with a higher bandwidth efficiency, for one) are not carried
into a scenario, which draws them independently; ``serving_model_error`` carries the
calibration's residual error (the learned noise scale of throughput; of TTFT:
``serving_ttft_error``), so a scenario's
interval is for a deployment like the benchmark's, not only the model's mean.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

from probmodel import catalog
from probmodel.serving import hierarchy as H

#: Serving engines per vendor that a scenario can pick (the stacks InferenceX measures).
ENGINES = {"nvidia": ("sglang", "trt"), "amd": ("sglang", "atom")}
DRAWS = 4000


def predictive(post, chip: str, engine: str, seed: int = 0, n: int = DRAWS) -> dict:
    """Predictive draws of every efficiency and constant for ``engine`` on ``chip``.

    Returns
    -------
    dict
        scenario parameter name -> (n,) draws.
    """
    from probmodel.serving import fit

    meta = catalog.entry_meta("chip", chip)
    vendor = meta.get("vendor", "nvidia")
    gen = f"{vendor}-{meta.get('generation', chip)}"
    stack = f"{engine}-{vendor}"
    rng = np.random.default_rng(seed)
    total = next(iter(post.flat().values())).shape[0]
    take = rng.choice(total, size=n, replace=n > total)
    lab = {"chip": [chip], "vendor": [vendor], "generation": [gen], "stack": [stack]}
    z = fit._level_effects(post, lab, rng, n, take)
    share = [1.0 / (1.0 + np.exp(-zj[:, 0])) for zj in z]
    seen = post.names
    col = lambda name, labels, level, mean, sd: fit._per_stack(  # noqa: E731
        post, name, labels, seen[level], take, rng, mean, sd)[:, 0]
    d = post.flat()
    return {
        "serving_bw_efficiency": share[0], "serving_flops_efficiency": share[1],
        "serving_prefill_efficiency": share[2], "serving_comm_efficiency": share[3],
        "serving_step_overhead": np.exp(col("log_overhead", [stack], "stack",
                                            np.log(H.OVERHEAD_PRIOR_S), 0.7)),
        "serving_collective_latency": np.exp(col("log_latency", [vendor], "vendor",
                                                 np.log(H.LATENCY_PRIOR_S), 0.7)),
        "serving_ttft_fixed": np.exp(col("log_ttft_fixed", [stack], "stack",
                                         np.log(H.TTFT_PRIOR_S), 1.0)),
        "mtp_acceptance": 1.0 / (1.0 + np.exp(-col("accept_logit", [stack], "stack", 0.0, 1.0))),
        "mtp_draft_cost": d["draft_cost"][take],
        "serving_queue_factor": d["queue"][take],
        # the residual error of throughput: exp(noise), a new deployment's spread about
        # the model (Student-t in the fit; a LogNormal with the fitted scale here)
        "serving_model_error": np.exp((H.NOISE_FLOOR + d["noise_tput_per_gpu"][take])
                                      * rng.standard_t(H.STUDENT_DF, n)),
        "serving_ttft_error": np.exp((H.NOISE_FLOOR + d["noise_median_ttft"][take])
                                     * rng.standard_t(H.STUDENT_DF, n)),
    }


SHARES = ("serving_bw_efficiency", "serving_flops_efficiency", "serving_prefill_efficiency",
          "serving_comm_efficiency", "mtp_acceptance")
UNITS = {"serving_step_overhead": "s", "serving_collective_latency": "s",
         "serving_ttft_fixed": "s"}


def _table(name: str, x: np.ndarray, source: str) -> dict:
    q05, q50, q95 = (float(f"{v:.4g}") for v in np.quantile(x, [0.05, 0.5, 0.95]))
    if q95 <= q05:  # a constant the calibration pins down to 4 digits: widen by an ulp
        q95 = float(np.nextafter(q05, np.inf))
    if name in ("serving_model_error", "serving_ttft_error"):  # symmetric in log about 1
        half = float(f"{np.sqrt(np.log(q95) * -np.log(q05)):.4g}")
        q05, q50, q95 = float(f"{np.exp(-half):.4g}"), 1.0, float(f"{np.exp(half):.4g}")
    return {"dist": "Beta" if name in SHARES else "LogNormal", "p05": q05, "p95": q95,
            "point": q50, "unit": UNITS.get(name, "1"), "source": source}


def catalog_text(post, manifest: dict, seed: int = 0) -> str:
    """priors/serving-engines.toml from a serving calibration (posterior + manifest)."""
    rows = int(manifest.get("rows_used", post.rows_used))
    date = str(manifest.get("created_utc", ""))[:10] or dt.date.today().isoformat()
    lines = [
        "# Serving-engine catalog: what a scenario gets from `engine = \"NAME\"` with its",
        "# `chip = \"NAME\"` (or `--set engine=NAME`). Written by",
        "# `python -m probmodel.serving.engines CAL_DIR` from a serving calibration",
        f"# (probmodel calibrate priors/inferencex-evidence.toml: {rows:,} InferenceX rows of",
        "# DeepSeek-R1; docs/validation.md). Each table is the posterior predictive of one",
        "# efficiency or constant of the physics for that chip and engine, as a Beta or",
        "# LogNormal matched to its 5% and 95% quantiles (point: the median). Chips the",
        "# benchmark never measured get the pooled prediction of their generation and",
        "# vendor, wider. Marginals: the fit's correlations between them are not kept.",
        "# Do not edit by hand; re-run the command after a new calibration.",
        "",
    ]
    for chip in catalog.entries("chip"):
        vendor = catalog.entry_meta("chip", chip).get("vendor", "nvidia")
        for engine in ENGINES[vendor]:
            draws = predictive(post, chip, engine, seed)
            seen_chip = chip in post.names["chip"]
            seen_stack = f"{engine}-{vendor}" in post.names["stack"]
            how = ("fitted on its rows" if seen_chip else
                   "no rows: pooled over its generation and vendor")
            eng_how = "" if seen_stack else "; engine never measured: its prior"
            lines.append(f'[engines."{chip}/{engine}"]')
            lines.append(f'description = "{engine} on {chip}: InferenceX calibration, '
                         f'{how}{eng_how}"')
            lines.append("")
            for name, x in draws.items():
                src = (f"InferenceX calibration ({rows:,} rows, {date}): posterior "
                       f"predictive for {engine} on {chip} ({how}{eng_how}), 5-95%")
                t = _table(name, x, src)
                lines.append(f'[engines."{chip}/{engine}".{name}]')
                for k in ("dist", "p05", "p95", "point"):
                    v = t[k]
                    lines.append(f"{k} = {v!r}" if isinstance(v, float) else f'{k} = "{v}"')
                lines.append(f'unit = "{t["unit"]}"')
                lines.append(f'source = "{t["source"]}"')
                lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the engine catalog from a calibration folder."""
    from probmodel.errors import ProbmodelError
    from probmodel.serving import output

    ap = argparse.ArgumentParser(prog="python -m probmodel.serving.engines",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("calibration", help="a serving calibration run folder")
    ap.add_argument("--out", default=str(catalog.CATALOG_DIR / "serving-engines.toml"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        post, man = output.load(a.calibration)
    except ProbmodelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = catalog_text(post, man, a.seed)
    out = Path(a.out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out} ({text.count('description = ')} chip/engine entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
