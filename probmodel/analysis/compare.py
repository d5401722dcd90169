"""Paired comparison of scenarios on common random numbers.

Every scenario is sampled with the same seed. :mod:`probmodel.sampling` keys each
parameter's draws by its name, so a parameter that two scenarios share (same name) gets
the same random numbers in both, and draw ``j`` of one scenario is paired with draw ``j``
of the other: differences between scenarios are the scenarios, not Monte Carlo noise.
Paired statistics (P(A > B), the distribution of A - B) use those pairs; their MCSEs are
iid formulas over the pairs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from probmodel import checks, results, runs, sampling
from probmodel.analysis.grid import (  # noqa: F401  (checked by the command before JAX)
    available_names,
    check_output,
    check_scenarios,
    unique_names,
)
from probmodel.model import unit_of
from probmodel.spec import Scenario

#: Quantile levels of the ECDF curves handed to the figure.
ECDF_LEVELS = np.linspace(0.0025, 0.9975, 399)
KEEP_DRAWS = 100_000


@dataclass
class CompareResult:
    """A finished comparison."""

    scenarios: list[Scenario]
    output: str
    draws: int
    seed: int
    summary: xr.Dataset  # per scenario, pairwise P(A > B), paired differences
    ecdf: xr.Dataset  # output quantiles at ECDF_LEVELS, per scenario
    kept: xr.Dataset  # (chain, draw, scenario) draws of the output (and profit)
    shared: dict  # "A|B" -> shared uncertain parameter names (paired random numbers)
    seconds: float = 0.0
    events: tuple = ()  # the Events counted (probmodel.analysis.targets)

    @property
    def names(self) -> list[str]:
        """Scenario names, in the order given."""
        return [s.name for s in self.scenarios]


def compare(scenarios: Sequence[Scenario], output: str = "margin", draws: int = 200_000,
            seed: int = 0, keep: int = KEEP_DRAWS,
            progress: Callable[[int], None] | None = None,
            events: Sequence = ()) -> CompareResult:
    """Sample every scenario on common random numbers and compare ``output``.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Two or more scenarios; every pair must share at least one parameter.
    output : str
        The quantity compared (each scenario must compute it).
    draws, seed : int
        Draws per scenario and the seed (the same for all: common random numbers).
    keep : int
        Draws per scenario kept in :attr:`CompareResult.kept`.
    progress : callable, optional
        Called with the number of draws done over all scenarios.
    events : sequence of Event, optional
        Events (:func:`probmodel.analysis.targets.parse_events`, checked against every
        scenario): P(event) ± MCSE per scenario (``p_event``) and the paired difference
        of P(event) between scenarios (``p_event_difference``).

    Returns
    -------
    CompareResult
    """
    import time

    t0 = time.perf_counter()
    checks.check_draws_seed(draws, seed)
    shared = check_scenarios(scenarios, output)
    names = [s.name for s in scenarios]
    data: dict[str, dict[str, np.ndarray]] = {}
    for i, sc in enumerate(scenarios):
        want = [output] + (["profit"] if "profit" in available_names(sc)
                           and output != "profit" else [])
        want += [e.output for e in events if e.output not in want]
        cb = (lambda done, i=i: progress(i * draws + done)) if progress else None
        data[sc.name] = sampling.sample_arrays(sc, draws, seed, cb, names=want)
    models = [sampling.ForwardModel.from_scenario(sc) for sc in scenarios]
    correlated = any(m.correlated or m.given for m in models)
    summary = _summarize(data, names, output, draws, events, blocks=correlated)
    summary.attrs.update({"draws": draws, "seed": seed, "output": output})
    ecdf = xr.Dataset(
        {output: (("scenario", "level"),
                  np.stack([np.quantile(data[n][output], ECDF_LEVELS) for n in names]),
                  {"units": unit_of(output)})},
        coords={"scenario": names, "level": ECDF_LEVELS})
    ecdf.attrs.update({"draws": draws, "output": output})
    keep = min(keep, draws)
    kept = xr.Dataset(
        {k: (("chain", "draw", "scenario"),
             np.stack([data[n][k][:keep] if k in data[n] else np.full(keep, np.nan, np.float32)
                       for n in names], -1)[None], {"units": unit_of(k)})
         for k in dict.fromkeys(k for n in names for k in data[n] if k in (output, "profit"))},
        coords={"chain": [0], "draw": np.arange(keep), "scenario": names})
    kept.attrs.update({"seed": seed, "draws": draws, "draws_kept": keep,
                       "common_random_numbers": "every scenario uses the same seed; shared "
                       "parameters get the same random numbers (keyed by name)"})
    res = CompareResult(list(scenarios), output, draws, seed, summary, ecdf, kept, shared,
                        events=tuple(events))
    res.seconds = time.perf_counter() - t0
    return res


def _paired_share_difference(hits: list[np.ndarray], pairs, blocks: bool = False,
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Mean of 1{A} - 1{B} over the same draws, and its MCSE sd / sqrt(n), per ordered pair.

    The pairing cancels the noise the two share: the MCSE is far below the independent
    sqrt(se_A^2 + se_B^2) when A and B mostly hold in the same draws. ``blocks``: draws
    dependent within blocks (correlated inputs), the MCSE from batch means.
    """
    from probmodel.mcse import draw_factors

    k = len(hits)
    d, se = np.full((k, k), np.nan), np.full((k, k), np.nan)
    for i, j in pairs:
        dd = hits[i].astype(np.float64) - hits[j]
        d[i, j], se[i, j] = dd.mean(), dd.std() / np.sqrt(dd.size)
        if blocks:
            se[i, j] *= float(draw_factors(dd))
    return d, se


def _summarize(data: dict, names: list[str], output: str, draws: int,
               events: Sequence = (), blocks: bool = False) -> xr.Dataset:
    """The result contract over scenarios, plus pairwise statistics over (scenario, versus).

    ``blocks``: some scenario has correlated inputs, so its draws are dependent within the
    reordering's blocks; every MCSE is then scaled by its batch-means factor
    (:func:`probmodel.mcse.draw_factors`).
    """
    from probmodel.mcse import draw_factors

    def f(v):  # MCSE factor of draws v (..., N)
        return draw_factors(v) if blocks else np.ones(np.shape(v)[:-1])

    k = len(names)
    x = np.stack([data[n][output] for n in names])
    val, se = results.stats_kernel(x)
    se = se * f(x)[:, None]
    sd = val[:, results.STATS.index("sd")]
    p_prof = np.full(k, np.nan)
    p_prof_se = np.full(k, np.nan)
    for i, n in enumerate(names):
        if "profit" in data[n] or output == "profit":
            hit = data[n]["profit" if "profit" in data[n] else output] > 0
            p_prof[i], p_prof_se[i] = results.probability(hit)
            p_prof_se[i] *= float(f(hit))
    pairs = list(itertools.permutations(range(k), 2))
    a = np.stack([x[i] for i, _ in pairs]).astype(np.float64)
    b = np.stack([x[j] for _, j in pairs]).astype(np.float64)
    pg, pg_se = np.full((k, k), np.nan), np.full((k, k), np.nan)
    pv, pse = results.probability(a > b)
    pg[tuple(zip(*pairs, strict=True))] = pv
    pg_se[tuple(zip(*pairs, strict=True))] = pse * f(a > b)
    dv, ds_ = results.stats_kernel(a - b)
    ds_ = ds_ * f(a - b)[:, None]
    dval = np.full((k, k, len(results.STATS)), np.nan)
    dse = np.full_like(dval, np.nan)
    for m, (i, j) in enumerate(pairs):
        dval[i, j], dse[i, j] = dv[m], ds_[m]
    dsd = dval[..., results.STATS.index("sd")]
    # What the same comparison would cost without pairing: sd of A - B if independent.
    indep = np.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2)
    unit = {"units": unit_of(output)}
    ev = []
    for e in events:
        pe = np.stack([results.probability(e.holds(data[n][e.output])) for n in names])
        pe[:, 1] *= np.asarray([float(f(e.holds(data[n][e.output]))) for n in names])
        ev.append((e.label, e.output, e.statistic, pe[:, 0], pe[:, 1]))
    ds = results.build({output: (val, se)}, ["scenario"], {"scenario": names},
                       (p_prof, p_prof_se), events=ev)
    ds = ds.assign_coords(versus=names)
    ds["p_greater"] = (("scenario", "versus"), pg,
                       {"long_name": f"P({output}[scenario] > {output}[versus]) over "
                                     f"paired draws", "units": "1"})
    ds["p_greater_mcse"] = (("scenario", "versus"), pg_se, {"units": "1"})
    ds["difference"] = (("scenario", "versus", "stat"), dval,
                        {**unit, "long_name": f"{output}[scenario] - {output}[versus], "
                                              f"paired draws"})
    ds["difference_mcse"] = (("scenario", "versus", "stat"), dse, unit)
    ds["difference_sd"] = (("scenario", "versus"), dsd, unit)
    ds["difference_sd_if_independent"] = (("scenario", "versus"), indep, unit)
    if np.isfinite(p_prof).all():
        # paired difference of P(profit > 0): the mean of 1{A > 0} - 1{B > 0} over the
        # same draws, MCSE sd / sqrt(n) (the pairing cancels the shared draws' noise)
        pos = [data[n]["profit" if "profit" in data[n] else output] > 0 for n in names]
        pd_, pd_se = _paired_share_difference(pos, pairs, blocks)
        ds["p_profitable_difference"] = (("scenario", "versus"), pd_, {
            "units": "1", "long_name": "P(profit > 0)[scenario] - P(profit > 0)[versus], "
                                       "paired draws"})
        ds["p_profitable_difference_mcse"] = (("scenario", "versus"), pd_se, {"units": "1"})
    if events:
        diffs = [_paired_share_difference([e.holds(data[n][e.output]) for n in names], pairs,
                                          blocks) for e in events]
        for j, key in enumerate(("p_event_difference", "p_event_difference_mcse")):
            ds[key] = (("scenario", "versus", "event"),
                       np.stack([d[j] for d in diffs], -1),
                       {"units": "1", "long_name": "P(event)[scenario] - P(event)[versus], "
                                                  "paired draws"})
    return ds


def to_tree(res: CompareResult) -> xr.DataTree:
    """A comparison's result tree: ``/prior`` (kept draws), ``/summary``, ``/ecdf``.

    All three go to draws.nc; summary.csv, pairs.csv and summary.json are derived from
    ``/summary`` (:func:`outputs`), whose attrs also hold the shared uncertain
    parameters of every pair (JSON text).
    """
    from probmodel import tree

    return tree.make(
        "compare", "compare_" + "_vs_".join(res.names)[:80],
        {"prior": res.kept, "summary": _summary_group(res), "ecdf": res.ecdf},
        salt=f"{res.seed}{res.draws}",
        files={"draws.nc": {"/prior": "/prior", "/summary": "/summary", "/ecdf": "/ecdf"}},
        settings=dict(
            method="forward Monte Carlo (iid), common random numbers: the same seed for "
                   "every scenario, shared parameters keyed by name",
            seed=res.seed, draws=res.draws, draws_kept=int(res.kept.sizes["draw"]),
            output=res.output, chunk_size=sampling.CHUNK, seconds=round(res.seconds, 3),
            events=[e.label for e in res.events],
            scenarios={sc.name: {"title": sc.title, "files": runs.scenario_hashes(sc),
                                 **({"overrides": dict(sc.overrides)} if sc.overrides
                                    else {})} for sc in res.scenarios}))


def outputs(t: xr.DataTree):
    """summary.csv, pairs.csv and summary.json of a comparison, from its ``/summary``."""
    from probmodel import tree

    s = tree.summary(t)
    return tree.Outputs(tables={"summary.csv": summary_table(s), "pairs.csv": pairs_table(s)},
                        json={"summary.json": json_summary(s)})


def _summary_group(res: CompareResult) -> xr.Dataset:
    """The tree's ``/summary``: the result's, with the shared parameters in its attrs."""
    s = res.summary.copy()
    s.attrs["shared_uncertain_parameters"] = json.dumps(res.shared)
    return s


def _as_summary(res: CompareResult | xr.Dataset) -> xr.Dataset:
    return _summary_group(res) if isinstance(res, CompareResult) else res


def _names(s: xr.Dataset) -> list[str]:
    return [str(n) for n in s["scenario"].values]


def summary_table(res: CompareResult | xr.Dataset) -> pd.DataFrame:
    """Tidy per-scenario table: scenario, variable, statistic, value, mcse, units.

    ``res``: a comparison, or its tree's ``/summary``.
    """
    s = _as_summary(res)
    out = str(s.attrs["output"])
    keys = [out, f"{out}_mcse", "p_profitable", "p_profitable_mcse"]
    if "p_event" in s:
        keys += ["p_event", "p_event_mcse"]
    return results.summary_table(s[keys])


def pairs_table(res: CompareResult | xr.Dataset) -> pd.DataFrame:
    """One row per ordered pair: P(A > B) and the paired difference A - B, with MCSEs."""
    s = _as_summary(res)
    rows = []
    for a, b in itertools.permutations(_names(s), 2):
        row = {"scenario": a, "versus": b,
               "p_greater": float(s["p_greater"].sel(scenario=a, versus=b)),
               "p_greater_mcse": float(s["p_greater_mcse"].sel(scenario=a, versus=b))}
        for st in results.STATS:
            row[f"difference_{st}"] = float(s["difference"].sel(scenario=a, versus=b, stat=st))
            row[f"difference_{st}_mcse"] = float(
                s["difference_mcse"].sel(scenario=a, versus=b, stat=st))
        row["difference_sd_if_independent"] = float(
            s["difference_sd_if_independent"].sel(scenario=a, versus=b))
        if "p_profitable_difference" in s:
            for key in ("p_profitable_difference", "p_profitable_difference_mcse"):
                row[key] = float(s[key].sel(scenario=a, versus=b))
        for j in range(s.sizes["event"] if "p_event_difference" in s else 0):
            # p_margin_gt_0.2_difference: the event's key, as solve and run name it
            name = (f"p_{s['event_output'].values[j]}_"
                    f"{str(s['event_statistic'].values[j])[2:]}")
            for key, suffix in (("p_event_difference", ""), ("p_event_difference_mcse",
                                                              "_mcse")):
                row[f"{name}_difference{suffix}"] = float(
                    s[key].sel(scenario=a, versus=b).values[j])
        rows.append(row)
    return pd.DataFrame(rows)


def json_summary(res: CompareResult | xr.Dataset) -> dict:
    """The public JSON form of a comparison (summary.json), from it or its ``/summary``."""
    s = _as_summary(res)
    out = str(s.attrs["output"])
    per = {}
    for n in _names(s):
        p, se = results.p_profitable(s, scenario=n)
        per[n] = {out: results.stat_dict(s, out, scenario=n), "p_profitable": p,
                  "p_profitable_mcse": se}
        if "p_event" in s:
            per[n]["events"] = results.event_list(s, scenario=n)
    return {"output": out, "draws": int(s.attrs["draws"]), "seed": int(s.attrs["seed"]),
            "scenarios": per, "pairs": pairs_table(s).to_dict(orient="records"),
            "shared_uncertain_parameters": json.loads(s.attrs["shared_uncertain_parameters"])}
