"""Tornado, Sobol-index and drivers-of-loss figures (data from analysis.sensitivity)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from probmodel import fmt
from probmodel.plots import style
from probmodel.report.numbers import probability

LOW_COLOUR = "#6baed6"  # the input at its 5% quantile
HIGH_COLOUR = "#fd8d3c"  # ... at its 95% quantile
S1_COLOUR = "#2171b5"
ST_COLOUR = "#bdd7e7"
ALL_COLOUR = "#525252"
SHIFT_COLOUR = "#756bb1"


# How an input's value is written beside a bar: shares with one decimal (so "57.8%"
# never stands next to "58%"), money and counts with three significant digits and unit.
_UNIT_TEXT = {"USD/(GPU h)": ("$", "/GPU-h", 1.0), "user": ("", "M users", 1e6),
              "token/request": ("", "k tokens/request", 1e3), "GPU": ("", " GPUs", 1.0),
              "chip": ("", "k chips", 1e3), "USD/day": ("$", "k/day", 1e3)}


def _input_value(name: str, unit: str, x: float) -> str:
    if unit == "1":
        return f"{x * 100:.1f}%"
    pre, post, div = _UNIT_TEXT.get(unit, ("", f" {unit}" if unit else "", 1.0))
    return f"{pre}{fmt.number(float(x) / div, 3)}{post}"


def _effective(t, max_inputs: int) -> tuple[int, list[str]]:
    """How many rows to draw (inputs that move the output) and the names that do not."""
    swing = np.abs(np.asarray(t.at_high) - np.asarray(t.at_low))
    scale = max(float(np.max(np.abs([t.point, *t.at_low, *t.at_high]))), 1e-300)
    moves = swing > 1e-9 * scale  # float64 evaluations: a zero swing is exactly zero
    idle = [n for n, m in zip(t.names, moves, strict=True) if not m]
    return min(int(moves.sum()), max_inputs), idle


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
    n, idle = _effective(t, max_inputs)
    n = max(n, 1)
    fig, ax = style.new_figure(figsize=(9, 1.6 + 0.45 * n))
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
    _label_bars(ax, t, lo, hi, y, centre, n)
    ax.set_yticks(y)
    ax.set_yticklabels(t.names[:n])
    ax.set_xlabel(style.axis_label(t.output))
    ax.margins(x=0.18)
    ax.grid(axis="x", alpha=0.3)
    _legend_and_note(fig, ax, idle, t.output)
    what = f"{t.title}: " if t.title else ""
    ax.set_title(f"{what}tornado of {style.axis_label(t.output)}, each input at p05/p95, "
                 "others at point", fontsize=10)
    return fig


def _legend_and_note(fig, ax, idle: list[str], output: str) -> None:
    """Legend below the axes (never over a bar), and the inputs left out, named."""
    note = (f"\nno effect on {output} with the others at point (not drawn): "
            f"{', '.join(idle)}") if idle else ""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8,
              frameon=False, title=note.strip() or None, title_fontsize=8)


def _label_bars(ax, t, lo, hi, y, centre: float, n: int, fontsize: float = 7.0) -> None:
    """Write at each bar end the input value that produced it."""
    for i in range(n):
        unit = t.units[i] if t.units else ""
        for v, xin in ((lo[i], t.low_input[i]), (hi[i], t.high_input[i])):
            if v != centre:
                ax.annotate(_input_value(t.names[i], unit, xin), (v, y[i]),
                            xytext=(3 if v > centre else -3, 0), textcoords="offset points",
                            ha="left" if v > centre else "right", va="center",
                            fontsize=fontsize)


def plot_tornado_ranges(outer, inner, max_inputs: int = 15) -> Figure:
    """Tornado at two percentile ranges: p05/p95 (light) and p10/p90 (dark) on one axis.

    Parameters
    ----------
    outer, inner : probmodel.analysis.sensitivity.Tornado
        The output with each input at its outer (5%/95%) and inner (10%/90%) quantiles,
        the others at point; the same output and point value. Rows follow ``outer``
        (largest swing on top); inputs that do not move the output are named in a note.

    Returns
    -------
    matplotlib.figure.Figure
        Light bars for the outer range, dark bars inside them for the inner range, the
        outer range's input values written at the bar ends.
    """
    n, idle = _effective(outer, max_inputs)
    n = max(n, 1)
    fig, ax = style.new_figure(figsize=(9, 1.6 + 0.5 * n))
    centre = float(style.scaled(outer.output, outer.point))
    pos = {name: i for i, name in enumerate(inner.names)}
    idx = [pos[nm] for nm in outer.names[:n]]
    y = np.arange(n)[::-1]
    o_lo = style.scaled(outer.output, np.asarray(outer.at_low[:n]))
    o_hi = style.scaled(outer.output, np.asarray(outer.at_high[:n]))
    i_lo = style.scaled(inner.output, np.asarray(inner.at_low)[idx])
    i_hi = style.scaled(inner.output, np.asarray(inner.at_high)[idx])
    ax.barh(y, o_lo - centre, left=centre, color=LOW_COLOUR, alpha=0.45, height=0.7,
            label="low quantile: 5% (light), 10% (dark)")
    ax.barh(y, o_hi - centre, left=centre, color=HIGH_COLOUR, alpha=0.45, height=0.7,
            label="high quantile: 95% (light), 90% (dark)")
    ax.barh(y, i_lo - centre, left=centre, color=LOW_COLOUR, height=0.4)
    ax.barh(y, i_hi - centre, left=centre, color=HIGH_COLOUR, height=0.4)
    ax.axvline(centre, color="black", linewidth=1.2,
               label=f"point value {fmt.number(centre, 3)} {fmt.scale_for(outer.output)[1]}")
    _label_bars(ax, outer, o_lo, o_hi, y, centre, n)
    ax.set_yticks(y)
    ax.set_yticklabels(outer.names[:n])
    ax.set_xlabel(style.axis_label(outer.output))
    ax.margins(x=0.18)
    ax.grid(axis="x", alpha=0.3)
    _legend_and_note(fig, ax, idle, outer.output)
    what = f"{outer.title}: " if outer.title else ""
    ax.set_title(f"{what}tornado of {style.axis_label(outer.output)} at p05/p95 and "
                 "p10/p90, others at point", fontsize=10)
    return fig


def plot_spider(output: str, percentiles: np.ndarray, medians: dict[str, np.ndarray],
                overall: float, title: str = "", per_bin: int | None = None) -> Figure:
    """Spider plot: the output's median as each input moves through its percentiles.

    Parameters
    ----------
    output : str
        The output's name.
    percentiles : array
        Input percentiles (0-100) at which each line is evaluated (bin centres).
    medians : dict
        Input name -> the output's median at each percentile (same length).
    overall : float
        The output's median over all draws (the horizontal reference).
    title : str
        The scenario's title.
    per_bin : int, optional
        Draws behind each point, written in the subtitle.

    Returns
    -------
    matplotlib.figure.Figure
        One line per input; steep lines are the inputs the output follows.
    """
    fig, ax = style.new_figure(figsize=(9, 5))
    for i, (name, m) in enumerate(medians.items()):
        # colour, marker and line style all change from line to line (Okabe-Ito
        # colours): lines stay apart in grey print and for colour-blind readers
        ax.plot(percentiles, style.scaled(output, np.asarray(m)),
                marker=_SPIDER_MARKERS[i % len(_SPIDER_MARKERS)], ms=5, linewidth=1.6,
                color=_SPIDER_COLOURS[i % len(_SPIDER_COLOURS)],
                linestyle=_SPIDER_STYLES[i % len(_SPIDER_STYLES)], label=name)
    ax.axhline(float(style.scaled(output, overall)), color="black", linewidth=1.0,
               linestyle=":", label="median over all draws")
    if output in ("margin", "profit"):
        ax.axhline(0.0, color=style.LOSS, linewidth=0.8)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 10, 25, 50, 75, 90, 100])
    ax.set_xlabel("percentile of the input (%)")
    ax.set_ylabel(f"median {style.axis_label(output)}")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    what = f"{title}: " if title else ""
    per = f", {per_bin:,} draws per point" if per_bin else ""
    ax.set_title(f"{what}median {style.axis_label(output)} as each input moves through its "
                 f"percentiles\n(draws binned by the input's deciles, all other inputs "
                 f"drawn{per})", fontsize=10)
    return fig


_SPIDER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                   "#000000", "#F0E442")
_SPIDER_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_SPIDER_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))


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
                 f"P = {probability(d.p_event, d.p_event_mcse)}", fontsize=9)
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


def plot_dependence(dep, max_inputs: int = 15) -> Figure:
    """Borgonovo delta and first-order S1 from the correlated joint draws.

    Parameters
    ----------
    dep : xarray.Dataset
        :func:`probmodel.analysis.dependence.for_output` (inputs sorted by delta).
    max_inputs : int
        Show at most this many inputs.

    Returns
    -------
    matplotlib.figure.Figure
        Paired horizontal bars (delta, S1) per input with bootstrap error bars.
    """
    names = [str(n) for n in dep.input.values][:max_inputs]
    n = len(names)
    sel = dep.isel(input=slice(0, n))
    fig, ax = style.new_figure(figsize=(9, 1.4 + 0.45 * n))
    y = np.arange(n)[::-1]
    h = 0.38
    ax.barh(y + h / 2, sel.delta.values, height=h, color=ST_COLOUR,
            xerr=sel.delta_conf.values, capsize=2, label="Borgonovo delta")
    ax.barh(y - h / 2, sel.s1.values, height=h, color=S1_COLOUR, xerr=sel.s1_conf.values,
            capsize=2, label="first order S1 (correlation ratio)")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    lo = float(np.nanmin(np.concatenate([sel.s1.values - sel.s1_conf.values, [0.0]])))
    ax.set_xlim(lo - 0.02, 1.05)
    ax.axvline(0, color="black", linewidth=0.8)
    output = dep.attrs.get("output", "output")
    ax.set_xlabel(f"importance for {output} (delta: distribution shift; S1: share of "
                  "variance), 0-1")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    title = dep.attrs.get("title")
    what = f"{title}: " if title else ""
    ax.set_title(f"{what}importance of inputs for {output} under their correlations\n"
                 f"(joint draws, {int(dep.attrs['draws']):,} draws, "
                 f"{float(dep.attrs['conf_level']):.0%} bootstrap intervals)", fontsize=10)
    return fig
