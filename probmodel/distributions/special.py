"""Scalar special functions and root finders for validation-time work, without SciPy.

Why by hand: importing scipy.special (it pulls in scipy.linalg) costs more start-up than
the whole of ``probmodel check`` is allowed (issue 12: under 0.5 s), and validating a
scenario needs only a few scalar values: normal quantiles, the regularised incomplete
beta function and its inverse, and two small root finds. Each function here works in
float64 on Python floats, is tested against scipy.special / scipy.optimize, and raises
:class:`OutOfRange` outside the region where it is accurate, so that callers fall back
to SciPy there instead of returning a worse number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2.0 * math.pi)


class OutOfRange(ArithmeticError):
    """The hand-written function is not accurate here: use SciPy instead."""


def ndtr(x: float) -> float:
    """Standard normal CDF, 0.5 erfc(-x / sqrt 2) (full relative precision in the lower tail)."""
    return 0.5 * math.erfc(-x / SQRT2)


# Acklam's rational approximation of the normal quantile (relative error < 1.2e-9),
# polished below by Halley steps on ndtr to full double precision.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


def _poly(coef: Sequence[float], x: float) -> float:
    out = 0.0
    for c in coef:
        out = out * x + c
    return out


def _ndtri_lower(p: float) -> float:
    """Normal quantile for 0 < p <= 0.5."""
    if p < 0.02425:
        t = math.sqrt(-2.0 * math.log(p))
        x = _poly(_C, t) / (_poly(_D, t) * t + 1.0)
    else:
        r = (p - 0.5) ** 2
        x = _poly(_A, r) * (p - 0.5) / (_poly(_B, r) * r + 1.0)
    central = p > 0.25  # there p - 0.5 is exact and erf keeps x's relative precision
    for _ in range(4):
        e = 0.5 * math.erf(x / SQRT2) - (p - 0.5) if central else ndtr(x) - p
        u = e * SQRT2PI * math.exp(x * x / 2.0)
        step = u / (1.0 + x * u / 2.0)
        x -= step
        if abs(step) <= 1e-16 * max(1.0, abs(x)):
            break
    return x


def ndtri(p: float) -> float:
    """Standard normal quantile (inverse of :func:`ndtr`); -inf at 0, inf at 1."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    # 1 - p is exact for p >= 0.5 (Sterbenz), so the upper half mirrors the lower.
    return _ndtri_lower(p) if p <= 0.5 else -_ndtri_lower(1.0 - p)


def _log_beta(a: float, b: float) -> float:
    """Return log B(a, b).

    For a large shape, lgamma(big) - lgamma(big + small) comes from Stirling's series
    (the plain difference of two large lgammas loses digits).
    """
    small, big = min(a, b), max(a, b)
    if big < STIRLING_FROM:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    s = big + small
    diff = (-(big - 0.5) * math.log1p(small / big) - small * math.log(s) + small
            + _stirling_tail(big) - _stirling_tail(s))
    return math.lgamma(small) + diff


#: Shapes from which the Stirling forms below are used (their series is then exact
#: to below 1e-16).
STIRLING_FROM = 10.0

# Coefficients B_2k / (2k (2k - 1)) of Stirling's series for lgamma.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


def _stirling_tail(x: float) -> float:
    """lgamma(x) - ((x - 1/2) log x - x + log(2 pi)/2) for x >= 10 (next term < 3e-17)."""
    r = 1.0 / (x * x)
    out = 0.0
    for c in reversed(_STIRLING):
        out = out * r + c
    return out / x


def _log_front(a: float, b: float, x: float) -> float:
    """log(x^a (1 - x)^b / B(a, b)).

    For large shapes lgamma(a) + lgamma(b) - lgamma(a + b) cancels digits; there the
    Stirling form a log(x (a + b)/a) + b log((1 - x)(a + b)/b) + log(ab/(a + b))/2
    - log(2 pi)/2 - corrections keeps each term small near the mode.
    """
    if min(a, b) < STIRLING_FROM:
        return a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    s = a + b
    return (a * math.log1p((x * s - a) / a) + b * math.log1p(((1.0 - x) * s - b) / b)
            + 0.5 * math.log(a / s * b) - 0.5 * math.log(2.0 * math.pi)
            - (_stirling_tail(a) + _stirling_tail(b) - _stirling_tail(s)))


#: Shapes beyond this lose digits in lgamma differences and need many continued-
#: fraction terms: left to SciPy.
MAX_SHAPE = 1e5


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1)/(a + b + 2)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 20_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            return h
    raise OutOfRange(f"incomplete beta continued fraction did not converge (a={a}, b={b})")


def betainc_pair(a: float, b: float, x: float) -> tuple[float, float]:
    """(I_x(a, b), 1 - I_x(a, b)), each with full relative precision where it is small.

    Raises
    ------
    OutOfRange
        For shapes outside (0, :data:`MAX_SHAPE`] or x outside [0, 1].
    """
    a, b, x = float(a), float(b), float(x)
    if not (0.0 < a <= MAX_SHAPE and 0.0 < b <= MAX_SHAPE and 0.0 <= x <= 1.0):
        raise OutOfRange(f"betainc({a}, {b}, {x})")
    if x == 0.0:
        return 0.0, 1.0
    if x == 1.0:
        return 1.0, 0.0
    log_front = _log_front(a, b, x)
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_front) * _beta_cf(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b
    return 1.0 - upper, upper


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    return betainc_pair(a, b, x)[0]


def betaincc(a: float, b: float, x: float) -> float:
    """Its complement 1 - I_x(a, b), accurate where it is small."""
    return betainc_pair(a, b, x)[1]


def betaincinv(a: float, b: float, p: float) -> float:
    """The x in [0, 1] with I_x(a, b) = p: Newton steps kept inside a bisection bracket."""
    a, b, p = float(a), float(b), float(p)
    if not 0.0 <= p <= 1.0:
        return math.nan
    if p in (0.0, 1.0):
        return p
    lo, hi = 0.0, 1.0
    lb = _log_beta(a, b)
    x = a / (a + b)  # the mean: a start inside the bulk
    for _ in range(300):
        f = betainc(a, b, x) - p
        if f == 0.0:
            return x
        if f < 0:
            lo = x
        else:
            hi = x
        log_pdf = (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - lb
        pdf = math.exp(log_pdf) if log_pdf < 700 else math.inf
        new = x - f / pdf if pdf > abs(f) * 1e-300 else math.nan
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 4e-16 * max(new, 1e-300) or hi - lo <= 4e-16 * hi:
            return new
        x = new
    raise OutOfRange(f"betaincinv({a}, {b}, {p}) did not converge")


def brentq(f: Callable[[float], float], a: float, b: float, xtol: float = 1e-15,
           rtol: float = 4.5e-16, maxiter: int = 200) -> float:
    """A root of ``f`` in [a, b], f(a) f(b) < 0: Brent's method (as scipy.optimize.brentq)."""
    fa, fb = f(a), f(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    if fa * fb > 0:
        raise OutOfRange("brentq: the interval does not bracket a root")
    c, fc, d = a, fa, b - a
    e = d
    for _ in range(maxiter):
        if fb * fc > 0:
            c, fc, d = a, fa, b - a
            e = d
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * rtol * abs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2.0 * m * s, 1.0 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else math.copysign(tol, m)
        fb = f(b)
    raise OutOfRange("brentq did not converge")


def newton2(resid: Callable[[Sequence[float]], Sequence[float]], x0: Sequence[float],
            tol: float = 1e-13, maxiter: int = 100) -> tuple[float, float]:
    """Return a root of a smooth map R^2 -> R^2 near ``x0``.

    Newton's method with a forward-difference Jacobian and step halving (each accepted
    step lowers the residual norm); stops at ``tol`` or when no step lowers it.
    """
    x = [float(x0[0]), float(x0[1])]
    r = list(resid(x))
    norm = math.hypot(*r)
    for _ in range(maxiter):
        if norm <= tol:
            break
        jac = []
        for i in range(2):
            h = 1e-7 * max(1.0, abs(x[i]))
            xh = list(x)
            xh[i] += h
            rh = resid(xh)
            jac.append(((rh[0] - r[0]) / h, (rh[1] - r[1]) / h))
        (j00, j10), (j01, j11) = jac  # jac[i] is the column d r / d x_i
        det = j00 * j11 - j01 * j10
        if det == 0 or not math.isfinite(det):
            raise OutOfRange("newton2: singular Jacobian")
        dx0 = (j11 * r[0] - j01 * r[1]) / det
        dx1 = (-j10 * r[0] + j00 * r[1]) / det
        t = 1.0
        for _ in range(40):
            cand = [x[0] - t * dx0, x[1] - t * dx1]
            rc = list(resid(cand))
            nc = math.hypot(*rc)
            if nc < norm:
                break
            t /= 2.0
        else:
            break  # no decrease: as close as the residual's rounding allows
        x, r, norm = cand, rc, nc
    return x[0], x[1]
