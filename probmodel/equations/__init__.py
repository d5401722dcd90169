"""The report's equations as pure array functions (spec §2-4).

Every function broadcasts over arrays, is branch-free (so it jits and vmaps), and
takes and returns plain arrays in the units of spec §7. They use only arithmetic and
indexing that NumPy and JAX arrays share (array-API style): the Monte Carlo evaluates
them on JAX arrays, point mode on float64 NumPy arrays without importing JAX. An
equation that needs a function (``where``, ``exp``) takes its namespace from its
inputs rather than importing jax.numpy.
"""

from probmodel.equations.compute import (
    SECONDS_PER_DAY,
    chips_required,
    flops_required,
    implied_utilization,
    requests_per_dau,
    tokens_per_day_from_usage,
    tokens_per_second,
)
from probmodel.equations.cost import gpu_cost, gpus, total_cost
from probmodel.equations.revenue import (
    CLASSES,
    MODELS,
    WINDOWS,
    cost_profit_ratio,
    margin,
    profit,
    revenue,
    revenue_before_pay_rate,
)

__all__ = [
    "CLASSES",
    "MODELS",
    "SECONDS_PER_DAY",
    "WINDOWS",
    "chips_required",
    "cost_profit_ratio",
    "flops_required",
    "gpu_cost",
    "gpus",
    "implied_utilization",
    "margin",
    "profit",
    "requests_per_dau",
    "revenue",
    "revenue_before_pay_rate",
    "tokens_per_day_from_usage",
    "tokens_per_second",
    "total_cost",
]
