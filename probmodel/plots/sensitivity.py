"""Tornado, Sobol-index and drivers-of-loss figures (data from analysis.sensitivity)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from probmodel import fmt
from probmodel.plots import style

LOW_COLOUR = "#6baed6"  # the input at its 5% quantile
HIGH_COLOUR = "#fd8d3c"  # ... at its 95% quantile
S1_COLOUR = "#2171b5"
ST_COLOUR = "#bdd7e7"
ALL_COLOUR = "#525252"
SHIFT_COLOUR = "#756bb1"


def _input_value(name: str, unit: str, x: float) -> str:
    if unit == "1":
        return f"{x * 100:.3g}%"
    return f"{fmt.number(float(x), 3)}"


def plot_tornado(t, max_inputs: int = 15) -> Figure:
    """Tornado chart: the output with each input at its p05 and p95, others at point.

    Parameters
    ----------
    t : probmodel.analysis.sensitivity.Tornado
        Inputs sorted by swing (largest first).
    max_inputs : int
        Show at most this many inputs (the largest swings).

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars from the point value (the centre line), largest swing on top;
        each bar end is labelled with the input value that produced it.
    """
    n = min(len(t.names), max_inputs)
    fig, ax = style.new_figure(figsize=(9, 1.2 + 0.45 * n))
    centre = float(style.scaled(t.output, t.point))
    lo = style.scaled(t.output, np.asarray(t.at_low[:n]))
    hi = style.scaled(t.output, np.asarray(t.at_high[:n]))
    y = np.arange(n)[::-1]
    ax.barh(y, lo - centre, left=centre, color=LOW_COLOUR, height=0.6,
            label="input at its 5% quantile")
    ax.barh(y, hi - centre, left=centre, color=HIGH_COLOUR, height=0.6,
            label="input at its 95% quantile")
    ax.axvline(centre, color="black", linewidth=1.2,
               label=f"point value {fmt.number(centre, 3)} {fmt.scale_for(t.output)[1]}")
    for i in range(n):
        unit = t.units[i] if t.units else ""
        for v, xin in ((lo[i], t.low_input[i]), (hi[i], t.high_input[i])):
            if v != centre:
                ax.annotate(_input_value(t.names[i], unit, xin), (v, y[i]),
                            xytext=(3 if v > centre else -3, 0), textcoords="offset points",
                            ha="left" if v > centre else "right", va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(t.names[:n])
    ax.set_xlabel(style.axis_label(t.output))
    ax.margins(x=0.15)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    what = f"{t.title}: " if t.title else ""
    ax.set_title(f"{what}tornado of {style.axis_label(t.output)}, each input at p05/p95, "
                 "others at point")
    return fig


def plot_sobol(s, max_inputs: int = 15) -> Figure:
    """First-order and total Sobol indices with their confidence intervals.

    Parameters
    ----------
    s : probmodel.analysis.sensitivity.Sobol
        Indices sorted by ST (largest first).
    max_inputs : int
        Show at most this many inputs.

    Returns
    -------
    matplotlib.figure.Figure
        Paired horizontal bars (S1, ST) per input with bootstrap error bars.
    """
    n = min(len(s.names), max_inputs)
    fig, ax = style.new_figure(figsize=(9, 1.2 + 0.45 * n))
    y = np.arange(n)[::-1]
    h = 0.38
    ax.barh(y + h / 2, s.st[:n], height=h, color=ST_COLOUR, xerr=s.st_conf[:n], capsize=2,
            label="total (ST)")
    ax.barh(y - h / 2, s.s1[:n], height=h, color=S1_COLOUR, xerr=s.s1_conf[:n], capsize=2,
            label="first order (S1)")
    ax.set_yticks(y)
    ax.set_yticklabels(s.names[:n])
    ax.set_xlim(min(0.0, float(np.nanmin(s.s1[:n] - s.s1_conf[:n]))) - 0.02, 1.05)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"share of the variance of {s.output} (Sobol index)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    what = f"{s.title}: " if s.title else ""
    ax.set_title(f"{what}Sobol indices of {s.output} with {s.conf_level:.0%} bootstrap "
                 f"intervals ({s.n_evals:,} evaluations)")
    return fig


def plot_drivers(d, max_inputs: int = 12, n_ecdf: int = 3) -> Figure:
    """Drivers of loss: median shift of each input among the event draws, and ECDFs.

    Parameters
    ----------
    d : probmodel.analysis.sensitivity.Drivers
        Inputs ranked by KS distance.
    max_inputs : int
        Bars for at most this many inputs.
    n_ecdf : int
        ECDF panels (all draws against event draws) for the top inputs.

    Returns
    -------
    matplotlib.figure.Figure
        Left: signed median shift as a share of the 90% prior width, labelled with the
        KS distance. Right: the top inputs' distributions, all draws against event draws.
    """
    n = min(len(d.names), max_inputs)
    k = min(n_ecdf, len(d.names))
    fig = style.new_figure(figsize=(13, max(4.0, 1.2 + 0.45 * n)))[0]
    fig.clf()
    grid = fig.add_gridspec(max(k, 1), 2, width_ratios=[1.3, 1])
    ax = fig.add_subplot(grid[:, 0])
    y = np.arange(n)[::-1]
    shift = np.asarray(d.shift_fraction[:n]) * 100
    ax.barh(y, shift, color=SHIFT_COLOUR, height=0.6)
    for i in range(n):
        ax.annotate(f"KS {d.ks[i]:.2f}", (shift[i], y[i]),
                    xytext=(4 if shift[i] >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if shift[i] >= 0 else "right", va="center", fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(d.names[:n])
    ax.margins(x=0.2)
    ax.set_xlabel("median shift among event draws (% of the input's 90% prior width)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"ranked by KS distance; event: {d.event}, "
                 f"P = {d.p_event:.3f} ± {d.p_event_mcse:.3f}", fontsize=9)
    for i in range(k):
        a = fig.add_subplot(grid[i, 1])
        name = d.names[i]
        a.plot(style.scaled(name, d.ecdf_all[i]), d.ecdf_probs, color=ALL_COLOUR,
               label="all draws")
        a.plot(style.scaled(name, d.ecdf_event[i]), d.ecdf_probs, color=style.LOSS,
               label="event draws")
        a.set_xlabel(style.axis_label(name))
        a.set_ylabel("ECDF")
        a.grid(alpha=0.3)
        if i == 0:
            a.legend(loc="lower right", fontsize=7)
    what = f"{d.title}: " if d.title else ""
    fig.suptitle(f"{what}drivers of {d.event.split(' (')[0]}")
    return fig
