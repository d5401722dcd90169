"""Figures of a scenario comparison: forest of intervals, overlaid ECDFs, P(A > B).

Inputs are the datasets of :mod:`probmodel.analysis.compare` (already summarised); the
functions draw them and compute nothing.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from probmodel.plots import style
from probmodel.report.numbers import probability

_COLOURS = ("#08519c", "#cb181d", "#238b45", "#6a51a3", "#d94801", "#525252", "#0570b0",
            "#ae017e")


#: Line styles cycled with the colours: the curves stay apart in grey print too.
_LINESTYLES = ("-", "--", "-.", ":")
_LOSS_NOTE = "P(loss) = height of each curve at 0 (dots)"


def _colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


def plot_forest(summary: xr.Dataset, output: str) -> Figure:
    """Intervals per scenario (left) and paired differences to the first (right).

    Median, 50% and 90% intervals of ``output``, with P(profit > 0) and P(A > first)
    written beside the rows.
    """
    names = [str(n) for n in summary["scenario"].values]
    k = len(names)
    fig, (ax, ax2) = style.new_figure(1, 2, figsize=(13, 1.0 + 0.75 * k), sharey=True)
    y = np.arange(k)[::-1]
    s = summary[output]
    for i, n in enumerate(names):
        q = {st: style.scaled(output, float(s.sel(scenario=n, stat=st)))
             for st in ("q05", "q25", "q50", "q75", "q95")}
        c = _colour(i)
        ax.plot([q["q05"], q["q95"]], [y[i]] * 2, color=c, lw=1.5,
                label="90% interval" if i == 0 else None)
        ax.plot([q["q25"], q["q75"]], [y[i]] * 2, color=c, lw=6, solid_capstyle="butt",
                label="50% interval" if i == 0 else None)
        ax.plot([q["q50"]], [y[i]], "o", color="white", mec=c, ms=7, mew=2,
                label="median" if i == 0 else None)
    if output in ("margin", "profit"):
        ax.axvline(0, color="k", lw=0.8)
    labels = []
    for n in names:
        p = float(summary["p_profitable"].sel(scenario=n))
        se = float(summary["p_profitable_mcse"].sel(scenario=n))
        labels.append(f"{n}\nP(profit > 0) = {probability(p, se)}" if np.isfinite(p) else n)
    ax.set_yticks(y, labels)
    ax.set_xlabel(style.axis_label(output))
    ax.set_title(f"{style.axis_label(output)} per scenario", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    # legend outside the axes, under both panels: inside, it covered an interval
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3,
               fontsize=8, frameon=False)
    ax.margins(x=0.05)
    ref = names[0]
    d = summary["difference"]
    for i, n in enumerate(names):
        if n == ref:
            ax2.plot([0], [y[i]], "|", color="k", ms=12)
            ax2.annotate("reference", (0, y[i]), xytext=(8, 0), textcoords="offset points",
                         va="center", fontsize=8)
            continue
        q = {st: style.scaled(output, float(d.sel(scenario=n, versus=ref, stat=st)))
             for st in ("q05", "q25", "q50", "q75", "q95")}
        c = _colour(i)
        ax2.plot([q["q05"], q["q95"]], [y[i]] * 2, color=c, lw=1.5)
        ax2.plot([q["q25"], q["q75"]], [y[i]] * 2, color=c, lw=6, solid_capstyle="butt")
        ax2.plot([q["q50"]], [y[i]], "o", color="white", mec=c, ms=7, mew=2)
        pg = float(summary["p_greater"].sel(scenario=n, versus=ref))
        pse = float(summary["p_greater_mcse"].sel(scenario=n, versus=ref))
        ax2.annotate(f"P(> {ref}) = {probability(pg, pse)}", (q["q50"], y[i]), xytext=(0, 7),
                     textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax2.axvline(0, color="k", lw=0.8)
    ax2.set_xlabel(f"paired difference to {ref}: {style.axis_label(output)}")
    ax2.set_title(f"{output}[scenario] - {output}[{ref}], paired draws (median, 50%, 90%)",
                  fontsize=10)
    ax2.grid(axis="x", alpha=0.3)
    ax2.margins(x=0.1, y=0.15)
    draws = summary.attrs.get("draws")
    fig.suptitle(f"Scenario comparison on common random numbers"
                 f"{f', {draws:,} paired draws' if draws else ''}", fontsize=11)
    return fig


def plot_ecdf(ecdf: xr.Dataset, output: str) -> Figure:
    """Overlaid empirical CDFs of ``output``, one line per scenario."""
    fig, ax = style.new_figure()
    levels = ecdf["level"].values
    lo, hi = np.inf, -np.inf
    at_zero = []
    for i, n in enumerate(ecdf["scenario"].values):
        x = style.scaled(output, ecdf[output].sel(scenario=n).values)
        ax.plot(x, levels, color=_colour(i), lw=2, label=str(n),
                linestyle=_LINESTYLES[i % len(_LINESTYLES)])
        lo, hi = min(lo, x[np.searchsorted(levels, 0.025)]), max(hi, x[-1])
        at_zero.append(float(np.interp(0.0, x, levels)))
    if output in ("margin", "profit") and lo < 0 < hi:
        ax.axvline(0, color="k", lw=0.8)
        ax.plot([0.0] * len(at_zero), at_zero, "o", color="k", ms=4, zorder=3)
        # Left of x = 0 every curve lies below its height at 0, right of it above: the
        # note goes above-left of the highest crossing or below-right of the lowest,
        # where no curve can be.
        # (Neither has room when curves cross 0 both near 0 and near 1: then the note
        # goes under the axis, with the x label.)
        top, bottom = max(at_zero), min(at_zero)
        place = ((0.0, top), (-5, 6), "right", "bottom") if top <= 0.8 else (
            ((0.0, bottom), (5, -6), "left", "top") if bottom >= 0.15 else None)
        if place is not None:
            where, off, ha, va = place
            ax.annotate(_LOSS_NOTE, where, xytext=off, textcoords="offset points",
                        fontsize=8, ha=ha, va=va, gid="loss_note",
                        bbox={"boxstyle": "round", "fc": "white", "ec": "0.8"})
    else:
        place = ()
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1)
    ax.set_xlabel(style.axis_label(output) + (f"\n{_LOSS_NOTE}" if place is None else ""))
    ax.set_ylabel(f"P({output} ≤ x)")
    draws = ecdf.attrs.get("draws")
    ax.set_title(f"Cumulative distribution of {style.axis_label(output)} per scenario"
                 f"{f' ({draws:,} draws each, common random numbers)' if draws else ''}",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")  # CDFs are lowest at the left: room there
    return fig


def plot_p_greater(summary: xr.Dataset, output: str) -> Figure:
    """The matrix P(output of row scenario > output of column scenario), paired draws."""
    names = [str(n) for n in summary["scenario"].values]
    m = summary["p_greater"].values
    se = summary["p_greater_mcse"].values
    k = len(names)
    fig, ax = style.new_figure(figsize=(2.0 + 1.6 * k, 1.5 + 0.8 * k))
    norm = Normalize(0, 1)
    im = ax.imshow(m, cmap="RdBu", norm=norm, aspect="auto")
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            r, g, b, _ = im.cmap(norm(m[i, j]))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(j, i, probability(m[i, j], se[i, j]).replace(" ± ", "\n± "),
                    ha="center", va="center", fontsize=9, color=ink)
    ax.set_xticks(range(k), names, rotation=30, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("B")
    ax.set_ylabel("A")
    fig.colorbar(im, ax=ax, shrink=0.9).set_label(f"P({output}[A] > {output}[B])")
    ax.set_title(f"P({output} of A > {output} of B) over paired draws, ± MCSE", fontsize=10)
    return fig

