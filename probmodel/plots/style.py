"""Shared figure conventions: readable units ($k/day, thousand chips, %), labels, titles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # figures are files; never need a display

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from probmodel import fmt

BAND_90 = "#9ecae1"
BAND_50 = "#4292c6"
MEDIAN = "#08306b"
LOSS = "#cb181d"
PROFIT = "#238b45"


def scaled(name: str, values):
    """Values of ``name`` in its display unit (e.g. USD/day -> $k/day)."""
    div, _ = fmt.scale_for(name)
    return values / div


def axis_label(name: str) -> str:
    """``name (display unit)``, e.g. ``revenue ($k/day)``."""
    return fmt.label(name)


def freeze_layout(fig: Figure) -> dict:
    """Lay ``fig`` out once and return savefig arguments that keep that layout.

    Saving with the layout engine on lays the figure out again for every file, and
    ``bbox_inches="tight"`` adds a further pass over every text: a run folder's PNG and
    SVG of one figure cost three layouts and two renders each. Here the engine runs
    once, is then switched off, and the tight bounding box (a long title may reach past
    the figure's edge) is measured once and passed to every save as a fixed box, so
    each file costs one render (with the run's lighter figures, its two figures' four
    files take ~1.1 s instead of 3.5-4 s; benchmarks/README.md).
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    return {"bbox_inches": box.padded(0.1)}  # savefig's default pad_inches


def new_figure(nrows: int = 1, ncols: int = 1, **kw) -> tuple[Figure, object]:
    """A figure with a consistent size and layout."""
    kw.setdefault("figsize", (7.5 * ncols if ncols > 1 else 8, 4.5 * nrows))
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kw)
