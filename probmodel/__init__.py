"""probmodel: LLM-serving economics (DeepSeek V3/R1) as a probabilistic model on JAX.

Public API: :func:`load_scenario`, :func:`simulate`, :func:`point`, :func:`run`.
"""

# numpyro is imported only by the calibration (probmodel.calibration imports it before
# anything from arviz: arviz 1.x's lazy loader otherwise leaves numpyro.infer
# half-initialised). The forward Monte Carlo and the CLI start without it.
from probmodel.api import load_posterior, load_scenario, point, run, simulate
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
