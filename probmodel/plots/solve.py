"""The figure of a solve: the target's statistic against the varied input."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from probmodel import fmt
from probmodel.plots import style


def plot_solve(tree: xr.DataTree) -> Figure:
    """The estimate (with +-2 MCSE) against the varied input, the threshold and the answer.

    Parameters
    ----------
    tree : xarray.DataTree
        :func:`probmodel.analysis.solve.to_tree`: /curve, /tries and /answer (the value
        and its Monte Carlo range over ``ci_bound``), the target in the root's attrs.
    """
    a = tree.attrs
    name, out, prob = a["vary"], a["output"], bool(a["probability"])
    ys = (lambda v: np.asarray(v)) if prob else (lambda v: style.scaled(out, np.asarray(v)))
    curve = tree["curve"].to_dataset()
    order = np.argsort(curve[name].values)
    x = style.scaled(name, curve[name].values[order])
    est, se = curve["estimate"].values[order], curve["estimate_mcse"].values[order]
    fig, ax = style.new_figure()
    ax.fill_between(x, ys(est - 2 * se), ys(est + 2 * se), color=style.BAND_90,
                    label="± 2 MCSE")
    ax.plot(x, ys(est), color=style.MEDIAN, lw=2, label=a["statistic"])
    tries = tree["tries"].to_dataset()
    ax.plot(style.scaled(name, tries[name].values), ys(tries["estimate"].values), "o",
            color="k", ms=2.5, label=f"tries ({tries.sizes['try']})")
    ax.axhline(float(ys(a["threshold"])), color=style.LOSS, ls=":", lw=1.2,
               label=f"threshold: {a['target']}")
    ans = tree["answer"].to_dataset()
    lo, hi = (style.scaled(name, float(ans["value_interval"].sel(ci_bound=b)))
              for b in ("lower", "upper"))
    ax.axvspan(lo, hi, color=style.LOSS, alpha=0.15, label="Monte Carlo range (± 2 MCSE)")
    v = style.scaled(name, float(ans["value"]))
    side = "and above" if a["direction"] == "above" else "and below"
    ax.axvline(v, color=style.LOSS, lw=1.5, label=f"{name} = {fmt.number(v, 4)} ({side})")
    ax.set_xlabel(style.axis_label(name))
    ax.set_ylabel(a["statistic"] if prob else f"{a['statistic']} ({fmt.scale_for(out)[1]})")
    ax.set_title(f"{a['scenario']}: {a['statistic']} against {name}\n{int(a['draws']):,} draws, "
                 "the same draws at every value", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_choose(summary: xr.Dataset) -> Figure:
    """Each option's objective output: median, 50% and 90% intervals; P(best) written.

    Parameters
    ----------
    summary : xarray.Dataset
        The choice's result contract over the ``option`` dim, with ``p_best`` (NaN for
        an option failing a constraint) and the objective in attrs.
    """
    a = summary.attrs
    out = a["objective_output"]
    s = summary[out].transpose("option", "stat")
    labels = [str(v) for v in summary["option"].values]
    y = np.arange(len(labels))
    q = {st: style.scaled(out, s.sel(stat=st).values) for st in ("q05", "q25", "q50",
                                                                 "q75", "q95")}
    fig, ax = style.new_figure(figsize=(8, 1.0 + 0.7 * len(labels)))
    ax.hlines(y, q["q05"], q["q95"], color=style.BAND_90, lw=6, label="90% interval")
    ax.hlines(y, q["q25"], q["q75"], color=style.BAND_50, lw=6, label="50% interval")
    ax.plot(q["q50"], y, "o", color=style.MEDIAN, label="median")
    for i in range(len(labels)):
        p = float(summary["p_best"].values[i])
        text = f"P(best) = {p:.3f}" if np.isfinite(p) else "fails a constraint"
        ax.annotate(text, (q["q95"][i], y[i]), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(style.axis_label(out))
    ax.set_title(f"{a.get('scenario', '')}: {a['objective']} by {a['choose']}\n"
                 f"{a.get('draws', 0):,} draws, the same draws for every option", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="lower right", fontsize=8)
    return fig
