"""Projections over years: coherent Monte Carlo paths and their summaries per year.

A scenario's ``[projection]`` table (format in :mod:`probmodel.spec.projection`)
moves chosen parameters along growth laws whose rates, targets and adoption curves are
uncertain. Each draw is one path: its base-year inputs are drawn exactly as in a plain
run (same keys, so the base year reproduces ``probmodel run`` draw for draw), its law
parameters are drawn once, and its optional yearly shocks accumulate as a random walk
in log space. Every equation is then evaluated on the (draw, year) grid in one jitted
JAX function, in chunks of :data:`probmodel.sampling.CHUNK` paths.

With a ``[projection.supply]`` table the fleet is capped per year: the demand's fleet
(``chips_demanded``) is compared with the year's ``supply_cap``; the capped fleet serves
the share ``served_share`` = min(1, cap / demand) of the demand, and every output is
evaluated again on the served demand (the demand driver, users or tokens_per_day, times
that share), so revenue, cost, tokens and chips are those of the served tokens, and the
capped chips never exceed the cap. ``unserved_tokens_per_day`` is what is turned away,
``cap_binds`` is 1 in a year whose demand exceeds the cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from probmodel import checks, results, sampling
from probmodel import distributions as dists
from probmodel.analysis.supply import apply_supply, supply_caps
from probmodel.errors import ScenarioError
from probmodel.model import evaluate, unit_of
from probmodel.sampling import DTYPE, ForwardModel, name_id
from probmodel.spec import Scenario
from probmodel.spec.projection import SUPPLY_DRIVERS, Projection, Value

DEFAULT_DRAWS = 50_000
#: Variables summarised per year and shown first (when the scenario defines them).
KEY_OUTPUTS = ("chips_required", "revenue", "margin", "profit", "total_cost",
               "tokens_per_day", "paid_chips", "chips_demanded", "supply_cap",
               "served_share", "cost_per_mtok", "revenue_per_mtok")
#: Per-year variables of a supply cap (besides the capped fleet itself).
SUPPLY_OUTPUTS = ("supply_cap", "chips_demanded", "served_share", "cap_binds",
                  "unserved_tokens_per_day")
SUPPLY_UNITS = {"supply_cap": "chip", "chips_demanded": "chip", "served_share": "1",
                "cap_binds": "1", "unserved_tokens_per_day": "token/day"}
FAN_OUTPUTS = ("chips_required", "revenue", "margin")
FAN_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class ProjectionModel:
    """Static structure of a projection (hashable: jit keys on it).

    ``curves`` holds (name, midpoint family, steepness family), a family being None for
    a fixed number; ``laws`` holds (parameter, kind, family of its rate or target,
    curve name, has yearly noise); ``supply`` is None or (the capped fleet's output,
    the demand driver it scales).
    """

    base: ForwardModel
    years: tuple[int, ...]
    curves: tuple[tuple[str, str | None, str | None], ...]
    laws: tuple[tuple[str, str, str | None, str, bool], ...]
    supply: tuple[str, str] | None = None

    @property
    def projected(self) -> tuple[str, ...]:
        """Parameters that move over the years."""
        return tuple(law[0] for law in self.laws)

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the uncertain numbers drawn once per path (rates, targets, curves)."""
        out = []
        for name, mid, steep in self.curves:
            if mid is not None:
                out.append(f"{name}_midpoint")
            if steep is not None:
                out.append(f"{name}_steepness")
        for name, kind, fam, _, _ in self.laws:
            if fam is not None:
                out.append(f"{name}_{'growth_rate' if kind == 'exponential' else 'target'}")
        return tuple(out)

    @property
    def static_inputs(self) -> tuple[str, ...]:
        """Uncertain base inputs that do not move over the years (one value per path)."""
        return tuple(n for n, _ in self.base.uncertain if n not in self.projected)

    @property
    def yearly(self) -> tuple[str, ...]:
        """Variables with a year dimension: projected inputs, then every output."""
        extra = SUPPLY_OUTPUTS if self.supply else ()
        return self.projected + tuple(o for o in self.base.outputs
                                      if o not in self.projected) + extra

    @property
    def names(self) -> tuple[str, ...]:
        """Every variable a chunk returns."""
        return self.static_inputs + self.path_params + self.yearly

    def evaluate(self, key, inputs: Mapping, draws: Mapping, args: Mapping,
                 n: int) -> dict[str, jax.Array]:
        """Paths of ``n`` draws from their base inputs and per-path numbers.

        Parameters
        ----------
        key : jax.Array
            The chunk's key (yearly shocks fold in their own ids).
        inputs : mapping
            Drawn base inputs, shape (n,).
        draws : mapping
            Rates, targets and curve parameters drawn once per path, shape (n,); with a
            supply cap, ``supply_cap`` of shape (n, years).
        args : mapping
            The argument pytree of :func:`build`.
        n : int
            Number of paths.

        Returns
        -------
        dict
            Projected inputs and every output, shape (n, years).
        """
        ny = len(self.years)
        dt = np.diff(np.asarray(self.years, np.float64))
        eps = {}
        for name, kind, _, _, noisy in self.laws:
            if kind == "exponential" and noisy and ny > 1:
                z = jax.random.normal(jax.random.fold_in(key, name_id(f"projection.{name}.noise")),
                                      (n, ny - 1), DTYPE)
                eps[name] = z * args["laws"][name]["noise"] * jnp.sqrt(jnp.asarray(dt, DTYPE))
        draws = dict(draws)
        cap = draws.pop("supply_cap", None)
        values = dict(args["base"]["fixed"])
        values.update({k: v[:, None] for k, v in inputs.items()})
        if self.base.has_prices:
            values["prices"] = args["base"]["prices"]
        values.update(_paths(self, values, {k: v[:, None] for k, v in draws.items()}, eps,
                             args, jnp))
        out = evaluate(values)
        if self.supply is not None:
            out = apply_supply(values, out, cap, *self.supply, xp=jnp)
        return {k: jnp.broadcast_to(jnp.asarray(out[k], DTYPE), (n, ny)) for k in self.yearly}


@partial(jax.jit, static_argnums=(0, 5))
def _evaluate_jit(model: ProjectionModel, key, inputs, draws, args, n):
    return model.evaluate(key, inputs, draws, args, n)


def draw_path_params(proj: Projection, key, n: int,
                     take: int | None = None) -> dict[str, np.ndarray]:
    """The uncertain rates, targets and curve parameters, one per path (host arrays).

    Drawn by inverse CDF (scipy) of uniforms from the chunk key, each with its own id:
    there are only as many as paths, and this keeps the jitted path function free of
    rejection samplers, whose compilation costs seconds each. Only the first ``take``
    uniforms are transformed (the inverse CDF is the costly part); the rest of the chunk
    holds the median. Draw j is the same whatever ``take``.
    """
    take = n if take is None else take
    hi = 1.0 - np.finfo(np.float64).epsneg

    def draw(label: str, v: Value) -> np.ndarray:
        u = np.asarray(jax.random.uniform(jax.random.fold_in(key, name_id(label)), (n,),
                                          jnp.float64))
        u = np.clip(u[:take], np.finfo(np.float64).tiny, hi)
        x = np.full(n, v.point, np.float32)
        x[:take] = dists.quantile(v.dist, v.param_dict, u)
        return x

    out = {}
    for c in proj.curves:
        for part, v in (("midpoint", c.midpoint), ("steepness", c.steepness)):
            if v.dist is not None:
                out[f"{c.name}_{part}"] = draw(f"projection.curves.{c.name}.{part}", v)
    for law in proj.laws:
        part, v = (("growth_rate", law.rate) if law.kind == "exponential"
                   else ("target", law.target))
        if v.dist is not None:
            out[f"{law.name}_{part}"] = draw(f"projection.{law.name}.{part}", v)
    if proj.supply is not None:
        out["supply_cap"] = supply_caps(proj, key, n, take)
    return out


def adoption(years, midpoint, steepness, xp=np):
    """Adoption share a(t) in [0, 1): 0 in the base year (``years[0]``), rising to 1.

    Notes
    -----
    a(t) = (L(t) - L(t0)) / (1 - L(t0)), L(t) = 1 / (1 + exp(-steepness (t - midpoint))),
    computed as 1 - exp(log L(-z) - log L(-z0)) with z = steepness (t - midpoint), so it
    stays exact when the midpoint lies long before or after the base year.
    """
    t = xp.asarray(years)
    z = steepness * (t - midpoint)
    z0 = steepness * (t[0] - midpoint)
    log_sig = jax.nn.log_sigmoid if xp is jnp else (lambda v: -np.logaddexp(0.0, -v))
    return 1.0 - xp.exp(log_sig(-z) - log_sig(-z0))


def _paths(model: ProjectionModel, values, draws, eps, args, xp) -> dict:
    """Each projected parameter over the years, shape (paths, years)."""
    years = xp.asarray(model.years, dtype=xp.float64 if xp is np else DTYPE)
    dt = years - years[0]

    def get(prefix, part, fixed):
        name = f"{prefix}_{part}"
        return draws[name] if name in draws else fixed

    share = {}
    for name, _, _ in model.curves:
        c = args["curves"][name]
        share[name] = adoption(years, get(name, "midpoint", c["midpoint"]),
                               get(name, "steepness", c["steepness"]), xp)
    out = {}
    for name, kind, _, curve, _ in model.laws:
        x0 = values[name]
        law = args["laws"][name]
        if kind == "exponential":
            logx = xp.log(x0) + dt * xp.log1p(get(name, "growth_rate", law["value"]))
            if name in eps:
                walk = xp.cumsum(eps[name], axis=-1)
                logx = logx + xp.concatenate([xp.zeros_like(walk[..., :1]), walk], axis=-1)
            out[name] = xp.exp(logx)
        else:
            target = get(name, "target", law["value"])
            out[name] = x0 + (target - x0) * share[curve]
    return out


def _value_args(v: Value, dtype):
    if v.dist is None:
        return jnp.asarray(v.point, dtype)
    return {k: jnp.asarray(x, dtype) for k, x in v.params}


def load_projection(scenario: Scenario) -> Projection:
    """The scenario's validated projection (:func:`probmodel.checks.check_projection`)."""
    from probmodel.checks import check_projection

    return check_projection(scenario)


def build(scenario: Scenario) -> tuple[Projection, ProjectionModel, dict]:
    """The projection, its static structure and its argument pytree."""
    proj = load_projection(scenario)
    base = ForwardModel.from_scenario(scenario)
    curves = tuple((c.name, c.midpoint.dist, c.steepness.dist) for c in proj.curves)
    laws = tuple((law.name, law.kind,
                  (law.rate if law.kind == "exponential" else law.target).dist,
                  law.curve, law.noise > 0) for law in proj.laws)
    supply = None
    if proj.supply is not None:
        driver = next((d for d in SUPPLY_DRIVERS if d in scenario.parameters), None)
        if driver is None:
            raise ScenarioError([(str(scenario.path), "projection.supply",
                                  f"needs one of {', '.join(SUPPLY_DRIVERS)} among the "
                                  "scenario's parameters (the demand the cap scales)")])
        if proj.supply.chips not in base.outputs:
            raise ScenarioError([(str(scenario.path), "projection.supply.chips",
                                  f"'{proj.supply.chips}' is not an output of the "
                                  "scenario")])
        supply = (proj.supply.chips, driver)
    model = ProjectionModel(base, proj.years, curves, laws, supply)
    args = {
        "base": base.args(scenario),
        "curves": {c.name: {"midpoint": _value_args(c.midpoint, DTYPE),
                            "steepness": _value_args(c.steepness, DTYPE)}
                   for c in proj.curves},
        "laws": {law.name: {
            "value": _value_args(law.rate if law.kind == "exponential" else law.target, DTYPE),
            "noise": jnp.asarray(law.noise, DTYPE)} for law in proj.laws},
    }
    return proj, model, args


def iter_paths(scenario: Scenario, draws: int, seed: int):
    """Yield (model, offset, host arrays) chunk by chunk, covering draws [0, draws).

    Chunk ``i`` uses the key of chunk ``i`` of a plain run, so the base-year inputs of
    each path equal that run's draws (common random numbers).
    """
    proj, model, args = build(scenario)
    n = sampling.CHUNK
    for c in sampling.chunks(seed, draws):
        inputs = sampling.inputs_jit(model.base, c.key, args["base"], n)
        if model.base.given:  # a --set correlated input: its partners drawn given it
            inputs = model.base.condition(inputs, args["base"])
        per_path = draw_path_params(proj, c.key, n, c.take)
        paths = _evaluate_jit(model, c.key, inputs,
                              {k: jnp.asarray(v) for k, v in per_path.items()}, args, n)
        host = {k: np.asarray(inputs[k])[:c.take] for k in model.static_inputs}
        host.update({k: v[:c.take] for k, v in per_path.items()})
        host.update({k: np.asarray(v)[:c.take] for k, v in paths.items()})
        yield model, c.offset, host


def sample_paths(scenario: Scenario, draws: int, seed: int,
                 progress: Callable[[int], None] | None = None) -> tuple[ProjectionModel,
                                                                         dict[str, np.ndarray]]:
    """Host arrays for ``draws`` paths: (draws,) or (draws, years) per variable."""
    checks.check_draws_seed(draws, seed)
    out: dict[str, np.ndarray] = {}
    model = None
    for model, offset, chunk in iter_paths(scenario, draws, seed):
        if not out:
            ny = len(model.years)
            out = {k: np.empty((draws, ny) if k in model.yearly else (draws,), np.float32)
                   for k in model.names}
        m = len(next(iter(chunk.values())))
        for k, v in chunk.items():
            out[k][offset:offset + m] = v
        if progress is not None:
            progress(offset + m)
    return model, out


def to_dataset(model: ProjectionModel, arrays: Mapping[str, np.ndarray], scenario: Scenario,
               attrs: Mapping | None = None) -> xr.Dataset:
    """Paths as a Dataset with dims (chain=1, draw[, year]) and ``units`` attributes."""
    proj = load_projection(scenario)
    law_src = {law.name: law.source for law in proj.laws}
    data = {}
    for k, v in arrays.items():
        p = scenario.parameters.get(k)
        va = {"units": p.unit if p else SUPPLY_UNITS.get(k) or unit_of(k)}
        if k in law_src:
            va["projection"] = law_src[k]
        if k in model.path_params:
            va["units"] = "1/year" if k.endswith("_growth_rate") else (
                "1/year" if k.endswith("_steepness") else (
                    "year" if k.endswith("_midpoint") else unit_of(k.removesuffix("_target"))))
        dims = ("chain", "draw", "year") if np.ndim(v) == 2 else ("chain", "draw")
        data[k] = (dims, np.asarray(v)[None], va)
    n = len(next(iter(arrays.values())))
    ds = xr.Dataset(data, coords={"chain": [0], "draw": np.arange(n),
                                  "year": np.asarray(model.years)})
    ds.attrs.update({"scenario": scenario.name, "title": scenario.title,
                     "base_year": int(model.years[0])})
    if model.supply is not None:
        ds.attrs["capped_fleet"] = model.supply[0]
    if attrs:
        ds.attrs.update(attrs)
    return ds


def simulate(scenario: Scenario, draws: int = DEFAULT_DRAWS, seed: int = 0,
             progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Monte Carlo paths of every input and output over the projection's years.

    Returns
    -------
    xarray.Dataset
        Projected inputs and outputs with dims (chain, draw, year); uncertain inputs
        that do not move and the numbers drawn once per path with dims (chain, draw).
    """
    model, arrays = sample_paths(scenario, draws, seed, progress)
    return to_dataset(model, arrays, scenario, {"seed": seed, "draws": draws})


def point_path(scenario: Scenario) -> dict[str, list[float]]:
    """Every projected input and output per year at point values, in float64.

    Base inputs at their point, each rate, target and curve parameter at its point (the
    median unless the table gives ``point``), no yearly noise.
    """
    proj, model, _ = build(scenario)
    pts = {k: np.float64(v) if k != "prices" else np.asarray(v, np.float64)
           for k, v in scenario.point_values().items()}
    args = {"curves": {c.name: {"midpoint": c.midpoint.point, "steepness": c.steepness.point}
                       for c in proj.curves},
            "laws": {law.name: {"value": (law.rate if law.kind == "exponential"
                                          else law.target).point} for law in proj.laws}}
    fixed_model = ProjectionModel(model.base, model.years,
                                  tuple((c[0], None, None) for c in model.curves),
                                  tuple((lw[0], lw[1], None, lw[3], False) for lw in model.laws))
    values = dict(pts)
    values.update(_paths(fixed_model, pts, {}, {}, args, np))
    values = {k: jnp.asarray(v, jnp.float64) for k, v in values.items()}
    out = evaluate(values)
    if model.supply is not None:
        cap = jnp.asarray([v.point for v in proj.supply.caps], jnp.float64)
        out = apply_supply(values, out, cap, *model.supply, xp=jnp)
    ny = len(model.years)
    return {k: [float(x) for x in np.broadcast_to(np.asarray(out[k]), (ny,))]
            for k in model.yearly}


def summarize(ds: xr.Dataset, names: list[str] | None = None,
              events: Sequence = ()) -> xr.Dataset:
    """Per-year summaries: the result contract with dims (year, stat), P(profit > 0) per year.

    Variables: the yearly ones (projected inputs and outputs), key outputs first.
    ``events``: P(event) ± MCSE per year (``p_event`` over (year, event)).
    """
    yearly = [k for k in ds.data_vars if "year" in ds[k].dims]
    names = names or results.ordered_names([k for k in KEY_OUTPUTS if k in yearly]
                                           + [k for k in yearly if k not in KEY_OUTPUTS])
    out = results.summarize(ds, names=names, events=events)
    out.attrs["draws"] = int(ds.sizes["draw"])
    if "cap_binds" in ds:
        n = ds.sizes["chain"] * ds.sizes["draw"]
        p = (ds["cap_binds"] > 0).mean(("chain", "draw")).astype(np.float64)
        out["p_cap_binds"] = p.assign_attrs(units="1", long_name="P(demand > supply cap)")
        out["p_cap_binds_mcse"] = np.sqrt(p * (1 - p) / n).assign_attrs(units="1")
    return out


def summary_table(summary: xr.Dataset):
    """Tidy per-year table: variable, year, statistic, value, mcse, units."""
    return results.summary_table(summary, variables_first=True)


def json_summary(summary: xr.Dataset) -> dict:
    """Per variable, per year: mean, sd, q05..q95, es05, es95 and their main MCSEs."""
    years = [int(y) for y in summary["year"].values]
    out: dict = {"years": years, "summary": {
        var: {str(y): results.stat_dict(summary, var, mcse="mean", year=y) for y in years}
        for var in results.summarized(summary)}}
    if "p_profitable" in summary:
        out["p_profitable"] = dict(zip(map(str, years),
                                       map(float, summary["p_profitable"].values), strict=True))
        out["p_profitable_mcse"] = dict(zip(map(str, years), map(
            float, summary["p_profitable_mcse"].values), strict=True))
    if "p_cap_binds" in summary:
        out["p_cap_binds"] = dict(zip(map(str, years),
                                      map(float, summary["p_cap_binds"].values), strict=True))
        out["p_cap_binds_mcse"] = dict(zip(map(str, years), map(
            float, summary["p_cap_binds_mcse"].values), strict=True))
    if "p_event" in summary:
        p = summary["p_event"].transpose("year", "event").values
        se = summary["p_event_mcse"].transpose("year", "event").values
        out["events"] = [
            {"event": str(lab), "output": str(summary["event_output"].values[j]),
             "statistic": str(summary["event_statistic"].values[j]),
             "p": dict(zip(map(str, years), map(float, p[:, j]), strict=True)),
             "mcse": dict(zip(map(str, years), map(float, se[:, j]), strict=True))}
            for j, lab in enumerate(summary["event"].values)]
    return out


@dataclass(frozen=True)
class Fan:
    """What a fan chart draws for one variable: quantile bands and a few sample paths."""

    name: str
    years: np.ndarray
    probs: tuple[float, ...]
    quantiles: np.ndarray  # (len(probs), years)
    paths: np.ndarray  # (n_paths, years)
    point: np.ndarray | None = None  # the point path, when known
    title: str = ""


def fan(ds: xr.Dataset, name: str, n_paths: int = 8, point: list[float] | None = None,
        title: str = "") -> Fan:
    """Bands (5-25-50-75-95%) and the first ``n_paths`` draws of ``name`` per year."""
    v = ds[name].values.reshape(-1, ds.sizes["year"]).astype(np.float64)
    q = np.quantile(v, FAN_PROBS, axis=0)
    return Fan(name, np.asarray(ds["year"].values), FAN_PROBS, q, v[:n_paths],
               None if point is None else np.asarray(point), title)


@dataclass
class ProjectionResult:
    """What a finished projection run produced."""

    run_dir: Path | None  # None until the run folder is written
    summary: xr.Dataset  # the result contract, dims (year, stat)
    point: dict
    dataset: xr.Dataset
    seconds: float


def to_tree(scenario: Scenario, res: ProjectionResult) -> xr.DataTree:
    """A projection's result tree: ``/prior`` (the paths), ``/summary``, ``/point_path``.

    All three go to draws.nc; summary.csv, summary.json and point_path.json are derived
    from the tree alone (:func:`outputs`). ``/point_path`` holds every projected input
    and output per year at the point values (float64).
    """
    from probmodel import tree

    ds, seed, draws = res.dataset, res.dataset.attrs["seed"], res.dataset.attrs["draws"]
    years = np.asarray(ds["year"].values)
    units = {k: ds[k].attrs.get("units") for k in res.point if k in ds}
    point = xr.Dataset({k: ("year", np.asarray(v, np.float64),
                            {"units": units[k]} if isinstance(units.get(k), str) else {})
                        for k, v in res.point.items()}, coords={"year": years})
    point.attrs["definition"] = ("base inputs, rates, targets and curves at their points, "
                                 "no yearly shocks")
    return tree.make(
        "project", scenario.name, {"prior": ds, "summary": res.summary, "point_path": point},
        salt=f"project{seed}{draws}",
        files={"draws.nc": {"/prior": "/prior", "/summary": "/summary",
                            "/point_path": "/point_path"}},
        settings=dict(method="forward Monte Carlo over years (iid coherent paths)",
                      seed=seed, draws=draws, years=list(map(int, years)),
                      chunk_size=sampling.CHUNK, dtype="float32 draws, float64 summaries",
                      events=([str(x) for x in res.summary["event"].values]
                              if "p_event" in res.summary else []),
                      seconds=round(res.seconds, 3)))


def outputs(t: xr.DataTree):
    """A projection folder's summary.csv, summary.json and point_path.json, from its tree."""
    from probmodel import tree

    s = tree.summary(t)
    st = tree.settings(t)
    pt = t["point_path"].to_dataset()
    return tree.Outputs(
        tables={"summary.csv": summary_table(s)},
        json={"summary.json": {"scenario": str(t["prior"].attrs["scenario"]),
                               "draws": st["draws"], "seed": st["seed"], **json_summary(s)},
              "point_path.json": {"years": [int(y) for y in pt["year"].values],
                                  **{str(k): [float(x) for x in pt[k].values]
                                     for k in pt.data_vars}}})


def project(scenario: Scenario, draws: int = DEFAULT_DRAWS, seed: int = 0,
            progress: Callable[[int], None] | None = None,
            events: Sequence = ()) -> ProjectionResult:
    """Sample the projection: paths, per-year summaries and the point path (no files).

    ``events`` (:func:`probmodel.analysis.targets.parse_events`): P(event) per year.
    """
    checks.check_draws_seed(draws, seed)
    load_projection(scenario)
    t0 = time.perf_counter()
    ds = simulate(scenario, draws, seed, progress)
    if progress is not None and hasattr(progress, "phase"):  # the summaries take a while
        progress.phase(f"summarising {ds.sizes.get('year', 1)} years x "
                       f"{len(ds.data_vars)} variables", None)
    summary = summarize(ds, events=events)
    pt = point_path(scenario)
    return ProjectionResult(None, summary, pt, ds, time.perf_counter() - t0)


def fan_outputs(ds: xr.Dataset) -> tuple[str, ...]:
    """The outputs fanned and tabled: the fleet, revenue and margin.

    The fleet is the capped one when the projection has a supply cap.
    """
    fleet = ds.attrs.get("capped_fleet", "chips_required")
    return tuple(fleet if k == "chips_required" else k for k in FAN_OUTPUTS)


def fans(scenario: Scenario, res: ProjectionResult) -> list[Fan]:
    """The fan charts' data of the key outputs."""
    return [fan(res.dataset, k, point=res.point.get(k), title=scenario.title)
            for k in fan_outputs(res.dataset) if k in res.dataset]


def per_token_fans(scenario: Scenario, res: ProjectionResult) -> tuple[Fan, Fan] | None:
    """Fans of cost and revenue per 1M tokens, when the scenario has both."""
    if not {"cost_per_mtok", "revenue_per_mtok"} <= set(res.dataset.data_vars):
        return None
    return tuple(fan(res.dataset, k, n_paths=0, point=res.point.get(k), title=scenario.title)
                 for k in ("cost_per_mtok", "revenue_per_mtok"))
