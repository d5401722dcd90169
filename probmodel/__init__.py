"""probmodel: LLM-serving economics (DeepSeek V3/R1) as a probabilistic model on JAX.

Public API: :func:`load_scenario`, :func:`simulate`, :func:`point`, :func:`run`.
"""

# numpyro must be imported before arviz 1.x (arviz's lazy loader otherwise leaves
# numpyro.infer half-initialised; see docs/model.md).
import numpyro  # noqa: F401

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
