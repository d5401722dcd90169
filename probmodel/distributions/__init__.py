"""The distribution families: registry, elicitation, reference law and samplers.

Analysts describe an uncertain input either by a family's native parameters
(``alpha``/``beta`` for a Beta) or by what they can actually judge: a 90% interval
(``p05``, ``p95``), sometimes with a median (``p50``), or a mean and standard deviation.
:func:`resolve` turns any accepted set of keys into the native parameters, solving
numerically where no closed form exists and checking that the solution reproduces
what was asked for. Everything downstream works from native parameters only:

- :func:`scipy_dist` is the reference law (tests, means); :func:`quantile` its inverse
  CDF without importing scipy.stats;
- :func:`sample` is the fast exact sampler of the forward Monte Carlo (jit/vmap-able);
- :func:`to_numpyro` gives the numpyro distribution used by the model and NUTS.

Modules, one job each (imports run registry <- reference <- elicit; samplers and
numpyro_dists use the registry only):

- :mod:`.registry`: families, accepted key sets, domain checks, support (pure Python);
- :mod:`.reference`: scipy.stats laws and quantiles;
- :mod:`.elicit`: :func:`resolve` and its solvers;
- :mod:`.samplers`: JAX samplers (loaded on first use of :func:`sample`);
- :mod:`.numpyro_dists`: numpyro distributions (loaded on first use of :func:`to_numpyro`).

Every problem with a parameter table raises :class:`probmodel.errors.ParameterError`
naming the offending key, so the scenario parser can report
``file: parameters.<name>.<key>: ...``.
"""

from __future__ import annotations

from typing import Any

from probmodel.distributions.elicit import resolve
from probmodel.distributions.reference import mean, quantile, scipy_dist
from probmodel.distributions.registry import (
    FAMILIES,
    Family,
    float32_problem,
    in_support,
    native_values,
    pert_shapes,
    support,
)

__all__ = [
    "FAMILIES",
    "Family",
    "TriangularDistribution",
    "float32_problem",
    "gamma_mt",
    "in_support",
    "log1p_tail",
    "mean",
    "native_values",
    "pert_shapes",
    "quantile",
    "resolve",
    "sample",
    "scipy_dist",
    "support",
    "to_numpyro",
    "triangular_icdf",
    "truncnormal_icdf",
]

# Names whose modules import JAX or numpyro: loaded on first use (PEP 562), so that
# validating a scenario imports neither.
_LAZY = {
    "sample": ("samplers", "sample"),
    "gamma_mt": ("samplers", "gamma_mt"),
    "log1p_tail": ("samplers", "log1p_tail"),
    "truncnormal_icdf": ("samplers", "truncnormal_icdf"),
    "triangular_icdf": ("samplers", "triangular_icdf"),
    "TriangularDistribution": ("numpyro_dists", "TriangularDistribution"),
    "to_numpyro": ("numpyro_dists", "to_numpyro"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *(k for k in _LAZY if not k.startswith("_"))})
