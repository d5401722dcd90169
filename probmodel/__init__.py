"""probmodel: LLM-serving economics (DeepSeek V3/R1) as a probabilistic model on JAX.

Public API: :func:`load_scenario`, :func:`simulate`, :func:`point`, :func:`run`.

The API functions are loaded on first use (PEP 562), so ``import probmodel`` and the
command line start without JAX, xarray or SciPy; numpyro is imported only by the
calibration.
"""

from typing import Any

from probmodel.errors import ProbmodelError, RunError, ScenarioError, UsageError

__version__ = "0.1.0"
__all__ = [
    "ProbmodelError",
    "RunError",
    "ScenarioError",
    "UsageError",
    "__version__",
    "load_posterior",
    "load_scenario",
    "point",
    "run",
    "simulate",
]

_API = ("load_posterior", "load_scenario", "point", "run", "simulate")


def __getattr__(name: str) -> Any:
    if name in _API:
        from probmodel import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
