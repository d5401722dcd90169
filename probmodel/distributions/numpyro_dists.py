"""numpyro distributions for probmodel's families (the calibration model and NUTS).

Loaded only when a calibration asks for it (``distributions.to_numpyro``), so the
forward Monte Carlo and the CLI never import numpyro (about 0.6 s of start-up on CPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as npd
from jax import lax
from numpyro.distributions import constraints
from numpyro.distributions.transforms import AffineTransform
from numpyro.distributions.util import promote_shapes, validate_sample

from probmodel.distributions.registry import native_values, pert_shapes
from probmodel.distributions.samplers import concrete, triangular_icdf

__all__ = ["TriangularDistribution", "to_numpyro"]




class TriangularDistribution(npd.Distribution):
    """Triangular distribution on [low, high] with its mode at ``mode`` (for numpyro).

    Parameters
    ----------
    low, mode, high : float or array_like
        Bounds and mode, ``low <= mode <= high`` and ``low < high``.
    validate_args : bool, optional
        numpyro's argument validation.

    Notes
    -----
    The density is 2(x - low)/((high - low)(mode - low)) below the mode and
    2(high - x)/((high - low)(high - mode)) above it.
    """

    arg_constraints: ClassVar[dict[str, Any]] = {
        "low": constraints.dependent(is_discrete=False, event_dim=0),
        "mode": constraints.dependent(is_discrete=False, event_dim=0),
        "high": constraints.dependent(is_discrete=False, event_dim=0),
    }
    reparametrized_params: ClassVar[list[str]] = ["low", "mode", "high"]
    pytree_data_fields = ("low", "_mode", "high")

    def __init__(self, low, mode, high, *, validate_args=None):
        # numpyro's Distribution.mode is a read-only property: keep the parameter in
        # _mode and expose it through that property (it *is* the distribution's mode).
        self.low, self._mode, self.high = promote_shapes(low, mode, high)
        batch_shape = lax.broadcast_shapes(jnp.shape(low), jnp.shape(mode), jnp.shape(high))
        super().__init__(batch_shape=batch_shape, validate_args=validate_args)

    @property
    def mode(self):
        """The mode parameter, which is also the distribution's mode."""
        return self._mode

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        """Return the interval [low, high]."""
        return constraints.interval(self.low, self.high)

    def sample(self, key, sample_shape=()):
        """Draw by inverse CDF.

        Parameters
        ----------
        key : jax.Array
            PRNG key.
        sample_shape : tuple of int, optional
            Leading sample dimensions.

        Returns
        -------
        jax.Array
            Draws of shape ``sample_shape + batch_shape``.
        """
        shape = tuple(sample_shape) + self.batch_shape
        dtype = jnp.result_type(self.low, self.mode, self.high, float)
        return triangular_icdf(
            jax.random.uniform(key, shape, dtype), self.low, self.mode, self.high
        )

    @validate_sample
    def log_prob(self, value):
        """Log density (``-inf`` outside [low, high]).

        Parameters
        ----------
        value : array_like
            Points at which to evaluate.

        Returns
        -------
        jax.Array
            Log density.
        """
        low, mode, high = self.low, self.mode, self.high
        w = high - low
        left_w = jnp.where(mode > low, mode - low, 1.0)
        right_w = jnp.where(high > mode, high - mode, 1.0)
        left = 2.0 * (value - low) / (w * left_w)
        right = 2.0 * (high - value) / (w * right_w)
        dens = jnp.where(value < mode, left, jnp.where(value > mode, right, 2.0 / w))
        inside = (value >= low) & (value <= high)
        return jnp.where(inside, jnp.log(jnp.where(inside, dens, 1.0)), -jnp.inf)

    def cdf(self, value):
        """Cumulative distribution function.

        Parameters
        ----------
        value : array_like
            Points at which to evaluate.

        Returns
        -------
        jax.Array
            P(X <= value).
        """
        low, mode, high = self.low, self.mode, self.high
        w = high - low
        x = jnp.clip(value, low, high)
        left = (x - low) ** 2 / (w * jnp.where(mode > low, mode - low, 1.0))
        right = 1.0 - (high - x) ** 2 / (w * jnp.where(high > mode, high - mode, 1.0))
        return jnp.where(x < mode, left, right)

    def icdf(self, q):
        """Quantile function.

        Parameters
        ----------
        q : array_like
            Probabilities in [0, 1].

        Returns
        -------
        jax.Array
            The quantiles.
        """
        return triangular_icdf(q, self.low, self.mode, self.high)

    @property
    def mean(self):
        """(low + mode + high) / 3."""
        return (self.low + self.mode + self.high) / 3.0

    @property
    def variance(self):
        """(a^2 + c^2 + b^2 - ac - ab - cb) / 18 for low a, mode c, high b."""
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0


def to_numpyro(family: str, params: Mapping[str, Any]) -> npd.Distribution:
    """Return the numpyro distribution of a family (for the model and NUTS).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    params : mapping of str to float or array
        Native parameters.

    Returns
    -------
    numpyro.distributions.Distribution
        numpyro's own Normal, LogNormal, Beta, Gamma, Uniform or TruncatedNormal;
        :class:`TriangularDistribution`; for PERT a Beta pushed through
        ``AffineTransform(low, high - low)`` on the unit interval, so its support is
        [low, high]. Their log densities equal scipy's (see the tests).

    Notes
    -----
    A TruncatedNormal's infinite bound becomes numpyro's one-sided truncation, which
    needs the bound's value at trace time (pass bounds as numbers, not traced arrays).
    """
    fam, p = native_values(family, params)
    match fam.name:
        case "Normal":
            return npd.Normal(p[0], p[1])
        case "LogNormal":
            return npd.LogNormal(p[0], p[1])
        case "Beta":
            return npd.Beta(p[0], p[1])
        case "Gamma":
            return npd.Gamma(p[0], p[1])
        case "Uniform":
            return npd.Uniform(p[0], p[1])
        case "TruncatedNormal":
            loc, scale, low, high = p
            # An infinite bound means no truncation on that side: numpyro wants None.
            lo_c, hi_c = concrete(low), concrete(high)
            if lo_c is not None and lo_c.ndim == 0 and np.isneginf(lo_c):
                low = None
            if hi_c is not None and hi_c.ndim == 0 and np.isposinf(hi_c):
                high = None
            return npd.TruncatedNormal(loc, scale, low=low, high=high)
        case "Triangular":
            return TriangularDistribution(*p)
        case _:  # PERT
            low, mode, high = p
            a, b = pert_shapes(low, mode, high)
            return npd.TransformedDistribution(
                npd.Beta(a, b),
                AffineTransform(low, high - low, domain=constraints.unit_interval),
            )
