"""The reference law of each family: scipy.stats objects, quantiles and means.

:func:`scipy_dist` is the reference the samplers are tested against (scipy.stats is
imported when it is first called). :func:`quantile` answers a few probabilities without
SciPy, because importing scipy.stats costs more start-up than ``probmodel check`` may
take, and ``check`` needs only p05, p50 and p95.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from probmodel.distributions import special as sf
from probmodel.distributions.registry import native_values, pert_shapes


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
    from scipy import stats

    fam, p = native_values(family, params)
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
            a, b = pert_shapes(low, mode, high)
            return stats.beta(a, b, loc=low, scale=high - low)


#: Requests up to this many probabilities are answered by the scalar functions of
#: :mod:`probmodel.distributions.special` (no SciPy import); larger arrays by scipy.stats.
SMALL = 16


def quantile(family: str, params: Mapping[str, float], q) -> np.ndarray:
    """Quantiles of the law at probabilities ``q`` (the inverse CDF of :func:`scipy_dist`).

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

    Notes
    -----
    A few probabilities (``check``'s p05/p50/p95, the elicitation's checks) are computed
    with the scalar functions of :mod:`probmodel.distributions.special`, so that
    validating a scenario does not import scipy.stats; they agree with scipy.stats'
    ``ppf`` to 1e-12 relative (tested). Larger arrays, the truncated normal, Gamma,
    and anything those functions cannot do accurately go to ``scipy_dist(...).ppf``.
    """
    fam, p = native_values(family, params)
    q = np.asarray(q, dtype=np.float64)
    if q.size <= SMALL and fam.name in _LIGHT:
        try:
            flat = [_LIGHT[fam.name]([float(x) for x in p], float(x)) for x in q.ravel()]
            return np.asarray(flat, dtype=np.float64).reshape(q.shape)
        except (sf.OutOfRange, ValueError, OverflowError, ZeroDivisionError):
            pass  # scipy below
    law = scipy_dist(family, params)
    with np.errstate(all="ignore"):  # extreme laws give inf/0 rather than a warning
        return np.asarray(law.ppf(q), dtype=np.float64)


def _nan_outside(fn):
    def wrapped(p, q):
        return fn(p, q) if 0.0 <= q <= 1.0 else math.nan
    return wrapped


def _triangular_ppf(p, q):
    low, mode, high = p
    c, w = (mode - low) / (high - low), high - low
    return (math.sqrt(c * q) if q < c else 1.0 - math.sqrt((1 - c) * (1 - q))) * w + low


def _pert_ppf(p, q):
    low, mode, high = p
    a, b = pert_shapes(low, mode, high)
    return sf.betaincinv(a, b, q) * (high - low) + low


# The same arithmetic as scipy.stats' _ppf * scale + loc for each family.
_LIGHT = {name: _nan_outside(fn) for name, fn in {
    "Normal": lambda p, q: sf.ndtri(q) * p[1] + p[0],
    "LogNormal": lambda p, q: math.exp(p[1] * sf.ndtri(q)) * math.exp(p[0]),
    "Beta": lambda p, q: sf.betaincinv(p[0], p[1], q),
    "Uniform": lambda p, q: q * (p[1] - p[0]) + p[0],
    "Triangular": _triangular_ppf,
    "PERT": _pert_ppf,
}.items()}


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
