"""A sensitivity analysis as files: the tidy summary, the JSON form and the run record.

:mod:`probmodel.analysis.sensitivity` computes; this module arranges its result for
:func:`probmodel.runs.write` and the command line.
"""

from __future__ import annotations

import math

import pandas as pd
import xarray as xr

from probmodel import runs
from probmodel.analysis.sensitivity import (
    CORRELATED_NOTE,
    DEFAULT_SOBOL_N,
    Drivers,
    SensitivityResult,
    Sobol,
    Tornado,
)
from probmodel.model import unit_of
from probmodel.spec import Scenario


def summary_table(t: Tornado, s: Sobol, d: Drivers,
                  dep: xr.Dataset | None = None) -> pd.DataFrame:
    """Tidy table: analysis, input, statistic, value, lower, upper, mcse.

    ``dep`` (correlated scenarios): rows of analysis ``dependence`` (delta, S1).
    """
    rows = []
    nan = math.nan
    for i, name in enumerate(t.names):
        for stat, v in (("output_at_p05", t.at_low[i]), ("output_at_p95", t.at_high[i]),
                        ("swing", t.swing[i])):
            rows.append(("tornado", name, stat, v, nan, nan, nan))
    for i, name in enumerate(s.names):
        rows.append(("sobol", name, "S1", s.s1[i], s.s1[i] - s.s1_conf[i],
                     s.s1[i] + s.s1_conf[i], nan))
        rows.append(("sobol", name, "ST", s.st[i], s.st[i] - s.st_conf[i],
                     s.st[i] + s.st_conf[i], nan))
    for i, name in enumerate(d.names):
        rows.append(("drivers", name, "median_shift", d.shift[i], nan, nan,
                     d.median_event_mcse[i]))
        rows.append(("drivers", name, "shift_of_90pct_width", d.shift_fraction[i], nan, nan,
                     d.median_event_mcse[i] / d.prior_width[i]))
        rows.append(("drivers", name, "ks_distance", d.ks[i], nan, nan, nan))
        rows.append(("drivers", name, "rank_corr_with_output", d.rank_corr[i], nan, nan, nan))
    rows.append(("drivers", "", "p_event", d.p_event, nan, nan, d.p_event_mcse))
    if dep is not None:
        for name in dep.input.values:
            for stat, key in (("delta", "delta"), ("S1", "s1")):
                v, c = float(dep[key].sel(input=name)), float(dep[f"{key}_conf"].sel(input=name))
                rows.append(("dependence", str(name), stat, v, v - c, v + c, nan))
    return pd.DataFrame(rows, columns=["analysis", "input", "statistic", "value", "lower",
                                       "upper", "mcse"])


def json_summary(t: Tornado, s: Sobol, d: Drivers, dep: xr.Dataset | None = None) -> dict:
    """The public JSON form of the analyses.

    With ``dep`` (correlated scenarios) it gains ``correlated: true``, ``note`` and
    ``dependence`` (delta and S1 per input, largest delta first, with the settings).
    """
    extra = {}
    if dep is not None:
        from probmodel.analysis.dependence import json_summary as dep_json

        extra = {"correlated": True, "note": CORRELATED_NOTE, "dependence": dep_json(dep)}
    return {**extra,
        "output": t.output, "output_units": unit_of(t.output),
        "tornado": {"point": t.point, "inputs": [
            {"input": n, "input_p05": float(t.low_input[i]), "input_p95": float(t.high_input[i]),
             "at_p05": float(t.at_low[i]), "at_p95": float(t.at_high[i]),
             "swing": float(t.swing[i])} for i, n in enumerate(t.names)]},
        "sobol": {"n_base": s.n_base, "n_evals": s.n_evals, "conf_level": s.conf_level,
                  "num_resamples": s.num_resamples, "notes": list(s.notes), "inputs": [
                      {"input": n, "S1": float(s.s1[i]), "S1_conf": float(s.s1_conf[i]),
                       "ST": float(s.st[i]), "ST_conf": float(s.st_conf[i])}
                      for i, n in enumerate(s.names)]},
        "drivers": {"event": d.event, "note": d.tail_note, "p_event": d.p_event,
                    "p_event_mcse": d.p_event_mcse, "n_event": d.n_event, "draws": d.n_draws,
                    "inputs": [
                        {"rank": i + 1, "input": n, "median_all": float(d.median_all[i]),
                         "median_event": float(d.median_event[i]),
                         "median_event_mcse": float(d.median_event_mcse[i]),
                         "median_shift": float(d.shift[i]),
                         "shift_of_90pct_width": float(d.shift_fraction[i]),
                         "ks_distance": float(d.ks[i]),
                         "rank_corr_with_output": float(d.rank_corr[i])}
                        for i, n in enumerate(d.names)]},
    }


def run_record(scenario: Scenario, res: SensitivityResult, figures,
               sobol_n: int = DEFAULT_SOBOL_N) -> runs.Run:
    """What a sensitivity run folder holds (:func:`probmodel.runs.write` writes it).

    tornado.csv, sobol.csv, drivers.csv, summary.csv (tidy), summary.json,
    sensitivity.nc (the three analyses as xarray groups, and the output's summary),
    draws.nc (the Monte Carlo draws behind the drivers), the scenario files and
    figures/ (tornado, sobol, drivers). A scenario with correlations adds
    dependence.csv, the ``dependence`` group and figure, and the note in summary.json
    and the manifest.
    """
    t, s, d, ds = res.tornado, res.sobol, res.drivers, res.dataset
    seed, draws = ds.attrs["seed"], ds.attrs["draws"]
    dep = res.dependence
    groups = {
        "tornado": xr.Dataset.from_dataframe(t.table().set_index("input")),
        "sobol": s.to_dataset(),
        "drivers": xr.Dataset.from_dataframe(d.table().set_index("input")),
        "summary": res.summary,
    }
    tables = {"tornado.csv": t.table(), "sobol.csv": s.table(), "drivers.csv": d.table(),
              "summary.csv": summary_table(t, s, d, dep)}
    extra = {}
    if dep is not None:
        groups["dependence"] = dep
        tables["dependence.csv"] = dep.to_dataframe().reset_index()
        extra = {"correlated": True, "note": CORRELATED_NOTE,
                 "dependence_draws": int(dep.attrs["draws"]),
                 "dependence_resamples": int(dep.attrs["num_resamples"])}
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update({"output": t.output, "event": d.event, "p_event": d.p_event,
                       "p_event_mcse": d.p_event_mcse})
    return runs.Run(
        "sensitivity", scenario.name, f"sensitivity{seed}{draws}{t.output}", [scenario],
        tables=tables,
        summary_json={"scenario": scenario.name, "draws": draws, "seed": seed,
                      **json_summary(t, s, d, dep)},
        netcdf={"sensitivity.nc": tree, "draws.nc": xr.DataTree.from_dict({"prior": ds})},
        figures=figures,
        manifest=dict(
            output=t.output, seed=seed, draws=draws, sobol_n_base=sobol_n,
            sobol_evals=s.n_evals,
            method="tornado (float64, one at a time); Sobol S1/ST (SALib Saltelli design, "
                   "inverse CDF, jitted JAX batch, bootstrap CI); drivers (forward Monte "
                   "Carlo, iid)" + ("; Borgonovo delta and S1 from the correlated joint "
                                    "draws (SALib estimators, bootstrap CI)" if dep is not None
                                    else ""), seconds=round(res.seconds, 3), **extra))
