"""The family registry: names, native parameters, accepted key sets, domain checks, support.

Pure Python (no SciPy, no JAX), so validating a scenario with native parameters costs
nothing at start-up. Every problem raises :class:`probmodel.errors.ParameterError`
naming the offending key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from probmodel.errors import ParameterError


@dataclass(frozen=True)
class Family:
    """One distribution family and the key sets a parameter table may use for it.

    Attributes
    ----------
    name : str
        The family name as written in ``dist = "..."``.
    native : tuple of str
        Native parameter names, in order; :func:`resolve` returns exactly these.
    elicitable : tuple of frozenset of str
        Alternative key sets that :func:`resolve` accepts and solves for the native
        parameters (``{"p05", "p95"}``, ``{"p05", "p50", "p95"}``, ``{"mean", "sd"}``...).
    """

    name: str
    native: tuple[str, ...]
    elicitable: tuple[frozenset[str], ...]


def key_set(*names: str) -> frozenset[str]:
    """A frozen set of table keys."""
    return frozenset(names)


INTERVAL = key_set("p05", "p95")
INTERVAL3 = key_set("p05", "p50", "p95")
MOMENTS = key_set("mean", "sd")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("Normal", ("loc", "scale"), (INTERVAL, INTERVAL3)),
        Family("LogNormal", ("loc", "scale"), (INTERVAL, INTERVAL3, MOMENTS)),
        Family("Beta", ("alpha", "beta"), (INTERVAL, MOMENTS)),
        Family("Gamma", ("shape", "rate"), (INTERVAL, MOMENTS)),
        Family("Uniform", ("low", "high"), (INTERVAL,)),
        Family(
            "TruncatedNormal",
            ("loc", "scale", "low", "high"),
            (key_set("p05", "p95", "low", "high"),),
        ),
        Family("Triangular", ("low", "mode", "high"), (INTERVAL3,)),
        Family("PERT", ("low", "mode", "high"), (INTERVAL3,)),
    )
}

# The order keys are listed in messages (and the order of "the first missing key").
KEY_ORDER = (
    "loc", "scale", "alpha", "beta", "shape", "rate", "low", "mode", "high",
    "p05", "p50", "p95", "mean", "sd",
)  # fmt: skip
PROBS = {"p05": 0.05, "p50": 0.5, "p95": 0.95}
#: The 95% standard normal quantile, scipy.special.ndtri(0.95) (a test checks it); a
#: literal so that the registry needs no SciPy at import.
Z95 = 1.6448536269514722

# A truncated normal is sampled by inverse CDF in the tail nearest to its interval. In
# float32 the normal CDF leaves the normal range (1.2e-38) below -13 standard units, so
# the interval may not lie further than this from loc (beyond it the law is essentially
# an exponential). At 10, the CDF at the interval's near end is >= 7.6e-24 and the
# float32 sampler's clamp of the CDF to >= 1.2e-38 moves at most 1.6e-15 of the mass.
TN_MAX_Z = 10.0


def ordered_keys(keys) -> list[str]:
    """Keys in the order messages list them (native first, then elicitation keys)."""
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), str(k)))


def fmt_number(x: float) -> str:
    """A number as messages show it (10 significant digits)."""
    return f"{x:.10g}"


_fmt = fmt_number


def forms(fam: Family) -> list[frozenset[str]]:
    """Every key set the family accepts: its native parameters first."""
    return [frozenset(fam.native), *fam.elicitable]


def describe(fam: Family) -> str:
    """The accepted key sets as text, e.g. ``alpha, beta; or p05, p95``."""
    return "; or ".join(", ".join(ordered_keys(f)) for f in forms(fam))


def family_of(family: Any) -> Family:
    """The :class:`Family` called ``family``; ParameterError at ``dist`` if unknown."""
    fam = FAMILIES.get(family) if isinstance(family, str) else None
    if fam is None:
        raise ParameterError(
            "dist", f"unknown distribution {family!r}; known: {', '.join(FAMILIES)}"
        )
    return fam


def native_values(family: str, params: Mapping[str, Any]) -> tuple[Family, list[Any]]:
    """The family and its native parameter values in order; ParameterError if one is missing."""
    fam = family_of(family)
    out = []
    for k in fam.native:
        if k not in params:
            raise ParameterError(k, f"missing native parameter of a {fam.name}")
        out.append(params[k])
    return fam, out


def parse_number(fam: Family, key: str, value: Any) -> float:
    """``value`` as a float: a number, not NaN, finite (but for a truncated normal's open side)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(key, f"must be a number, got {value!r}")
    try:
        x = float(value)
    except (OverflowError, ValueError):
        raise ParameterError(key, f"must be a finite number, got {value!r}") from None
    if math.isnan(x):
        raise ParameterError(key, "must be a number, got NaN")
    if math.isinf(x):
        one_sided = fam.name == "TruncatedNormal" and (
            (key == "low" and x < 0) or (key == "high" and x > 0)
        )
        if not one_sided:
            raise ParameterError(key, f"must be finite, got {_fmt(x)}")
    return x


def match_form(fam: Family, given: frozenset[str]) -> frozenset[str]:
    """The accepted key set equal to ``given``, else a ParameterError naming the key at fault."""
    candidates = forms(fam)
    if given in candidates:
        return given
    if not given:
        raise ParameterError("", f"no parameters given; a {fam.name} takes {describe(fam)}")
    elicited = set().union(*fam.elicitable)
    native_only = set(fam.native) - elicited
    elicited_only = elicited - set(fam.native)
    if given & native_only and given & elicited_only:
        key = ordered_keys(given & elicited_only)[0]
        raise ParameterError(
            key,
            f"give either the native parameters ({', '.join(fam.native)}) or an "
            f"elicitation, not both (a {fam.name} takes {describe(fam)})",
        )
    supersets = [f for f in candidates if given < f]
    if supersets:
        best = min(supersets, key=len)
        missing = ordered_keys(best - given)
        hint = ""
        if fam.name == "TruncatedNormal" and {"low", "high"} & set(missing):
            hint = " (use low = -inf or high = inf for an open side)"
        raise ParameterError(
            missing[0],
            f"missing: a {fam.name} given {', '.join(ordered_keys(given))} also needs "
            f"{', '.join(missing)}{hint}",
        )
    best = max(candidates, key=lambda f: len(f & given))
    extra = ordered_keys(given - best)[0]
    raise ParameterError(
        extra,
        f"cannot be combined with {', '.join(ordered_keys(given - {extra}))}; "
        f"a {fam.name} takes {describe(fam)}",
    )


def check_interval(v: dict[str, float]) -> None:
    """Refuse p05 >= p95, an overflowing width, and p50 outside (p05, p95)."""
    p05, p95 = v["p05"], v["p95"]
    if not p95 > p05:
        raise ParameterError("p95", f"p95 ({_fmt(p95)}) must exceed p05 ({_fmt(p05)})")
    if not math.isfinite(p95 - p05):
        raise ParameterError("p95", "p95 - p05 overflows; rescale the quantity (units)")
    if "p50" in v and not p05 < v["p50"] < p95:
        raise ParameterError(
            "p50",
            f"p50 ({_fmt(v['p50'])}) must lie strictly between p05 ({_fmt(p05)}) "
            f"and p95 ({_fmt(p95)})",
        )


def check_positive(v: Mapping[str, float], *keys: str, what: str = "must be positive") -> None:
    """Refuse a non-positive value of any of ``keys``."""
    for k in keys:
        if not v[k] > 0:
            raise ParameterError(k, f"{what}, got {_fmt(v[k])}")


def check_native(fam: Family, v: Mapping[str, float], elicited: bool = False) -> dict:
    """Check the native parameters' domain; return them as floats in native order."""
    out = {k: float(v[k]) for k in fam.native}
    bad = [k for k in fam.native if not math.isfinite(out[k])]
    if fam.name == "TruncatedNormal":
        bad = [k for k in ("loc", "scale") if not math.isfinite(out[k])]
    if elicited and bad:
        raise ParameterError(
            "",
            f"the elicitation gives a {fam.name} with non-finite "
            f"{', '.join(f'{k} = {out[k]}' for k in bad)}; rescale the quantity",
        )
    for k in fam.native:
        problem = float32_problem(out[k])
        if problem and not (fam.name == "TruncatedNormal" and math.isinf(out[k])):
            raise ParameterError("" if elicited else k,
                                 f"{'the solved ' + k + ' ' if elicited else ''}"
                                 f"({_fmt(out[k])}) {problem}")
    name = fam.name
    if name in ("Normal", "LogNormal"):
        check_positive(out, "scale")
        if name == "LogNormal" and not abs(out["loc"]) < LOG_FLOAT32_MAX:
            raise ParameterError(
                "loc",
                f"the median exp(loc) of a LogNormal with loc = {_fmt(out['loc'])} is "
                "outside the float32 floating-point range the engine samples in; loc is the "
                "log of the median, rescale the quantity",
            )
    elif name == "Beta":
        check_positive(out, "alpha", "beta")
    elif name == "Gamma":
        check_positive(out, "shape", "rate")
    elif name == "Uniform":
        _ordered_bounds(out)
    elif name == "TruncatedNormal":
        check_positive(out, "scale")
        _ordered_bounds(out)
        a = (out["low"] - out["loc"]) / out["scale"]
        b = (out["high"] - out["loc"]) / out["scale"]
        if a > TN_MAX_Z or b < -TN_MAX_Z:
            raise ParameterError(
                "" if elicited else "loc",
                f"the interval [low, high] = [{_fmt(out['low'])}, {_fmt(out['high'])}] lies "
                f"{_fmt(max(a, -b))} scales from loc ({_fmt(out['loc'])}); beyond "
                f"{_fmt(TN_MAX_Z)} the truncated normal is essentially an exponential "
                "and cannot be sampled accurately in float32; move loc towards the "
                "interval or widen scale",
            )
    elif name in ("Triangular", "PERT"):
        _ordered_bounds(out)
        if not out["low"] <= out["mode"] <= out["high"]:
            raise ParameterError(
                "mode",
                f"mode ({_fmt(out['mode'])}) must lie in [low, high] = "
                f"[{_fmt(out['low'])}, {_fmt(out['high'])}]",
            )
    return out


def _ordered_bounds(v: Mapping[str, float]) -> None:
    if not v["high"] > v["low"]:
        raise ParameterError("high", f"high ({_fmt(v['high'])}) must exceed low ({_fmt(v['low'])})")
    if math.isfinite(v["low"]) and math.isfinite(v["high"]) and math.isinf(v["high"] - v["low"]):
        raise ParameterError("high", "high - low overflows; rescale the quantity (units)")


#: The float32 range the engine draws in: the largest finite value and the smallest
#: normal one (numpy.finfo(numpy.float32).max and .tiny). Below tiny a value is
#: subnormal or rounds to 0 (a Beta shape of 1e-300 becomes 0 and every draw NaN);
#: above max it becomes inf (a chip FLOP/s of 1e308 gives 0 chips).
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.1754943508222875e-38
LOG_FLOAT32_MAX = math.log(FLOAT32_MAX)  # 88.72: exp beyond this overflows float32


def float32_problem(x: float) -> str | None:
    """Why ``x`` cannot be represented as a normal float32 number, or None if it can.

    Zero is representable; infinities and NaN are reported elsewhere (not finite).
    """
    if not math.isfinite(x) or x == 0:
        return None
    if abs(x) > FLOAT32_MAX:
        return (f"exceeds the float32 range the engine computes in (|x| <= "
                f"{FLOAT32_MAX:.4g}); rescale the quantity (units)")
    if abs(x) < FLOAT32_TINY:
        return (f"is below the float32 range the engine computes in (|x| >= "
                f"{FLOAT32_TINY:.4g}, else it rounds to 0); rescale the quantity (units)")
    return None


def pert_shapes(low, mode, high):
    """Beta shapes of a PERT: 1 + 4 (mode - low)/(high - low), 1 + 4 (high - mode)/(high - low)."""
    w = high - low
    return 1 + 4 * (mode - low) / w, 1 + 4 * (high - mode) / w


def support(family: str, params: Mapping[str, float]) -> tuple[float, float]:
    """Return the bounds of the law's support.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float
        Native parameters.

    Returns
    -------
    tuple of float
        ``(lower, upper)``; infinite where unbounded. Beta, Gamma and LogNormal
        exclude their bounds; Uniform, TruncatedNormal, Triangular and PERT include them
        (see :func:`in_support`).
    """
    fam, p = native_values(family, params)
    match fam.name:
        case "Normal":
            return (-math.inf, math.inf)
        case "LogNormal" | "Gamma":
            return (0.0, math.inf)
        case "Beta":
            return (0.0, 1.0)
        case "Uniform":
            return (float(p[0]), float(p[1]))
        case "TruncatedNormal":
            return (float(p[2]), float(p[3]))
        case _:  # Triangular, PERT
            return (float(p[0]), float(p[2]))


def in_support(family: str, params: Mapping[str, float], x: float) -> bool:
    """Whether ``x`` is a possible value of the law.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float
        Native parameters.
    x : float
        The value to test (a scenario's ``point``, an observation...).

    Returns
    -------
    bool
        True inside the support: open for Beta (0, 1), Gamma and LogNormal (0, inf)
        and Normal (finite x); closed for the families with parameter bounds.
    """
    lo, hi = support(family, params)
    x = float(x)
    if family in ("Normal", "LogNormal", "Gamma", "Beta"):
        return bool(lo < x < hi)
    return bool(lo <= x <= hi)

