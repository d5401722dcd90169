"""Serving figures: predicted against measured benchmark metrics, with 90% intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from probmodel.plots import style

#: Colour-blind-safe colours per accelerator (Okabe-Ito), cycled for more.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
           "#000000")
LABELS = {"tput_per_gpu": "throughput per GPU (tokens/s, input + output)",
          "median_tpot": "time per output token (ms)",
          "median_ttft": "time to first token (s)",
          "median_intvty": "interactivity (tokens/s per user)"}
SCALE = {"median_tpot": 1e3}


def plot_predicted_vs_measured(measured: Mapping[str, np.ndarray],
                               predicted: Mapping[str, np.ndarray], groups: Sequence[str],
                               rows: np.ndarray, metrics: Sequence[str], title: str) -> Figure:
    """One log-log panel per metric: median prediction and 90% interval against the measurement.

    The diagonal is a perfect prediction; the shaded band is +-25%. Rows are coloured by
    ``groups`` (the accelerator).
    """
    n = len(metrics)
    ncols = 2 if n > 1 else 1
    nrows = (n + 1) // 2
    fig, axes = style.new_figure(nrows, ncols, figsize=(6.2 * ncols, 5.2 * nrows),
                                 squeeze=False)
    groups = np.asarray(groups)
    names = list(dict.fromkeys(groups[rows]))
    for ax, k in zip(axes.ravel(), metrics, strict=False):
        s = SCALE.get(k, 1.0)
        y = np.asarray(measured.get(k, np.full(len(groups), np.nan))) * s
        q05, q50, q95 = (np.asarray(predicted[f"{k}_q{p}"]) * s for p in ("05", "50", "95"))
        ok = rows & np.isfinite(y) & (y > 0)
        if not ok.any():
            ax.set_visible(False)
            continue
        lo = float(np.nanmin(np.r_[y[ok], q05[ok]])) / 1.3
        hi = float(np.nanmax(np.r_[y[ok], q95[ok]])) * 1.3
        line = np.array([lo, hi])
        ax.fill_between(line, line / 1.25, line * 1.25, color="#d9d9d9", lw=0,
                        label="±25%")
        ax.plot(line, line, color="#525252", lw=1, label="prediction = measurement")
        for i, g in enumerate(names):
            sel = ok & (groups == g)
            c = COLOURS[i % len(COLOURS)]
            ax.errorbar(y[sel], q50[sel], yerr=[q50[sel] - q05[sel], q95[sel] - q50[sel]],
                        fmt="o", ms=2.5, lw=0.5, alpha=0.6, color=c, ecolor=c,
                        label=f"{g} ({int(sel.sum())} rows)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"measured {LABELS[k]}")
        ax.set_ylabel(f"predicted {LABELS[k]}")
        ax.set_title(LABELS[k][0].upper() + LABELS[k][1:], fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes.ravel()[0].legend(loc="upper left", fontsize=7, frameon=True)
    fig.suptitle(title)
    return fig
