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


def new_figure(nrows: int = 1, ncols: int = 1, **kw) -> tuple[Figure, object]:
    """A figure with a consistent size and layout."""
    kw.setdefault("figsize", (7.5 * ncols if ncols > 1 else 8, 4.5 * nrows))
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kw)
