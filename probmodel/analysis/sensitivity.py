"""Sensitivity: what drives the answer (tornado, Sobol indices) and what drives losses.

Three views a risk team expects, as @RISK and Crystal Ball give them:

- **Tornado** (one at a time): each uncertain input at its 5% and 95% quantile with
  every other input at its point value, in float64 like point mode.
- **Global** (variance-based): first-order and total Sobol indices with bootstrap
  confidence intervals, from SALib's Saltelli/Sobol' design in the unit hypercube,
  mapped through each input's inverse CDF and evaluated as one vectorised, jitted JAX
  batch. Interactions show as ST - S1.
- **Drivers of loss** (conditional, like @RISK's scenario analysis): for each input,
  its draws where profit < 0 against all draws: the median shift (in the input's units
  and as a share of its 90% prior width), the Kolmogorov-Smirnov distance between the
  two distributions, and the rank correlation with the output; ranked by KS distance.
  A scenario without profit (H20 demand) asks the same of the adverse tail of its
  output instead (e.g. chips_required above its 90th percentile).

With ``[[correlations]]`` the Sobol indices (whose Saltelli design recombines columns of
independent samples) describe the model *without* the correlations. The run then also
reports importance measures valid under dependence, computed from the joint draws:
Borgonovo's delta and the first-order index S1 (:mod:`probmodel.analysis.dependence`),
on the first :data:`DEPENDENCE_DRAWS` draws (the estimator's kernel densities cost about
a second each per input and bootstrap resample; see docs/sensitivity.md).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from probmodel import checks, results, sampling
from probmodel import distributions as dists
from probmodel.errors import RunError, UsageError
from probmodel.model import evaluate, output_names, unit_of
from probmodel.spec import Scenario

check_sobol_n = checks.check_sobol_n  # checked by the command before the heavy imports

#: Outputs for which low values are the bad ones (their adverse tail is the lower one).
LOW_IS_BAD = ("margin", "profit", "revenue", "cost_profit_ratio", "revenue_before_pay_rate")
DEFAULT_DRAWS = 200_000
DEFAULT_SOBOL_N = 2**13
MIN_EVENT_DRAWS = 100  # fewer loss draws than this: use the adverse tail instead
TAIL = 0.10
#: Draws and bootstrap resamples of the dependence-valid measures (correlated scenarios):
#: (1 + resamples) x inputs kernel-density evaluations of this many draws.
DEPENDENCE_DRAWS = 4096
DEPENDENCE_RESAMPLES = 8
#: What the terminal, JSON and run folder say when a scenario has correlations.
CORRELATED_NOTE = ("the scenario has [[correlations]]: Sobol indices assume independent "
                   "inputs and are computed without them; the Borgonovo delta and S1 from "
                   "the correlated joint draws are the importance measures valid for this "
                   "scenario")
ECDF_PROBS = tuple(np.round(np.linspace(0.01, 0.99, 99), 2))


# --------------------------------------------------------------------------- the output


def available_outputs(scenario: Scenario) -> list[str]:
    """Outputs the scenario's inputs allow, in evaluation order."""
    have = set(scenario.parameters) | ({"prices"} if scenario.prices is not None else set())
    return output_names(have)


def choose_output(scenario: Scenario, output: str | None) -> str:
    """The output to analyse: the one asked for, else margin, else chips_required.

    Raises
    ------
    UsageError
        For a name that is not an output of this scenario.
    """
    outs = available_outputs(scenario)
    if output is None:
        for cand in ("margin", "chips_required"):
            if cand in outs:
                return cand
        if not outs:
            raise UsageError(f"{scenario.path}: the scenario computes no output")
        return outs[-1]
    if output not in outs:
        close = difflib.get_close_matches(output, outs, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(f"--output: '{output}' is not an output of {scenario.name}{hint}; "
                         f"its outputs: {', '.join(outs)}")
    return output


def _uncertain(scenario: Scenario) -> dict:
    unc = scenario.uncertain
    if not unc:
        raise UsageError(f"{scenario.path}: no uncertain parameter, nothing to analyse "
                         "(every parameter is fixed)")
    return unc


def _point_inputs(scenario: Scenario) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, np.float64) for k, v in scenario.point_values().items()}


def _evaluate64(values: Mapping[str, np.ndarray], output: str) -> np.ndarray:
    out = evaluate({k: jnp.asarray(v, jnp.float64) for k, v in values.items()})
    return np.asarray(out[output], np.float64)


# --------------------------------------------------------------------------- tornado


@dataclass(frozen=True)
class Tornado:
    """One-at-a-time swings of ``output``, sorted by swing (largest first)."""

    output: str
    point: float  # the output with every input at its point value
    names: tuple[str, ...]
    low_input: np.ndarray  # each input's 5% quantile
    high_input: np.ndarray  # each input's 95% quantile
    at_low: np.ndarray  # the output with that input at its 5% quantile
    at_high: np.ndarray  # ... at its 95% quantile
    units: tuple[str, ...] = ()
    title: str = ""

    @property
    def swing(self) -> np.ndarray:
        """|output at p95 - output at p05| per input."""
        return np.abs(self.at_high - self.at_low)

    def table(self) -> pd.DataFrame:
        """One row per input: its p05, p95, the output at each, and the swing."""
        return pd.DataFrame({
            "input": self.names, "units": self.units, "input_p05": self.low_input,
            "input_p95": self.high_input, f"{self.output}_at_p05": self.at_low,
            f"{self.output}_at_p95": self.at_high, "swing": self.swing,
            f"{self.output}_point": self.point,
        })

    def to_dataset(self) -> xr.Dataset:
        """The table over an ``input`` dim; the output, its units and point value as attrs."""
        ds = xr.Dataset.from_dataframe(self.table().set_index("input"))
        ds.attrs.update({"output": self.output, "output_units": unit_of(self.output),
                         "point": float(self.point), "title": self.title})
        return ds

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Tornado:
        """The Tornado :meth:`to_dataset` wrote (as a result tree holds it)."""
        out = str(ds.attrs["output"])
        return cls(out, float(ds.attrs["point"]), tuple(str(n) for n in ds["input"].values),
                   ds["input_p05"].values, ds["input_p95"].values,
                   ds[f"{out}_at_p05"].values, ds[f"{out}_at_p95"].values,
                   tuple(str(u) for u in ds["units"].values), str(ds.attrs.get("title", "")))


def tornado(scenario: Scenario, output: str | None = None,
            probs: tuple[float, float] = (0.05, 0.95)) -> Tornado:
    """Output at each uncertain input's p05 and p95, the others at their point values.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its point values are the centre line).
    output : str, optional
        Output name; by default margin, else chips_required.
    probs : (float, float)
        The low and high quantiles (5% and 95%).

    Returns
    -------
    Tornado
        Sorted by swing, largest first; evaluated in float64 as point mode is.
    """
    output = choose_output(scenario, output)
    unc = _uncertain(scenario)
    names = list(unc)
    k = len(names)
    lo_hi = np.array([dists.quantile(p.dist, p.params, list(probs)) for p in unc.values()])
    base = _point_inputs(scenario)
    batch = {n: np.full(2 * k + 1, base[n]) for n in names}
    for i, n in enumerate(names):
        batch[n][2 * i] = lo_hi[i, 0]
        batch[n][2 * i + 1] = lo_hi[i, 1]
    y = np.broadcast_to(_evaluate64({**base, **batch}, output), (2 * k + 1,))
    at_low, at_high, point = y[0:2 * k:2], y[1:2 * k:2], float(y[-1])
    order = np.argsort(-np.abs(at_high - at_low), kind="stable")
    return Tornado(output, point, tuple(names[i] for i in order), lo_hi[order, 0],
                   lo_hi[order, 1], at_low[order], at_high[order],
                   tuple(unc[names[i]].unit for i in order), scenario.title)


# --------------------------------------------------------------------------- Sobol


@dataclass(frozen=True)
class Sobol:
    """First-order (S1) and total (ST) Sobol indices with bootstrap confidence intervals.

    ``*_conf`` is the half-width of the ``conf_level`` interval (SALib's bootstrap);
    rows are sorted by ST, largest first.
    """

    output: str
    names: tuple[str, ...]
    s1: np.ndarray
    s1_conf: np.ndarray
    st: np.ndarray
    st_conf: np.ndarray
    n_base: int
    n_evals: int
    conf_level: float
    num_resamples: int
    title: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def interval(self, which: str) -> np.ndarray:
        """(names, 2) lower and upper bounds of S1 or ST."""
        v, c = (self.s1, self.s1_conf) if which == "S1" else (self.st, self.st_conf)
        return np.stack([v - c, v + c], axis=-1)

    def table(self) -> pd.DataFrame:
        """One row per input: S1 and ST with their interval bounds."""
        s1, st = self.interval("S1"), self.interval("ST")
        return pd.DataFrame({
            "input": self.names, "S1": self.s1, "S1_lower": s1[:, 0], "S1_upper": s1[:, 1],
            "ST": self.st, "ST_lower": st[:, 0], "ST_upper": st[:, 1],
        })

    def to_dataset(self) -> xr.Dataset:
        """Indices as xarray with an ``input`` dim and intervals on a ``ci_bound`` dim."""
        import json

        attrs = {"ci_kind": "bootstrap (percentile of normal approx., SALib)",
                 "ci_prob": self.conf_level}
        return xr.Dataset(
            {"S1": ("input", self.s1), "ST": ("input", self.st),
             "S1_interval": (("input", "ci_bound"), self.interval("S1"), attrs),
             "ST_interval": (("input", "ci_bound"), self.interval("ST"), attrs)},
            coords={"input": list(self.names), "ci_bound": ["lower", "upper"]},
            attrs={"output": self.output, "n_base": self.n_base, "n_evals": self.n_evals,
                   "num_resamples": self.num_resamples, "conf_level": self.conf_level,
                   "notes": json.dumps(list(self.notes)), "title": self.title})


def sobol_indices(f: Callable[[np.ndarray], np.ndarray], names: Sequence[str],
                  n_base: int = DEFAULT_SOBOL_N, seed: int = 0, num_resamples: int = 200,
                  conf_level: float = 0.95) -> dict[str, np.ndarray]:
    """First-order and total Sobol indices of ``f`` over the unit hypercube (SALib).

    Parameters
    ----------
    f : callable
        Maps an (M, k) array of points in [0, 1]^k to M finite outputs.
    names : sequence of str
        The k input names.
    n_base : int
        SALib's N, a power of two; the design has N (k + 2) points.
    seed : int
        Seeds the scrambled Sobol' sequence and the bootstrap.
    num_resamples, conf_level : int, float
        Bootstrap resamples and the confidence level of the intervals.

    Returns
    -------
    dict
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half-widths), and ``n_evals``.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    check_sobol_n(n_base)
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    y = np.asarray(f(x), np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        raise RunError(f"Sobol: the output is not finite at {int(bad.sum())} of {y.size} "
                       f"design points (e.g. a quantile at 0 or infinity)")
    with warnings.catch_warnings():
        # A constant output makes the estimators 0/0; reported as NaN indices below.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol_analyze.analyze(problem, y, calc_second_order=False,
                                    num_resamples=num_resamples, conf_level=conf_level,
                                    # SALib seeds its bootstrap only for a truthy seed (0
                                    # would draw from NumPy's global generator): shift by 1
                                    seed=seed + 1)
    return {"S1": np.asarray(res["S1"]), "S1_conf": np.asarray(res["S1_conf"]),
            "ST": np.asarray(res["ST"]), "ST_conf": np.asarray(res["ST_conf"]),
            "n_evals": int(y.size)}


def _batch_evaluator(scenario: Scenario, names: Sequence[str], output: str):
    """A jitted float64 function: (M, k) input values -> M outputs, others at point."""
    base = {k: v for k, v in _point_inputs(scenario).items() if k not in names}
    names = tuple(names)

    @jax.jit
    def f(cols):
        values = dict(base)
        values.update({n: cols[:, i] for i, n in enumerate(names)})
        return jnp.broadcast_to(evaluate(values)[output], (cols.shape[0],))

    return lambda x: np.asarray(f(jnp.asarray(x, jnp.float64)))


#: A Sobol index this far outside [0, 1], or an interval this wide, means too few
#: evaluations (Saltelli's estimators are unbiased but not bounded).
SOBOL_SLACK = 0.1
SOBOL_WIDE = 0.5


def imprecise_indices(names, r: dict, conf_level: float) -> str:
    """The indices a Sobol run cannot pin down, as text ('' when none).

    An estimate more than :data:`SOBOL_SLACK` outside [0, 1], or an interval wider than
    :data:`SOBOL_WIDE`: the worst three, with their intervals.
    """
    bad = []
    for which in ("S1", "ST"):
        v, c = np.asarray(r[which], float), np.asarray(r[f"{which}_conf"], float)
        for i, n in enumerate(names):
            out = max(-v[i], v[i] - 1.0)
            if np.isfinite(v[i]) and (out > SOBOL_SLACK or 2 * c[i] > SOBOL_WIDE):
                bad.append((max(out, 2 * c[i] - SOBOL_WIDE), f"{n} {which} = {v[i]:.2f} "
                            f"[{v[i] - c[i]:.2f}, {v[i] + c[i]:.2f}] ({conf_level:.0%})"))
    bad.sort(key=lambda b: -b[0])
    return "; ".join(t for _, t in bad[:3])


def sobol(scenario: Scenario, output: str | None = None, n_base: int = DEFAULT_SOBOL_N,
          seed: int = 0, num_resamples: int = 200, conf_level: float = 0.95) -> Sobol:
    """Sobol indices of ``output`` with respect to every uncertain input of ``scenario``.

    The Saltelli design in [0, 1]^k is mapped through each input's inverse CDF
    (:func:`probmodel.distributions.quantile`), so the indices are those of the
    scenario's joint prior (independent inputs); the model is evaluated as one jitted
    float64 JAX batch.
    """
    output = choose_output(scenario, output)
    unc = _uncertain(scenario)
    names = list(unc)
    g = _batch_evaluator(scenario, names, output)
    eps = 1e-12  # keep the design off the 0/1 edges, where unbounded laws are infinite

    def f(u: np.ndarray) -> np.ndarray:
        u = np.clip(u, eps, 1 - eps)
        cols = np.column_stack([dists.quantile(p.dist, p.params, u[:, j])
                                for j, p in enumerate(unc.values())])
        return g(cols)

    r = sobol_indices(f, names, n_base, seed, num_resamples, conf_level)
    order = np.argsort(-np.nan_to_num(r["ST"], nan=-1.0), kind="stable")
    notes = []
    if output == "margin":
        notes.append("margin = 1 - cost/revenue has a long lower tail (revenue near 0 at "
                     "small pay rates); variance-based indices weigh that tail heavily")
    if (imprecise := imprecise_indices(names, r, conf_level)):
        notes.append(f"imprecise at --sobol-n {n_base:,}: {imprecise}; indices are shares of "
                     f"the output's variance (0 to 1): use a larger --sobol-n (default "
                     f"{DEFAULT_SOBOL_N:,})")
    return Sobol(output, tuple(names[i] for i in order), r["S1"][order], r["S1_conf"][order],
                 r["ST"][order], r["ST_conf"][order], n_base, r["n_evals"], conf_level,
                 num_resamples, scenario.title, tuple(notes))


# --------------------------------------------------------------------------- drivers


@dataclass(frozen=True)
class Drivers:
    """Each input among the event draws (losses, or the adverse tail) against all draws.

    Rows sorted by KS distance, largest first. ``ecdf_*`` hold quantiles of each input at
    :data:`ECDF_PROBS` (all draws and event draws) for the figure.
    """

    output: str
    event: str  # e.g. "profit < 0"
    p_event: float
    p_event_mcse: float
    n_event: int
    n_draws: int
    names: tuple[str, ...]
    units: tuple[str, ...]
    median_all: np.ndarray
    median_event: np.ndarray
    median_event_mcse: np.ndarray
    prior_width: np.ndarray  # p95 - p05 of the prior
    ks: np.ndarray
    rank_corr: np.ndarray  # Spearman correlation of the input with the output
    ecdf_probs: np.ndarray
    ecdf_all: np.ndarray  # (inputs, probs)
    ecdf_event: np.ndarray
    tail_note: str = ""
    title: str = ""

    @property
    def shift(self) -> np.ndarray:
        """Median among event draws minus median of all draws (input units)."""
        return self.median_event - self.median_all

    @property
    def shift_fraction(self) -> np.ndarray:
        """The median shift as a share of the input's 90% prior width."""
        return self.shift / self.prior_width

    def table(self) -> pd.DataFrame:
        """One row per input, ranked by KS distance."""
        return pd.DataFrame({
            "rank": np.arange(1, len(self.names) + 1), "input": self.names,
            "units": self.units, "median_all": self.median_all,
            "median_event": self.median_event, "median_event_mcse": self.median_event_mcse,
            "median_shift": self.shift, "shift_of_90pct_width": self.shift_fraction,
            "ks_distance": self.ks, "rank_corr_with_output": self.rank_corr,
        })

    def to_dataset(self) -> xr.Dataset:
        """The table over an ``input`` dim, with what the figure and the summary need.

        Adds each input's 90% prior width and its quantiles among all draws and among
        the event draws (``ecdf_*`` over ``ecdf_prob``); the event, P(event) with its
        MCSE and the draw counts are attributes.
        """
        ds = xr.Dataset.from_dataframe(self.table().set_index("input"))
        ds["prior_width"] = ("input", np.asarray(self.prior_width, np.float64),
                             {"long_name": "p95 - p05 of the prior"})
        ds = ds.assign_coords(ecdf_prob=np.asarray(self.ecdf_probs, np.float64))
        ds["ecdf_all"] = (("input", "ecdf_prob"), np.asarray(self.ecdf_all, np.float64))
        ds["ecdf_event"] = (("input", "ecdf_prob"), np.asarray(self.ecdf_event, np.float64))
        ds.attrs.update({"output": self.output, "event": self.event, "note": self.tail_note,
                         "p_event": float(self.p_event),
                         "p_event_mcse": float(self.p_event_mcse),
                         "n_event": int(self.n_event), "draws": int(self.n_draws),
                         "title": self.title})
        return ds


def _event(arrays: Mapping[str, np.ndarray], output: str) -> tuple[np.ndarray, str, str]:
    """The event whose drivers are asked for: losses, or the output's adverse tail."""
    note = ""
    if "profit" in arrays:
        loss = arrays["profit"] < 0
        if loss.sum() >= MIN_EVENT_DRAWS:
            return loss, "profit < 0", note
        note = (f"only {int(loss.sum())} of {loss.size} draws make a loss; drivers of the "
                f"adverse tail of {output} instead")
    else:
        note = (f"the scenario has no profit (no revenue or cost); drivers of the adverse "
                f"tail of {output} instead")
    y = np.asarray(arrays[output], np.float64)
    if output in LOW_IS_BAD:
        thr = float(np.quantile(y, TAIL))
        return y < thr, f"{output} below its {TAIL:.0%} quantile ({_with_unit(thr, output)})", note
    thr = float(np.quantile(y, 1 - TAIL))
    return y > thr, f"{output} above its {1 - TAIL:.0%} quantile ({_with_unit(thr, output)})", note


def _with_unit(x: float, name: str) -> str:
    unit = unit_of(name)
    return f"{x:.4g} {unit}" if unit and unit != "1" else f"{x:.4g}"


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance sup |F_a - F_b| (a, b sorted)."""
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def _rank(x: np.ndarray) -> np.ndarray:
    r = np.empty(x.size, np.float64)
    r[np.argsort(x, kind="stable")] = np.arange(x.size)
    return r


def drivers(arrays: Mapping[str, np.ndarray], scenario: Scenario,
            output: str | None = None) -> Drivers:
    """Drivers of loss (or of the output's adverse tail) from Monte Carlo draws.

    Parameters
    ----------
    arrays : mapping of name to array
        Draws of every uncertain input and output (:func:`probmodel.sampling.sample_arrays`).
    scenario : Scenario
        Gives each input's prior (for its 90% width) and unit.
    output : str, optional
        The output the tail refers to when there is no profit, and the one the rank
        correlations use; by default margin, else chips_required.
    """
    output = choose_output(scenario, output)
    unc = _uncertain(scenario)
    ev, label, note = _event(arrays, output)
    n = ev.size
    n_ev = int(ev.sum())
    if n_ev < 2:
        raise RunError(f"drivers: only {n_ev} draws fall in the event '{label}'; "
                       "use more draws")
    p_ev, p_se = results.probability(ev)
    y_rank = _rank(np.asarray(arrays[output], np.float64))
    names = list(unc)
    med_all, med_ev, med_se, width, ks, rho, e_all, e_ev = ([] for _ in range(8))
    probs = np.asarray(ECDF_PROBS)
    for name in names:
        x = np.asarray(arrays[name], np.float64)
        xs, xe = np.sort(x), np.sort(x[ev])
        med_all.append(float(np.quantile(xs, 0.5)))
        q, se = results.quantiles_with_mcse(xe, [0.5])
        med_ev.append(float(q[0]))
        med_se.append(float(se[0]))
        lo, hi = dists.quantile(unc[name].dist, unc[name].params, [0.05, 0.95])
        width.append(float(hi - lo))
        ks.append(_ks(xe, xs))
        xr_ = _rank(x)
        c = np.corrcoef(xr_, y_rank)[0, 1] if np.std(xr_) > 0 else math.nan
        rho.append(float(c))
        e_all.append(np.quantile(xs, probs))
        e_ev.append(np.quantile(xe, probs))
    order = np.argsort(-np.asarray(ks), kind="stable")

    def pick(v):
        return np.asarray(v)[order]

    return Drivers(output, label, p_ev, p_se, n_ev, n, tuple(names[i] for i in order),
                   tuple(unc[names[i]].unit for i in order), pick(med_all), pick(med_ev),
                   pick(med_se), pick(width), pick(ks), pick(rho), probs, pick(e_all),
                   pick(e_ev), note, scenario.title)


# --------------------------------------------------------------------------- a run


@dataclass
class SensitivityResult:
    """Everything a sensitivity run computed, and where it was written."""

    run_dir: Path | None  # None until the run folder is written
    output: str
    tornado: Tornado
    sobol: Sobol
    drivers: Drivers
    seconds: float
    summary: xr.Dataset | None = None  # the output's result-contract summary
    dataset: xr.Dataset | None = None  # the Monte Carlo draws behind the drivers
    #: Borgonovo delta and S1 from the joint draws (scenarios with correlations only)
    dependence: xr.Dataset | None = None
    #: the tornado at the inner range, each input at its 10% and 90% quantiles
    tornado_inner: Tornado | None = None


def analyse(scenario: Scenario, output: str | None = None, draws: int = DEFAULT_DRAWS,
            seed: int = 0, sobol_n: int = DEFAULT_SOBOL_N,
            progress: Callable[[int], None] | None = None) -> SensitivityResult:
    """The three analyses of one scenario, and the Monte Carlo draws behind the drivers.

    With ``[[correlations]]`` the drivers use the correlated draws; the Sobol indices
    assume independent inputs, which a note says.
    """
    t0 = time.perf_counter()
    output = choose_output(scenario, output)
    checks.check_draws_seed(draws, seed)
    _uncertain(scenario)
    t = tornado(scenario, output)
    s = sobol(scenario, output, sobol_n, seed)
    correlated = bool(sampling.correlation_target(scenario)[0])
    if correlated:
        s = dataclasses.replace(s, notes=(*s.notes, CORRELATED_NOTE))
    arrays = sampling.sample_arrays(scenario, draws, seed, progress)
    d = drivers(arrays, scenario, output)
    dep = None
    if correlated:
        from probmodel.analysis.dependence import for_output

        dep = for_output({k: arrays[k] for k in _uncertain(scenario)}, arrays[output],
                         output, DEPENDENCE_DRAWS, DEPENDENCE_RESAMPLES, seed)
        dep.attrs.update({"title": scenario.title, "note": CORRELATED_NOTE})
    ds = results.to_dataset(arrays, scenario, {"seed": seed, "draws": draws})
    summary = results.summarize(ds, names=[output])
    return SensitivityResult(None, output, t, s, d, time.perf_counter() - t0, summary, ds,
                             dep, tornado(scenario, output, (0.10, 0.90)))
