"""Readable numbers for people: money in $k/day, chips in thousands, shares in %."""

from __future__ import annotations

import math

from probmodel.model import unit_of


def scale_for(name: str) -> tuple[float, str]:
    """(divisor, display unit) used to show ``name`` in tables and figures."""
    unit = unit_of(name)
    if name in ("peak_factor", "price_index"):
        return 1.0, "x"
    if name == "chip_peak_flops":
        return 1e12, "TFLOP/s"
    if unit == "parameter":
        return 1e9, "billion parameters"
    if unit == "USD/day":
        return 1e3, "$k/day"
    if unit == "chip":
        return 1e3, "thousand chips"
    if unit == "1":
        return 0.01, "%"
    if unit == "FLOP/s":
        return 1e18, "EFLOP/s"
    if unit == "token/day":
        return 1e9, "billion tokens/day"
    if unit == "token/s":
        return 1e6, "million tokens/s"
    if unit in ("user",):
        return 1e6, "million users"
    if unit == "GPU":
        return 1.0, "GPUs"
    return 1.0, unit


def number(x: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits and thousands separators."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:,.{decimals}f}"


def show(name: str, x: float, digits: int = 3) -> str:
    """``x`` in the display unit of ``name`` (without the unit)."""
    div, _ = scale_for(name)
    return number(x / div, digits)


def label(name: str) -> str:
    """Axis or column label: ``name (display unit)``."""
    _, unit = scale_for(name)
    return f"{name} ({unit})" if unit and unit != "1" else name


def ordinal(n: int) -> str:
    """``2nd``, ``4th``, ``32nd``, ``11th``: an English ordinal (a thinning stride)."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
