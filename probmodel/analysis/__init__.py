"""Analyst outputs: sweeps, comparisons, sensitivity, projections."""
