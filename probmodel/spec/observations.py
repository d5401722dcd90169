"""Observations: the ``[observations.NAME]`` tables of a scenario, and their likelihoods.

An observation says that a model quantity (an input or an output of the equation graph,
by its name) was measured, how precisely, and where the number comes from::

    [observations.nodes_avg]
    value = 226.75
    kind = "lognormal"      # normal (default) | lognormal | lower_bound | upper_bound
    rel_sd = 0.01           # or sd = ... (absolute, in the quantity's unit)
    unit = "node"           # optional; must then be the model's unit
    source = "DeepSeek inference system overview (2025-03-01)"

Kinds and the likelihood each gives (q is the model's value of NAME):

- ``normal``: value ~ Normal(q, sd); ``rel_sd`` means sd = rel_sd x |value|.
- ``lognormal``: log(value) ~ Normal(log q, s) with s = rel_sd (or sd / value): a
  relative error, for positive quantities spanning orders of magnitude.
- ``lower_bound``: the true value is at least ``value``; the measurement was capped
  there (e.g. a fleet at its capacity cap: the demand at the peak was at least the
  peak). Censored likelihood P(q x noise >= value) = Phi((log q - log value) / s) with
  relative noise, or Phi((q - value) / sd) with absolute noise.
- ``upper_bound``: the mirror image, P(measured <= value).

The noise is never learned from the data: with one number per quantity it cannot be
(a vague prior on it gives a funnel and divergences). It states how precisely the source
gives the number, and should say why in ``source`` or ``description``.

Parsed once, with the rest of the scenario, into :attr:`probmodel.spec.Scenario.observations`
(name -> :class:`Observation`); the likelihoods live in :mod:`probmodel.observations`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probmodel.model import INPUTS, OUTPUTS, unit_of
from probmodel.spec.problems import Problems, did_you_mean, is_number

KINDS = ("normal", "lognormal", "lower_bound", "upper_bound")
KEYS = ("value", "sd", "rel_sd", "kind", "unit", "source", "description")

#: Units of quantities that cannot be negative (counts, rates, money that is a cost or
#: revenue); a negative observed value of these is a typing mistake, not data.
NONNEGATIVE_UNITS = ("node", "GPU", "chip", "user", "token/day", "token/s", "FLOP/s",
                     "token/(node s)", "token/(user day)", "request/(user day)",
                     "token/request", "parameter")


@dataclass(frozen=True)
class Observation:
    """One validated observation of a model quantity."""

    name: str
    value: float
    kind: str
    sd: float | None
    rel_sd: float | None
    source: str
    unit: str = ""
    description: str = ""

    @property
    def relative(self) -> bool:
        """True when the noise acts on the log scale (lognormal, or a bound with rel_sd)."""
        return self.kind == "lognormal" or (self.kind != "normal" and self.rel_sd is not None)

    @property
    def scale(self) -> float:
        """The noise scale: log-scale sd when :attr:`relative`, else absolute sd."""
        if self.relative:
            return self.rel_sd if self.rel_sd is not None else self.sd / abs(self.value)
        return self.sd if self.sd is not None else self.rel_sd * abs(self.value)

    def noise_text(self) -> str:
        """The noise as written, e.g. ``rel_sd 0.01`` or ``sd 0.02``."""
        return f"rel_sd {self.rel_sd:g}" if self.rel_sd is not None else f"sd {self.sd:g}"


def known_names() -> list[str]:
    """Every name an observation may refer to: model inputs and outputs."""
    return [*INPUTS, *(k for k in OUTPUTS if k not in INPUTS)]


def validate_one(name: str, table: Any) -> list[tuple[str, str]]:
    """Problems with one ``[observations.NAME]`` table, as (path, message)."""
    path = f"observations.{name}"
    if not isinstance(table, dict):
        return [(path, "must be a table (value = ..., rel_sd or sd = ..., source = ...)")]
    if name not in INPUTS and name not in OUTPUTS:
        return [(path, f"unknown quantity '{name}'{did_you_mean(name, known_names())}; an "
                       "observation names a model input or output")]
    problems: list[tuple[str, str]] = []
    for key in table:
        if key not in KEYS:
            problems.append((f"{path}.{key}", f"unknown key{did_you_mean(key, KEYS)} (known: "
                                              f"{', '.join(KEYS)})"))
    for key in ("value", "sd", "rel_sd"):
        if key in table:
            v = table[key]
            if not is_number(v):
                problems.append((f"{path}.{key}",
                                 f"must be a number, not {type(v).__name__} {v!r}"))
            elif not math.isfinite(v):
                problems.append((f"{path}.{key}", f"must be finite, not {v}"))
    for key in ("source", "kind", "unit", "description"):
        if key in table and (not isinstance(table[key], str) or
                             (key != "description" and not table[key].strip())):
            problems.append((f"{path}.{key}", "must be a non-empty string"))
    if problems:
        return problems

    if "value" not in table:
        problems.append((f"{path}.value", "missing (the observed number)"))
    if "source" not in table:
        problems.append((f"{path}.source", "missing (every observation needs a source)"))
    kind = table.get("kind", "normal")
    if kind not in KINDS:
        problems.append((f"{path}.kind", f"'{kind}' is not one of {', '.join(KINDS)}"
                                         f"{did_you_mean(kind, KINDS)}"))
    has_sd, has_rel = "sd" in table, "rel_sd" in table
    if not has_sd and not has_rel:
        problems.append((path, "missing noise: give sd = ... (absolute) or rel_sd = ... "
                               "(relative), fixed from how precisely the source states it"))
    elif has_sd and has_rel:
        problems.append((f"{path}.rel_sd", "give either sd or rel_sd, not both"))
    for key in ("sd", "rel_sd"):
        if key in table and table[key] <= 0:
            problems.append((f"{path}.{key}", f"({table[key]:g}) must be positive"))
    if "unit" in table and table["unit"] != unit_of(name):
        problems.append((f"{path}.unit", f"'{table['unit']}' is not the unit of {name} "
                                         f"('{unit_of(name)}')"))
    if "value" in table:
        value = float(table["value"])
        q = INPUTS.get(name)
        if q is not None and not q.contains(value):
            problems.append((f"{path}.value", f"({value:g}) is outside the domain "
                                              f"{q.domain_text()} of {name}"))
        elif value < 0 and unit_of(name) in NONNEGATIVE_UNITS:
            problems.append((f"{path}.value", f"({value:g}) is negative; {name} counts "
                                              f"{unit_of(name)} and cannot be"))
        elif value <= 0 and (kind == "lognormal" or (kind in KINDS[2:] and has_rel)):
            problems.append((f"{path}.value", f"({value:g}) must be positive for a relative "
                                              f"(log-scale) noise; use kind = \"normal\" "
                                              f"with sd"))
        elif value == 0 and has_rel and not has_sd:
            problems.append((f"{path}.rel_sd", "a relative noise of a zero value is zero; "
                                               "give sd instead"))
    return problems


def validate(table: Any, file_label: str = "") -> list[tuple[str, str]]:
    """Problems with a whole ``[observations]`` table, as (path, message) pairs.

    A scenario file with a bad observation gives the same located one-line errors as
    a bad prior (see :func:`parse`).
    """
    if not isinstance(table, dict):
        return [("observations", "must be a table of observation tables")]
    out: list[tuple[str, str]] = []
    for name, sub in table.items():
        out.extend(validate_one(name, sub))
    return out


def from_tables(table: Mapping[str, Any]) -> dict[str, Observation]:
    """Validated observation tables as :class:`Observation` objects, in file order."""
    out = {}
    for name, t in table.items():
        out[name] = Observation(
            name=name, value=float(t["value"]), kind=t.get("kind", "normal"),
            sd=float(t["sd"]) if "sd" in t else None,
            rel_sd=float(t["rel_sd"]) if "rel_sd" in t else None,
            source=t["source"], unit=t.get("unit", unit_of(name)),
            description=t.get("description", ""),
        )
    return out


def parse(table: Any, problems: Problems) -> dict[str, Observation] | None:
    """Validate an ``[observations]`` table and parse it; None when it has problems."""
    found = validate(table)
    for path, msg in found:
        problems.add(path, msg)
    return None if found else from_tables(table)
