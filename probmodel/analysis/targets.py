"""Events and targets written on the command line: ``margin > 20%``, ``P(profit > 0) >= 0.9``.

An *event* compares one output with a number (``OUTPUT OP X``); its probability is the
share of draws in which it holds. A *target* states what a Monte Carlo statistic of an
output must satisfy:

    P(OUTPUT OP X) CMP p        probability of an event (p as 0.9 or 90%)
    qNN(OUTPUT) CMP X           a quantile (q05, q50, q95, ...; median = q50)
    es05(OUTPUT) CMP X          expected shortfall: the mean of the worst 5% (es95: best 5%)
    mean(OUTPUT) CMP X

OP and CMP are any of ``>``, ``>=``, ``<``, ``<=``. X is read as the tables print it:
a plain number is in the model's unit (USD/day, a fraction, chips), a suffix scales it:
``20%`` = 0.2, ``-50k`` = -50,000, ``1.2M`` = 1.2e6, ``3B`` = 3e9 (``$`` and ``,`` are
ignored). Parsing needs the scenario only to check the output's name; nothing here
imports JAX.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from probmodel import distributions as dists
from probmodel import fmt
from probmodel.analysis.grid import Grid, check_grid, enters
from probmodel.errors import UsageError
from probmodel.model import INPUTS
from probmodel.spec import Scenario, did_you_mean

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_OP = r"(>=|<=|>|<)"
_NUM = r"[-+]?\$?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*(?:%|[kKMBGT])?"
_SUFFIX = {"%": 0.01, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
_EVENT = re.compile(rf"^\s*(?P<out>[A-Za-z_]\w*)\s*{_OP}\s*(?P<x>{_NUM})\s*$")
_P = re.compile(rf"^\s*P\s*\((?P<event>[^()]*)\)\s*(?P<cmp>{_OP[1:-1]})\s*(?P<p>{_NUM})\s*$")
_STAT = re.compile(rf"^\s*(?P<stat>q\d\d|es05|es95|mean|median)\s*\(\s*(?P<out>[A-Za-z_]\w*)"
                   rf"\s*\)\s*(?P<cmp>{_OP[1:-1]})\s*(?P<x>{_NUM})\s*$")
TARGET_FORMS = ("P(OUTPUT > X) >= p", "qNN(OUTPUT) >= X", "es05(OUTPUT) >= X",
                "mean(OUTPUT) <= X")


def parse_number(text: str, flag: str, what: str) -> float:
    """A number as the tables print it: ``20%``, ``-50k``, ``1.2M``, ``$3B``, ``1e6``."""
    t = text.strip().replace(",", "").replace("$", "")
    scale = 1.0
    if t and t[-1] in _SUFFIX:
        scale = _SUFFIX[t[-1]]
        t = t[:-1].strip()
    try:
        v = float(t) * scale
    except ValueError:
        raise UsageError(f"{flag}: {what}: '{text.strip()}' is not a number (e.g. 0.2, 20%, "
                         f"-50k, 1.2M)") from None
    if not math.isfinite(v):
        raise UsageError(f"{flag}: {what}: '{text.strip()}' is not a finite number")
    return v


def check_output_name(scenario: Scenario, name: str, flag: str) -> None:
    """Refuse an output (or input) the scenario neither defines nor computes."""
    from probmodel.analysis.grid import available_names

    names = available_names(scenario)
    if name not in names:
        raise UsageError(f"{flag}: '{name}' is not computed by scenario {scenario.name}"
                         f"{did_you_mean(name, names)} (it has: {', '.join(names)})")


def compact(name: str, x: float) -> str:
    """``x`` written back as a target reads it: ``20%``, ``-50k``, ``1.2M``, ``0``."""
    if fmt.scale_for(name)[1] == "%":
        return f"{100 * x:.4g}%"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.4g}{suffix}"
    return f"{x:.4g}"


def show(name: str, x: float) -> str:
    """``x`` as the tables print ``name``: value and display unit (``20.0 %``)."""
    return f"{fmt.show(name, x, 4)} {fmt.scale_for(name)[1]}".rstrip()


@dataclass(frozen=True)
class Event:
    """``output op x``: holds in a draw when the comparison is true."""

    output: str
    op: str
    x: float
    text: str

    def holds(self, draws: np.ndarray) -> np.ndarray:
        """Boolean array: the event in each draw."""
        return OPS[self.op](np.asarray(draws), np.float32(self.x))

    @property
    def label(self) -> str:
        """``margin > 20%``, as a target or event reads it."""
        return f"{self.output} {self.op} {compact(self.output, self.x)}"

    @property
    def statistic(self) -> str:
        """The statistic's name in summary files (with the output as variable): ``p_gt_0.2``."""
        word = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}[self.op]
        return f"p_{word}_{self.x:g}"

    @property
    def key(self) -> str:
        """A name for files: ``p_margin_gt_0.2``."""
        return f"p_{self.output}_{self.statistic[2:]}"


def parse_event(text: str, scenario: Scenario | None = None, flag: str = "--event") -> Event:
    """Parse ``OUTPUT OP X`` (``margin > 20%``); check OUTPUT against ``scenario``."""
    m = _EVENT.match(text)
    if m is None:
        raise UsageError(f"{flag}: '{text}' is not of the form OUTPUT OP X (e.g. "
                         f"'margin > 20%', 'profit < -50k'; OP is >, >=, < or <=)")
    out = m["out"]
    if scenario is not None:
        check_output_name(scenario, out, flag)
    return Event(out, m[2], parse_number(m["x"], flag, out), " ".join(text.split()))


def parse_events(items: Sequence[str] | None, scenario: Scenario) -> list[Event]:
    """Every ``--event`` of a command, each checked; duplicates refused."""
    events = [parse_event(t, scenario) for t in items or ()]
    keys = [e.key for e in events]
    for k in keys:
        if keys.count(k) > 1:
            raise UsageError(f"--event: '{events[keys.index(k)].text}' is given twice")
    return events


@dataclass(frozen=True)
class Target:
    """What a statistic of an output must satisfy: ``stat(output) cmp threshold``.

    ``stat`` is ``p`` (with ``event``), ``qNN``, ``es05``, ``es95`` or ``mean``.
    """

    stat: str
    output: str
    cmp: str
    threshold: float
    text: str
    event: Event | None = None

    @property
    def label(self) -> str:
        """The statistic as written, e.g. ``P(profit > 0)`` or ``q05(profit)``."""
        if self.event is not None:
            return f"P({self.event.label})"
        return f"{self.stat}({self.output})"

    @property
    def is_probability(self) -> bool:
        """True for a P(...) target (threshold and estimate are probabilities)."""
        return self.event is not None

    def show(self, x: float) -> str:
        """A value of the statistic in the tables' units."""
        return f"{x:.4f}" if self.is_probability else show(self.output, x)

    def number(self, x: float) -> str:
        """A value of the statistic in the tables' units, without the unit."""
        return f"{x:.4f}" if self.is_probability else fmt.show(self.output, x, 4)

    @property
    def heading(self) -> str:
        """``q50(cost_per_mtok_output) (USD/Mtoken)``: the statistic and its display unit."""
        unit = "" if self.is_probability else fmt.scale_for(self.output)[1]
        return f"{self.label} ({unit})" if unit and unit != "1" else self.label

    def met(self, estimate: float) -> bool:
        """Whether ``estimate`` satisfies the target."""
        return bool(OPS[self.cmp](estimate, self.threshold))

    def estimate(self, draws: np.ndarray, blocks: bool = False) -> tuple[float, float]:
        """The statistic of ``draws`` (1-D) and its Monte Carlo standard error.

        iid, or with ``blocks`` (draws in engine order of a scenario with correlated
        inputs) scaled by the batch-means factor of the quantity the statistic averages:
        the event's indicator, the indicator below the quantile, or the draws
        (:func:`probmodel.mcse.draw_factors`).
        """
        from probmodel import results
        from probmodel.mcse import draw_factors

        x = np.asarray(draws)
        if self.event is not None:
            hit = self.event.holds(x)
            p, se = results.probability(hit)
            return p, se * (float(draw_factors(hit)) if blocks else 1.0)
        if self.stat.startswith("q"):
            v, se = results.quantiles_with_mcse(x, [int(self.stat[1:]) / 100])
            f = float(draw_factors(x <= v[0])) if blocks else 1.0
            return float(v[0]), float(se[0]) * f
        val, se = results.stats_kernel(x[None])
        j = results.STATS.index(self.stat)
        return float(val[0, j]), float(se[0, j]) * (float(draw_factors(x)) if blocks else 1.0)


_P_ONLY = re.compile(r"^\s*P\s*\((?P<event>[^()]*)\)\s*$")
_STAT_ONLY = re.compile(r"^\s*(?P<stat>q\d\d|es05|es95|mean|median)\s*\(\s*"
                        r"(?P<out>[A-Za-z_]\w*)\s*\)\s*$")


def parse_statistic(text: str, scenario: Scenario | None = None,
                    flag: str = "--minimise") -> Target:
    """A statistic without a threshold: ``q50(OUTPUT)``, ``mean(OUTPUT)``, ``P(OUTPUT > X)``.

    Returned as a :class:`Target` with no comparison (``cmp`` empty).
    """
    text = " ".join(text.split())
    m = _P_ONLY.match(text)
    if m is not None:
        event = parse_event(m["event"], scenario, flag)
        return Target("p", event.output, "", math.nan, text, event)
    m = _STAT_ONLY.match(text)
    if m is None:
        raise UsageError(f"{flag}: '{text}' is not a statistic; write qNN(OUTPUT), "
                         "es05(OUTPUT), mean(OUTPUT) or P(OUTPUT > X)")
    stat = "q50" if m["stat"] == "median" else m["stat"]
    if stat.startswith("q") and not 1 <= int(stat[1:]) <= 99:
        raise UsageError(f"{flag}: {stat}: a quantile runs from q01 to q99")
    if scenario is not None:
        check_output_name(scenario, m["out"], flag)
    return Target(stat, m["out"], "", math.nan, text)


def parse_target(text: str, scenario: Scenario | None = None,
                 flag: str = "--target") -> Target:
    """Parse a target (module docstring); check its output against ``scenario``."""
    text = " ".join(text.split())
    m = _P.match(text)
    if m is not None:
        event = parse_event(m["event"], scenario, flag)
        p = parse_number(m["p"], flag, "probability")
        if not 0 <= p <= 1:
            raise UsageError(f"{flag}: the probability in '{text}' must lie in [0, 1] (or "
                             f"0% to 100%), not {m['p'].strip()}")
        return Target("p", event.output, m["cmp"], p, text, event)
    m = _STAT.match(text)
    if m is None:
        raise UsageError(f"{flag}: '{text}' is not a target; write one of "
                         f"{', '.join(repr(f) for f in TARGET_FORMS)} (NN from 01 to 99)")
    stat = "q50" if m["stat"] == "median" else m["stat"]
    if stat.startswith("q") and not 1 <= int(stat[1:]) <= 99:
        raise UsageError(f"{flag}: {stat}: a quantile runs from q01 to q99")
    if scenario is not None:
        check_output_name(scenario, m["out"], flag)
    return Target(stat, m["out"], m["cmp"], parse_number(m["x"], flag, m["out"]), text)


# --------------------------------------------------------------------------- --vary


def default_range(scenario: Scenario, name: str) -> tuple[float, float]:
    """The law's 0.1% and 99.9% quantiles; for a fixed value, half to twice it."""
    p = scenario.parameters.get(name)
    q = INPUTS[name]
    if p is not None and not p.is_fixed:
        lo, hi = (float(v) for v in dists.quantile(p.dist, p.params, [0.001, 0.999]))
    else:
        x = p.point if p is not None else 1.0
        lo, hi = (x / 2, x * 2) if x > 0 else (x - max(abs(x), 1.0), x + max(abs(x), 1.0))
    return clip_to_domain(q, lo), clip_to_domain(q, hi)


def clip_to_domain(q, x: float) -> float:
    """``x`` moved into the domain of quantity ``q`` (just inside an open bound)."""
    lo = q.low if not q.low_open else (q.low + 1e-6 * max(abs(q.low), 1.0) if q.low == 0
                                       else np.nextafter(np.float32(q.low), np.float32(np.inf)))
    return float(min(max(x, lo), q.high))


def check_range(scenario: Scenario, name: str, lo: float, hi: float) -> None:
    """Refuse a ``--vary`` range outside the domain of ``name`` or with LO >= HI."""
    q = INPUTS[name]
    if not lo < hi:
        raise UsageError(f"--vary: {name}={lo:g}:{hi:g}: LO must be below HI")
    for v in (lo, hi):
        if not q.contains(v):
            raise UsageError(f"--vary: {name}={v:g} is outside its domain {q.domain_text()}")


def parse_vary(text: str) -> tuple[str, tuple[float, float] | None]:
    """``NAME`` or ``NAME=LO:HI``."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not name or (sep and raw.count(":") != 1):
        raise UsageError(f"--vary: '{text}' is not of the form NAME or NAME=LO:HI")
    if not sep:
        return name, None
    lo, hi = raw.split(":")
    return name, (parse_number(lo, "--vary", name), parse_number(hi, "--vary", name))


def check_vary(scenario: Scenario, name: str, target: Target) -> None:
    """Refuse an unknown ``--vary`` name, one fixed by --set, or one that cannot move it."""
    if name not in INPUTS:
        raise UsageError(f"--vary: unknown parameter '{name}'{did_you_mean(name, INPUTS)}")
    first = default_range(scenario, name)[0]
    check_grid(scenario, Grid((name,), (np.array([first]),)), target.output, flag="--vary")
    if not enters(scenario, name, target.output):
        raise UsageError(f"--vary: {name} does not enter {target.output} in scenario "
                         f"{scenario.name}; the target cannot move")
