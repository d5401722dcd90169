"""The ``[measurements]`` table: a benchmark file of measured serving runs as evidence.

::

    [measurements]
    file = "../data/inferencex/dsr1-measurements.csv"   # relative to this scenario file
    length_scale = 0.9      # mean realised over nominal isl/osl (InferenceX: U[0.8, 1])
    source = "InferenceX (SemiAnalysis), retrieved 2026-06; data/inferencex/README.md"

``probmodel calibrate`` on a scenario with this table fits the serving hierarchy
(:mod:`probmodel.serving`) to the file's rows; the columns are documented in
docs/validation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probmodel.spec.problems import Problems, did_you_mean, is_finite_number

KEYS = ("file", "length_scale", "source", "description")


@dataclass(frozen=True)
class MeasurementsSpec:
    """A validated ``[measurements]`` table (``file`` as written, resolved on merge)."""

    file: str
    length_scale: float
    source: str
    description: str = ""
    path: Path | None = None

    def resolved(self, scenario_file: Path) -> MeasurementsSpec:
        """The same table with ``path`` resolved against the file that states it."""
        from dataclasses import replace
        return replace(self, path=(Path(scenario_file).parent / self.file))


def parse(table: Any, problems: Problems) -> MeasurementsSpec | None:
    """Validate a ``[measurements]`` table; record located problems."""
    if not isinstance(table, Mapping):
        problems.add("measurements", "must be a table (file, length_scale, source)")
        return None
    bad = False
    for key in table:
        if key not in KEYS:
            problems.add(f"measurements.{key}", f"unknown key{did_you_mean(key, KEYS)} "
                                                f"(known: {', '.join(KEYS)})")
            bad = True
    file = table.get("file")
    if not isinstance(file, str) or not file.strip():
        problems.add("measurements.file", "missing: the benchmark CSV, relative to this file")
        bad = True
    scale = table.get("length_scale", 1.0)
    if not is_finite_number(scale) or not 0.1 <= scale <= 2.0:
        problems.add("measurements.length_scale", f"({scale!r}) must be a number in "
                                                  "[0.1, 2] (mean realised / nominal length)")
        bad = True
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.add("measurements.source", "missing: say where the measurements come from")
        bad = True
    desc = table.get("description", "")
    if not isinstance(desc, str):
        problems.add("measurements.description", "must be a string")
        bad = True
    if bad:
        return None
    return MeasurementsSpec(file=file, length_scale=float(scale), source=source,
                            description=desc)
