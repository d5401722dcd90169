"""Figure of a stress test: each case's interval of the key outputs next to the base."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from probmodel.plots import style
from probmodel.report.numbers import probability


def plot_stress(result: xr.Dataset, outputs: tuple[str, ...] = ("profit", "margin")) -> Figure:
    """Forest plot of the stressed cases: one row per case, one panel per output.

    Each row shows the 90% interval (q05-q95, thin), the interquartile range (thick),
    the median (dot) and the expected shortfall of the bad tail (a cross): es05, the mean
    of the lowest 5% of the case, for money earned; es95 for chips and cost.
    P(profit > 0) with its MCSE is written beside each case; the base is the top row,
    with its median as a dotted reference line in every panel.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`probmodel.analysis.stress.stress`.
    outputs : tuple of str
        Outputs to show, those present in ``result`` (else the first two key outputs the
        result has, e.g. chips_required for a demand-only scenario).
    """
    names = [o for o in outputs if o in result] or [
        o for o in result.attrs.get("outputs", "").split(", ") if o in result][:2]
    fig, axes = style.new_figure(1, len(names), sharey=True, squeeze=False,
                                 figsize=(5.5 * len(names) + 1.5,
                                          1.8 + 0.7 * result.sizes["band"]))
    labels = [str(b) for b in result["band"].values]
    y = np.arange(len(labels))[::-1]
    for ax, name in zip(axes[0], names, strict=True):
        v = result[name]
        sel = lambda s, v=v, name=name: style.scaled(name, v.sel(stat=s).values)  # noqa: E731
        ax.hlines(y, sel("q05"), sel("q95"), color=style.BAND_90, lw=3, label="90% interval")
        ax.hlines(y, sel("q25"), sel("q75"), color=style.BAND_50, lw=7, label="50% interval")
        ax.plot(sel("q50"), y, "o", color=style.MEDIAN, ms=6, label="median")
        # the bad tail: low profit or margin, high chip demand or cost
        tail, text = (("es95", "highest") if name in ("chips_required", "total_cost")
                      else ("es05", "lowest"))
        ax.plot(sel(tail), y, "x", color=style.LOSS, ms=8, mew=2,
                label=f"{tail} (mean of the {text} 5%)")
        ax.axvline(sel("q50")[0], color=style.MEDIAN, lw=0.8, ls=":")
        if name in ("profit", "margin"):
            ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(style.axis_label(name))
        ax.grid(axis="x", alpha=0.3)
    ax0 = axes[0][0]
    ax0.set_yticks(y, labels)
    ax0.set_ylabel("case (input=percentile band)")
    ax0.set_ylim(y.min() - 0.7, y.max() + 0.7)
    if "p_profitable" in result:
        p, se = result["p_profitable"].values, result["p_profitable_mcse"].values
        axr = axes[0][-1]
        for yi, pi, si in zip(y, p, se, strict=True):
            axr.annotate(f"P(profit > 0) = {probability(pi, si)}", (1.02, yi),
                         xycoords=("axes fraction", "data"), va="center", fontsize=9)
    handles, texts = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside lower center", ncol=4, frameon=False, fontsize=9)
    title = result.attrs.get("title", result.attrs.get("scenario", ""))
    fig.suptitle(f"Stress test: {title}\n{result.attrs.get('draws', 0):,} draws; each case "
                 "is the subset of those draws with the input in its percentile band")
    return fig
