"""The figure of a frontier: throughput per GPU against interactivity, cost at the SLO."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from probmodel.plots import style

#: One colour per chip (colour-blind safe, Okabe-Ito), cycled beyond eight.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")


def plot_frontier(tree: xr.DataTree) -> Figure:
    """Left: each chip's frontier (median, 50% and 90% bands); right: cost at the SLO.

    Parameters
    ----------
    tree : xarray.DataTree
        :func:`probmodel.analysis.frontier.to_tree` (/bands and /summary).
    """
    bands = tree["bands"].to_dataset()
    summ = tree["summary"].to_dataset()
    a = summ.attrs
    chips = [str(c) for c in bands["chip"].values]
    x = bands["interactivity"].values
    fig, (ax, bx) = style.new_figure(1, 2, figsize=(13, 5.2),
                                     gridspec_kw={"width_ratios": [1.6, 1]})
    top = 0.0
    for i, chip in enumerate(chips):
        col = COLOURS[i % len(COLOURS)]
        t = bands["tput_per_gpu"].sel(chip=chip)
        q = {float(k): t.sel(quantile=k).values for k in bands["quantile"].values}
        keep = q[0.95] > 0  # where at least one draw in twenty reaches it
        ax.fill_between(x[keep], q[0.05][keep], q[0.95][keep], color=col, alpha=0.15, lw=0)
        ax.fill_between(x[keep], q[0.25][keep], q[0.75][keep], color=col, alpha=0.25, lw=0)
        ax.plot(x[q[0.5] > 0], q[0.5][q[0.5] > 0], color=col, lw=2,
                label=f"{chip}: median, 50% and 90% bands")
        top = max(top, float(np.max(q[0.95])))
    slo_a = float(a.get("slo_interactivity", 0.0) or 0.0)
    if slo_a > 0:
        ax.axvline(slo_a, color=style.LOSS, ls="--", lw=1.2,
                   label=f"SLO: {a['slo']}")
    ax.set_xscale("log")
    # up to where some chip still reaches the speed in one draw in twenty, and a bit more
    reach = bands["p_reachable"].values.max(axis=0) >= 0.05
    x_hi = x[reach][-1] * 1.5 if reach.any() else x[-1]
    ax.set_xlim(x[0], min(x_hi, x[-1]))
    ax.set_ylim(0, top * 1.05 if top > 0 else 1)
    ax.set_xlabel("interactivity (output tokens/s per user)")
    ax.set_ylabel("throughput (input + output tokens/s per GPU)")
    ax.set_title("Throughput per GPU at interactivity >= x (0 where out of reach)",
                 fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=8)

    name = "cost_per_mtok_output"
    s = summ[name].transpose("chip", "stat")
    y = np.arange(len(chips))
    qs = {st: s.sel(stat=st).values for st in ("q05", "q25", "q50", "q75", "q95")}
    bx.hlines(y, qs["q05"], qs["q95"], color=style.BAND_90, lw=7, label="90% interval")
    bx.hlines(y, qs["q25"], qs["q75"], color=style.BAND_50, lw=7, label="50% interval")
    bx.plot(qs["q50"], y, "o", color=style.MEDIAN, label="median")
    for i in range(len(chips)):
        p = float(summ["p_slo_met"].values[i])
        if math.isfinite(float(qs["q95"][i])):
            bx.annotate(f"${qs['q50'][i]:.2f}  P(SLO met) {p:.0%}", (qs["q95"][i], y[i]),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    bx.set_yticks(y, chips)
    bx.invert_yaxis()
    hi = np.nanmax(np.where(np.isfinite(qs["q95"]), qs["q95"], np.nan)) if len(chips) else 1
    bx.set_xlim(0, float(hi) * 1.6 if np.isfinite(hi) else 1)
    bx.set_xlabel("GPU cost per 1M output tokens at the SLO ($)")
    bx.set_title("Cost per 1M output tokens at the SLO\n(the deployment's GPUs, all on "
                 "output)", fontsize=10)
    bx.grid(alpha=0.3, axis="x")
    bx.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{a.get('scenario', '')}: serving frontier, SLO {a['slo']}; "
                 f"{int(a.get('draws', 0)):,} draws per chip", fontsize=11)
    return fig
