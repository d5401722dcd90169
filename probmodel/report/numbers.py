"""Numbers as a reader wants them: display units from the recorded unit, value ± MCSE."""

from __future__ import annotations

import math

from probmodel import fmt

# unit (as recorded in a run's CSV or TOML) -> (divisor, display unit); the same choices
# as probmodel.fmt makes by name, here by unit so that inputs the model's node table does
# not know (and units a later scenario adds) read the same way.
_BY_UNIT: dict[str, tuple[float, str]] = {
    "USD/day": (1e3, "$k/day"),
    "USD/year": (1e6, "$m/year"),
    "1": (0.01, "%"),
    "chip": (1e3, "thousand chips"),
    "user": (1e6, "million users"),
    "token/day": (1e9, "billion tokens/day"),
    "token/s": (1e6, "million tokens/s"),
    "FLOP/s": (1e18, "EFLOP/s"),
    "parameter": (1e9, "billion parameters"),
    "GPU": (1.0, "GPUs"),
}


def scale(name: str, unit: str | None) -> tuple[float, str]:
    """(divisor, display unit) of ``name`` recorded in ``unit``.

    Names with a convention of their own (peak_factor, price_index) keep it; otherwise
    the unit decides; an unknown unit is shown as recorded.
    """
    div, shown = fmt.scale_for(name)
    if shown in ("x", "TFLOP/s") or not unit or (isinstance(unit, float) and unit != unit):
        return div, shown
    return _BY_UNIT.get(str(unit), (1.0, str(unit)))


def number(x: float | None, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits and thousands separators; '–' if missing."""
    if x is None or not math.isfinite(x):
        return "–"
    return fmt.number(float(x), digits)


def show(name: str, unit: str | None, x: float | None, digits: int = 3) -> str:
    """``x`` in the display unit of ``name``, without the unit."""
    if x is None or not math.isfinite(x):
        return "–"
    return number(x / scale(name, unit)[0], digits)


def decimals_for(se: float) -> int:
    """Decimals that show an MCSE ``se`` with two significant digits."""
    if not se or not math.isfinite(se):
        return 3
    return max(0, 1 - math.floor(math.log10(abs(se))))


def with_mcse(name: str, unit: str | None, x: float | None, se: float | None) -> str:
    """``value ± MCSE`` in display units, the value rounded to the MCSE's precision."""
    div = scale(name, unit)[0]
    if x is None or not math.isfinite(x):
        return "–"
    if se is None or not math.isfinite(se) or se == 0:
        return show(name, unit, x, 4)
    d = decimals_for(se / div)
    return f"{x / div:,.{d}f} ± {se / div:,.{d}f}"


def probability(p: float, se: float) -> str:
    """``0.4895 ± 0.0004``: a probability and its MCSE.

    At least three decimals, and one significant digit of the MCSE at least (never
    ``± 0.000`` for a nonzero MCSE).
    """
    if not math.isfinite(se) or se <= 0:
        return f"{p:.3f}"
    d = max(decimals_for(se) - 1, 3)
    return f"{p:.{d}f} ± {se:.{d}f}"


def percent(p: float | None, se: float | None = None) -> str:
    """A probability as a percentage, with its MCSE when given (``49.4% ± 0.4%``)."""
    if p is None or not math.isfinite(p):
        return "–"
    if se is None or not math.isfinite(se):
        return f"{p * 100:.1f}%"
    if se == 0:  # p is 0 or 1: every draw on one side (the MCSE of a proportion is then 0)
        return f"{p * 100:.0f}% (every draw)"
    # one significant digit of the MCSE at least (never "± 0.0%" for a nonzero MCSE)
    d = max(decimals_for(se * 100) - 1, 1)
    return f"{p * 100:.{d}f}% ± {se * 100:.{d}f}%"
