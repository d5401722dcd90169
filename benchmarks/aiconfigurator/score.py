"""Score predictions of the InferenceX DeepSeek-R1 measurements per hardware x serving mode.

Plain numpy/pandas; runs from the project's .venv:

    .venv/bin/python benchmarks/aiconfigurator/score.py [MEASUREMENTS_CSV] [--predicted CSV]

For each group and metric it reports the rows predicted out of the rows measured, the
median |log(predicted / measured)| and the share of predicted rows within +-25% of the
measurement (0.75 <= predicted / measured <= 1.25). ``score`` is importable so other
predictions (probmodel's: columns ``<metric>_q50``) are scored the same way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CSV = Path("data/inferencex/dsr1-measurements.csv")
FALLBACK_CSV = Path("../shared/data/inferencex/dsr1-measurements.csv")
DEFAULT_PREDICTED = REPO / "benchmarks" / "results" / "aiconfigurator-dsr1.csv"
METRICS = ("tput_per_gpu", "median_tpot", "median_ttft")
HARDWARE_ORDER = ("h200", "b200", "gb200", "mi300x", "mi355x")


def _mode(disagg: pd.Series) -> pd.Series:
    flag = disagg.astype(str).str.strip().str.lower().isin(("true", "1", "yes"))
    return flag.map({True: "disagg", False: "agg"})


def _align(measured: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Predictions reindexed onto the measured rows (by a `row` column, else by index)."""
    pred = predicted.set_index("row") if "row" in predicted.columns else predicted
    if pred.index.has_duplicates:
        raise ValueError("predicted has more than one row for a measured row")
    return pred.reindex(measured.index)


def _stats(meas: np.ndarray, pred: np.ndarray) -> dict:
    valid_meas = np.isfinite(meas) & (meas > 0)
    ok = valid_meas & np.isfinite(pred) & (pred > 0)
    n = int(ok.sum())
    if n == 0:
        nan = np.nan
        return {
            "predicted": 0,
            "rows": int(valid_meas.sum()),
            "median_abs_log": nan,
            "within_25": nan,
            "median_log": nan,
        }
    ratio = pred[ok] / meas[ok]
    return {
        "predicted": n,
        "rows": int(valid_meas.sum()),
        "median_abs_log": float(np.median(np.abs(np.log(ratio)))),
        "median_log": float(np.median(np.log(ratio))),
        "within_25": float(np.mean((ratio >= 0.75) & (ratio <= 1.25))),
    }


def score(measured: pd.DataFrame, predicted: pd.DataFrame, metrics=METRICS) -> pd.DataFrame:
    """One line per (group, metric): predicted, rows, median_abs_log, within_25, median_log.

    measured: the InferenceX CSV (hardware, disagg and the metric columns). predicted: one
    row per measured row, matched by a `row` column (0-based index into measured) or by
    index, with columns `<metric>_q50`; missing or non-positive predictions count as not
    predicted. median_log (signed) is the bias: > 0 predicts high. Groups: each hardware x
    agg/disagg present, NVIDIA (h200, b200, gb200) agg, disagg and all, and all rows.
    """
    pred = _align(measured, predicted)
    hardware = measured["hardware"].astype(str)
    mode = _mode(measured["disagg"])
    nvidia = hardware.isin(("h200", "b200", "gb200"))
    groups: list[tuple[str, str, pd.Series]] = []
    order = [h for h in HARDWARE_ORDER if h in set(hardware)] + sorted(
        set(hardware) - set(HARDWARE_ORDER)
    )
    for h in order:
        for m in ("agg", "disagg"):
            mask = (hardware == h) & (mode == m)
            if mask.any():
                groups.append((h, m, mask))
    groups += [
        ("nvidia", "agg", nvidia & (mode == "agg")),
        ("nvidia", "disagg", nvidia & (mode == "disagg")),
        ("nvidia", "all", nvidia),
        ("all", "all", pd.Series(True, index=measured.index)),
    ]
    lines = []
    for h, m, mask in groups:
        for metric in metrics:
            column = f"{metric}_q50"
            p = pred[column] if column in pred.columns else pd.Series(np.nan, index=pred.index)
            meas = pd.to_numeric(measured.loc[mask, metric], errors="coerce").to_numpy(float)
            lines.append(
                {
                    "hardware": h,
                    "mode": m,
                    "metric": metric,
                    **_stats(meas, pd.to_numeric(p[mask], errors="coerce").to_numpy(float)),
                }
            )
    return pd.DataFrame(lines)


def format_table(scores: pd.DataFrame) -> str:
    """One line per group: for each metric `predicted/rows`, median |log| and share within +-25%."""
    metrics = list(dict.fromkeys(scores["metric"]))
    head = f"{'hardware':<8} {'mode':<6}" + "".join(f" | {m:^28}" for m in metrics)
    sub = f"{'':<8} {'':<6}" + "".join(
        f" | {'pred/rows':>10} {'med|log|':>8} {'±25%':>7}" for _ in metrics
    )
    out = [head, sub, "-" * len(sub)]
    for (h, m), g in scores.groupby(["hardware", "mode"], sort=False):
        cells = []
        for metric in metrics:
            r = g[g["metric"] == metric].iloc[0]
            mal = "-" if pd.isna(r["median_abs_log"]) else f"{r['median_abs_log']:.2f}"
            w25 = "-" if pd.isna(r["within_25"]) else f"{100 * r['within_25']:.0f}%"
            cells.append(f" | {str(r['predicted']) + '/' + str(r['rows']):>10} {mal:>8} {w25:>7}")
        out.append(f"{h:<8} {m:<6}" + "".join(cells))
    return "\n".join(out)


def _resolve_csv(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    for candidate in (REPO / DEFAULT_CSV, REPO / FALLBACK_CSV):
        if candidate.exists():
            return candidate
    raise SystemExit(
        f"score.py: no measurements CSV at {DEFAULT_CSV} or {FALLBACK_CSV} (pass its path)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "csv", nargs="?", help=f"measurements CSV (default {DEFAULT_CSV}, else {FALLBACK_CSV})"
    )
    ap.add_argument(
        "--predicted", default=str(DEFAULT_PREDICTED), help="aiconfigurator predictions CSV"
    )
    args = ap.parse_args(argv)
    measured = pd.read_csv(_resolve_csv(args.csv))
    predicted = pd.read_csv(args.predicted)
    # aiconfigurator's CSV names the metrics plainly; score() reads `<metric>_q50`.
    predicted = predicted.rename(columns={m: f"{m}_q50" for m in METRICS})
    print(format_table(score(measured, predicted, METRICS)))
    if "status" in predicted.columns:
        status = predicted["status"].fillna("").str.split(":").str[0].str.split(";").str[0]
        print(
            "\nstatus: " + ", ".join(f"{k} {v}" for k, v in status.value_counts().items()),
            file=sys.stdout,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
