"""Elicitation: from what an analyst can judge to a family's native parameters.

:func:`resolve` turns a 90% interval, a median, or a mean and sd into native
parameters, and checks that the solution reproduces the judgement.

The closed forms and the Beta, Triangular and PERT solves run on the scalar functions
of :mod:`probmodel.distributions.special` (no SciPy import: that is most of the start-up
of ``probmodel check``); they fall back to SciPy where those functions report they are
out of their accurate range (shapes above 1e5). The Gamma and truncated normal solves
import SciPy when they run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from probmodel.distributions import special as sf
from probmodel.distributions.reference import quantile
from probmodel.distributions.registry import (
    INTERVAL,
    INTERVAL3,
    MOMENTS,
    PROBS,
    Z95,
    check_interval,
    check_native,
    check_positive,
    describe,
    family_of,
    forms,
    key_set,
    match_form,
    ordered_keys,
    parse_number,
)
from probmodel.distributions.registry import (
    fmt_number as _fmt,
)
from probmodel.errors import ParameterError


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
    fam = family_of(family)
    if not isinstance(keys, Mapping):
        raise ParameterError("", f"expected a table of numbers, got {type(keys).__name__}")
    allowed = set().union(*forms(fam))
    for k in keys:
        if not isinstance(k, str) or k not in allowed:
            raise ParameterError(
                str(k), f"unknown key {k!r} for a {fam.name}, which takes {describe(fam)}"
            )
    vals = {k: parse_number(fam, k, keys[k]) for k in ordered_keys(keys)}
    form = match_form(fam, frozenset(vals))
    if form == frozenset(fam.native):
        return check_native(fam, vals)
    if "p05" in vals:
        check_interval(vals)
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
    return check_native(fam, out, elicited=True)



def _verify_quantiles(name: str, native: dict[str, float], want: dict[str, float]) -> None:
    """Raise unless the native parameters reproduce the requested quantiles."""
    keys = [k for k in ("p05", "p50", "p95") if k in want]
    tol = 1e-6 * (want["p95"] - want["p05"])
    try:
        got = np.asarray(quantile(name, native, [PROBS[k] for k in keys]), dtype=float)
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
    out = {"loc": (v["p05"] + v["p95"]) / 2, "scale": (v["p95"] - v["p05"]) / (2 * Z95)}
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
    out = {"loc": (lo + hi) / 2, "scale": (hi - lo) / (2 * Z95)}
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
            f"{_fmt(med)} and scale = ln(p95/p05)/3.29 = {_fmt((hi - lo) / (2 * Z95))}",
        )
    return _lognormal_interval(v)


def _lognormal_moments(v):
    m, sd = v["mean"], v["sd"]
    check_positive(v, "mean", what="a LogNormal's mean must be positive")
    check_positive(v, "sd")
    s2 = math.log1p((sd / m) ** 2)
    out = {"loc": math.log(m) - s2 / 2, "scale": math.sqrt(s2)}
    _verify_moments("LogNormal", out, m, sd)
    return out


def _beta_moments(v):
    m, sd = v["mean"], v["sd"]
    if not 0 < m < 1:
        raise ParameterError("mean", f"a Beta's mean must lie in (0, 1), got {_fmt(m)}")
    check_positive(v, "sd")
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
    check_positive(v, "mean", what="a Gamma's mean must be positive")
    check_positive(v, "sd")
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
        # Probit of the CDF at p05 and of the survival at p95 (each side computed
        # directly keeps the tails); infinities and NaN become +-50 as a barrier.
        a, b = (math.exp(min(max(t, -700.0), 700.0)) for t in theta)
        return [_barrier(sf.ndtri(sf.betainc(a, b, lo)) + Z95),
                _barrier(sf.ndtri(sf.betaincc(a, b, hi)) + Z95)]

    def resid_scipy(theta):
        from scipy import special

        a, b = np.exp(np.clip(theta, -700, 700))
        r1 = special.ndtri_exp(np.log(special.betainc(a, b, lo))) + Z95
        r2 = special.ndtri_exp(np.log(special.betaincc(a, b, hi))) + Z95
        return np.nan_to_num(np.array([r1, r2]), nan=50.0, posinf=50.0, neginf=-50.0)

    def logit(p):
        return math.log(p) - math.log1p(-p)

    starts = []
    # Logit-normal approximation: logit X ~ N(mu, s^2) with mu ~ log(a/b), s^2 ~ 1/a + 1/b.
    mu = (logit(lo) + logit(hi)) / 2
    s = (logit(hi) - logit(lo)) / (2 * Z95)
    b0 = (1 + math.exp(-mu)) / s**2
    starts.append((b0 * math.exp(mu), b0))
    # Moment-matched normal approximation.
    m, sd = (lo + hi) / 2, (hi - lo) / (2 * Z95)
    k = m * (1 - m) / min(sd * sd, 0.9 * m * (1 - m)) - 1
    starts.append((m * k, (1 - m) * k))
    starts.append((1.0, 1.0))
    starts = [(math.log(x), math.log(y)) for x, y in starts]

    def to_native(th):
        return {"alpha": float(np.exp(th[0])), "beta": float(np.exp(th[1]))}

    try:
        return _best_of("Beta", v, starts, resid, to_native, sf.newton2)
    except sf.OutOfRange:  # shapes beyond the hand-written functions' range
        return _best_of("Beta", v, starts, resid_scipy, to_native, _hybr)


def _barrier(x: float) -> float:
    if math.isnan(x) or x == math.inf:
        return 50.0
    return -50.0 if x == -math.inf else x


def _hybr(resid, x0):
    """scipy.optimize.root (MINPACK's hybrid Powell method) from ``x0``."""
    from scipy import optimize

    return optimize.root(resid, np.asarray(x0, dtype=float), method="hybr").x


def _best_of(name, want, starts, resid, to_native, solve):
    """Root-find from each start; return the first solution that verifies.

    ``solve(resid, x0)`` returns a root; :class:`special.OutOfRange` propagates (the
    caller falls back to SciPy).
    """
    last: ParameterError | None = None
    for x0 in starts:
        try:
            native = to_native(solve(resid, x0))
            _verify_quantiles(name, native, want)
            return native
        except ParameterError as e:
            last = e
        except sf.OutOfRange:
            raise
        except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError):
            continue
    if last is None:
        last = ParameterError("", f"no {name} found with these quantiles")
    raise last


def _gamma_interval(v):
    from scipy import optimize, special

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
    x0 = min(max(2 * math.log(2 * Z95 / target), kmin), kmax)  # log-normal approx
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
    from scipy import special, stats

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
        r = np.array([special.ndtri_exp(lc) + Z95, special.ndtri_exp(ls) + Z95])
        return np.nan_to_num(r, nan=50.0, posinf=50.0, neginf=-50.0)

    starts = [(0.5, math.log(1 / (2 * Z95)))]  # the untruncated normal
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

    return _best_of("TruncatedNormal", v, starts, resid, to_native, _hybr)


def _std_quantiles(name: str, c: float) -> np.ndarray:
    """p05, p50, p95 of the family on [0, 1] with its mode at c."""
    q = np.array([0.05, 0.5, 0.95])
    if name == "Triangular":
        return np.where(q < c, np.sqrt(q * c), 1 - np.sqrt((1 - q) * (1 - c)))
    a, b = 1 + 4 * c, 5 - 4 * c  # PERT: shapes in [1, 5], inside special's range
    return np.array([sf.betaincinv(a, b, p) for p in q])


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
        c = sf.brentq(lambda c: ratio(c) - target, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    q = _std_quantiles(name, c)
    scale = (hi - lo) / (q[2] - q[0])
    low = lo - scale * q[0]
    out = {"low": low, "mode": low + c * scale, "high": low + scale}
    _verify_quantiles(name, out, v)
    return out


_ELICIT: dict[tuple[str, frozenset[str]], Callable[[dict], dict]] = {
    ("Normal", INTERVAL): _normal_interval,
    ("Normal", INTERVAL3): _normal_interval3,
    ("LogNormal", INTERVAL): _lognormal_interval,
    ("LogNormal", INTERVAL3): _lognormal_interval3,
    ("LogNormal", MOMENTS): _lognormal_moments,
    ("Beta", INTERVAL): _beta_interval,
    ("Beta", MOMENTS): _beta_moments,
    ("Gamma", INTERVAL): _gamma_interval,
    ("Gamma", MOMENTS): _gamma_moments,
    ("Uniform", INTERVAL): _uniform_interval,
    ("TruncatedNormal", key_set("p05", "p95", "low", "high")): _truncnormal_interval,
    ("Triangular", INTERVAL3): lambda v: _three_point("Triangular", v),
    ("PERT", INTERVAL3): lambda v: _three_point("PERT", v),
}

