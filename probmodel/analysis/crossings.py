"""Where a probability crosses a level along a sweep's grid (break-even values).

:func:`crossings` interpolates every crossing of P(profit > 0) and of each ``--event``'s
probability through the levels asked for (``--crossing``, default 50%), along each swept
parameter, with the Monte Carlo error of the interpolated value; used by
:mod:`probmodel.analysis.sweep`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from probmodel.analysis.grid import Grid
from probmodel.errors import UsageError


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Crossing levels as a tuple: each a probability strictly between 0 and 1, once."""
    out = tuple(float(v) for v in levels)
    for v in out:
        if not 0 < v < 1:
            raise UsageError(f"--crossing: {v:g} is not a probability strictly between 0 "
                             f"and 1 (e.g. 0.9 or 90%)")
    if len(set(out)) < len(out):
        raise UsageError("--crossing: a level is given twice")
    return out or (0.5,)


def _crossing_1d(x: np.ndarray, p: np.ndarray, se: np.ndarray,
                 level: float = 0.5) -> list[dict]:
    """Where p(x) crosses ``level``, by linear interpolation between grid values.

    Notes
    -----
    Between grid values x_i and x_j = x_{i+1} with estimates p_i, p_j (d = p_j - p_i),
    the crossing is ``x_i + t (x_j - x_i)``, ``t = (level - p_i) / d``. Its MCSE is the
    delta method's, ``(|t - 1| se_i + |t| se_j) / |d| * (x_j - x_i)``: the bound for
    perfectly correlated estimates, which common random numbers make them nearly (the
    two partial derivatives have opposite signs, so a positive correlation can only
    widen the spread; the bound is its maximum). It is the Monte Carlo error only, not
    the error of interpolating linearly between grid values.
    """
    order = np.argsort(x)
    x, p, se = x[order], p[order], se[order]
    out = []
    for i in range(len(x) - 1):
        a, b = p[i] - level, p[i + 1] - level
        if a == 0 and i > 0:
            continue  # counted as the end of the previous interval
        if a * b > 0 or p[i] == p[i + 1]:
            continue
        d = p[i + 1] - p[i]
        t = (level - p[i]) / d
        dx = x[i + 1] - x[i]
        se_t = abs((t - 1) / d) * se[i] + abs(t / d) * se[i + 1]
        value, mcse = float(x[i] + t * dx), float(se_t * dx)
        out.append({"value": value, "mcse": mcse,
                    "interval": [value - 2 * mcse, value + 2 * mcse],
                    "between": [float(x[i]), float(x[i + 1])],
                    "direction": "rising" if d > 0 else "falling"})
    return out


def probability_curves(summary: xr.Dataset) -> list[tuple[str, xr.DataArray, xr.DataArray]]:
    """(event label, P, MCSE) over the swept dims: profit > 0 first, then each event."""
    out = []
    if "p_profitable" in summary:
        out.append(("profit > 0", summary["p_profitable"], summary["p_profitable_mcse"]))
    if "p_event" in summary:
        for lab in summary["event"].values:
            out.append((str(lab), summary["p_event"].sel(event=lab, drop=True),
                        summary["p_event_mcse"].sel(event=lab, drop=True)))
    return out


def crossings(summary: xr.Dataset, grid: Grid, levels: Sequence[float] = (0.5,)) -> list[dict]:
    """Every place where P(profit > 0) or an event's probability crosses a level.

    For each probability (profit > 0, then each ``--event``), each level, each swept
    parameter and each combination of the others' values, the crossing is interpolated
    linearly between neighbouring grid values, with the MCSE of :func:`_crossing_1d` and
    ``interval`` = value ± 2 MCSE. With a swept ``pay_rate`` the 50% crossing of
    P(profit > 0) estimates the median break-even pay rate.
    """
    out = []
    for label, p, se in probability_curves(summary):
        for level in levels:
            for name in grid.names:
                others = [n for n in grid.names if n != name]
                stacked_p = p.transpose(*others, name).values.reshape(-1, p.sizes[name])
                stacked_se = se.transpose(*others, name).values.reshape(-1, p.sizes[name])
                combos = (np.stack(np.meshgrid(*(summary[o].values for o in others),
                                               indexing="ij"), -1).reshape(-1, len(others))
                          if others else np.zeros((1, 0)))
                xs = summary[name].values
                for row, (pr, sr) in enumerate(zip(stacked_p, stacked_se, strict=True)):
                    for c in _crossing_1d(xs, pr, sr, level):
                        at = {o: float(v) for o, v in zip(others, combos[row], strict=True)}
                        out.append({"event": label, "level": float(level), "parameter": name,
                                    "at": at, **c})
    return out
