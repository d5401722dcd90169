"""Moved: the ``[projection]`` table is parsed by :mod:`probmodel.spec.projection`.

A scenario's projection arrives parsed as :attr:`probmodel.spec.Scenario.projection`;
these names are re-exported for code that still imports them from here.
"""

from probmodel.spec.projection import Curve, Law, Projection, Value, parse_table

__all__ = ["Curve", "Law", "Projection", "Value", "parse_table"]
