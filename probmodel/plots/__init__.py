"""Figures: ``plot_<thing>(data) -> matplotlib.figure.Figure``.

Plot functions never save and never compute statistics: they draw what they are given.
Saving is io.RunFolder.save_figure. Shared conventions live in :mod:`probmodel.plots.style`.
"""
