"""Scores of predicted against measured serving metrics, per accelerator and overall.

For each metric and group of rows:

- ``median_abs_log_error``: median |log(q50 / measured)| (0.15 is within ~16%);
- ``within_25pct``: share of rows whose median prediction is within +-25% of the
  measurement (|log ratio| <= log 1.25);
- ``coverage_90``: share of measurements inside the 90% predictive interval [q05, q95];
- ``interval_score``: the mean interval score of the 90% interval on the log scale
  (Gneiting & Raftery 2007, eq. 43): (log u - log l) + (2 / 0.1) x the distance by which
  log y falls outside [log l, log u]; lower is better, it rewards narrow intervals that
  cover;
- ``median_width``: the median of sqrt(q95 / q05), the interval's multiplicative
  half-width (x/÷ that factor around the median).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

ALPHA = 0.1
WITHIN = np.log(1.25)
COLUMNS = ("group", "metric", "rows", "median_abs_log_error", "within_25pct",
           "coverage_90", "interval_score", "median_width")


def score_rows(measured: np.ndarray, q05: np.ndarray, q50: np.ndarray,
               q95: np.ndarray) -> dict[str, float]:
    """The scores of one metric over rows with a finite, positive measurement."""
    y = np.asarray(measured, np.float64)
    ok = np.isfinite(y) & (y > 0) & np.isfinite(q50) & (q50 > 0)
    if not ok.any():
        return {"rows": 0, **{k: float("nan") for k in COLUMNS[3:]}}
    ly, l05, l50, l95 = (np.log(np.asarray(a, np.float64)[ok]) for a in (y, q05, q50, q95))
    err = np.abs(l50 - ly)
    below = np.maximum(l05 - ly, 0.0)
    above = np.maximum(ly - l95, 0.0)
    interval = (l95 - l05) + 2.0 / ALPHA * (below + above)
    return {"rows": int(ok.sum()),
            "median_abs_log_error": float(np.median(err)),
            "within_25pct": float(np.mean(err <= WITHIN)),
            "coverage_90": float(np.mean((below == 0) & (above == 0))),
            "interval_score": float(np.mean(interval)),
            "median_width": float(np.median(np.exp((l95 - l05) / 2.0)))}


def table(measured: Mapping[str, np.ndarray], predicted: Mapping[str, np.ndarray],
          groups: Sequence[str], metrics: Sequence[str], rows: np.ndarray):
    """Scores per group (and ``all``) and metric as a DataFrame (columns :data:`COLUMNS`).

    ``predicted`` holds ``<metric>_q05/_q50/_q95`` arrays over every row; ``rows`` marks
    the rows that were predicted.
    """
    import pandas as pd

    groups = np.asarray(groups)
    out = []
    for g in [*dict.fromkeys(groups[rows]), "all"]:
        sel = rows & ((groups == g) if g != "all" else True)
        for k in metrics:
            if k not in measured:
                continue
            s = score_rows(measured[k][sel], predicted[f"{k}_q05"][sel],
                           predicted[f"{k}_q50"][sel], predicted[f"{k}_q95"][sel])
            out.append({"group": g, "metric": k, **s})
    return pd.DataFrame(out, columns=list(COLUMNS))
