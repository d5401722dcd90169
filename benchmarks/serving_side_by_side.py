"""probmodel's serving predictions next to aiconfigurator's, on the rows both predict.

    .venv/bin/python benchmarks/serving_side_by_side.py runs/CV_RUN/predictions.csv

CV_RUN is a ``probmodel backtest data/inferencex/dsr1-measurements.csv --calibration CAL
--cv chip`` run folder: each accelerator predicted by a fit that never saw its rows.
aiconfigurator's predictions are the recorded benchmarks/results/aiconfigurator-dsr1.csv
(benchmarks/aiconfigurator/README.md re-makes it in its own environment); it has no AMD
chips and fails or refuses part of the GB200 and B200 rows, so the comparison is on the
NVIDIA rows both predicted, scored with the same function
(benchmarks/aiconfigurator/score.py). probmodel also reports the coverage of its 90%
intervals, which aiconfigurator does not give.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "aiconfigurator"))
from score import score  # noqa: E402

MEASURED = HERE.parent / "data" / "inferencex" / "dsr1-measurements.csv"
AIC = HERE / "results" / "aiconfigurator-dsr1.csv"
METRICS = ("tput_per_gpu", "median_tpot", "median_ttft")


def coverage(measured: pd.DataFrame, pred: pd.DataFrame, rows: np.ndarray, k: str) -> float:
    y = measured[k].to_numpy(float)[rows]
    lo, hi = (pred[f"{k}_q{p}"].to_numpy(float)[rows] for p in ("05", "95"))
    ok = np.isfinite(y) & np.isfinite(lo)
    return float(np.mean((lo[ok] <= y[ok]) & (y[ok] <= hi[ok])))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    measured = pd.read_csv(MEASURED)
    pm = pd.read_csv(argv[0])
    aic = pd.read_csv(AIC).set_index("row").reindex(range(len(measured)))
    both = (pm["status"].eq("predicted").to_numpy()
            & aic["status"].fillna("").str.startswith("ok").to_numpy())
    print(f"rows both predict: {int(both.sum())} of {len(measured)} "
          f"(probmodel {int(pm['status'].eq('predicted').sum())}, aiconfigurator "
          f"{int(aic['status'].fillna('').str.startswith('ok').sum())})")
    mode = np.where(measured["disagg"].astype(str).str.lower() == "true", "disagg", "agg")
    groups = [("all NVIDIA", both)]
    for hw in ("h200", "b200", "gb200"):
        for m in ("agg", "disagg"):
            sel = both & (measured["hardware"].to_numpy() == hw) & (mode == m)
            if sel.any():
                groups.append((f"{hw} {m}", sel))
    for m in ("agg", "disagg"):
        groups.append((f"NVIDIA {m}", both & (mode == m)))
    print()
    how = "leave-one-accelerator-out" if "left_out" in pm.columns else "in sample"
    print(f"| rows | metric | aiconfigurator med abs log | ±25% | probmodel ({how}) "
          "med abs log | ±25% | 90% coverage |")
    print("|---|---|---|---|---|---|---|")
    aic_q = aic[list(METRICS)].rename(columns={k: f"{k}_q50" for k in METRICS})
    aic_q.index = measured.index
    pm_q = pm[[f"{k}_q50" for k in METRICS]]
    for name, sel in groups:
        for k in METRICS:
            a = score(measured[sel], aic_q[sel], (k,))
            p = score(measured[sel], pm_q[sel], (k,))
            ar, pr = a[a["hardware"] == "all"].iloc[0], p[p["hardware"] == "all"].iloc[0]
            print(f"| {name} ({int(sel.sum())}) | {k} | {ar['median_abs_log']:.3f} | "
                  f"{ar['within_25']:.0%} | {pr['median_abs_log']:.3f} | "
                  f"{pr['within_25']:.0%} | {coverage(measured, pm, sel, k):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
