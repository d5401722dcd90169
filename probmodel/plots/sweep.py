"""Figures of a sweep: probability heatmaps, output heatmaps, fan charts, point grids.

Each function takes the summary Dataset of :mod:`probmodel.analysis.sweep` (dims: the
swept parameters, plus ``stat`` for quantiles) and returns a Figure; none computes a
statistic. Grids are laid out like the report's tables: the first swept parameter down
the rows, the second across the columns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from probmodel import fmt
from probmodel.plots import style
from probmodel.report.numbers import decimals_for


def _tick(name: str, values) -> list[str]:
    return [fmt.show(name, float(v), 3) for v in values]


def _ink(rgba) -> str:
    """Black or white text, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


#: Cell text size (points): never below 9, so a printed page stays readable.
CELL_FONT = 9.0
#: Colour maps of the heatmaps: perceptually uniform and readable with the common
#: colour-vision deficiencies (no red-green scale).
PROB_CMAP = "cividis"
VALUE_CMAP = "viridis"
#: Inches per cell of a heatmap (width, height): room for two lines of 9-pt text with
#: the P = 50% boundary on the cell edges clear of it.
CELL_W, CELL_H = 1.25, 0.75


def _heatmap(ax, matrix: np.ndarray, rows: tuple[str, np.ndarray], cols: tuple[str, np.ndarray],
             texts: list[list[str]], cmap: str, norm: Normalize,
             fontsize: float = CELL_FONT):
    im = ax.imshow(matrix, cmap=cmap, norm=norm, aspect="auto", origin="upper")
    ax.set_yticks(range(len(rows[1])), _tick(rows[0], rows[1]))
    ax.set_xticks(range(len(cols[1])), _tick(cols[0], cols[1]))
    ax.set_ylabel(style.axis_label(rows[0]))
    ax.set_xlabel(style.axis_label(cols[0]))
    ax.tick_params(length=0)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = _ink(im.cmap(norm(matrix[i, j]))) if np.isfinite(matrix[i, j]) else "k"
            ax.text(j, i, texts[i][j], ha="center", va="center", color=colour,
                    fontsize=fontsize, linespacing=1.15, gid="cell_text")
    return im


def _two_dims(summary: xr.Dataset) -> tuple[str, str]:
    dims = [d for d in summary.dims if d not in ("stat", "event")]
    if len(dims) != 2:
        raise ValueError(f"a heatmap needs exactly two swept parameters, not {dims}")
    return dims[0], dims[1]


def _subtitle(summary: xr.Dataset) -> str:
    draws = summary.attrs.get("draws")
    n = f"{draws:,} draws per cell, " if draws else ""
    return f"{n}common random numbers in every cell"


def plot_profit_heatmap(summary: xr.Dataset, text: str = "margin") -> Figure:
    """P(profit > 0) as colour, the median of ``text`` (margin) written in each cell.

    A black line marks where P(profit > 0) = 50% (interpolated between cell centres).
    """
    r, c = _two_dims(summary)
    p = summary["p_profitable"].transpose(r, c).values
    med = summary[text].sel(stat="q50").transpose(r, c).values
    texts = [[f"{fmt.show(text, med[i, j], 2)}%\nP={p[i, j]:.2f}"
              if fmt.scale_for(text)[1] == "%" else
              f"{fmt.show(text, med[i, j], 3)}\nP={p[i, j]:.2f}"
              for j in range(p.shape[1])] for i in range(p.shape[0])]
    fig, ax = style.new_figure(figsize=(CELL_W * p.shape[1] + 3.4,
                                        CELL_H * p.shape[0] + 2.2))
    norm = Normalize(0.0, 1.0)
    im = _heatmap(ax, p, (r, summary[r].values), (c, summary[c].values), texts, PROB_CMAP,
                  norm)
    _boundary(ax, p >= 0.5)
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    cb.set_label("P(profit > 0)")
    unit = fmt.scale_for(text)[1]
    ax.set_title(f"{summary.attrs.get('scenario', '')}: P(profit > 0) (colour) and median "
                 f"{text} ({unit}, text)\n{_subtitle(summary)}; white line: where P crosses 50%",
                 fontsize=10)
    return fig


def _boundary(ax, above: np.ndarray) -> None:
    """Outline where P(profit > 0) crosses 50%: the cell edges between cells either side.

    Drawn on the edges, not interpolated through the cells, so the line never crosses
    a cell's text; white with a black casing, visible on every colour of the map.
    """
    segs = []
    n, m = above.shape
    for i in range(n):
        for j in range(m):
            if j + 1 < m and above[i, j] != above[i, j + 1]:
                segs.append([(j + 0.5, i - 0.5), (j + 0.5, i + 0.5)])
            if i + 1 < n and above[i, j] != above[i + 1, j]:
                segs.append([(j - 0.5, i + 0.5), (j + 0.5, i + 0.5)])
    if not segs:
        return
    from matplotlib.collections import LineCollection

    for colour, width in (("black", 4.0), ("white", 2.0)):
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=width,
                                         capstyle="projecting", gid="p50_boundary"))


def plot_output_heatmap(summary: xr.Dataset, name: str) -> Figure:
    """The median of ``name`` as colour; median and 90% interval written in each cell."""
    r, c = _two_dims(summary)
    s = summary[name].transpose(r, c, "stat")
    med = style.scaled(name, s.sel(stat="q50").values)
    lo = s.sel(stat="q05").values
    hi = s.sel(stat="q95").values
    raw = s.sel(stat="q50").values
    texts = [[f"{fmt.show(name, raw[i, j], 3)}\n[{fmt.show(name, lo[i, j], 2)}, "
              f"{fmt.show(name, hi[i, j], 2)}]" for j in range(med.shape[1])]
             for i in range(med.shape[0])]
    fig, ax = style.new_figure(figsize=(CELL_W * med.shape[1] + 3.4,
                                        CELL_H * med.shape[0] + 2.2))
    norm = Normalize(np.nanmin(med), np.nanmax(med))
    im = _heatmap(ax, med, (r, summary[r].values), (c, summary[c].values), texts, VALUE_CMAP,
                  norm)
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    cb.set_label(f"median {style.axis_label(name)}")
    ax.set_title(f"{summary.attrs.get('scenario', '')}: median {style.axis_label(name)} "
                 f"(colour) with its 90% interval\n{_subtitle(summary)}", fontsize=10)
    return fig


def plot_fan(summary: xr.Dataset, name: str, crossing: Mapping | None = None,
             break_even: Mapping | None = None) -> Figure:
    """Fan chart over one swept parameter, with P(profit > 0) on a second panel.

    Parameters
    ----------
    summary : xarray.Dataset
        One swept dimension; ``name`` with a ``stat`` dim (q05, q25, q50, q75, q95) and,
        when the scenario has profit, ``p_profitable`` and ``p_profitable_mcse``.
    name : str
        The output drawn in the top panel.
    crossing : mapping, optional
        ``{"value": x, "mcse": se}``: where P(profit > 0) crosses 50%, marked on both
        panels.
    """
    dims = [d for d in summary.dims if d not in ("stat", "event")]
    if len(dims) != 1:
        raise ValueError(f"a fan chart needs exactly one swept parameter, not {dims}")
    x_name = dims[0]
    order = np.argsort(summary[x_name].values)
    xv = style.scaled(x_name, summary[x_name].values[order])
    s = summary[name].transpose(x_name, "stat")
    q = {st: style.scaled(name, s.sel(stat=st).values[order])
         for st in ("q05", "q25", "q50", "q75", "q95")}
    has_p = "p_profitable" in summary
    has_be = has_p and break_even is not None and x_name == "pay_rate"
    ratios = [3, 2, 0.7] if has_be else [3, 2] if has_p else None
    fig, axes = style.new_figure(len(ratios) if ratios else 1, 1, sharex=True,
                                 figsize=(8, 7.5 + 1.2 * has_be if has_p else 4.5),
                                 height_ratios=ratios)
    ax = axes[0] if has_p else axes
    ax.fill_between(xv, q["q05"], q["q95"], color=style.BAND_90, label="90% interval")
    ax.fill_between(xv, q["q25"], q["q75"], color=style.BAND_50, label="50% interval")
    ax.plot(xv, q["q50"], color=style.MEDIAN, lw=2, marker="o", ms=3, label="median")
    if name in ("margin", "profit"):
        ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(style.axis_label(name))
    ax.set_title(f"{summary.attrs.get('scenario', '')}: {style.axis_label(name)} against "
                 f"{x_name}\n{_subtitle(summary)}", fontsize=10)
    ax.grid(alpha=0.3)
    cx = None
    if crossing is not None:
        cx = style.scaled(x_name, crossing["value"])
        ax.axvline(cx, color=style.LOSS, ls="--", lw=1)
    ax.legend(loc="best", fontsize=8)
    if not has_p:
        ax.set_xlabel(style.axis_label(x_name))
        return fig
    ax2 = axes[1]
    p = summary["p_profitable"].values[order]
    se = summary["p_profitable_mcse"].values[order]
    ax2.fill_between(xv, np.clip(p - 2 * se, 0, 1), np.clip(p + 2 * se, 0, 1),
                     color=style.BAND_90, label="± 2 MCSE")
    ax2.plot(xv, p, color=style.PROFIT, lw=2, marker="o", ms=3, label="P(profit > 0)")
    ax2.axhline(0.5, color="k", lw=0.8, ls=":")
    for j, lab in enumerate(summary["event"].values if "p_event" in summary else ()):
        pe = summary["p_event"].transpose(x_name, "event").values[order, j]
        ax2.plot(xv, pe, lw=1.5, marker=".", ms=3, ls="--", label=f"P({lab})")
    if crossing is not None:
        ax2.axvline(cx, color=style.LOSS, ls="--", lw=1)
        se_x = float(style.scaled(x_name, crossing.get("mcse", 0.0)))
        d = max(decimals_for(se_x) - 1, 0)  # one significant digit of the MCSE
        ax2.plot([cx], [0.5], "o", color=style.LOSS,
                 label=f"50% at {x_name} = {cx:,.{d}f} ± {se_x:,.{d}f} "
                       f"{fmt.scale_for(x_name)[1]} (MCSE)")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("P(profit > 0)" if "p_event" not in summary else "probability")
    ax2.grid(alpha=0.3)
    ax2.legend(loc="best", fontsize=8)
    if not has_be:
        ax2.set_xlabel(style.axis_label(x_name))
        return fig
    _break_even_panel(axes[2], x_name, break_even, cx)
    return fig


def _break_even_panel(ax, x_name: str, break_even: Mapping, cx: float | None) -> None:
    """The per-draw break-even pay rate's median and 90% interval, on its own axis.

    A different quantity from the curves above (a distribution over draws, not a
    probability), so it gets its own strip under them, on the same x axis.
    """
    lo, mid, hi = (float(style.scaled(x_name, break_even[k])) for k in ("q05", "q50", "q95"))
    unit = fmt.scale_for(x_name)[1]
    ax.errorbar([mid], [0.0], xerr=[[mid - lo], [hi - mid]], fmt="s", color="k", capsize=5,
                ms=5, lw=1.6)
    ax.annotate(f"break-even {x_name} per draw: median {fmt.number(mid, 3)} {unit}, "
                f"90% interval [{fmt.number(lo, 3)}, {fmt.number(hi, 3)}] {unit}",
                (mid, 0.0), xytext=(0, 9), textcoords="offset points", ha="center",
                va="bottom", fontsize=8)
    if cx is not None:
        ax.axvline(cx, color=style.LOSS, ls="--", lw=1)
    ax.set_ylim(-1, 1.6)
    ax.set_yticks([])
    ax.set_ylabel("break-\neven", fontsize=8)
    ax.set_xlabel(style.axis_label(x_name))
    ax.grid(axis="x", alpha=0.3)


def plot_point_grid(ds: xr.Dataset, name: str) -> Figure:
    """The point-mode grid of ``name``: a heatmap (two swept parameters) or a line (one)."""
    dims = list(ds[name].dims)
    title = f"{ds.attrs.get('scenario', '')}: {style.axis_label(name)} at the point values"
    if len(dims) == 1:
        fig, ax = style.new_figure()
        x = ds[dims[0]].values
        order = np.argsort(x)
        ax.plot(style.scaled(dims[0], x[order]), style.scaled(name, ds[name].values[order]),
                color=style.MEDIAN, marker="o")
        ax.set_xlabel(style.axis_label(dims[0]))
        ax.set_ylabel(style.axis_label(name))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        return fig
    if len(dims) != 2:
        raise ValueError(f"a point grid figure needs one or two swept parameters, not {dims}")
    r, c = dims
    v = ds[name].transpose(r, c).values
    texts = [[fmt.show(name, v[i, j], 3) for j in range(v.shape[1])] for i in range(v.shape[0])]
    fig, ax = style.new_figure(figsize=(CELL_W * v.shape[1] + 3.4, CELL_H * v.shape[0] + 2.0))
    shown = style.scaled(name, v)
    im = _heatmap(ax, shown, (r, ds[r].values), (c, ds[c].values), texts, VALUE_CMAP,
                  Normalize(np.nanmin(shown), np.nanmax(shown)))
    fig.colorbar(im, ax=ax, shrink=0.9).set_label(style.axis_label(name))
    ax.set_title(title, fontsize=10)
    return fig
