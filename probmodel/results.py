"""Results: labelled xarray data, summaries, intervals, P(profit > 0) and their MCSE.

Draws are iid, so Monte Carlo standard errors come from iid formulas: sd/sqrt(N) for
means, sqrt(p(1-p)/N) for probabilities, and the order-statistic interval for
quantiles. (arviz-stats' mcse estimates an effective sample size first, which is
meaningless for iid draws and costs seconds per 1e6 draws; see research notes.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from probmodel.model import unit_of
from probmodel.spec import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
STAT_NAMES = ("mean", "sd", "q05", "q25", "q50", "q75", "q95")
#: Outputs shown first in summaries, when a scenario defines them.
KEY_OUTPUTS = ("margin", "profit", "revenue", "total_cost", "implied_utilization",
               "chips_required")
_Z = 1.959963984540054  # the normal 97.5% point: a +-1.96 sd order-statistic window


def _qname(q: float) -> str:
    return f"q{round(q * 100):02d}"


def to_dataset(arrays: Mapping[str, np.ndarray], scenario: Scenario,
               attrs: Mapping | None = None) -> xr.Dataset:
    """Draws as an xarray Dataset with dims (chain=1, draw), ``units`` attributes."""
    data_vars = {}
    for k, v in arrays.items():
        p = scenario.parameters.get(k)
        vattrs = {"units": p.unit if p else unit_of(k)}
        if p is not None and not p.is_fixed:
            vattrs["distribution"] = p.dist
            vattrs["source"] = p.source
        data_vars[k] = (("chain", "draw"), np.asarray(v)[None, :], vattrs)
    n = len(next(iter(arrays.values()))) if arrays else 0
    ds = xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n)})
    ds.attrs.update({"scenario": scenario.name, "title": scenario.title})
    ds.attrs["fixed_parameters"] = ", ".join(
        f"{k}={p.point:g} {p.unit}" for k, p in scenario.fixed.items())
    if attrs:
        ds.attrs.update(attrs)
    return ds


def quantiles_with_mcse(x: np.ndarray, probs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Exact sample quantiles and their iid Monte Carlo standard errors.

    The MCSE of the q-quantile is half the width of the order-statistic window
    [q - 1.96 s, q + 1.96 s], s = sqrt(q(1-q)/N), divided by 1.96 (the streaming
    summaries use the same window on their histograms).
    """
    x = np.asarray(x)
    probs = np.asarray(probs, dtype=np.float64)
    lo, hi = quantile_window(probs, x.size)
    return mcse_from_window(np.quantile(x, np.concatenate([probs, lo, hi])), len(probs))


def quantile_window(probs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities q -+ 1.96 sqrt(q(1-q)/n) (clipped to [0, 1]) of the MCSE window."""
    s = np.sqrt(probs * (1 - probs) / max(n, 1))
    return np.clip(probs - _Z * s, 0, 1), np.clip(probs + _Z * s, 0, 1)


def mcse_from_window(allq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Split [quantiles, window lows, window highs] into (quantiles, MCSEs)."""
    return allq[:k], (allq[2 * k:] - allq[k:2 * k]) / (2 * _Z)


def summarize_array(x: np.ndarray) -> dict[str, float]:
    """Mean, sd, quantiles and MCSEs of one variable's draws."""
    x = np.asarray(x).ravel()
    x64 = x.astype(np.float64)
    n = x.size
    mean = float(x64.mean())
    sd = float(x64.std(ddof=1)) if n > 1 else 0.0
    qs, qse = quantiles_with_mcse(x, QUANTILES)
    out = {"mean": mean, "sd": sd}
    for q, v, e in zip(QUANTILES, qs, qse, strict=True):
        out[_qname(q)] = float(v)
        out[f"mcse_{_qname(q)}"] = float(e)
    out["mcse_mean"] = sd / math.sqrt(n) if n else float("nan")
    return out


def probability(event: np.ndarray) -> tuple[float, float]:
    """P(event) over iid draws and its MCSE."""
    e = np.asarray(event).ravel()
    p = float(e.mean())
    return p, math.sqrt(max(p * (1 - p), 0.0) / e.size)


def summarize(ds: xr.Dataset) -> dict:
    """Summary of every variable in a draws Dataset, plus P(profit > 0) when defined."""
    summary = {k: summarize_array(ds[k].values) for k in ds.data_vars
               if {"chain", "draw"} <= set(ds[k].dims)}
    out = {"draws": int(ds.sizes["draw"]) * int(ds.sizes.get("chain", 1)), "summary": summary}
    if "profit" in ds:
        p, se = probability(ds["profit"].values > 0)
        out["p_profitable"], out["p_profitable_mcse"] = p, se
    return out


def ordered_names(names: Sequence[str]) -> list[str]:
    """Key outputs first, then the rest in their given order."""
    first = [k for k in KEY_OUTPUTS if k in names]
    return first + [k for k in names if k not in first]


def summary_table(summary: Mapping) -> pd.DataFrame:
    """Tidy table: variable, statistic, value, mcse (CSV layout)."""
    rows = []
    for var in ordered_names(list(summary["summary"])):
        st = summary["summary"][var]
        for stat in STAT_NAMES:
            mc = st.get(f"mcse_{stat}", st["mcse_mean"] if stat == "mean" else float("nan"))
            rows.append({"variable": var, "statistic": stat, "value": st[stat], "mcse": mc,
                         "units": unit_of(var)})
    if "p_profitable" in summary:
        rows.append({"variable": "profit", "statistic": "p_gt_0",
                     "value": summary["p_profitable"], "mcse": summary["p_profitable_mcse"],
                     "units": "1"})
    return pd.DataFrame(rows, columns=["variable", "statistic", "value", "mcse", "units"])


def json_summary(summary: Mapping) -> dict:
    """The public JSON form: per variable mean, sd, q05..q95, mcse_mean."""
    keep = (*STAT_NAMES, "mcse_mean")
    return {var: {k: summary["summary"][var][k] for k in keep}
            for var in ordered_names(list(summary["summary"]))}
