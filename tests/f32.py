"""Bounds for comparing float32 results of two differently compiled graphs.

XLA may fuse, reorder and contract (FMA) float32 arithmetic differently in two graphs
(and on CPUs of another vendor or vector width), so the same formula evaluated in two
graphs agrees only up to a few roundings of its *operands*, not of its result. A
result that is a difference of nearly equal numbers (profit = revenue - cost, margin =
profit / revenue) can then differ by a large relative amount although both values are
right to float32 precision: on an AMD EPYC machine 91 of 20,000 profits differed by up to
7e-4 relative between two graphs. Compare such results on the scale of the operands:

    |got - want| <= ULPS * eps32 * sum |operand|

``ULPS``: the equations chain about 20 float32 operations per output (each rounding by
at most half an ulp of its result, and FMA contraction removing a rounding), plus
exp/log (within 4 ulps in XLA); 64 ulps of the operands bounds that with room to spare,
and is still 1e-5 of revenue for profit. Bit-for-bit equality is kept only where the very
same compiled graph runs twice.
"""

from __future__ import annotations

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7
ULPS = 64


def bound(*operands, ulps: int = ULPS) -> np.ndarray:
    """Absolute error bound: ``ulps`` ulps of the sum of the operands' magnitudes."""
    scale = sum(np.abs(np.asarray(o, np.float64)) for o in operands)
    return ulps * EPS32 * scale


def assert_close(got, want, *operands, ulps: int = ULPS, what: str = "") -> None:
    """Assert ``|got - want| <= bound(*operands)`` element by element.

    ``operands``: the magnitudes the result is computed from (e.g. revenue and cost for
    profit); default: ``want`` itself (a product or quotient of positive numbers).
    """
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    b = bound(*(operands or (want,)), ulps=ulps)
    err = np.abs(got - want)
    bad = ~(err <= b)
    if bad.any():
        i = np.flatnonzero(np.broadcast_to(bad, err.shape).ravel())[0]
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values differ beyond {ulps} ulps of "
            f"their operands; first at flat index {i}: got {got.ravel()[i]!r}, want "
            f"{want.ravel()[i]!r}, |diff| {err.ravel()[i]:.3g} > bound "
            f"{np.broadcast_to(b, err.shape).ravel()[i]:.3g}")


def sign_ambiguous(x, *operands, ulps: int = ULPS) -> int:
    """How many values of ``x`` are so near 0 that another graph may flip their sign."""
    return int((np.abs(np.asarray(x, np.float64)) <= bound(*operands, ulps=ulps)).sum())
