"""Scenario files: schema, parsing and validation with located errors, in one package.

A scenario file is read and validated once (:func:`read_scenario`, or
:func:`build_scenario` with your own file reader) into a frozen :class:`Scenario`
whose tables are typed objects: :class:`Parameter` per input, the price array,
:class:`Observation` per observation, a :class:`Projection`, and
:class:`Correlation` per rank correlation. Every problem in every file is reported at
once as ``file: path: message`` lines (:class:`probmodel.errors.ScenarioError`).

Modules: :mod:`.problems` (the problem list and the one "did you mean" helper),
:mod:`.values` (the one distribution-table parser), :mod:`.parameters`,
:mod:`.observations`, :mod:`.projection`, :mod:`.correlations`, :mod:`.scenario`
(files, ``extends``, merging). The package imports only the model, the distribution
registry and NumPy: never JAX, xarray or the analysis layer.
"""

from probmodel.spec.correlations import (
    Correlation,
    check_positive_definite,
    pearson_for_spearman,
)
from probmodel.spec.observations import Observation
from probmodel.spec.parameters import META_KEYS, Parameter, parse_overrides, parse_parameter
from probmodel.spec.problems import Problems, did_you_mean
from probmodel.spec.projection import Curve, Law, Projection, Value
from probmodel.spec.scenario import (
    SCHEMA_VERSION,
    TOP_LEVEL_KEYS,
    Scenario,
    build_scenario,
    check_complete,
    check_observations,
    label_of,
    parse_document,
    parse_toml,
    read_scenario,
)

__all__ = [
    "META_KEYS",
    "SCHEMA_VERSION",
    "TOP_LEVEL_KEYS",
    "Correlation",
    "Curve",
    "Law",
    "Observation",
    "Parameter",
    "Problems",
    "Projection",
    "Scenario",
    "Value",
    "build_scenario",
    "check_complete",
    "check_observations",
    "check_positive_definite",
    "did_you_mean",
    "label_of",
    "parse_document",
    "parse_overrides",
    "parse_parameter",
    "parse_toml",
    "pearson_for_spearman",
    "read_scenario",
]
