"""The Python API: what the CLI does, without the CLI.

>>> import probmodel
>>> sc = probmodel.load_scenario("priors/deepseek-adjusted.toml")
>>> ds = probmodel.simulate(sc, draws=10_000, seed=0)
>>> float((ds.profit > 0).mean())  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from probmodel import checks, fmt, io, results, runs, sampling
from probmodel.spec import Scenario

DEFAULT_DRAWS = 200_000
DEFAULT_SEED = 0


def load_scenario(path: str | Path, overrides: Mapping[str, float] | None = None) -> Scenario:
    """Read and validate a scenario file; optionally fix some parameters (like --set)."""
    sc = io.read_scenario(path)
    return sc.with_overrides(overrides) if overrides else sc


def simulate(scenario: Scenario, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
             progress: Callable[[int], None] | None = None,
             posterior: Mapping | None = None) -> xr.Dataset:
    """Sample every uncertain input jointly and compute every output for every draw.

    ``posterior`` (name -> array of posterior draws, all of one length) replaces the
    priors of those inputs by joint resampling of the table.

    Returns
    -------
    xarray.Dataset
        One variable per name, dims (chain=1, draw), ``units`` attributes.
    """
    posterior = posterior_for(scenario, posterior) if posterior else None
    arrays = sampling.sample_arrays(scenario, draws, seed, progress, posterior)
    ds = results.to_dataset(arrays, scenario, {"seed": seed, "draws": draws})
    if posterior:
        ds.attrs["posterior_parameters"] = ", ".join(posterior)
        for k in posterior:
            ds[k].attrs.update({"distribution": "posterior (joint resampling)",
                                "source": "calibration posterior"})
    return ds


def load_posterior(run_dir: str | Path, allow_failed: bool = False) -> dict:
    """Posterior draws of a ``probmodel calibrate`` run: name -> 1-D array (joint rows).

    Pass the result to :func:`simulate` or :func:`run` as ``posterior=``. A run that
    failed its diagnostics is refused unless ``allow_failed``.
    """
    return io.read_posterior(run_dir, allow_failed=allow_failed)


def posterior_for(scenario: Scenario, posterior: Mapping) -> dict:
    """The columns of a posterior table that ``scenario`` uses.

    A scenario takes from a calibration the parameters it defines itself (its priors are
    what the posterior replaces), except those fixed by an override (--set wins).
    Other columns are ignored, so one calibration can feed scenarios that share only
    some parameters with it; an empty selection is refused.
    """
    from probmodel.errors import UsageError

    used = {k: v for k, v in posterior.items()
            if k in scenario.parameters and k not in scenario.overrides}
    if not used:
        raise UsageError(f"--posterior: none of its parameters ({', '.join(posterior)}) is "
                         f"a parameter of {scenario.name}; nothing to draw from it")
    return used


def point(scenario: Scenario) -> dict[str, float]:
    """Every input and output at its point value (float64 NumPy, the report's arithmetic)."""
    from probmodel.model import evaluate_point

    return evaluate_point(scenario.point_values())


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    summary: xr.Dataset  # the result contract (probmodel.results); attrs["draws"]
    dataset: xr.Dataset
    seconds: float
    kept_stride: int = 1  # draws.nc holds every kept_stride-th draw
    precision: dict | None = None  # the precision status of a --precision run


#: Upper limit of draws for a precision-controlled run.
MAX_PRECISION_DRAWS = 10**9

#: draws.nc of a run keeps at most this many draws (2^18), evenly thinned by a power of
#: two, unless --keep-draws: the summaries, figures and P(event)s use every draw, and a
#: 10^6-draw run's folder is 30 MB instead of 120 MB (writing it took 0.5 s of 3.6).
WRITE_CAP = 1 << 18


def run(scenario: Scenario, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
        out: str | Path | None = None, progress: Callable[[int], None] | None = None,
        runs_dir: Path = runs.RUNS_DIR, posterior: Mapping | None = None,
        posterior_source: str | None = None, precision: float | None = None,
        keep_draws: bool = False, max_draws: int = MAX_PRECISION_DRAWS,
        posterior_ess: float | None = None, events=()) -> RunResult:
    """Monte Carlo run written to a new run folder (write-once).

    Summaries are computed while streaming over chunks (bounded memory at any number of
    draws; :mod:`probmodel.streaming`), over every draw. draws.nc keeps every draw up to
    :data:`WRITE_CAP` (2^18), or always with ``keep_draws``; beyond that an evenly
    thinned subset (every k-th draw, k a power of two; draw coordinate = the original
    draw index), inputs and outputs of the same draws, which the manifest records
    (``kept_stride``, ``draws_nc``). ``RunResult.dataset`` is what draws.nc holds.

    ``precision``: keep drawing (from ``draws`` on, at most ``max_draws``) until the
    MCSE of P(profit > 0) and the relative MCSE of every reported quantile of the key
    outputs are at most ``precision``; the draws it took are in the summary and
    manifest. ``posterior`` as in :func:`simulate`; ``posterior_source`` (the
    calibration run it came from) is recorded in the manifest; ``posterior_ess`` (its
    ESS, :func:`probmodel.io.posterior_ess`) adds the posterior sample's error to the
    MCSE of P(profit > 0) (docs/calibration.md). ``events``
    (:func:`probmodel.analysis.targets.parse_events`): P(event) +- MCSE of each, counted
    over every draw, in the summary, summary.csv and summary.json.
    """
    from probmodel import distributed

    checks.check_draws_seed(draws, seed)
    checks.check_precision(precision)
    if distributed.is_leader():
        runs.check_out_dir(out)
    t0 = time.perf_counter()
    with runs.preloading_writers():
        st, ds, summary = summarise(scenario, draws, seed, progress, posterior, precision,
                                    keep_draws, max_draws, posterior_ess, events)
    draws = st.draws
    seconds = time.perf_counter() - t0
    every = ds  # the figures use every kept draw
    stride = st.stride
    if not keep_draws and ds.sizes["draw"] > WRITE_CAP:
        factor = 1 << math.ceil(math.log2(ds.sizes["draw"] / WRITE_CAP))
        ds = ds.isel(draw=slice(None, None, factor))
        stride *= factor
        ds.attrs["thinned"] = f"every {fmt.ordinal(stride)} of {draws} draws"
    if not distributed.is_leader():  # a jax.distributed run: process 0 writes
        return RunResult(None, summary, ds, seconds, stride, st.precision)
    run_dir = runs.write(
        run_tree(scenario, ds, summary, st, seed, seconds, posterior, posterior_source,
                 posterior_ess, stride),
        lambda: run_figures(every, summary, scenario.title), scenarios=[scenario], out=out,
        runs_dir=runs_dir)
    return RunResult(run_dir, summary, ds, seconds, stride, st.precision)


def run_tree(scenario: Scenario, ds: xr.Dataset, summary: xr.Dataset, st, seed: int,
             seconds: float, posterior: Mapping | None = None,
             posterior_source: str | None = None,
             posterior_ess: float | None = None, stride: int | None = None) -> xr.DataTree:
    """A run's result tree: ``/prior`` (kept draws) and ``/summary`` (every draw's).

    Both go to draws.nc; summary.csv and summary.json are derived from ``/summary``
    (:func:`outputs`).
    """
    from probmodel import tree

    draws = st.draws
    stride = st.stride if stride is None else stride
    return tree.make(
        "run", scenario.name, {"prior": ds, "summary": summary}, salt=f"{seed}{draws}",
        files={"draws.nc": {"/prior": "/prior", "/summary": "/summary"}},
        settings=dict(
            method="forward Monte Carlo (iid)", seed=seed, draws=draws,
            chunk_size=sampling.CHUNK, dtype="float32 draws, float64 summaries",
            draws_kept=int(ds.sizes["draw"]), kept_stride=stride,
            draws_nc=("every draw" if stride == 1 else
                      f"evenly thinned: every {fmt.ordinal(stride)} draw (inputs and outputs "
                      f"of the same draws); summaries use all {draws} draws"),
            quantile_method=st.quantile_method, precision=st.precision,
            seconds=round(seconds, 3),
            **({"posterior_source": posterior_source, "posterior_ess": posterior_ess,
                "posterior_parameters": list(posterior_for(scenario, posterior))}
               if posterior else {}),
            **correlation_manifest(scenario)))


def outputs(t: xr.DataTree):
    """A run folder's summary.csv and summary.json, from its tree's ``/summary``."""
    from probmodel import tree

    s = tree.summary(t)
    return tree.Outputs(
        tables={"summary.csv": results.summary_table(s)},
        json={"summary.json": run_json(s, str(s.attrs["scenario"]), int(s.attrs["seed"]))})


def summarise(scenario: Scenario, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
              progress: Callable[[int], None] | None = None, posterior: Mapping | None = None,
              precision: float | None = None, keep_draws: bool = False,
              max_draws: int = MAX_PRECISION_DRAWS, posterior_ess: float | None = None,
              events=()):
    """The computation of :func:`run` without the run folder: (stream, draws, summary).

    ``stream`` is the :class:`probmodel.streaming.StreamResult`, ``draws`` the kept draws
    as a Dataset (dims chain, draw) and ``summary`` the result contract, checked finite
    (:func:`check_finite`). The planner (``probmodel serve``) answers with it, so its
    numbers are those of ``probmodel run`` for the same scenario, seed and draws.
    """
    from probmodel import streaming

    post = dict(posterior or {})
    if post:
        sampling.check_posterior(post)
    model = sampling.ForwardModel.from_scenario(scenario, tuple(post))
    st = streaming.run_stream(model, model.args(scenario, post), draws, seed,
                              precision=precision, max_draws=max_draws, keep_all=keep_draws,
                              progress=progress,
                              posterior_ess=posterior_ess if post else None, events=events)
    ds = results.to_dataset(st.kept, scenario, {"seed": seed, "draws": st.draws})
    if st.stride > 1:
        ds = ds.assign_coords(draw=np.arange(ds.sizes["draw"]) * st.stride)
        ds.attrs["thinned"] = f"every {fmt.ordinal(st.stride)} of {st.draws} draws"
    summary = st.summary
    check_finite(summary)
    summary.attrs.update({"scenario": scenario.name, "seed": seed})
    return st, ds, summary


def non_finite_counts(summary: xr.Dataset) -> dict[str, int]:
    """Variable -> number of its draws that are NaN or infinite (only those with any)."""
    return {k: int(summary[k].attrs["non_finite"]) for k in results.summarized(summary)
            if summary[k].attrs.get("non_finite", 0)}


def check_finite(summary: xr.Dataset) -> None:
    """Refuse a run with any non-finite draw (exit 4), before anything is written.

    No output of the model may legitimately be infinite or NaN for valid inputs (every
    equation divides by quantities whose domain excludes 0), so such draws mean float32
    overflow or underflow, and a summary of the finite rest would look like an answer.
    """
    from probmodel.errors import NonFiniteError

    bad = non_finite_counts(summary)
    if bad:
        raise NonFiniteError(bad, int(summary.attrs["draws"]))


def run_figures(ds: xr.Dataset, summary: xr.Dataset, title: str) -> dict:
    """A run's figures: the key outputs' distributions and profit's exceedance curve.

    Histograms and curves from the kept draws (draws.nc); P(profit > 0) with its MCSE,
    the marked quantiles and the draw count are the summary's, over every draw.
    """
    from probmodel.plots import run as plots

    p, se = results.p_profitable(summary)
    draws = {k: ds[k].values.ravel() for k in plots.DISTRIBUTION_OUTPUTS if k in ds}
    figs = {}
    if draws:
        figs["distributions"] = plots.plot_distributions(draws, p, se, title, summary)
    if "profit" in draws:
        figs["exceedance"] = plots.plot_exceedance(draws["profit"], p, se, title, summary)
    return figs


def run_json(summary: xr.Dataset, scenario: str, seed: int) -> dict:
    """summary.json of a run (and what ``probmodel run --json`` prints, less run_dir)."""
    p, se = results.p_profitable(summary)
    return {"scenario": scenario, "draws": int(summary.attrs["draws"]), "seed": seed,
            "summary": results.json_summary(summary), "p_profitable": p,
            "p_profitable_mcse": se,
            **({"events": results.event_list(summary)} if "p_event" in summary else {})}


def correlation_manifest(scenario: Scenario) -> dict:
    """Manifest fields naming the scenario's rank correlations (none: no fields)."""
    names, matrix = sampling.correlation_target(scenario)
    if not names:
        return {}
    return {"correlations": {"names": list(names), "spearman": matrix.tolist(),
                             "method": "Iman-Conover within each chunk (marginals unchanged)"}}
