"""A sensitivity analysis as a result tree, and the folder's tables and JSON derived from it.

:mod:`probmodel.analysis.sensitivity` computes; :func:`to_tree` arranges its result as
one ``xarray.DataTree`` (:mod:`probmodel.tree`) and :func:`outputs` derives every CSV
table and summary.json from that tree alone, so the run folder, the report and
``--json`` show the same numbers.

Groups: ``/tornado``, ``/sobol`` (S1 and ST with their bootstrap intervals on a
``ci_bound`` dim), ``/drivers`` (with the prior widths and the ECDF quantiles of the
figure), ``/summary`` (the output's result contract), ``/prior`` (the Monte Carlo draws
behind the drivers) and, for a scenario with correlations, ``/dependence`` (Borgonovo
delta and S1 with intervals on ``ci_bound``). sensitivity.nc holds the analyses and the
summary, draws.nc the draws and the summary.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import xarray as xr

from probmodel.analysis.sensitivity import DEFAULT_SOBOL_N, SensitivityResult
from probmodel.spec import Scenario

#: The analyses' groups, in the order sensitivity.nc holds them.
GROUPS = ("tornado", "tornado_inner", "sobol", "drivers", "summary", "dependence")
#: drivers.csv's columns (the ``/drivers`` group holds more: widths, ECDF quantiles).
DRIVERS_COLUMNS = ("rank", "input", "units", "median_all", "median_event",
                   "median_event_mcse", "median_shift", "shift_of_90pct_width", "ks_distance",
                   "rank_corr_with_output")


def to_tree(scenario: Scenario, res: SensitivityResult,
            sobol_n: int = DEFAULT_SOBOL_N) -> xr.DataTree:
    """A sensitivity run's result tree (:func:`probmodel.runs.write` writes its folder).

    tornado.csv, sobol.csv, drivers.csv, summary.csv (tidy) and summary.json are derived
    from it (:func:`outputs`); sensitivity.nc holds the analyses' groups and the
    output's summary, draws.nc the Monte Carlo draws behind the drivers (``/prior``)
    and the summary. A scenario with correlations adds the ``dependence`` group,
    dependence.csv and the note in summary.json and the manifest.
    """
    from probmodel import tree
    from probmodel.analysis.dependence import with_intervals

    t, s, d, ds = res.tornado, res.sobol, res.drivers, res.dataset
    seed, draws = int(ds.attrs["seed"]), int(ds.attrs["draws"])
    dep = res.dependence
    summary = res.summary.copy()
    summary.attrs.update({"scenario": scenario.name, "seed": seed, "draws": draws})
    groups = {"tornado": t.to_dataset(), "sobol": s.to_dataset(), "drivers": d.to_dataset(),
              "summary": summary, "prior": ds}
    if res.tornado_inner is not None:  # p10/p90: the report's two-range tornado
        groups["tornado_inner"] = res.tornado_inner.to_dataset()
    extra = {}
    if dep is not None:
        groups["dependence"] = with_intervals(dep)
        extra = {"correlated": True, "note": str(dep.attrs["note"]),
                 "dependence_draws": int(dep.attrs["draws"]),
                 "dependence_resamples": int(dep.attrs["num_resamples"])}
    return tree.make(
        "sensitivity", scenario.name, groups, salt=f"sensitivity{seed}{draws}{t.output}",
        files={"sensitivity.nc": {f"/{g}": f"/{g}" for g in GROUPS if g in groups},
               "draws.nc": {"/prior": "/prior", "/summary": "/summary"}},
        settings=dict(
            output=t.output, seed=seed, draws=draws, sobol_n_base=sobol_n,
            sobol_evals=s.n_evals,
            method="tornado (float64, one at a time); Sobol S1/ST (SALib Saltelli design, "
                   "inverse CDF, jitted JAX batch, bootstrap CI); drivers (forward Monte "
                   "Carlo, iid)" + ("; Borgonovo delta and S1 from the correlated joint "
                                    "draws (SALib estimators, bootstrap CI)" if dep is not None
                                    else ""), seconds=round(res.seconds, 3), **extra))


def _group(t: xr.DataTree, name: str) -> xr.Dataset | None:
    return t[name].to_dataset() if name in t.children else None


def _names(ds: xr.Dataset) -> list[str]:
    return [str(n) for n in ds["input"].values]


def _bounds(ds: xr.Dataset, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of ``<key>_interval`` (dims input, ci_bound)."""
    iv = ds[f"{key}_interval"].transpose("input", "ci_bound")
    return iv.sel(ci_bound="lower").values, iv.sel(ci_bound="upper").values


def tornado_table(tor: xr.Dataset) -> pd.DataFrame:
    """tornado.csv: one row per input, its p05 and p95, the output at each, the swing."""
    out = pd.DataFrame({"input": _names(tor)})
    for k in tor.data_vars:
        v = tor[k].values
        out[str(k)] = [str(x) for x in v] if v.dtype.kind in "OUS" else v
    return out


def sobol_table(sob: xr.Dataset) -> pd.DataFrame:
    """sobol.csv: one row per input, S1 and ST with their interval bounds."""
    s1_lo, s1_hi = _bounds(sob, "S1")
    st_lo, st_hi = _bounds(sob, "ST")
    return pd.DataFrame({"input": _names(sob), "S1": sob.S1.values, "S1_lower": s1_lo,
                         "S1_upper": s1_hi, "ST": sob.ST.values, "ST_lower": st_lo,
                         "ST_upper": st_hi})


def drivers_table(drv: xr.Dataset) -> pd.DataFrame:
    """drivers.csv: one row per input, ranked by KS distance."""
    out = pd.DataFrame({"input": _names(drv)})
    for k in DRIVERS_COLUMNS:
        if k != "input":
            v = drv[k].values
            out[k] = [str(x) for x in v] if v.dtype.kind in "OUS" else v
    return out[list(DRIVERS_COLUMNS)]


def summary_table(tor: xr.Dataset, sob: xr.Dataset, drv: xr.Dataset,
                  dep: xr.Dataset | None = None) -> pd.DataFrame:
    """Tidy table: analysis, input, statistic, value, lower, upper, mcse.

    ``dep`` (correlated scenarios): rows of analysis ``dependence`` (delta, S1).
    """
    rows = []
    nan = math.nan
    out = str(tor.attrs["output"])
    lo_ = tor[f"{out}_at_p05"].values
    hi_ = tor[f"{out}_at_p95"].values
    for i, name in enumerate(_names(tor)):
        for stat, v in (("output_at_p05", lo_[i]), ("output_at_p95", hi_[i]),
                        ("swing", tor.swing.values[i])):
            rows.append(("tornado", name, stat, float(v), nan, nan, nan))
    s1_lo, s1_hi = _bounds(sob, "S1")
    st_lo, st_hi = _bounds(sob, "ST")
    for i, name in enumerate(_names(sob)):
        rows.append(("sobol", name, "S1", float(sob.S1.values[i]), float(s1_lo[i]),
                     float(s1_hi[i]), nan))
        rows.append(("sobol", name, "ST", float(sob.ST.values[i]), float(st_lo[i]),
                     float(st_hi[i]), nan))
    se, width = drv.median_event_mcse.values, drv.prior_width.values
    for i, name in enumerate(_names(drv)):
        rows.append(("drivers", name, "median_shift", float(drv.median_shift.values[i]), nan,
                     nan, float(se[i])))
        rows.append(("drivers", name, "shift_of_90pct_width",
                     float(drv.shift_of_90pct_width.values[i]), nan, nan,
                     float(se[i] / width[i])))
        rows.append(("drivers", name, "ks_distance", float(drv.ks_distance.values[i]), nan,
                     nan, nan))
        rows.append(("drivers", name, "rank_corr_with_output",
                     float(drv.rank_corr_with_output.values[i]), nan, nan, nan))
    rows.append(("drivers", "", "p_event", float(drv.attrs["p_event"]), nan, nan,
                 float(drv.attrs["p_event_mcse"])))
    if dep is not None:
        bounds = {key: _bounds(dep, key) for key in ("delta", "s1")}
        for i, name in enumerate(_names(dep)):
            for key, stat in (("delta", "delta"), ("s1", "S1")):
                lo, hi = bounds[key]
                rows.append(("dependence", name, stat, float(dep[key].values[i]),
                             float(lo[i]), float(hi[i]), nan))
    return pd.DataFrame(rows, columns=["analysis", "input", "statistic", "value", "lower",
                                       "upper", "mcse"])


def json_summary(tor: xr.Dataset, sob: xr.Dataset, drv: xr.Dataset,
                 dep: xr.Dataset | None = None) -> dict:
    """The public JSON form of the analyses (the groups of a sensitivity tree).

    With ``dep`` (correlated scenarios) it gains ``correlated: true``, ``note`` and
    ``dependence`` (delta and S1 per input, largest delta first, with the settings).
    ``*_conf`` are half the widths of the intervals the groups hold.
    """
    extra = {}
    if dep is not None:
        from probmodel.analysis.dependence import json_summary as dep_json

        extra = {"correlated": True, "note": str(dep.attrs["note"]),
                 "dependence": dep_json(dep)}
    out = str(tor.attrs["output"])
    s1_lo, s1_hi = _bounds(sob, "S1")
    st_lo, st_hi = _bounds(sob, "ST")
    s1c, stc = (s1_hi - s1_lo) / 2, (st_hi - st_lo) / 2

    def f(ds: xr.Dataset, k: str, i: int) -> float:
        return float(ds[k].values[i])

    return {**extra,
        "output": out, "output_units": str(tor.attrs["output_units"]),
        "tornado": {"point": float(tor.attrs["point"]), "inputs": [
            {"input": n, "input_p05": f(tor, "input_p05", i),
             "input_p95": f(tor, "input_p95", i), "at_p05": f(tor, f"{out}_at_p05", i),
             "at_p95": f(tor, f"{out}_at_p95", i), "swing": f(tor, "swing", i)}
            for i, n in enumerate(_names(tor))]},
        "sobol": {"n_base": int(sob.attrs["n_base"]), "n_evals": int(sob.attrs["n_evals"]),
                  "conf_level": float(sob.attrs["conf_level"]),
                  "num_resamples": int(sob.attrs["num_resamples"]),
                  "notes": [str(x) for x in json.loads(str(sob.attrs.get("notes", "[]")))],
                  "inputs": [
                      {"input": n, "S1": f(sob, "S1", i), "S1_conf": float(s1c[i]),
                       "ST": f(sob, "ST", i), "ST_conf": float(stc[i])}
                      for i, n in enumerate(_names(sob))]},
        "drivers": {"event": str(drv.attrs["event"]), "note": str(drv.attrs.get("note", "")),
                    "p_event": float(drv.attrs["p_event"]),
                    "p_event_mcse": float(drv.attrs["p_event_mcse"]),
                    "n_event": int(drv.attrs["n_event"]), "draws": int(drv.attrs["draws"]),
                    "inputs": [
                        {"rank": i + 1, "input": n, "median_all": f(drv, "median_all", i),
                         "median_event": f(drv, "median_event", i),
                         "median_event_mcse": f(drv, "median_event_mcse", i),
                         "median_shift": f(drv, "median_shift", i),
                         "shift_of_90pct_width": f(drv, "shift_of_90pct_width", i),
                         "ks_distance": f(drv, "ks_distance", i),
                         "rank_corr_with_output": f(drv, "rank_corr_with_output", i)}
                        for i, n in enumerate(_names(drv))]},
    }


def outputs(t: xr.DataTree):
    """A sensitivity folder's tables and summary.json, from its result tree alone.

    tornado.csv, sobol.csv, drivers.csv, summary.csv and (correlated scenarios)
    dependence.csv; summary.json holds the scenario, draws and seed (the ``/summary``
    group's attributes) and :func:`json_summary`.
    """
    from probmodel import tree
    from probmodel.analysis.dependence import table as dep_table

    tor, sob, drv = (_group(t, g) for g in ("tornado", "sobol", "drivers"))
    dep = _group(t, "dependence")
    s = tree.summary(t)
    tables = {"tornado.csv": tornado_table(tor), "sobol.csv": sobol_table(sob),
              "drivers.csv": drivers_table(drv),
              "summary.csv": summary_table(tor, sob, drv, dep)}
    if dep is not None:
        tables["dependence.csv"] = dep_table(dep)
    head = {"scenario": str(s.attrs["scenario"]), "draws": int(s.attrs["draws"]),
            "seed": int(s.attrs["seed"])}
    return tree.Outputs(tables=tables,
                        json={"summary.json": {**head, **json_summary(tor, sob, drv, dep)}})
