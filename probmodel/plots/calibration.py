"""Calibration figures: prior vs posterior densities, posterior predictive vs observed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from probmodel.plots import style

PRIOR = "#969696"
POSTERIOR = style.BAND_50
OBSERVED = style.LOSS


def _grid(n: int, ncols: int = 3) -> tuple[Figure, list]:
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = style.new_figure(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows),
                                 squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _range(*arrays: np.ndarray) -> tuple[float, float]:
    """Display range: the central 99% of the pooled draws (tails would hide the bulk)."""
    x = np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
    x = x[np.isfinite(x)]
    lo, hi = np.quantile(x, [0.005, 0.995])
    if hi <= lo:
        lo, hi = lo - 0.5 * abs(lo) - 1e-12, hi + 0.5 * abs(hi) + 1e-12
    return float(lo), float(hi)


#: Bins across the central 99% of a posterior's draws (at least; fewer draws, fewer bins).
POSTERIOR_BINS = 40


def _own_bins(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Bin edges across the central 99% of ``x`` (within ``lo``..``hi``), evenly spaced.

    Density histograms with different bins stay comparable: each integrates to one.
    """
    a, b = _range(x)
    a, b = max(a, lo), min(b, hi)
    if not b > a:
        a, b = lo, hi
    n = int(np.clip(np.sqrt(max(x.size, 1)), 10, POSTERIOR_BINS))
    return np.linspace(a, b, n + 1)


#: A posterior whose central 99% spans less than this share of the panel's range gets
#: a zoomed inset (its shape, and the prior over the same range).
ZOOM_BELOW = 0.1


def _zoom(ax, pr: np.ndarray, po: np.ndarray, lo: float, hi: float):
    """An inset magnifying a narrow posterior, on the side of the panel away from it.

    Returns the inset axes, or None when the posterior is wide enough to read as is.
    """
    a, b = _range(po)
    if not (b - a) < ZOOM_BELOW * (hi - lo):
        return None
    pad = 0.15 * (b - a)
    a, b = a - pad, b + pad
    left = (0.5 * (a + b) - lo) / (hi - lo) > 0.5  # the posterior sits right: inset left
    ins = ax.inset_axes([0.04 if left else 0.5, 0.38, 0.46, 0.55])
    inside = pr[(pr >= a) & (pr <= b)]
    bins = _own_bins(po, a, b)
    if inside.size:  # the prior's density over this range: all its draws count
        w = np.full(inside.size, 1.0 / (pr.size * (bins[1] - bins[0])))
        ins.hist(inside, bins=bins, weights=w, histtype="stepfilled", color=PRIOR,
                 alpha=0.45)
    ins.hist(po, bins=bins, density=True, histtype="step", color=POSTERIOR, lw=1.4)
    ins.set_xlim(a, b)
    ins.set_yticks([])
    ins.tick_params(labelsize=7)
    ins.xaxis.get_offset_text().set_fontsize(7)
    ins.set_title("posterior, zoomed", fontsize=7, pad=2)
    ins.set_gid("posterior_zoom")
    return ins


def _mark(ax, name: str, value: float, kind: str) -> None:
    v = float(style.scaled(name, value))
    ax.axvline(v, color=OBSERVED, lw=1.5, ls="--",
               label={"lower_bound": "observed (lower bound)",
                      "upper_bound": "observed (upper bound)"}.get(kind, "observed"))
    if kind in ("lower_bound", "upper_bound"):
        lo, hi = ax.get_xlim()
        ax.axvspan(lo if kind == "lower_bound" else v, v if kind == "lower_bound" else hi,
                   color=OBSERVED, alpha=0.08, lw=0)
        ax.set_xlim(lo, hi)


def plot_prior_posterior(prior: Mapping[str, np.ndarray], posterior: Mapping[str, np.ndarray],
                         names: Sequence[str] | None = None,
                         observed: Mapping[str, tuple[float, str]] | None = None,
                         title: str = "") -> Figure:
    """Prior and posterior density of each calibrated parameter, one panel each.

    Parameters
    ----------
    prior, posterior : mapping of name to array
        Draws (any shape; flattened).
    names : sequence of str, optional
        Panels to draw, in order (default: every name in ``posterior`` also in ``prior``).
    observed : mapping of name to (value, kind), optional
        Observations made directly of a parameter, drawn as a dashed line.
    title : str
        Figure title (the scenario).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(names or [k for k in posterior if k in prior])
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=True):
        pr = style.scaled(name, np.asarray(prior[name], np.float64).ravel())
        po = style.scaled(name, np.asarray(posterior[name], np.float64).ravel())
        lo, hi = _range(pr, po)
        ax.hist(pr, bins=np.linspace(lo, hi, 60), density=True, histtype="stepfilled",
                color=PRIOR, alpha=0.45, label="prior")
        # The posterior's own bins over its own range: one grid for both put a narrow
        # posterior (a well-measured parameter) into one or two bins of the prior's.
        ax.hist(po, bins=_own_bins(po, lo, hi), density=True, histtype="step",
                color=POSTERIOR, lw=1.8, label="posterior")
        ins = _zoom(ax, pr, po, lo, hi)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(style.axis_label(name))
        ax.set_yticks([])
        ax.set_title(name, fontsize=10)
        if observed and name in observed:
            _mark(ax, name, *observed[name])
            v = float(style.scaled(name, observed[name][0]))
            if ins is not None and ins.get_xlim()[0] <= v <= ins.get_xlim()[1]:
                ins.axvline(v, color=OBSERVED, lw=1.2, ls="--")
    if axes:
        # under the panels: inside, it could cover a zoom or a narrow posterior
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                   ncol=3, fontsize=8, frameon=False)
        axes[0].set_ylabel("density")
    fig.suptitle(f"{title}: prior (grey) and posterior (blue) of each calibrated parameter"
                 if title else "Prior (grey) and posterior (blue) of each calibrated parameter")
    return fig


def plot_posterior_predictive(replicates: Mapping[str, np.ndarray],
                              observed: Mapping[str, tuple[float, str]],
                              prior_replicates: Mapping[str, np.ndarray] | None = None,
                              title: str = "") -> Figure:
    """Posterior predictive of each observation against its observed value.

    Parameters
    ----------
    replicates : mapping of name to array
        Replicated measurements under the posterior (uncensored for bounds).
    observed : mapping of name to (value, kind)
        The observed value and the observation kind, per observation.
    prior_replicates : mapping of name to array, optional
        The same under the prior (drawn in grey, for prior-data conflict).
    title : str
        Figure title (the scenario).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(observed)
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=True):
        value, kind = observed[name]
        po = style.scaled(name, np.asarray(replicates[name], np.float64).ravel())
        v = float(style.scaled(name, value))
        lo, hi = _range(po)
        lo, hi = min(lo, v), max(hi, v)  # the observed value is always in view
        pad = 0.05 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        bins = np.linspace(lo, hi, 60)
        pr = np.empty(0)
        if prior_replicates is not None and name in prior_replicates:
            pr = style.scaled(name, np.asarray(prior_replicates[name], np.float64).ravel())
        inside = pr[(pr >= lo) & (pr <= hi)]
        if inside.size:
            # A true density of all prior draws (most may lie off this range): a diffuse
            # prior shows as a low band, not rescaled to look like the posterior.
            w = np.full(inside.size, 1.0 / (pr.size * (bins[1] - bins[0])))
            ax.hist(inside, bins=bins, weights=w, histtype="stepfilled", color=PRIOR,
                    alpha=0.35, label="prior predictive")
        ax.hist(po, bins=bins, density=True, histtype="step", color=POSTERIOR, lw=1.8,
                label="posterior predictive")
        ax.set_xlim(lo, hi)
        _mark(ax, name, value, kind)
        ax.set_xlabel(style.axis_label(name))
        ax.set_yticks([])
        ax.set_title(f"{name} ({kind.replace('_', ' ')})", fontsize=10)
    if axes:
        axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"{title}: replicated observations under the posterior vs observed (red)"
                 if title else "Replicated observations under the posterior vs observed (red)")
    return fig
