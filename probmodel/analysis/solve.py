"""Goal seek on a Monte Carlo statistic: the value of one input at which a target holds.

"What is the lowest pay rate with P(profit > 0) >= 0.9?" :func:`solve` holds the input
``name`` at a tried value, estimates the target's statistic (:mod:`.targets`) from the
same draws at every try, and brackets then bisects the value where the target starts
to hold.

Common random numbers: every other input is drawn once, chunk by chunk with the engine's
keys (:func:`probmodel.sampling.chunks`; draw ``j`` of an input is draw ``j`` of
``probmodel run`` with that seed), and kept on the device; each try only replaces
``name``'s column and evaluates the equations. One compiled program serves every try:
the value is an ordinary argument. On the same draws the estimate is exactly monotone in
the value wherever the model is, so bisection never meets noise.

Correlated ``name``: its partners in ``[[correlations]]`` (and the partners' partners)
are drawn from the Gaussian copula *conditional* on the normal score of the tried value,
z = Phi^-1(F(value)) with F the law of ``name``: their scores are
``P_Rv z + chol(P_RR - P_Rv P_vR) u`` (P the Pearson matrix of the scores,
2 sin(pi R / 6) of the Spearman targets), ``u`` the van der Waerden scores of their own
independent draws within each block of 1,024, and each value is read back from the
partner's own draws of that block (:func:`probmodel.correlation.condition`, the same
conditioning as ``--set`` and a sweep cell). With zero correlation this returns every
draw unchanged. Draws are then dependent within a block: MCSEs come from batch means.

Monte Carlo uncertainty of the answer: the range of values where the estimate lies
within 2 MCSE of the threshold, i.e. the values ``v`` with ``g(v) = t -+ 2 s`` (``s``
the MCSE at the answer): about +-2 standard errors of the solved value (delta method,
sd = s / |g'|).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from probmodel import checks, results, sampling
from probmodel.analysis.targets import (
    Event,
    Target,
    check_range,
    check_vary,
    clip_to_domain,
    default_range,
)
from probmodel.correlation import condition
from probmodel.errors import UsageError
from probmodel.model import INPUTS, unit_of
from probmodel.spec import Scenario

#: Host memory allowed for the held input draws (draws x inputs x 4 bytes).
MAX_HELD_BYTES = 2 * 2**30
#: Points of the figure's curve (evaluated after the search; not counted as tries).
CURVE_POINTS = 25
#: Widenings of the default range before a target is declared out of range.
MAX_WIDEN = 4
#: Bisection steps at most (per level).
MAX_STEPS = 60


# --------------------------------------------------------------------------- held draws


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _outputs(model: sampling.ForwardModel, names: tuple[str, ...], cond_names: tuple[str, ...],
             draws: int, inputs, args, cond, z):
    """The outputs ``names`` (first ``draws`` draws) with the held inputs and ``args``.

    ``args["fixed"]`` carries the tried value; ``z`` the normal scores of the held inputs
    (the tried value's among them), which move the conditioned partners ``cond_names``
    (module docstring).
    """
    inputs = condition(dict(inputs), cond_names, cond["coef"], cond["chol"], z)
    inputs = {k: v[:draws] for k, v in inputs.items()}
    out = model.evaluate(inputs, args, draws)
    return {k: out[k] for k in names}


class Held:
    """Every input but ``name`` drawn once and kept on the device; outputs at any value.

    Parameters
    ----------
    scenario : Scenario
        The scenario (``name`` may be uncertain, fixed, or an optional input).
    name : str
        The input held at each tried value.
    names : tuple of str
        The outputs :meth:`at` returns.
    draws, seed : int
        The Monte Carlo draws (the engine's chunks and keys) and seed.
    """

    def __init__(self, scenario: Scenario, name: str, names: tuple[str, ...], draws: int,
                 seed: int):
        checks.check_draws_seed(draws, seed)
        self.scenario, self.name, self.names, self.draws = scenario, name, names, draws
        p = scenario.parameters.get(name)
        start = p.point if p is not None else INPUTS[name].high
        start = start if math.isfinite(start) else 1.0
        sc = scenario.with_overrides({name: start}, origin="--vary")
        sc = replace(sc, overrides=dict(scenario.overrides))
        model = sampling.ForwardModel.from_scenario(sc)
        # the partners of ``name`` (model.given: drawn independently, not reordered) are
        # conditioned here, at every tried value (below)
        held, given = model.held, model.given
        model = replace(model, held=(), given=())
        n_inputs = len(model.uncertain)
        if draws * max(n_inputs, 1) * 4 > MAX_HELD_BYTES:
            raise UsageError(f"--draws: {draws:,} draws x {n_inputs} inputs need "
                             f"{draws * n_inputs * 4 / 2**30:.1f} GiB held for every try (at "
                             f"most {MAX_HELD_BYTES / 2**30:.0f}); use fewer draws")
        self.model, self.args = model, model.args(sc)
        parts: dict[str, list] = {k: [] for k, _ in model.uncertain}
        for c in sampling.chunks(seed, draws):
            drawn = sampling.inputs_jit(model, c.key, self.args, sampling.CHUNK)
            for k in parts:
                parts[k].append(drawn[k])
        self.inputs = {k: jnp.concatenate(v) for k, v in parts.items()}
        # the partners' numbers given ``name`` (the same conditioning as --set and a sweep
        # cell: probmodel.correlation.condition, block by block), the score per try
        self.sc, self.partners = sc, given
        self.held_names = held  # the tried input, and any other correlated input --set holds
        cond = sampling.conditioning(sc, held, given)
        self.cond = {k: cond[k] for k in ("coef", "chol")}
        self.z = np.asarray(cond["z"], np.float64)
        # draws dependent within the reordering's blocks: batch-means MCSEs
        base = sampling.ForwardModel.from_scenario(scenario)
        self.blocks = bool(base.correlated or base.given or self.partners)

    def score(self, value: float) -> float:
        """The normal score Phi^-1(F(value)) of ``value`` under ``name``'s law."""
        if self.name not in self.held_names:
            return 0.0
        return float(sampling.held_scores(self.sc, (self.name,), {self.name: value})[0])

    def at(self, value: float) -> dict[str, np.ndarray]:
        """The outputs ``names`` (float32 host arrays of ``draws``) with ``name`` = value."""
        args = {**self.args, "fixed": {**self.args["fixed"],
                                       self.name: jnp.asarray(value, sampling.DTYPE)}}
        z = self.z.copy()
        if self.name in self.held_names:
            z[self.held_names.index(self.name)] = self.score(value)
        out = _outputs(self.model, self.names, self.partners, self.draws, self.inputs, args,
                       self.cond, jnp.asarray(z, jnp.float64))
        return {k: np.asarray(v) for k, v in out.items()}


# --------------------------------------------------------------------------- the search


@dataclass
class SolveResult:
    """A solved target: the value, its Monte Carlo range, the estimate there, the tries."""

    scenario: Scenario
    name: str
    target: Target
    value: float
    value_interval: tuple[float, float]
    achieved: float
    achieved_mcse: float
    direction: str  # "above" (the target holds at and above value) or "below"
    search_range: tuple[float, float]
    tries: list[tuple[float, float, float]]  # (value, estimate, mcse) in the search
    curve: list[tuple[float, float, float]]
    draws: int
    seed: int
    summary: xr.Dataset  # the result contract at the answer
    events: list[dict] = field(default_factory=list)
    conditioned: tuple[str, ...] = ()
    seconds: float = 0.0


def _widen(name: str, lo: float, hi: float) -> tuple[float, float]:
    q = INPUTS[name]
    w = hi - lo
    new_lo = lo / 4 if q.low == 0 and lo > 0 else lo - w
    new_hi = hi * 4 if hi > 0 and not math.isfinite(q.high) else hi + w
    return clip_to_domain(q, new_lo), clip_to_domain(q, new_hi)


class _Search:
    """Tries of the target's statistic, kept sorted by value."""

    def __init__(self, held: Held, target: Target):
        self.held, self.target = held, target
        self.tries: list[tuple[float, float, float]] = []

    def __call__(self, v: float) -> tuple[float, float]:
        for t in self.tries:
            if t[0] == v:
                return t[1], t[2]
        est, se = self.target.estimate(self.held.at(v)[self.target.output], self.held.blocks)
        self.tries.append((v, est, se))
        return est, se

    def boundary(self, side: Callable[[float], bool], tol: float) -> tuple[float, float]:
        """(last value off ``side``, first value on it) along the sorted tries, bisected.

        ``side(estimate)`` is the condition; the pair brackets where it starts (or stops)
        to hold, and is narrowed until it is at most ``tol`` wide.
        """
        pts = sorted(self.tries)
        pair = next(((a[0], b[0]) for a, b in itertools.pairwise(pts)
                     if side(a[1]) != side(b[1])), None)
        if pair is None:
            raise ValueError("no bracket")
        a, b = pair if not side(self._est(pair[0])) else pair[::-1]  # a off, b on
        for _ in range(MAX_STEPS):
            if abs(b - a) <= tol:
                break
            m = float(np.float32(0.5 * (a + b)))
            if m in (a, b):  # float32 resolution reached
                break
            if side(self(m)[0]):
                b = m
            else:
                a = m
        return a, b

    def _est(self, v: float) -> float:
        return self(v)[0]


def solve(scenario: Scenario, name: str, target: Target, draws: int = 200_000,
          seed: int = 0, search_range: tuple[float, float] | None = None,
          events: list[Event] | None = None,
          progress: Callable[[int], None] | None = None) -> SolveResult:
    """The value of ``name`` at which ``target`` starts to hold, with its MC uncertainty.

    Parameters
    ----------
    scenario : Scenario
    name : str
        The input varied (held at each tried value; its correlated partners conditioned).
    target : Target
        From :func:`probmodel.analysis.targets.parse_target`.
    draws, seed : int
        The draws used at every try (common random numbers).
    search_range : (float, float), optional
        Where to look; by default the law's 0.1%-99.9% range (half to twice a fixed
        value), widened up to :data:`MAX_WIDEN` times within the domain.
    events : list of Event, optional
        Their probabilities at the answer go into the summary.

    Returns
    -------
    SolveResult

    Raises
    ------
    UsageError
        When the target is not reached (or holds everywhere) in the range, naming the
        best estimate and where it was reached.
    """
    t0 = time.perf_counter()
    check_vary(scenario, name, target)
    if search_range is not None:
        check_range(scenario, name, *search_range)
    from probmodel.analysis.grid import available_names

    avail = available_names(scenario)
    events = list(events or [])
    want = [target.output, *(k for k in ("margin", "profit") if k in avail),
            *(e.output for e in events)]
    held = Held(scenario, name, tuple(dict.fromkeys(want)), draws, seed)
    if progress is not None:
        progress(draws)
    search = _Search(held, target)
    lo, hi = search_range or default_range(scenario, name)
    met = lambda est: target.met(est)  # noqa: E731
    for widen in range(MAX_WIDEN + 1):
        elo, ehi = search(lo)[0], search(hi)[0]
        if met(elo) != met(ehi) or search_range is not None or widen == MAX_WIDEN:
            break
        new = _widen(name, lo, hi)
        if new == (lo, hi):
            break
        lo, hi = new
    if met(elo) == met(ehi):
        _out_of_range(search, name, target, lo, hi, met(elo))
    width = hi - lo
    f32_tol = lambda v: 4 * float(np.finfo(np.float32).eps) * max(abs(v), 1e-30)  # noqa: E731
    a, b = search.boundary(met, width / 1024)
    est, se = search(b)
    t = target.threshold
    levels = ((t - 2 * se, t + 2 * se) if not target.is_probability else
              (max(t - 2 * se, 0.0), min(t + 2 * se, 1.0)))
    ends = [_level_value(search, lvl, width / 1024, (lo, hi)) for lvl in levels]
    tol = max(abs(ends[1] - ends[0]) / 50, f32_tol(b))
    a, b = search.boundary(met, tol)
    ends = [_level_value(search, lvl, tol, (lo, hi)) for lvl in levels]
    tries = list(search.tries)
    est, se = search(b)
    value = b
    rising = (b > a)  # the target holds above the boundary
    interval = (min(ends), max(ends))
    # the figure's curve: evenly over the range searched (not counted as tries)
    curve = [(float(v), *search(float(v))) for v in np.linspace(lo, hi, CURVE_POINTS)]
    at = held.at(value)
    summary = results.summarize_arrays(
        at, attrs={"scenario": scenario.name, "seed": seed, name: value}, events=events,
        blocks=held.blocks)
    ev = results.event_list(summary)
    return SolveResult(scenario, name, target, float(value), interval, float(est), float(se),
                       "above" if rising else "below", (float(lo), float(hi)), tries, curve,
                       draws, seed, summary, ev, held.partners, time.perf_counter() - t0)


def _level_value(search: _Search, level: float, tol: float,
                 rng: tuple[float, float]) -> float:
    """Where the estimate crosses ``level`` (bisected); a range end when it never does."""
    try:
        a, b = search.boundary(lambda est: est >= level, tol)
    except ValueError:  # never crosses within the range: the end nearer the level
        ends = {v: search(v)[0] for v in rng}
        return min(ends, key=lambda v: abs(ends[v] - level))
    return 0.5 * (a + b)


def _out_of_range(search: _Search, name: str, target: Target, lo: float, hi: float,
                  everywhere: bool) -> None:
    pts = search.tries
    if everywhere:
        raise UsageError(f"--target: {target.text} holds everywhere in {name} = "
                         f"[{lo:.6g}, {hi:.6g}]: no boundary to find (give --vary "
                         f"{name}=LO:HI over a range where it changes)")
    sign = 1 if target.cmp in (">", ">=") else -1
    v, est, se = max(pts, key=lambda t: sign * t[1])
    raise UsageError(f"--target: {target.text} is not reached for {name} in "
                     f"[{lo:.6g}, {hi:.6g}]; the best is {target.label} = "
                     f"{target.show(est)} ± {target.show(se)} at {name} = {v:.6g}")


# --------------------------------------------------------------------------- results


def to_tree(res: SolveResult) -> xr.DataTree:
    """A solve's result tree, all of it in solve.nc.

    ``/answer`` holds the value, its Monte Carlo range ``value_interval`` (over
    ``ci_bound``: lower, upper), ``achieved`` and ``achieved_mcse``; ``/summary`` the
    result contract at the answer; ``/tries`` the values tried in order and ``/curve``
    the estimate on an even grid (the figure's); the root's attrs the target, the search
    and the draws. summary.csv and summary.json are derived from it (:func:`outputs`).
    """
    from probmodel import tree

    units = unit_of(res.name)

    def ds(rows, what):
        a = np.asarray(rows, np.float64).reshape(-1, 3)
        return xr.Dataset({res.name: ("try", a[:, 0], {"units": units}),
                           "estimate": ("try", a[:, 1], {"long_name": res.target.label}),
                           "estimate_mcse": ("try", a[:, 2])},
                          attrs={"what": what})

    answer = xr.Dataset(
        {"value": ((), float(res.value), {"units": units, "long_name": f"solved {res.name}"}),
         "value_interval": (tree.CI_DIM, [float(v) for v in res.value_interval],
                            {"units": units, "long_name": "Monte Carlo range: where the "
                             "estimate is within 2 MCSE of the threshold"}),
         "achieved": ((), float(res.achieved), {"long_name": res.target.label}),
         "achieved_mcse": ((), float(res.achieved_mcse))},
        coords={tree.CI_DIM: list(tree.CI_BOUNDS)})
    t = tree.make(
        "solve", f"{res.scenario.name}_solve",
        {"answer": answer, "summary": res.summary,
         "tries": ds(res.tries, "the values tried by the search, in order"),
         "curve": ds(res.curve, "the target's estimate on an even grid (for the figure)")},
        salt=f"{res.seed}{res.draws}{res.target.text}",
        files={"solve.nc": {"/": "/"}},
        settings=dict(method="goal seek on common random numbers: bracket, then bisection",
                      seed=res.seed, draws=res.draws, vary=res.name, target=res.target.text,
                      search_range=list(res.search_range), tries=len(res.tries),
                      conditioned=list(res.conditioned), chunk_size=sampling.CHUNK,
                      seconds=round(res.seconds, 3)),
        attrs={
            "scenario": res.scenario.name, "vary": res.name, "target": res.target.text,
            "statistic": res.target.label, "output": res.target.output,
            "probability": int(res.target.is_probability),
            "threshold": float(res.target.threshold), "direction": res.direction,
            "search_range": [float(v) for v in res.search_range],
            "conditioned": json.dumps(list(res.conditioned)), "units": units,
            "draws": int(res.draws), "seed": int(res.seed),
            "common_random_numbers": "every try uses the same draws of every other input"})
    return t


def outputs(t: xr.DataTree):
    """summary.csv and summary.json of a solve, from its tree; a choice's (choose.py)."""
    from probmodel import tree

    if "choose" in tree.settings(t):
        from probmodel.analysis import choose

        return choose.outputs(t)
    return tree.Outputs(tables={"summary.csv": results.summary_table(tree.summary(t))},
                        json={"summary.json": _json(t)})


def _json(t: xr.DataTree) -> dict:
    """summary.json of a solve: value, value_interval, achieved, achieved_mcse, tries..."""
    from probmodel import tree

    a, root = t.attrs, t["answer"].to_dataset()
    name = str(a["vary"])
    interval = root["value_interval"].sel({tree.CI_DIM: list(tree.CI_BOUNDS)}).values
    return {
        "scenario": str(a["scenario"]), "vary": name, "target": str(a["target"]),
        "value": float(root["value"]), "value_interval": [float(v) for v in interval],
        "achieved": float(root["achieved"]), "achieved_mcse": float(root["achieved_mcse"]),
        "holds": f"{name} {'>=' if str(a['direction']) == 'above' else '<='} value",
        "tries": int(t["tries"].sizes["try"]), "draws": int(a["draws"]),
        "seed": int(a["seed"]), "search_range": [float(v) for v in a["search_range"]],
        "conditioned": [str(v) for v in json.loads(str(a["conditioned"]))],
        "events": results.event_list(tree.summary(t)), "units": str(a["units"]),
    }


def json_summary(res: SolveResult) -> dict:
    """The public JSON form (summary.json): value, value_interval, achieved, tries, draws."""
    return _json(to_tree(res))
