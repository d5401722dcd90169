"""The distribution registry: families, native parameters, elicitation and samplers.

Analysts describe an uncertain input either by a family's native parameters
(``alpha``/``beta`` for a Beta) or by what they can actually judge: a 90% interval
(``p05``, ``p95``), sometimes with a median (``p50``), or a mean and standard deviation.
:func:`resolve` turns any accepted set of keys into the native parameters, solving
numerically where no closed form exists and checking that the solution reproduces
what was asked for. Everything downstream works from native parameters only:

- :func:`scipy_dist` is the reference law (tests, quantiles, means);
- :func:`sample` is the fast exact sampler of the forward Monte Carlo (jit/vmap-able);
- :func:`to_numpyro` gives the numpyro distribution used by the model and NUTS.

Every problem with a parameter table raises :class:`probmodel.errors.ParameterError`
naming the offending key, so spec.py can report ``file: parameters.<name>.<key>: ...``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy import special as jsp
from scipy import optimize, special, stats

from probmodel.errors import ParameterError

__all__ = [
    "FAMILIES",
    "Family",
    "gamma_mt",
    "in_support",
    "mean",
    "quantile",
    "resolve",
    "sample",
    "scipy_dist",
    "support",
    "to_numpyro",
]


# --------------------------------------------------------------------------- registry


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


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


_INTERVAL = _keys("p05", "p95")
_INTERVAL3 = _keys("p05", "p50", "p95")
_MOMENTS = _keys("mean", "sd")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("Normal", ("loc", "scale"), (_INTERVAL, _INTERVAL3)),
        Family("LogNormal", ("loc", "scale"), (_INTERVAL, _INTERVAL3, _MOMENTS)),
        Family("Beta", ("alpha", "beta"), (_INTERVAL, _MOMENTS)),
        Family("Gamma", ("shape", "rate"), (_INTERVAL, _MOMENTS)),
        Family("Uniform", ("low", "high"), (_INTERVAL,)),
        Family(
            "TruncatedNormal",
            ("loc", "scale", "low", "high"),
            (_keys("p05", "p95", "low", "high"),),
        ),
        Family("Triangular", ("low", "mode", "high"), (_INTERVAL3,)),
        Family("PERT", ("low", "mode", "high"), (_INTERVAL3,)),
    )
}

# The order keys are listed in messages (and the order of "the first missing key").
_KEY_ORDER = (
    "loc", "scale", "alpha", "beta", "shape", "rate", "low", "mode", "high",
    "p05", "p50", "p95", "mean", "sd",
)  # fmt: skip
_PROBS = {"p05": 0.05, "p50": 0.5, "p95": 0.95}
_Z95 = float(special.ndtri(0.95))  # 1.6448536269514722: the 95% standard normal quantile

# A truncated normal is sampled by inverse CDF in the tail nearest to its interval. In
# float32 the normal CDF leaves the normal range (1.2e-38) below -13 standard units, so
# the interval may not lie further than this from loc (beyond it the law is essentially
# an exponential). At 10, the CDF at the interval's near end is >= 7.6e-24 and the
# float32 sampler's clamp of the CDF to >= 1.2e-38 moves at most 1.6e-15 of the mass.
_TN_MAX_Z = 10.0


def _ordered(keys) -> list[str]:
    rank = {k: i for i, k in enumerate(_KEY_ORDER)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), str(k)))


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _forms(fam: Family) -> list[frozenset[str]]:
    return [frozenset(fam.native), *fam.elicitable]


def _describe(fam: Family) -> str:
    return "; or ".join(", ".join(_ordered(f)) for f in _forms(fam))


def _family(family: Any) -> Family:
    fam = FAMILIES.get(family) if isinstance(family, str) else None
    if fam is None:
        raise ParameterError(
            "dist", f"unknown distribution {family!r}; known: {', '.join(FAMILIES)}"
        )
    return fam


def _native_values(family: str, params: Mapping[str, Any]) -> tuple[Family, list[Any]]:
    fam = _family(family)
    out = []
    for k in fam.native:
        if k not in params:
            raise ParameterError(k, f"missing native parameter of a {fam.name}")
        out.append(params[k])
    return fam, out


# --------------------------------------------------------------------------- resolve


def resolve(family: str, keys: Mapping[str, float]) -> dict[str, float]:
    """Turn the numeric keys of one parameter table into native parameters.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    keys : mapping of str to float
        Every numeric key of the table (everything except ``dist``, ``point``,
        ``unit`` and ``source``): either the native parameters or exactly one of the
        family's elicitable key sets.

    Returns
    -------
    dict of str to float
        The native parameters, in :attr:`Family.native` order.

    Raises
    ------
    ParameterError
        With ``key`` the offending key (``"dist"`` for an unknown family, ``""`` for the
        table as a whole) for: unknown or extra keys, native parameters given together
        with an interval, missing keys, non-numbers, NaN or infinite values, p05 >= p95,
        p50 outside (p05, p95), values outside the family's domain, a mean and sd no
        member of the family has, a non-positive scale, low >= high, mode outside
        [low, high], and an elicitation the solver cannot meet (the message gives the
        quantiles the closest solution achieves).

    Notes
    -----
    Intervals are solved in closed form where one exists (Normal, LogNormal, Uniform,
    and mean/sd for LogNormal, Beta and Gamma); otherwise numerically: Beta by a 2-D root
    find on (log alpha, log beta) started from a logit-normal and a moment-matched
    normal approximation; Gamma by a 1-D root find of the shape from p95/p05;
    TruncatedNormal by a 2-D root find of (loc, log scale); Triangular and PERT by a 1-D
    root find of the relative mode position from (p50 - p05)/(p95 - p05), which fixes
    the shape, followed by the affine map onto p05 and p95. Every elicited solution is
    checked: its quantiles (or moments) must reproduce the requested ones to 1e-6 of
    (p95 - p05) (of sd), else ParameterError.

    A TruncatedNormal accepts ``low = -inf`` and ``high = inf`` for a one-sided (or no)
    truncation; every other value must be finite.
    """
    fam = _family(family)
    if not isinstance(keys, Mapping):
        raise ParameterError("", f"expected a table of numbers, got {type(keys).__name__}")
    allowed = set().union(*_forms(fam))
    for k in keys:
        if not isinstance(k, str) or k not in allowed:
            raise ParameterError(
                str(k), f"unknown key {k!r} for a {fam.name}, which takes {_describe(fam)}"
            )
    vals = {k: _number(fam, k, keys[k]) for k in _ordered(keys)}
    form = _match_form(fam, frozenset(vals))
    if form == frozenset(fam.native):
        return _check_native(fam, vals)
    if "p05" in vals:
        _check_interval(vals)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # The solvers probe parameter values where special functions under/overflow;
        # the result is checked explicitly afterwards, so their warnings are noise.
        warnings.simplefilter("ignore")
        try:
            out = _ELICIT[fam.name, form](vals)
        except ParameterError:
            raise
        except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError) as e:
            # Extreme magnitudes (1e-300, 1e300) overflow Python float arithmetic.
            raise ParameterError(
                "", f"the values are out of floating-point range ({e}); rescale the quantity"
            ) from None
    return _check_native(fam, out, elicited=True)


def _number(fam: Family, key: str, value: Any) -> float:
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


def _match_form(fam: Family, given: frozenset[str]) -> frozenset[str]:
    forms = _forms(fam)
    if given in forms:
        return given
    if not given:
        raise ParameterError("", f"no parameters given; a {fam.name} takes {_describe(fam)}")
    elicited = set().union(*fam.elicitable)
    native_only = set(fam.native) - elicited
    elicited_only = elicited - set(fam.native)
    if given & native_only and given & elicited_only:
        key = _ordered(given & elicited_only)[0]
        raise ParameterError(
            key,
            f"give either the native parameters ({', '.join(fam.native)}) or an "
            f"elicitation, not both (a {fam.name} takes {_describe(fam)})",
        )
    supersets = [f for f in forms if given < f]
    if supersets:
        best = min(supersets, key=len)
        missing = _ordered(best - given)
        hint = ""
        if fam.name == "TruncatedNormal" and {"low", "high"} & set(missing):
            hint = " (use low = -inf or high = inf for an open side)"
        raise ParameterError(
            missing[0],
            f"missing: a {fam.name} given {', '.join(_ordered(given))} also needs "
            f"{', '.join(missing)}{hint}",
        )
    best = max(forms, key=lambda f: len(f & given))
    extra = _ordered(given - best)[0]
    raise ParameterError(
        extra,
        f"cannot be combined with {', '.join(_ordered(given - {extra}))}; "
        f"a {fam.name} takes {_describe(fam)}",
    )


def _check_interval(v: dict[str, float]) -> None:
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


def _positive(v: Mapping[str, float], *keys: str, what: str = "must be positive") -> None:
    for k in keys:
        if not v[k] > 0:
            raise ParameterError(k, f"{what}, got {_fmt(v[k])}")


def _check_native(fam: Family, v: Mapping[str, float], elicited: bool = False) -> dict:
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
    name = fam.name
    if name in ("Normal", "LogNormal"):
        _positive(out, "scale")
        if name == "LogNormal" and not abs(out["loc"]) < 700:
            raise ParameterError(
                "loc",
                f"the median exp(loc) of a LogNormal with loc = {_fmt(out['loc'])} is outside "
                "floating-point range; loc is the log of the median, rescale the quantity",
            )
    elif name == "Beta":
        _positive(out, "alpha", "beta")
        _not_tiny(out, "alpha", "beta")
    elif name == "Gamma":
        _positive(out, "shape", "rate")
        _not_tiny(out, "shape")
    elif name == "Uniform":
        _ordered_bounds(out)
    elif name == "TruncatedNormal":
        _positive(out, "scale")
        _ordered_bounds(out)
        a = (out["low"] - out["loc"]) / out["scale"]
        b = (out["high"] - out["loc"]) / out["scale"]
        if a > _TN_MAX_Z or b < -_TN_MAX_Z:
            raise ParameterError(
                "" if elicited else "loc",
                f"the interval [low, high] = [{_fmt(out['low'])}, {_fmt(out['high'])}] lies "
                f"{_fmt(max(a, -b))} scales from loc ({_fmt(out['loc'])}); beyond "
                f"{_fmt(_TN_MAX_Z)} the truncated normal is essentially an exponential "
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


def _not_tiny(v: Mapping[str, float], *keys: str) -> None:
    # Shapes this small put all the mass at a bound, and the Beta function of such a
    # shape overflows (scipy then raises), so they are refused rather than half-handled.
    for k in keys:
        if v[k] < 1e-300:
            raise ParameterError(k, f"({_fmt(v[k])}) is too small to compute with (< 1e-300)")


def _verify_quantiles(name: str, native: dict[str, float], want: dict[str, float]) -> None:
    """Raise unless the native parameters reproduce the requested quantiles."""
    keys = [k for k in ("p05", "p50", "p95") if k in want]
    tol = 1e-6 * (want["p95"] - want["p05"])
    try:
        got = np.asarray(quantile(name, native, [_PROBS[k] for k in keys]), dtype=float)
    except (ValueError, ArithmeticError):
        got = np.full(len(keys), np.nan)
    err = np.abs(got - np.array([want[k] for k in keys]))
    if not np.all(err <= tol):
        asked = ", ".join(f"{k} = {_fmt(want[k])}" for k in keys)
        found = ", ".join(f"{k} = {_fmt(g)}" for k, g in zip(keys, got, strict=True))
        raise ParameterError(
            "",
            f"no {name} found with {asked}: the closest solution has {found} "
            f"({', '.join(f'{k} = {_fmt(x)}' for k, x in native.items())}); "
            "widen or shift the interval, or choose another family",
        )


def _verify_moments(name: str, native: dict[str, float], m: float, sd: float) -> None:
    got_m, got_sd = _moments(name, native)
    if not (abs(got_m - m) <= 1e-6 * sd and abs(got_sd - sd) <= 1e-6 * sd):
        raise ParameterError(
            "",
            f"no {name} found with mean = {_fmt(m)}, sd = {_fmt(sd)} in floating point: "
            f"the closed form gives mean = {_fmt(got_m)}, sd = {_fmt(got_sd)}",
        )


def _moments(name: str, p: dict[str, float]) -> tuple[float, float]:
    # Own closed forms (scipy's lognorm variance loses precision for tiny sigma).
    if name == "LogNormal":
        s2 = p["scale"] ** 2
        m = math.exp(p["loc"] + s2 / 2)
        return m, m * math.sqrt(math.expm1(s2))
    if name == "Beta":
        a, b = p["alpha"], p["beta"]
        return a / (a + b), math.sqrt(a * b / (a + b + 1)) / (a + b)
    k, r = p["shape"], p["rate"]  # Gamma
    return k / r, math.sqrt(k) / r


# --- closed forms


def _normal_interval(v):
    out = {"loc": (v["p05"] + v["p95"]) / 2, "scale": (v["p95"] - v["p05"]) / (2 * _Z95)}
    _verify_quantiles("Normal", out, v)
    return out


def _normal_interval3(v):
    mid = (v["p05"] + v["p95"]) / 2
    if abs(v["p50"] - mid) > 1e-9 * (v["p95"] - v["p05"]):
        raise ParameterError(
            "p50",
            f"a Normal is symmetric, so p50 ({_fmt(v['p50'])}) must be the midpoint of "
            f"p05 and p95 ({_fmt(mid)}); for a skewed belief use LogNormal or PERT (or a "
            "TruncatedNormal against a bound), or drop p50",
        )
    return _normal_interval(v)


def _lognormal_check(v):
    for k in ("p05", "p50", "p95"):
        if k in v and not v[k] > 0:
            raise ParameterError(k, f"a LogNormal's quantiles must be positive, got {_fmt(v[k])}")


def _lognormal_interval(v):
    _lognormal_check(v)
    lo, hi = math.log(v["p05"]), math.log(v["p95"])
    out = {"loc": (lo + hi) / 2, "scale": (hi - lo) / (2 * _Z95)}
    _verify_quantiles("LogNormal", out, v)
    return out


def _lognormal_interval3(v):
    _lognormal_check(v)
    lo, hi, med = math.log(v["p05"]), math.log(v["p95"]), math.log(v["p50"])
    if abs(med - (lo + hi) / 2) > 1e-9 * (hi - lo):
        g = math.exp((lo + hi) / 2)
        raise ParameterError(
            "p50",
            f"a LogNormal's median is the geometric midpoint of p05 and p95, "
            f"sqrt(p05 * p95) = {_fmt(g)}, not {_fmt(v['p50'])}; drop p50, use PERT for "
            f"a skewed three-point judgement, or give the native loc = ln(p50) = "
            f"{_fmt(med)} and scale = ln(p95/p05)/3.29 = {_fmt((hi - lo) / (2 * _Z95))}",
        )
    return _lognormal_interval(v)


def _lognormal_moments(v):
    m, sd = v["mean"], v["sd"]
    _positive(v, "mean", what="a LogNormal's mean must be positive")
    _positive(v, "sd")
    s2 = math.log1p((sd / m) ** 2)
    out = {"loc": math.log(m) - s2 / 2, "scale": math.sqrt(s2)}
    _verify_moments("LogNormal", out, m, sd)
    return out


def _beta_moments(v):
    m, sd = v["mean"], v["sd"]
    if not 0 < m < 1:
        raise ParameterError("mean", f"a Beta's mean must lie in (0, 1), got {_fmt(m)}")
    _positive(v, "sd")
    if not sd * sd < m * (1 - m):
        raise ParameterError(
            "sd",
            f"no Beta has mean {_fmt(m)} and sd {_fmt(sd)}: sd must be below "
            f"sqrt(mean * (1 - mean)) = {_fmt(math.sqrt(m * (1 - m)))}",
        )
    k = m * (1 - m) / (sd * sd) - 1
    out = {"alpha": m * k, "beta": (1 - m) * k}
    _verify_moments("Beta", out, m, sd)
    return out


def _gamma_moments(v):
    m, sd = v["mean"], v["sd"]
    _positive(v, "mean", what="a Gamma's mean must be positive")
    _positive(v, "sd")
    out = {"shape": (m / sd) ** 2, "rate": m / (sd * sd)}
    _verify_moments("Gamma", out, m, sd)
    return out


def _uniform_interval(v):
    w = (v["p95"] - v["p05"]) / 0.9
    out = {"low": v["p05"] - 0.05 * w, "high": v["p95"] + 0.05 * w}
    _verify_quantiles("Uniform", out, v)
    return out


# --- numerical solves


def _beta_interval(v):
    lo, hi = v["p05"], v["p95"]
    if not lo > 0:
        raise ParameterError("p05", f"a Beta lives on (0, 1): p05 must exceed 0, got {_fmt(lo)}")
    if not hi < 1:
        raise ParameterError("p95", f"a Beta lives on (0, 1): p95 must be below 1, got {_fmt(hi)}")

    def resid(theta):
        a, b = np.exp(np.clip(theta, -700, 700))
        # Probit of the CDF at p05 and of the survival at p95 (logs keep the tails).
        r1 = special.ndtri_exp(np.log(special.betainc(a, b, lo))) + _Z95
        r2 = special.ndtri_exp(np.log(special.betaincc(a, b, hi))) + _Z95
        return np.nan_to_num(np.array([r1, r2]), nan=50.0, posinf=50.0, neginf=-50.0)

    starts = []
    # Logit-normal approximation: logit X ~ N(mu, s^2) with mu ~ log(a/b), s^2 ~ 1/a + 1/b.
    mu = (special.logit(lo) + special.logit(hi)) / 2
    s = (special.logit(hi) - special.logit(lo)) / (2 * _Z95)
    b0 = (1 + math.exp(-mu)) / s**2
    starts.append((b0 * math.exp(mu), b0))
    # Moment-matched normal approximation.
    m, sd = (lo + hi) / 2, (hi - lo) / (2 * _Z95)
    k = m * (1 - m) / min(sd * sd, 0.9 * m * (1 - m)) - 1
    starts.append((m * k, (1 - m) * k))
    starts.append((1.0, 1.0))
    return _best_of(
        "Beta",
        v,
        [np.log(s) for s in starts],
        resid,
        lambda th: {"alpha": float(np.exp(th[0])), "beta": float(np.exp(th[1]))},
    )


def _best_of(name, want, starts, resid, to_native):
    """Root-find from each start; return the first solution that verifies."""
    last: ParameterError | None = None
    for x0 in starts:
        try:
            sol = optimize.root(resid, np.asarray(x0, dtype=float), method="hybr")
            native = to_native(sol.x)
            _verify_quantiles(name, native, want)
            return native
        except ParameterError as e:
            last = e
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError):
            continue
    if last is None:
        last = ParameterError("", f"no {name} found with these quantiles")
    raise last


def _gamma_interval(v):
    lo, hi = v["p05"], v["p95"]
    if not lo > 0:
        raise ParameterError("p05", f"a Gamma's quantiles must be positive, got {_fmt(lo)}")
    target = math.log(hi) - math.log(lo)

    # p95/p05 depends on the shape alone and falls from inf (k -> 0) to 1 (k -> inf).
    def f(logk):
        k = math.exp(logk)
        q05 = special.gammaincinv(k, 0.05)
        return math.log(special.gammaincinv(k, 0.95)) - math.log(q05) - target

    kmin, kmax = math.log(0.01), math.log(1e14)  # below 0.01 q05 nears underflow
    x0 = min(max(2 * math.log(2 * _Z95 / target), kmin), kmax)  # log-normal approx
    a, b = max(x0 - 1, kmin), min(x0 + 1, kmax)
    while f(a) < 0 and a > kmin:
        a = max(a - 2, kmin)
    while f(b) > 0 and b < kmax:
        b = min(b + 2, kmax)
    fa, fb = f(a), f(b)
    if fa > 0 > fb:
        logk = optimize.brentq(f, a, b, xtol=1e-14, rtol=1e-14, maxiter=500)
    else:  # a root at a bracket end, or out of range: the verification below decides
        logk = a if abs(fa) <= abs(fb) else b
    k = math.exp(logk)
    q05, q95 = special.gammaincinv(k, 0.05), special.gammaincinv(k, 0.95)
    out = {"shape": k, "rate": math.sqrt(q05 * q95 / (lo * hi))}
    _verify_quantiles("Gamma", out, v)
    return out


def _truncnormal_interval(v):
    lo, hi, low, high = v["p05"], v["p95"], v["low"], v["high"]
    if not high > low:
        raise ParameterError("high", f"high ({_fmt(high)}) must exceed low ({_fmt(low)})")
    if not lo > low:
        raise ParameterError("p05", f"p05 ({_fmt(lo)}) must exceed low ({_fmt(low)})")
    if not hi < high:
        raise ParameterError("p95", f"p95 ({_fmt(hi)}) must be below high ({_fmt(high)})")
    width = hi - lo

    def resid(theta):
        loc = lo + theta[0] * width  # scaled so that the solver works near unit scale
        scale = width * math.exp(min(theta[1], 700))
        a, b = (low - loc) / scale, (high - loc) / scale
        lc = stats.truncnorm.logcdf(lo, a, b, loc, scale)
        ls = stats.truncnorm.logsf(hi, a, b, loc, scale)
        r = np.array([special.ndtri_exp(lc) + _Z95, special.ndtri_exp(ls) + _Z95])
        return np.nan_to_num(r, nan=50.0, posinf=50.0, neginf=-50.0)

    starts = [(0.5, math.log(1 / (2 * _Z95)))]  # the untruncated normal
    if math.isfinite(low) and math.isfinite(high):
        # Wide, nearly uniform, and hugging either bound.
        starts.append((((low + high) / 2 - lo) / width, math.log((high - low) / width)))
        starts.append(((low - lo) / width, math.log(0.5)))
        starts.append(((high - lo) / width, math.log(0.5)))

    def to_native(th):
        return {
            "loc": lo + float(th[0]) * width,
            "scale": width * math.exp(min(float(th[1]), 700)),
            "low": low,
            "high": high,
        }

    return _best_of("TruncatedNormal", v, starts, resid, to_native)


def _std_quantiles(name: str, c: float) -> np.ndarray:
    """p05, p50, p95 of the family on [0, 1] with its mode at c."""
    q = np.array([0.05, 0.5, 0.95])
    if name == "Triangular":
        return np.where(q < c, np.sqrt(q * c), 1 - np.sqrt((1 - q) * (1 - c)))
    return special.betaincinv(1 + 4 * c, 5 - 4 * c, q)  # PERT


def _three_point(name: str, v):
    lo, med, hi = v["p05"], v["p50"], v["p95"]

    # (p50 - p05)/(p95 - p05) depends only on the relative mode position c, and rises
    # with it (flat for Triangular while p05 and p50 sit on one side of the mode).
    def ratio(c):
        q = _std_quantiles(name, c)
        return (q[1] - q[0]) / (q[2] - q[0])

    target = (med - lo) / (hi - lo)
    r0, r1 = ratio(0.0), ratio(1.0)
    if not r0 - 1e-12 <= target <= r1 + 1e-12:
        raise ParameterError(
            "p50",
            f"no {name} is this skewed: p50 ({_fmt(med)}) lies {target:.1%} of the way from "
            f"p05 to p95, and a {name} allows {r0:.1%} to {r1:.1%}; use a LogNormal or Gamma "
            "for a strongly skewed belief, or move p50",
        )
    target = min(max(target, r0), r1)
    if target <= r0:
        c = 0.0
    elif target >= r1:
        c = 1.0
    else:
        c = optimize.brentq(lambda c: ratio(c) - target, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    q = _std_quantiles(name, c)
    scale = (hi - lo) / (q[2] - q[0])
    low = lo - scale * q[0]
    out = {"low": low, "mode": low + c * scale, "high": low + scale}
    _verify_quantiles(name, out, v)
    return out


_ELICIT: dict[tuple[str, frozenset[str]], Callable[[dict], dict]] = {
    ("Normal", _INTERVAL): _normal_interval,
    ("Normal", _INTERVAL3): _normal_interval3,
    ("LogNormal", _INTERVAL): _lognormal_interval,
    ("LogNormal", _INTERVAL3): _lognormal_interval3,
    ("LogNormal", _MOMENTS): _lognormal_moments,
    ("Beta", _INTERVAL): _beta_interval,
    ("Beta", _MOMENTS): _beta_moments,
    ("Gamma", _INTERVAL): _gamma_interval,
    ("Gamma", _MOMENTS): _gamma_moments,
    ("Uniform", _INTERVAL): _uniform_interval,
    ("TruncatedNormal", _keys("p05", "p95", "low", "high")): _truncnormal_interval,
    ("Triangular", _INTERVAL3): lambda v: _three_point("Triangular", v),
    ("PERT", _INTERVAL3): lambda v: _three_point("PERT", v),
}


# --------------------------------------------------------------------------- reference law


def _pert_shapes(low, mode, high):
    w = high - low
    return 1 + 4 * (mode - low) / w, 1 + 4 * (high - mode) / w


def scipy_dist(family: str, params: Mapping[str, float]):
    """Return the frozen scipy.stats distribution with exactly this law.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float
        Native parameters, as returned by :func:`resolve`.

    Returns
    -------
    scipy.stats.rv_continuous frozen distribution
        ``norm``, ``lognorm``, ``beta``, ``gamma``, ``uniform``, ``truncnorm``,
        ``triang`` or (PERT) a location-scale ``beta``.
    """
    fam, p = _native_values(family, params)
    p = [float(x) for x in p]
    match fam.name:
        case "Normal":
            return stats.norm(loc=p[0], scale=p[1])
        case "LogNormal":
            with np.errstate(over="ignore", under="ignore"):
                return stats.lognorm(p[1], scale=float(np.exp(p[0])))
        case "Beta":
            return stats.beta(p[0], p[1])
        case "Gamma":
            return stats.gamma(p[0], scale=1 / p[1])
        case "Uniform":
            return stats.uniform(loc=p[0], scale=p[1] - p[0])
        case "TruncatedNormal":
            loc, scale, low, high = p
            return stats.truncnorm((low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale)
        case "Triangular":
            low, mode, high = p
            return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)
        case _:  # PERT
            low, mode, high = p
            a, b = _pert_shapes(low, mode, high)
            return stats.beta(a, b, loc=low, scale=high - low)


def quantile(family: str, params: Mapping[str, float], q) -> np.ndarray:
    """Quantiles of the law at probabilities ``q`` (via :func:`scipy_dist`).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float
        Native parameters.
    q : float or array_like
        Probabilities in [0, 1].

    Returns
    -------
    numpy.ndarray
        Quantiles, float64, shaped like ``q``.
    """
    law = scipy_dist(family, params)
    with np.errstate(all="ignore"):  # extreme laws give inf/0 rather than a warning
        return np.asarray(law.ppf(q), dtype=np.float64)


def mean(family: str, params: Mapping[str, float]) -> float:
    """Return the mean of the law.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float
        Native parameters.

    Returns
    -------
    float
        The expectation.
    """
    law = scipy_dist(family, params)
    with np.errstate(all="ignore"):  # e.g. a LogNormal with a huge scale: inf
        return float(law.mean())


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
    fam, p = _native_values(family, params)
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


# --------------------------------------------------------------------------- sampling
#
# jax.random.gamma and jax.random.beta draw each element with its own rejection
# while_loop; on CPU that is about 20x slower than NumPy and dominates the forward Monte
# Carlo (measured: see benchmarks/README.md). The samplers below are exact and
# vectorised instead: every Marsaglia-Tsang round proposes for the whole array, and each
# slot keeps its first accepted proposal, so a slot's value depends only on the key and
# its index (never on how many rounds other slots needed).


# _THREEFRY_NOTE: the samplers trace under jax.threefry_partitionable(False). The
# partitionable threefry (jax's default) makes the same bits under any sharding, which
# single-device Monte Carlo does not need, and generates them about 1.7x slower on CPU;
# random bits are most of the cost of a rejection round. Same key, same draws either way.


def _concrete(x) -> np.ndarray | None:
    """Return ``x`` as a NumPy array if its value is known at trace time, else None."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _all_ge1(*xs) -> bool | None:
    """Answer "are all shape parameters >= 1?" statically; None under tracing."""
    vals = [_concrete(x) for x in xs]
    if any(v is None for v in vals):
        return None
    return bool(all(np.all(v >= 1) for v in vals))


def _log1p_tail(w, dtype):
    """Return log1p(w) - w + w**2/2 - w**3/3, accurate also for small w."""
    # Near 0 the direct form cancels catastrophically; there we sum its Taylor series
    # sum_{n>=4} (-1)^(n+1) w^n / n, truncated below the dtype's epsilon for |w| < 1/4.
    n_max = 16 if jnp.finfo(dtype).bits <= 32 else 28
    horner = jnp.zeros_like(w)
    for n in range(n_max, 3, -1):
        horner = horner * w + (1.0 if n % 2 else -1.0) / n
    series = w**4 * horner
    direct = jnp.log1p(w) - w + w * w / 2 - w**3 / 3
    return jnp.where(jnp.abs(w) < 0.25, series, direct)


def _marsaglia_tsang(key, a, shape, dtype):
    """Run vectorised Marsaglia-Tsang for Gamma(a, 1), a >= 1: G = d (1 + w)^3.

    Returns ``(d, w)``; ``w`` has ``shape``. Keeping w (rather than G) lets callers
    form log G = log d + 3 log1p(w) exactly when they need it.
    """
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    # Invalid shapes (NaN, <= 1/3) would never accept: finish them at once (callers
    # mask them with NaN) so that a bad traced parameter cannot hang the loop.
    invalid = jnp.broadcast_to(~(d > 0), shape)
    lowest = float(np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype)))

    def cond(state):
        return ~jnp.all(state[2])

    def body(state):
        i, w_kept, done = state
        # One uniform draw gives both the normal (as jax.random.normal makes it,
        # sqrt(2) erfinv(2v - 1)) and the acceptance uniform: one threefry call per
        # round instead of two roughly halves the compile time of the loop.
        v = jax.random.uniform(jax.random.fold_in(key, i), (2, *shape), dtype)
        x = math.sqrt(2.0) * lax.erf_inv(jnp.maximum(2.0 * v[0] - 1.0, lowest))
        u = v[1]
        w = c * x
        positive = w > -1.0  # v = (1 + w)^3 must be positive
        w = jnp.where(positive, w, 0.0)
        # The textbook test log u < x^2/2 + d - d v + d log v, with v = (1 + w)^3 and
        # x^2/2 = 4.5 d w^2, is exactly log u < 3 d t(w) with t = log1p(w) - w + w^2/2
        # - w^3/3; evaluating t without cancellation keeps the test exact for large d.
        accept = positive & (jnp.log(u) < 3.0 * d * _log1p_tail(w, dtype))
        return i + 1, jnp.where(done, w_kept, w), done | accept

    init = (jnp.int32(0), jnp.zeros(shape, dtype), invalid)
    _, w, _ = lax.while_loop(cond, body, init)
    return d, w


def _log_boost(key, a, shape, dtype):
    """Return log(U)/a where a < 1, else 0: the log of the boost factor U^(1/a).

    ``a`` may carry a leading axis of 2 (both shapes of a Beta, one draw).
    """
    tiny = jnp.finfo(dtype).tiny  # log(0) would make G = 0 and Beta 0/0
    u = jax.random.uniform(key, jnp.broadcast_shapes(jnp.shape(a), shape), dtype, tiny, 1.0)
    return jnp.where(a < 1.0, jnp.log(u) / a, 0.0)


def _dispatch(static: bool | None, traced_pred, plain, general):
    """Pick a code path: statically when the parameters are known, else by lax.cond."""
    if static is True:
        return plain()
    if static is False:
        return general()
    return lax.cond(traced_pred, plain, general)


def gamma_mt(key: jax.Array, a, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """Exact Gamma(a, 1) draws, vectorised Marsaglia-Tsang (fast on CPU).

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    a : float or array_like
        Shape parameter(s) > 0, broadcastable to ``shape``; may be traced.
    shape : tuple of int
        Output shape.
    dtype : dtype, optional
        Floating dtype of the draws (float32 by default).

    Returns
    -------
    jax.Array
        Draws of ``shape`` and ``dtype``; NaN where ``a`` is not positive.

    Notes
    -----
    For a >= 1, each round proposes ``d (1 + c x)^3`` (d = a - 1/3, c = 1/sqrt(9d),
    x standard normal) for the whole array and accepts with the Marsaglia-Tsang test;
    rounds repeat until every slot has accepted, each slot keeping its first acceptance
    (acceptance is >= 95% per round, so about log(n)/3 rounds). For a < 1 the draw is
    G(a + 1) U^(1/a), computed in log space. When ``a`` is known at trace time the
    boost is compiled only if some a < 1; when it is traced, a ``lax.cond`` skips it at
    run time if all a >= 1. Either way the draws are the same, slot by slot.

    References
    ----------
    G. Marsaglia and W. W. Tsang, "A simple method for generating gamma variables",
    ACM TOMS 26(3), 2000.
    """
    with jax.threefry_partitionable(False):  # see _THREEFRY_NOTE
        return _gamma_mt(key, a, tuple(shape), dtype)


def _gamma_mt(key, a, shape: tuple[int, ...], dtype) -> jax.Array:
    a = jnp.asarray(a, dtype)
    k_mt, k_boost = jax.random.split(key)
    small = a < 1.0
    d, w = _marsaglia_tsang(k_mt, jnp.where(small, a + 1.0, a), shape, dtype)
    g = d * (1.0 + w) ** 3

    def boosted():
        # In log space: for small a, U^(1/a) underflows long before G U^(1/a) does.
        log_g = jnp.log(d) + 3.0 * jnp.log1p(w) + _log_boost(k_boost, a, shape, dtype)
        return jnp.where(small, jnp.exp(log_g), g)

    out = _dispatch(_all_ge1(a), jnp.all(a >= 1.0), lambda: g, boosted)
    return jnp.broadcast_to(jnp.where(a > 0, out, jnp.nan), shape)


def _beta(key, a, b, shape, dtype, all_ge1: bool | None = None):
    """Beta(a, b) = G1 / (G1 + G2), through log G1 - log G2 when a shape is below 1."""
    a, b = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
    if all_ge1 is None:
        all_ge1 = _all_ge1(a, b)
    ka, kb, k_boost = jax.random.split(key, 3)
    da, wa = _marsaglia_tsang(ka, jnp.where(a < 1.0, a + 1.0, a), shape, dtype)
    db, wb = _marsaglia_tsang(kb, jnp.where(b < 1.0, b + 1.0, b), shape, dtype)
    g1, g2 = da * (1.0 + wa) ** 3, db * (1.0 + wb) ** 3

    def plain():
        return g1 / (g1 + g2)

    def general():
        ab = jnp.stack(jnp.broadcast_arrays(a, b))  # one draw for both boosts
        ab = ab.reshape(2, *(1,) * (len(shape) - ab.ndim + 1), *ab.shape[1:])
        boost = _log_boost(k_boost, ab, (2, *shape), dtype)
        l1 = jnp.log(da) + 3.0 * jnp.log1p(wa) + boost[0]
        l2 = jnp.log(db) + 3.0 * jnp.log1p(wb) + boost[1]
        both = (a >= 1.0) & (b >= 1.0)
        # sigmoid(log G1 - log G2) = G1/(G1 + G2), with no underflow to 0/0.
        return jnp.where(both, g1 / (g1 + g2), jax.nn.sigmoid(l1 - l2))

    out = _dispatch(all_ge1, jnp.all(a >= 1.0) & jnp.all(b >= 1.0), plain, general)
    return jnp.where((a > 0) & (b > 0), out, jnp.nan)


def _truncnormal_icdf(u, loc, scale, low, high):
    """Inverse CDF of the truncated normal at uniforms ``u`` (in u's dtype)."""
    dtype = u.dtype
    a, b = (low - loc) / scale, (high - loc) / scale
    # Work in the lower tail, where the normal CDF keeps full relative precision:
    # an interval lying above loc is sampled as the mirror image of one below it.
    flip = (a + b) > 0
    lo, hi = jnp.where(flip, -b, a), jnp.where(flip, -a, b)
    p_lo, p_hi = jsp.ndtr(lo), jsp.ndtr(hi)
    tiny, eps = jnp.finfo(dtype).tiny, jnp.finfo(dtype).eps
    # 1 - u on the mirror keeps the draw increasing in u, so that common random
    # numbers stay monotonically coupled when the bounds (and so the side) change.
    u = jnp.where(flip, 1.0 - u, u)
    u = jnp.clip(u, tiny, 1.0 - eps)  # the open interval: ndtri(0) = -inf
    # ndtri of a subnormal p is -inf: keep p normal (see _TN_MAX_Z for the cost).
    p = jnp.maximum(p_lo + u * (p_hi - p_lo), tiny)
    z = jnp.clip(jsp.ndtri(p), lo, hi)
    return jnp.clip(loc + scale * jnp.where(flip, -z, z), low, high)


def _triangular_icdf(u, low, mode, high):
    w = high - low
    left = low + jnp.sqrt(u * w * (mode - low))
    right = high - jnp.sqrt((1.0 - u) * w * (high - mode))
    return jnp.clip(jnp.where(u * w < mode - low, left, right), low, high)


def sample(
    rng_key: jax.Array,
    family: str,
    params: Mapping[str, Any],
    shape: tuple[int, ...],
    dtype=jnp.float32,
) -> jax.Array:
    """Draw from a family by fast exact samplers; jit- and vmap-compatible.

    Parameters
    ----------
    rng_key : jax.Array
        PRNG key; the same key gives the same draws, bit for bit.
    family : str
        One of :data:`FAMILIES` (static under jit).
    params : mapping of str to float or array
        Native parameters as Python floats or (possibly traced) arrays broadcastable
        to ``shape``, e.g. one value per sweep cell.
    shape : tuple of int
        Output shape (static under jit).
    dtype : dtype, optional
        Floating dtype of the draws (float32 by default); parameters are cast to it.

    Returns
    -------
    jax.Array
        Draws of ``shape`` and ``dtype``.

    Notes
    -----
    Normal and LogNormal from ``jax.random.normal``; Uniform from ``jax.random.uniform``;
    Gamma by :func:`gamma_mt` divided by the rate; Beta as G1/(G1 + G2) of two such
    gammas (through the log-ratio when a shape is below 1); PERT as low + (high - low)
    Beta(1 + 4(mode - low)/(high - low), 1 + 4(high - mode)/(high - low));
    TruncatedNormal and Triangular by inverse CDF.
    """
    fam, raw = _native_values(family, params)
    with jax.threefry_partitionable(False):  # see _THREEFRY_NOTE
        return _draw(rng_key, fam.name, raw, tuple(shape), dtype)


def _draw(rng_key, name: str, raw: list, shape: tuple[int, ...], dtype) -> jax.Array:
    p = [jnp.asarray(x, dtype) for x in raw]
    match name:
        case "Normal":
            out = p[0] + p[1] * jax.random.normal(rng_key, shape, dtype)
        case "LogNormal":
            out = jnp.exp(p[0] + p[1] * jax.random.normal(rng_key, shape, dtype))
        case "Beta":
            out = _beta(rng_key, p[0], p[1], shape, dtype)
        case "Gamma":
            out = _gamma_mt(rng_key, p[0], shape, dtype) / p[1]
        case "Uniform":
            out = p[0] + (p[1] - p[0]) * jax.random.uniform(rng_key, shape, dtype)
        case "TruncatedNormal":
            out = _truncnormal_icdf(jax.random.uniform(rng_key, shape, dtype), *p)
        case "Triangular":
            out = _triangular_icdf(jax.random.uniform(rng_key, shape, dtype), *p)
        case _:  # PERT; both shapes are >= 1 whenever low <= mode <= high
            low, mode, high = p
            a, b = _pert_shapes(low, mode, high)
            out = low + (high - low) * _beta(rng_key, a, b, shape, dtype, all_ge1=True)
    return jnp.broadcast_to(out.astype(dtype), shape)


# --------------------------------------------------------------------------- numpyro


def to_numpyro(family: str, params: Mapping[str, Any]):
    """Return the numpyro distribution of a family (see :mod:`probmodel.numpyro_dists`).

    numpyro is imported only here, when a calibration needs it.
    """
    from probmodel.numpyro_dists import to_numpyro as _to_numpyro

    return _to_numpyro(family, params)


def __getattr__(name: str):
    # TriangularDistribution subclasses a numpyro class: import it only when asked for.
    if name == "TriangularDistribution":
        from probmodel.numpyro_dists import TriangularDistribution

        return TriangularDistribution
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
