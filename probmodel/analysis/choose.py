"""Choosing among options on paired draws: which chip (model, setting) is best, how sure.

``solve --choose chip=H20,H200,B200 --minimise "q50(cost_per_mtok_output)"
[--subject-to "P(decode_tokens_per_sequence_second >= 10) >= 0.9"]``: every option is
the scenario with ``NAME`` set to it (``--set NAME=OPTION``), sampled with the same seed,
so every input the options share has the same draws in every option (common random
numbers): the differences between options are the options, not Monte Carlo noise.

Per option: the objective's estimate and MCSE, and each constraint's. The feasible
options (every constraint met by its estimate) are ranked by the objective, and for each
the probability that it is the best option *in a draw* (the lowest, or highest, value of
the objective's output among the feasible options in the same joint draw), with the iid
MCSE sqrt(p (1 - p) / N).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from probmodel import catalog, results, sampling
from probmodel.analysis.targets import Target, parse_number
from probmodel.errors import UsageError
from probmodel.mcse import draw_factors
from probmodel.model import INPUTS
from probmodel.spec import Scenario, did_you_mean

#: Most options one --choose may list.
MAX_OPTIONS = 32


def parse_choose(text: str, scenario: Scenario) -> tuple[str, list]:
    """``NAME=A,B,C``: a catalog selector (chip, model) with entry names, or an input."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    items = [v.strip() for v in raw.split(",") if v.strip()]
    if not sep or not name or not items:
        raise UsageError(f"--choose: '{text}' is not of the form NAME=A,B,... (e.g. "
                         "chip=H20,H200,B200)")
    if len(items) < 2:
        raise UsageError(f"--choose: {name}: give at least two options to choose from")
    if len(items) > MAX_OPTIONS:
        raise UsageError(f"--choose: {name}: {len(items)} options (at most {MAX_OPTIONS})")
    if len(set(items)) != len(items):
        raise UsageError(f"--choose: {name}: an option is given twice in '{raw.strip()}'")
    if name in catalog.SELECTORS:
        return name, [catalog.split_override(name, v, "--choose") for v in items]
    if name not in INPUTS:
        raise UsageError(f"--choose: unknown parameter '{name}'"
                         f"{did_you_mean(name, [*INPUTS, *catalog.SELECTORS])}")
    return name, [parse_number(v, "--choose", name) for v in items]


def option_scenarios(scenario: Scenario, name: str, options: list) -> list[Scenario]:
    """The scenario with ``name`` set to each option (checked as ``--set`` is)."""
    if name in scenario.overrides:
        raise UsageError(f"--choose: {name} is also fixed by --set; give it once")
    return [scenario.with_overrides({name: v}, origin="--choose") for v in options]


@dataclass
class ChooseResult:
    """Every option's objective and constraints, the ranking and P(best in a draw)."""

    scenario: Scenario
    name: str
    options: list
    objective: Target
    minimise: bool
    constraints: list[Target]
    estimates: dict  # option label -> {"objective": (est, se), "constraints": [(est, se, met)]}
    feasible: list[str]
    ranking: list[str]
    p_best: dict  # option label -> (p, mcse) among the feasible options
    draws: int
    seed: int
    summary: xr.Dataset
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def choose(scenario: Scenario, name: str, options: list, objective: Target, minimise: bool,
           constraints: list[Target], draws: int = 100_000, seed: int = 0) -> ChooseResult:
    """Every option on the same draws; the feasible ones ranked by ``objective``.

    Returns
    -------
    ChooseResult

    Raises
    ------
    UsageError
        When no option meets every constraint (each option's estimates are named).
    """
    t0 = time.perf_counter()
    scs = option_scenarios(scenario, name, options)
    labels = [str(o) if isinstance(o, str) else f"{o:g}" for o in options]
    outs = tuple(dict.fromkeys([objective.output, *(c.output for c in constraints)]))
    draws_by = [sampling.sample_arrays(sc, draws, seed, names=outs) for sc in scs]
    blocks = any(m.correlated or m.given for m in
                 (sampling.ForwardModel.from_scenario(sc) for sc in scs))
    est: dict = {}
    feasible = []
    for lab, d in zip(labels, draws_by, strict=True):
        cons = []
        for c in constraints:
            e, se = c.estimate(d[c.output], blocks)
            cons.append((e, se, c.met(e)))
        est[lab] = {"objective": objective.estimate(d[objective.output], blocks),
                    "constraints": cons}
        if all(m for _, _, m in cons):
            feasible.append(lab)
    if not feasible:
        worst = "; ".join(f"{lab}: " + ", ".join(f"{c.label} = {c.show(e)}" for c, (e, _, _)
                                                  in zip(constraints, est[lab]["constraints"],
                                                         strict=True))
                          for lab in labels)
        raise UsageError(f"--subject-to: no option of {name} meets every constraint ({worst})")
    sign = 1 if minimise else -1
    ranking = sorted(feasible, key=lambda lab: sign * est[lab]["objective"][0])
    idx = [labels.index(lab) for lab in feasible]
    y = np.stack([draws_by[i][objective.output] for i in idx])  # (feasible, draws)
    win = np.argmin(sign * y, axis=0)
    p_best = {}
    for j, lab in enumerate(feasible):
        pb, se = results.probability(win == j)
        p_best[lab] = (pb, se * (float(draw_factors(win == j)) if blocks else 1.0))
    arrays = {k: np.stack([d[k] for d in draws_by]) for k in outs}
    summary = results.summarize_arrays(arrays, ("option",), {"option": labels}, blocks=blocks,
                                       attrs={"scenario": scenario.name, "seed": seed,
                                              "choose": name, "objective": objective.text,
                                              "objective_output": objective.output,
                                              "minimise": int(minimise)})
    summary["p_best"] = ("option", [p_best.get(lab, (np.nan, np.nan))[0] for lab in labels],
                         {"units": "1", "long_name": "P(best in a draw), feasible options"})
    summary["p_best_mcse"] = ("option", [p_best.get(lab, (np.nan, np.nan))[1]
                                         for lab in labels], {"units": "1"})
    return ChooseResult(scenario, name, options, objective, minimise, constraints, est,
                        feasible, ranking, p_best, draws, seed, summary,
                        time.perf_counter() - t0)


def to_tree(res: ChooseResult) -> xr.DataTree:
    """A choice's result tree (kind ``solve``), all of it in choose.nc.

    ``/summary``: the result contract over the ``option`` dim with ``p_best`` (NaN for
    an option failing a constraint); ``/options``: each option's objective estimate and
    MCSE, each constraint's (over a ``constraint`` dim named by its text), whether it
    is feasible and its rank among the feasible ones (0: not ranked). summary.csv and
    summary.json are derived from it (:func:`outputs`).
    """
    from probmodel import tree

    labels = list(res.estimates)
    est = [res.estimates[lab] for lab in labels]
    shape = (len(labels), len(res.constraints))

    def cons(k):
        return np.asarray([[c[k] for c in e["constraints"]] for e in est],
                          np.float64).reshape(shape)

    options = xr.Dataset(
        {"objective": ("option", [float(e["objective"][0]) for e in est],
                       {"long_name": res.objective.text}),
         "objective_mcse": ("option", [float(e["objective"][1]) for e in est]),
         "feasible": ("option", np.asarray([lab in res.feasible for lab in labels], np.int8),
                      {"long_name": "1: meets every constraint (by its estimate)"}),
         "rank": ("option", np.asarray([res.ranking.index(lab) + 1 if lab in res.ranking
                                        else 0 for lab in labels], np.int32),
                  {"long_name": "rank by the objective among the feasible options (0: "
                                "not ranked)"}),
         "constraint_estimate": (("option", "constraint"), cons(0)),
         "constraint_mcse": (("option", "constraint"), cons(1)),
         "constraint_met": (("option", "constraint"), cons(2).astype(np.int8))},
        coords={"option": labels,
                "constraint": np.asarray([c.text for c in res.constraints], dtype=str)},
        attrs={"scenario": res.scenario.name, "choose": res.name,
               "objective": res.objective.text, "minimise": int(res.minimise),
               "draws": int(res.draws), "seed": int(res.seed)})
    return tree.make(
        "solve", f"{res.scenario.name}_choose", {"summary": res.summary, "options": options},
        salt=f"{res.seed}{res.draws}{res.name}",
        files={"choose.nc": {"/summary": "/summary", "/options": "/options"}},
        settings=dict(method="every option on common random numbers (the same seed)",
                      seed=res.seed, draws=res.draws, choose=res.name,
                      options=[str(o) for o in res.options],
                      objective=res.objective.text, minimise=res.minimise,
                      subject_to=[c.text for c in res.constraints],
                      seconds=round(res.seconds, 3)))


def outputs(t: xr.DataTree):
    """summary.csv and summary.json of a choice, from its tree (``/summary``, ``/options``)."""
    from probmodel import tree

    return tree.Outputs(tables={"summary.csv": results.summary_table(tree.summary(t))},
                        json={"summary.json": _json(t)})


def _json(t: xr.DataTree) -> dict:
    """summary.json: every option's estimates, the ranking, P(best in a draw)."""
    from probmodel import tree

    o, s = t["options"].to_dataset(), tree.summary(t)
    a = o.attrs
    labels = [str(v) for v in o["option"].values]
    texts = [str(v) for v in o["constraint"].values]
    ranked = sorted((int(r), lab) for r, lab in zip(o["rank"].values, labels, strict=True)
                    if int(r) > 0)
    ranking = [lab for _, lab in ranked]
    opts = []
    for i, lab in enumerate(labels):
        feasible = bool(int(o["feasible"].values[i]))
        opts.append({
            "option": lab, "objective": float(o["objective"].values[i]),
            "objective_mcse": float(o["objective_mcse"].values[i]), "feasible": feasible,
            "constraints": [{"constraint": c,
                             "estimate": float(o["constraint_estimate"].values[i, j]),
                             "mcse": float(o["constraint_mcse"].values[i, j]),
                             "met": bool(int(o["constraint_met"].values[i, j]))}
                            for j, c in enumerate(texts)],
            "p_best": float(s["p_best"].values[i]) if feasible else None,
            "p_best_mcse": float(s["p_best_mcse"].values[i]) if feasible else None})
    return {"scenario": str(a["scenario"]), "choose": str(a["choose"]),
            ("minimise" if int(a["minimise"]) else "maximise"): str(a["objective"]),
            "subject_to": texts, "options": opts, "ranking": ranking, "best": ranking[0],
            "draws": int(a["draws"]), "seed": int(a["seed"])}


def json_summary(res: ChooseResult) -> dict:
    """The public JSON form (summary.json): every option's estimates, the ranking, P(best)."""
    return _json(to_tree(res))
