"""Fan charts over years and P(profit > 0) per year (data from analysis.projection)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from probmodel.plots import style

PATH_COLOUR = "#525252"
POINT_COLOUR = "#ff7f00"
LOG_RATIO = 30.0  # bands spanning more than this factor are drawn on a log axis
# margin = profit / revenue is unbounded below; a symmetric-log axis made the bands hard
# to read. The margin axis is linear and stops below the 50% band and the median (at
# -200% at the least: costs three times revenue); the 5% quantiles below it are written
# along the bottom edge.
MARGIN_FLOOR = -200.0


def _limits(name: str, q: np.ndarray) -> tuple[float, float, str]:
    """(bottom, top, scale) of a fan's value axis: on the bands, log for wide positives."""
    lo, hi = float(np.min(q[0])), float(np.max(q[-1]))
    if lo > 0 and hi / lo > LOG_RATIO:
        return lo / 1.3, hi * 1.3, "log"
    if name == "margin" and lo < MARGIN_FLOOR:
        inner = float(min(np.min(q[1]), np.min(q[len(q) // 2])))
        bottom = min(MARGIN_FLOOR, inner - 0.1 * (max(hi, 0.0) - inner))
        if lo < bottom:
            return bottom, max(hi, 0.0) + 0.06 * (max(hi, 0.0) - bottom), "cut"
    pad = 0.08 * (hi - lo if hi > lo else abs(hi) or 1.0)
    return lo - pad, hi + pad, "linear"


def _draw_fan(ax, fan, legend: bool = True) -> None:
    """Bands, median, sample paths and the point path of one variable on ``ax``."""
    q = style.scaled(fan.name, np.asarray(fan.quantiles))
    years = np.asarray(fan.years)
    bottom, top, how = _limits(fan.name, q)
    ax.fill_between(years, q[0], q[-1], color=style.BAND_90, label="90% band",
                    linewidth=0)
    ax.fill_between(years, q[1], q[-2], color=style.BAND_50, alpha=0.8, label="50% band",
                    linewidth=0)
    # Sample paths show how one draw moves from year to year. A path outside the 90%
    # band (or below a cut axis) would stretch the axis or leave the panel: only paths
    # that stay inside both are drawn.
    paths = style.scaled(fan.name, np.asarray(fan.paths))
    inside = [p for p in paths
              if np.all((p >= np.maximum(q[0], bottom)) & (p <= np.minimum(q[-1], top)))]
    for i, path in enumerate(inside):
        ax.plot(years, path, color=PATH_COLOUR, linewidth=0.6, alpha=0.6,
                label="sample paths (inside the 90% band)" if i == 0 else None)
    ax.plot(years, q[len(q) // 2], color=style.MEDIAN, linewidth=2.2, label="median")
    if fan.point is not None:
        ax.plot(years, style.scaled(fan.name, np.asarray(fan.point)), color=POINT_COLOUR,
                linestyle="--", linewidth=1.4, label="point path")
    if how == "log":
        ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    if how == "cut":
        for yr, v in zip(years, q[0], strict=True):
            if v < bottom:
                ax.annotate(f"5%: {v:,.0f}", (yr, bottom), xytext=(0, 3),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize=6.5, color=style.LOSS)
        ax.margins(x=0.07)
    if fan.name == "margin":
        ax.axhline(0.0, color=style.LOSS, linewidth=0.8, linestyle=":")
    ax.set_xticks(years)
    ax.set_xlabel("year")
    ax.set_ylabel(style.axis_label(fan.name) + (", 90% band cut" if how == "cut" else ""))
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(loc="best", fontsize=8)


def plot_fan(fan) -> Figure:
    """Fan chart of one variable over the years.

    Parameters
    ----------
    fan : probmodel.analysis.projection.Fan
        Quantile bands (5, 25, 50, 75, 95%), sample paths and the point path.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: 90% and 50% bands, the median, thin sample paths, the point path.
    """
    fig, ax = style.new_figure()
    _draw_fan(ax, fan)
    what = f"{fan.title}: " if fan.title else ""
    ax.set_title(f"{what}{style.axis_label(fan.name)} by year, median with 50% and 90% bands")
    return fig


def plot_probability_by_year(years: Sequence[int], p: Sequence[float],
                             mcse: Sequence[float], title: str = "", ax=None) -> Figure:
    """P(profit > 0) per year with +-2 MCSE error bars.

    Parameters
    ----------
    years, p, mcse : sequences
        The years, the probability of profit and its Monte Carlo standard error.
    title : str
        The scenario's title, put in front of the figure title.
    ax : matplotlib Axes, optional
        Draw there instead of on a new figure.
    """
    if ax is None:
        fig, ax = style.new_figure()
        own = True
    else:
        fig, own = ax.figure, False
    y = np.asarray(p) * 100
    ax.errorbar(years, y, yerr=2 * np.asarray(mcse) * 100, color=style.PROFIT, marker="o",
                capsize=3, label="P(profit > 0) ± 2 MCSE")
    ax.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    ax.set_ylim(-2, 102)
    ax.set_xticks(list(years))
    ax.set_xlabel("year")
    ax.set_ylabel("P(profit > 0) (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if own:
        what = f"{title}: " if title else ""
        ax.set_title(f"{what}probability of profit by year (%)")
    else:
        ax.set_title("P(profit > 0) by year (%)")
    return fig


def plot_fans(fans: Sequence, p: Sequence[float] | None = None,
              mcse: Sequence[float] | None = None) -> Figure:
    """Fan charts side by side (one panel per variable), plus P(profit > 0) when given.

    Parameters
    ----------
    fans : sequence of Fan
        One per variable.
    p, mcse : sequences, optional
        P(profit > 0) per year and its MCSE: drawn in a last panel.
    """
    n = len(fans) + (p is not None)
    ncols = 2 if n > 1 else 1
    nrows = int(np.ceil(n / ncols))
    fig, axes = style.new_figure(nrows, ncols, squeeze=False,
                                 figsize=(6.5 * ncols, 3.8 * nrows))
    flat = axes.ravel()
    for i, (ax, f) in enumerate(zip(flat, fans, strict=False)):
        _draw_fan(ax, f, legend=i == 0)
        ax.set_title(f"{style.axis_label(f.name)}")
    if p is not None:
        plot_probability_by_year(fans[0].years, p, mcse, ax=flat[len(fans)])
    for ax in flat[n:]:
        ax.set_visible(False)
    title = fans[0].title if fans and fans[0].title else "projection"
    fig.suptitle(f"{title}: median, 50% and 90% bands, sample paths by year")
    return fig


def plot_cost_revenue_per_mtok(cost, revenue, served=None) -> Figure:
    """Cost and revenue per 1M tokens by year: medians with 50% and 90% bands, log axis.

    Parameters
    ----------
    cost, revenue : probmodel.analysis.projection.Fan
        Fans of ``cost_per_mtok`` and ``revenue_per_mtok`` (USD per 1M tokens, all
        classes), with the same years.
    served : sequence of float, optional
        Mean share of demand served per year: written under the year ticks.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with a log value axis: each quantity's 90% and 50% bands and median;
        profit per token is positive where revenue lies above cost.
    """
    fig, ax = style.new_figure(figsize=(8.0, 4.8))
    years = np.asarray(cost.years)
    for f, colour, what in ((cost, style.LOSS, "cost"), (revenue, style.PROFIT, "revenue")):
        q = np.asarray(f.quantiles, np.float64)
        ax.fill_between(years, q[0], q[-1], color=colour, alpha=0.15, linewidth=0,
                        label=f"{what}, 90% band")
        ax.fill_between(years, q[1], q[-2], color=colour, alpha=0.3, linewidth=0,
                        label=f"{what}, 50% band")
        ax.plot(years, q[len(q) // 2], color=colour, linewidth=2.2, marker="o",
                markersize=4, label=f"{what}, median")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(years)
    if served is not None:
        ax.set_xticklabels([f"{y}\n{100 * s:.0f}% served" for y, s in
                            zip(years, served, strict=True)])
        ax.set_xlabel("year (mean share of demand served under the supply cap)")
    else:
        ax.set_xlabel("year")
    ax.set_ylabel("USD per 1M tokens (all classes, log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="best", fontsize=8, ncols=2)
    what = f"{cost.title}: " if cost.title else ""
    ax.set_title(f"{what}cost and revenue per 1M tokens by year\n"
                 "median with 50% and 90% bands; profit per token where revenue is above cost",
                 fontsize=10)
    return fig
