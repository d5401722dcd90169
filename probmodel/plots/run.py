"""Figures of a single Monte Carlo run: distributions of the key outputs, exceedance of profit.

Both functions take plain arrays of draws (as read from a run folder's draws.nc) and the
run's P(profit > 0) with its MCSE (from its summary), so the probability shown is the
one computed over every draw, also when draws.nc holds a thinned subset.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from probmodel import fmt
from probmodel.plots import style

#: Outputs drawn by :func:`plot_distributions`, in this order, when the run has them.
DISTRIBUTION_OUTPUTS = ("margin", "profit", "chips_required",
                        # serving scenarios (a deployment on the checked physics)
                        "tput_per_gpu", "median_intvty", "serving_cost_per_mtok_output")
_TAIL = 0.005  # histograms span the 0.5%..99.5% quantiles; the rest is counted in a note
#: The y axis of a histogram reaches this multiple of the tallest bar: the band above
#: the bars holds the legend and the notes (two lines), so neither covers a bar.
_HEADROOM = 1.6


def _p_text(p: float | None, mcse: float | None) -> str:
    """``P(profit > 0) = 48.95% ± 0.05% (MCSE)``: the MCSE to two significant digits.

    The same rounding as the report's tables (:func:`probmodel.report.numbers.percent`),
    so a nonzero MCSE is never shown as ± 0.0%.
    """
    from probmodel.report.numbers import percent

    if p is None or not np.isfinite(p):
        return ""
    if mcse is None or not np.isfinite(mcse):
        return f"P(profit > 0) = {percent(p)}"
    return f"P(profit > 0) = {percent(p, mcse)} (MCSE)"


def _quantiles(summary, name: str, x: np.ndarray) -> tuple[float, float, float]:
    """q05, q50, q95 of ``name`` in display units.

    The summary's (over every draw of the run) when given, else those of the drawn
    sample ``x``.
    """
    if summary is not None and name in summary:
        from probmodel import results

        s = results.stat_dict(summary, name)
        return tuple(float(style.scaled(name, s[k])) for k in ("q05", "q50", "q95"))
    return tuple(float(v) for v in np.quantile(x, [0.05, 0.5, 0.95]))


def _draws_text(summary, shown: int) -> str:
    """``1,000,000 draws`` (from the summary), with the histogram's sample when fewer."""
    total = int(summary.attrs["draws"]) if summary is not None else shown
    return (f"{total:,} draws" if total == shown else
            f"{total:,} draws; histogram of {shown:,} kept draws")


def plot_distributions(draws: Mapping[str, np.ndarray], p_profitable: float | None = None,
                       p_mcse: float | None = None, title: str = "",
                       summary=None) -> Figure:
    """Histograms of margin, profit and chips required, with the 90% interval and median.

    Parameters
    ----------
    draws : mapping
        Output name -> 1-D array of draws; the names in :data:`DISTRIBUTION_OUTPUTS`
        present are drawn (one panel each).
    p_profitable, p_mcse : float, optional
        P(profit > 0) and its Monte Carlo standard error, written on the profit and
        margin panels (where the loss region is shaded).
    title : str
        The scenario's title, put in front of the figure title.
    summary : xarray.Dataset, optional
        The run's summary: the quantiles in the titles and lines, and the draw count,
        are its own (over every draw), not the drawn (possibly thinned) sample's.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per output; x axes in display units ($k/day, %, thousand chips).
    """
    names = [n for n in DISTRIBUTION_OUTPUTS if n in draws]
    if not names:
        raise ValueError(f"none of {', '.join(DISTRIBUTION_OUTPUTS)} among the draws")
    fig, axes = style.new_figure(len(names), 1, squeeze=False,
                                 figsize=(9, 2.9 * len(names)))
    for ax, name in zip(axes[:, 0], names, strict=True):
        x = style.scaled(name, np.asarray(draws[name], np.float64).ravel())
        x = x[np.isfinite(x)]
        lo, hi = np.quantile(x, [_TAIL, 1 - _TAIL])
        q05, q50, q95 = _quantiles(summary, name, x)
        inside = x[(x >= lo) & (x <= hi)]
        # one filled step artist, not ax.hist's 80 bar patches (a third of the draw time)
        counts, edges = np.histogram(inside, bins=80, range=(lo, hi))
        ax.stairs(counts, edges, fill=True, color=style.BAND_90)
        # headroom above the tallest bar: the legend (one row) and the notes sit there,
        # never over a bar
        ax.set_ylim(0, max(int(counts.max()), 1) * _HEADROOM)
        if name in ("margin", "profit") and lo < 0:
            ax.axvspan(lo, min(0.0, hi), color=style.LOSS, alpha=0.08, label="loss")
            ax.axvline(0.0, color=style.LOSS, linewidth=1.0)
        for v, ls, lab in ((q05, "--", "5% / 95% quantiles"), (q95, "--", None),
                           (q50, "-", "median")):
            ax.axvline(v, color=style.MEDIAN if ls == "--" else "black", linestyle=ls,
                       linewidth=1.2 if ls == "--" else 1.6, label=lab)
        unit = style.axis_label(name).removeprefix(name).strip()
        unit = unit[1:-1] if unit.startswith("(") and unit.endswith(")") else unit
        ax.set_title(f"{name}: median {q50:,.3g}, 90% interval [{q05:,.3g}, {q95:,.3g}] "
                     f"{unit}", fontsize=10, loc="left")
        ax.set_xlabel(style.axis_label(name))
        ax.set_ylabel("draws per bin")
        ax.set_xlim(lo, hi)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, ncol=3, columnspacing=1.0)
        notes = []
        if name in ("margin", "profit") and (text := _p_text(p_profitable, p_mcse)):
            notes.append(text)
        outside = 1 - inside.size / max(x.size, 1)
        notes.append(f"{outside * 100:.1f}% of draws outside the axis (0.5% tails)")
        ax.annotate("\n".join(notes), (0.99, 0.95), xycoords="axes fraction", ha="right",
                    va="top", fontsize=8,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.8"})
    what = f"{title}: " if title else ""
    fig.suptitle(f"{what}distribution of the key outputs ({_draws_text(summary, x.size)})",
                 fontsize=11)
    return fig


def plot_exceedance(profit: np.ndarray, p_profitable: float | None = None,
                    p_mcse: float | None = None, title: str = "", summary=None) -> Figure:
    """Exceedance curve of profit: P(profit > x) against x, with x = 0 marked.

    Parameters
    ----------
    profit : array
        Draws of profit (USD/day).
    p_profitable, p_mcse : float, optional
        P(profit > 0) and its MCSE over every draw of the run; drawn as the marked
        point at x = 0 (default: the share of ``profit`` above zero).
    title : str
        The scenario's title, put in front of the figure title.
    summary : xarray.Dataset, optional
        The run's summary: the marked quantiles and the draw count are its own.

    Returns
    -------
    matplotlib.figure.Figure
        1 - CDF of profit in $k/day, y in %; the 5%, 50% and 95% quantiles marked.
    """
    x = np.sort(style.scaled("profit", np.asarray(profit, np.float64).ravel()))
    x = x[np.isfinite(x)]
    n = x.size
    if p_profitable is None:
        p_profitable = float(np.mean(x > 0))
        p_mcse = float(np.sqrt(p_profitable * (1 - p_profitable) / max(n, 1)))
    exceed = 1.0 - np.arange(1, n + 1) / n
    # The curve at most every n/4096-th draw and at both ends: on a 9-inch axis the step
    # between neighbouring points is under a pixel, and drawing 1e6 vertices (twice,
    # PNG and SVG) cost more than the rest of the figure.
    at = np.unique(np.linspace(0, n - 1, min(n, 4097)).round().astype(np.int64))
    fig, ax = style.new_figure(figsize=(9, 4.5))
    ax.step(x[at], exceed[at] * 100, where="post", color=style.MEDIAN, linewidth=1.8,
            label="P(profit > x)")
    lo, hi = np.quantile(x, [_TAIL, 1 - _TAIL])
    ax.axvline(0.0, color=style.LOSS, linewidth=1.0)
    ax.errorbar([0.0], [p_profitable * 100], yerr=[2 * (p_mcse or 0.0) * 100], fmt="o",
                color=style.LOSS, capsize=4, label="P(profit > 0) ± 2 MCSE")
    ax.annotate(_p_text(p_profitable, p_mcse), (0.0, p_profitable * 100), xytext=(10, 22),
                textcoords="offset points", fontsize=9, color=style.LOSS,
                bbox={"boxstyle": "round", "fc": "white", "ec": style.LOSS, "alpha": 0.9})
    # Each label sits off the curve: for a point (v, p) of a falling curve, the
    # quadrants below-left (x < v, y < p) and above-right (x > v, y > p) hold no part
    # of it. The 5% point (top left) takes the room above-right; the median and the
    # 95% point take below-left (the note on P(profit > 0) is above-right of x = 0).
    marks = dict(zip((0.05, 0.5, 0.95), _quantiles(summary, "profit", x), strict=True))
    for q, off, ha, va in ((0.05, (6, 4), "left", "bottom"),
                           (0.5, (-7, -5), "right", "top"),
                           (0.95, (-7, -5), "right", "top")):
        v = marks[q]
        ax.plot([v], [(1 - q) * 100], "s", color=style.BAND_50, ms=5)
        ax.annotate(f"{round((1 - q) * 100)}% chance above {fmt.number(v, 3)} $k/day",
                    (v, (1 - q) * 100), xytext=off, textcoords="offset points", fontsize=8,
                    ha=ha, va=va, gid="quantile_label")
    ax.set_xlim(lo, hi)
    ax.set_ylim(-2, 102)
    ax.set_xlabel(style.axis_label("profit"))
    ax.set_ylabel("P(profit > x) (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)  # above the curve's far end: empty
    what = f"{title}: " if title else ""
    ax.set_title(f"{what}probability that profit exceeds x ($k/day), "
                 f"{_draws_text(summary, n)}", fontsize=10)
    return fig
