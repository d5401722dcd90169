"""Observations: the likelihood each kind of ``[observations.NAME]`` table gives.

Parsing and validation live in :mod:`probmodel.spec.observations` (a scenario's
observations arrive parsed, as :attr:`probmodel.spec.Scenario.observations`); this
module adds what the calibration needs on top: :func:`log_likelihood` and
:func:`replicate`. The names of the parser are re-exported for convenience.
"""

from __future__ import annotations

import math

from probmodel.spec.observations import (
    KEYS,
    KINDS,
    NONNEGATIVE_UNITS,
    Observation,
    known_names,
    validate,
    validate_one,
)
from probmodel.spec.observations import from_tables as parse

__all__ = ["KEYS", "KINDS", "NONNEGATIVE_UNITS", "Observation", "known_names",
           "log_likelihood", "parse", "replicate", "validate", "validate_one"]


def log_likelihood(obs: Observation, q, value=None):
    """Log-likelihood of ``obs`` given model values ``q`` (jax arrays, any shape).

    Parameters
    ----------
    obs : Observation
        The observation.
    q : array_like
        The model's value of the observed quantity (positive for relative noise).
    value : array_like, optional
        The observed value(s), default ``obs.value`` (arrays fit replicated data sets).

    Returns
    -------
    jax.Array
        Same shape as ``q``.
    """
    import jax.numpy as jnp
    from jax.scipy.special import log_ndtr
    from jax.scipy.stats import norm

    v = obs.value if value is None else value
    s = obs.scale
    if obs.relative:
        z = (jnp.log(q) - jnp.log(v)) / s
        if obs.kind == "lognormal":
            return norm.logpdf(z) - math.log(s) - jnp.log(v)
    else:
        z = (q - v) / s
        if obs.kind == "normal":
            return norm.logpdf(z) - math.log(s)
    # Censored: the measurement was capped at the value (lower_bound: true q >= value).
    return log_ndtr(z) if obs.kind == "lower_bound" else log_ndtr(-z)


def replicate(obs: Observation, q, eps):
    """Replicated measurements of ``obs`` given model values ``q`` and std-normal ``eps``.

    For the bound kinds this is the uncensored measurement (to compare against the bound).
    """
    import numpy as np

    q = np.asarray(q, np.float64)
    if obs.relative:
        return q * np.exp(obs.scale * eps)
    return q + obs.scale * eps
