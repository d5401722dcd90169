"""Results: the one result contract (summaries with MCSEs over any extra dims).

Every analysis returns an xarray Dataset in which each summarised variable ``<var>``
has dims ``(*extra, stat)`` with ``stat`` = :data:`STATS` (mean, sd, q05 ... q95, es05,
es95), a matching ``<var>_mcse`` variable, and, where profit is computed,
``p_profitable`` and ``p_profitable_mcse`` over the extra dims; settings in attrs.

The work is done by :func:`stats_kernel`, a NumPy function on arrays of shape
``(..., draws)`` (ArviZ-stats style); :func:`summarize` (xarray in) and
:func:`summarize_arrays` (NumPy in) are thin wrappers, and :func:`build` assembles the
Dataset for summaries computed elsewhere (the streaming histograms).

Draws are iid, so Monte Carlo standard errors come from iid formulas: sd/sqrt(N) for
means, sqrt(p(1-p)/N) for probabilities, the order-statistic window for quantiles and
the influence-function variance for expected shortfall (:func:`tail_mean_mcse`).
(arviz-stats' mcse estimates an effective sample size first, which is meaningless for
iid draws and costs seconds per 1e6 draws; see research notes.)
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from probmodel import _xarray
from probmodel.model import unit_of
from probmodel.spec import Scenario

_xarray.install()  # no dask import where no dask object can exist (see probmodel._xarray)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Tail probability of the expected shortfalls es05 (lower) and es95 (upper).
TAIL = 0.05
#: The statistics of every summary, in order (the ``stat`` coordinate).
STATS = ("mean", "sd", "q05", "q25", "q50", "q75", "q95", "es05", "es95")
#: Outputs shown first in summaries, when a scenario defines them.
KEY_OUTPUTS = ("margin", "profit", "revenue", "total_cost", "implied_utilization",
               "chips_required_serving", "chips_required", "cost_per_mtok_output",
               "cost_per_mtok_input")
_Z = 1.959963984540054  # the normal 97.5% point: a +-1.96 sd order-statistic window
#: Elements processed at once by the kernel (bounds its float64 temporaries).
_BLOCK = 1 << 24


def qname(q: float) -> str:
    """The statistic name of quantile ``q`` (0.05 -> ``q05``)."""
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


# --------------------------------------------------------------------------- the kernel


def quantile_window(probs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities q -+ 1.96 sqrt(q(1-q)/n) (clipped to [0, 1]) of the MCSE window.

    The MCSE of the q-quantile is half the width of the order-statistic window
    [q - 1.96 s, q + 1.96 s], s = sqrt(q(1-q)/N), divided by 1.96; exact and streamed
    (histogram) quantiles both use it.
    """
    probs = np.asarray(probs, np.float64)
    s = np.sqrt(probs * (1 - probs) / max(n, 1))
    return np.clip(probs - _Z * s, 0, 1), np.clip(probs + _Z * s, 0, 1)


def mcse_from_window(allq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Split [quantiles, window lows, window highs] (first axis) into (quantiles, MCSEs)."""
    return allq[:k], (allq[2 * k:] - allq[k:2 * k]) / (2 * _Z)


def quantiles_with_mcse(x: np.ndarray, probs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Exact sample quantiles of 1-D draws and their iid Monte Carlo standard errors."""
    x = np.asarray(x).ravel()
    probs = np.asarray(probs, dtype=np.float64)
    lo, hi = quantile_window(probs, x.size)
    return mcse_from_window(np.quantile(x, np.concatenate([probs, lo, hi])), len(probs))


def tail_mean_mcse(var_tail, gap, alpha, n):
    """The iid MCSE of a tail mean (expected shortfall) estimate.

    The estimator ES = mean of the draws at or below the sample alpha-quantile q (or at
    or above the (1 - alpha)-quantile) has influence function
    (x - q) 1{x in tail} / alpha + q - ES, whose variance gives

        Var(ES_hat) = [Var(X | tail) + (1 - alpha) (ES - q)^2] / (alpha N)

    (Manistre & Hancock 2005, "Variance of the CTE estimator", North American Actuarial
    Journal 9(2): 129-156; Brazauskas et al. 2008, J. Statist. Plann. Inference 138:
    3590-3604). ``gap`` is ES - q, ``var_tail`` the variance of the tail draws.
    """
    return np.sqrt(np.maximum(var_tail + (1 - alpha) * np.square(gap), 0.0)
                   / (alpha * max(n, 1)))


def sd_mcse(sd, n, mu4=None):
    """The iid MCSE of the sample sd: the delta method, Var(s) = (mu4 - sd^4) / (4 sd^2 N).

    Without the fourth central moment ``mu4`` (streamed runs) the normal value
    mu4 = 3 sd^4 is used, i.e. sd / sqrt(2 N).
    """
    sd = np.asarray(sd, np.float64)
    mu4 = 3 * sd**4 if mu4 is None else mu4
    return np.sqrt(np.maximum(mu4 - sd**4, 0.0) / np.maximum(4 * sd**2 * max(n, 1), 1e-300))


def _sorted_quantiles(s: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(x, probs, axis=-1)`` (method "linear") from sorted rows ``s``.

    Bit for bit NumPy's result: its virtual index (n - 1) p, neighbours and ``_lerp``.
    """
    n = s.shape[-1]
    v = (n - 1) * probs
    prev = np.floor(v)
    lo_i = np.clip(prev.astype(np.intp), 0, n - 1)
    hi_i = np.clip(lo_i + 1, 0, n - 1)
    t = v - prev
    a, b = s[:, lo_i], s[:, hi_i]
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def _kernel_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stats_kernel` on a 2-D (rows, N) block.

    Each row is sorted once, in its own dtype (float32 sorts are vectorised and several
    times faster than a float64 partition per quantile); quantiles then index the sorted
    rows, and each expected shortfall sums a prefix or suffix of them. Rows with a
    non-finite value take the unsorted path (:func:`_kernel_rows_unsorted`).
    """
    n = x.shape[-1]
    if n < 2:
        return _kernel_rows_unsorted(x)
    srt = np.sort(x, axis=-1)
    if not (np.isfinite(srt[:, 0]).all() and np.isfinite(srt[:, -1]).all()):
        return _kernel_rows_unsorted(x)
    x64 = srt.astype(np.float64)
    mean = x64.mean(axis=-1)
    d = x64 - mean[:, None]
    d2 = np.square(d, out=d)
    sd = np.sqrt(d2.sum(axis=-1) / (n - 1))
    m4 = np.square(d2, out=d2).mean(axis=-1)
    del d, d2
    probs = np.asarray(QUANTILES)
    lo, hi = quantile_window(probs, n)
    allq = _sorted_quantiles(x64, np.concatenate([probs, lo, hi]))
    k = len(probs)
    qs, qse = allq[:, :k], (allq[:, 2 * k:] - allq[:, k:2 * k]) / (2 * _Z)
    es, es_se = [], []
    for q, below in ((qs[:, 0], True), (qs[:, -1], False)):
        e, var, cnt = np.empty(len(q)), np.empty(len(q)), np.empty(len(q))
        for r in range(len(q)):
            # the draws <= q (>= q) are a prefix (suffix) of the sorted row
            if below:
                tail = x64[r, :np.searchsorted(x64[r], q[r], side="right")]
            else:
                tail = x64[r, np.searchsorted(x64[r], q[r], side="left"):]
            c = max(tail.size, 1)
            e[r] = tail.sum() / c
            var[r] = np.square(tail - e[r]).sum() / c
            cnt[r] = c
        es.append(e)
        es_se.append(tail_mean_mcse(var, e - q, cnt / n, n))
    sem = sd / math.sqrt(n)
    sd_se = sd_mcse(sd, n, m4)
    val = np.column_stack([mean, sd, qs, es[0], es[1]])
    se = np.column_stack([sem, sd_se, qse, es_se[0], es_se[1]])
    return val, se


def _kernel_rows_unsorted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stats_kernel` on a 2-D (rows, N) block, without sorting (any values)."""
    n = x.shape[-1]
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=-1)
    sd = x64.std(axis=-1, ddof=1) if n > 1 else np.zeros(x.shape[0])
    probs = np.asarray(QUANTILES)
    lo, hi = quantile_window(probs, n)
    allq = np.moveaxis(np.quantile(x64, np.concatenate([probs, lo, hi]), axis=-1), 0, -1)
    k = len(probs)
    qs, qse = allq[:, :k], (allq[:, 2 * k:] - allq[:, k:2 * k]) / (2 * _Z)
    es, es_se = [], []
    for q, below in ((qs[:, 0], True), (qs[:, -1], False)):
        mask = x64 <= q[:, None] if below else x64 >= q[:, None]
        cnt = np.maximum(mask.sum(axis=-1), 1)
        e = np.where(mask, x64, 0.0).sum(axis=-1) / cnt
        var = np.where(mask, np.square(x64 - e[:, None]), 0.0).sum(axis=-1) / cnt
        es.append(e)
        es_se.append(tail_mean_mcse(var, e - q, cnt / n, n))
    sem = sd / math.sqrt(n) if n else np.full(x.shape[0], np.nan)
    sd_se = sd_mcse(sd, n, np.square(np.square(x64 - mean[:, None])).mean(axis=-1))
    val = np.column_stack([mean, sd, qs, es[0], es[1]])
    se = np.column_stack([sem, sd_se, qse, es_se[0], es_se[1]])
    return val, se


def stats_kernel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every statistic of :data:`STATS` and its MCSE over the last axis of ``x``.

    Parameters
    ----------
    x : ndarray, shape (..., N)
        iid draws along the last axis; any leading dims (cells, scenarios, years).

    Returns
    -------
    values, mcse : ndarray, shape (..., len(STATS))
        float64. Quantiles are exact sample quantiles (numpy's linear interpolation);
        es05 / es95 are the means of the draws at or below q05 / at or above q95.
    """
    x = np.asarray(x)
    lead, n = x.shape[:-1], x.shape[-1]
    rows = x.reshape(-1, n)
    step = max(1, _BLOCK // max(n, 1))
    parts = [_kernel_rows(rows[i:i + step]) for i in range(0, rows.shape[0], step)]
    val = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, len(STATS)))
    se = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, len(STATS)))
    return val.reshape(*lead, len(STATS)), se.reshape(*lead, len(STATS))


def _stats_quiet(x: np.ndarray):
    # non-finite draws are counted and refused by the callers; np.errstate holds for
    # one thread only, so each worker thread of stats_many sets it itself
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return stats_kernel(x)


def stats_many(arrays: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(values, mcse) of :func:`stats_kernel` for each 1-D array, name -> float64 pair.

    One array per thread: NumPy's sort (most of the kernel) releases the GIL, so the
    threads share the cores (21 variables x 1e6 draws: 0.33 s -> 0.22 s on 2). No
    floating-point warnings (non-finite draws are counted and refused by the callers).
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as ex:
        got = list(ex.map(_stats_quiet, arrays.values()))
    return {k: (np.asarray(val, np.float64), np.asarray(se, np.float64))
            for k, (val, se) in zip(arrays, got, strict=True)}


def probability(event: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """P(event) over iid draws along ``axis`` and its MCSE (floats for 1-D input)."""
    e = np.asarray(event)
    p = e.mean(axis=axis, dtype=np.float64)
    se = np.sqrt(np.maximum(p * (1 - p), 0.0) / e.shape[axis])
    return (float(p), float(se)) if e.ndim == 1 else (p, se)


# --------------------------------------------------------------------------- xarray wrappers


def build(values: Mapping[str, tuple[np.ndarray, np.ndarray]], dims: Sequence[str] = (),
          coords: Mapping | None = None, p_profitable: tuple | None = None,
          attrs: Mapping | None = None, units: Mapping[str, str] | None = None,
          events: Sequence[tuple[str, str, str, np.ndarray, np.ndarray]] = (),
          ) -> xr.Dataset:
    """The result-contract Dataset from per-variable (values, mcse) of shape (*dims, stat).

    ``p_profitable`` is (p, mcse) of shape ``dims``; ``units`` overrides
    :func:`probmodel.model.unit_of`. ``events`` are (label, output, statistic, p, mcse),
    p and mcse of shape ``dims``: the variables ``p_event`` and ``p_event_mcse`` over
    ``(*dims, event)``, with the output and statistic name of each event as coordinates
    (``margin > 20%``: output ``margin``, statistic ``p_gt_0.2``).
    """
    dims = tuple(dims)
    units = units or {}
    data = {}
    for k, (v, e) in values.items():
        a = {"units": units.get(k, unit_of(k))}
        data[k] = ((*dims, "stat"), np.asarray(v, np.float64), a)
        data[f"{k}_mcse"] = ((*dims, "stat"), np.asarray(e, np.float64), a)
    if p_profitable is not None:
        data["p_profitable"] = (dims, np.asarray(p_profitable[0], np.float64),
                                {"units": "1", "long_name": "P(profit > 0)"})
        data["p_profitable_mcse"] = (dims, np.asarray(p_profitable[1], np.float64),
                                     {"units": "1"})
    ecoords = {}
    if events:
        labels = [e[0] for e in events]
        for name, k in (("p_event", 3), ("p_event_mcse", 4)):
            data[name] = ((*dims, "event"), np.stack([np.asarray(e[k], np.float64)
                                                      for e in events], axis=-1),
                          {"units": "1", "long_name": "P(event)"})
        ecoords = {"event": labels, "event_output": ("event", [e[1] for e in events]),
                   "event_statistic": ("event", [e[2] for e in events])}
    ds = xr.Dataset(data, coords={**(coords or {}), "stat": list(STATS), **ecoords})
    ds.attrs["mcse"] = ("iid Monte Carlo standard errors; quantile MCSE from the "
                        "order-statistic window, expected shortfall from its influence "
                        "function")
    if attrs:
        ds.attrs.update(attrs)
    return ds


def summarize_arrays(arrays: Mapping[str, np.ndarray], dims: Sequence[str] = (),
                     coords: Mapping | None = None, attrs: Mapping | None = None,
                     profit: np.ndarray | None = None, events: Sequence = (),
                     blocks: bool = False) -> xr.Dataset:
    """Summaries of draws given as arrays of shape (*dims, N), one per variable.

    P(profit > 0) comes from ``profit`` when given, else from ``arrays["profit"]``.
    ``events`` (:class:`probmodel.analysis.targets.Event`) are counted on ``arrays``.
    ``blocks``: the draws (in engine order) of a scenario with correlated inputs, dependent
    within the reordering's blocks: every MCSE is scaled by its batch-means factor
    (:func:`probmodel.mcse.draw_factors`).
    """
    from probmodel.mcse import draw_factors

    def f(v):
        return draw_factors(v) if blocks else 1.0

    values = {}
    for k, v in arrays.items():
        val, se = stats_kernel(v)
        values[k] = (val, se * np.expand_dims(f(v), -1) if blocks else se)
    def prob(hit):
        pv, pse = probability(hit)
        return pv, pse * f(hit)

    if profit is None:
        profit = arrays.get("profit")
    p = prob(np.asarray(profit) > 0) if profit is not None else None
    n = next(iter(arrays.values())).shape[-1] if arrays else 0
    ev = [(e.label, e.output, e.statistic, *prob(e.holds(arrays[e.output])))
          for e in events]
    return build(values, dims, coords, p, {"draws": int(n), **(attrs or {})}, events=ev)


def summarize(ds: xr.Dataset, sample_dims: Sequence[str] = ("chain", "draw"),
              names: Sequence[str] | None = None, events: Sequence = ()) -> xr.Dataset:
    """Summaries of every variable of a draws Dataset over ``sample_dims``.

    Variables keep their other dims (e.g. ``year``), in their order, before ``stat``.
    ``events`` (:class:`probmodel.analysis.targets.Event`) are counted over the same
    dims (an event on a variable without e.g. ``year`` holds alike in every year).
    """
    sample_dims = tuple(d for d in sample_dims if d in ds.dims)
    names = [k for k in (names or ds.data_vars) if set(sample_dims) <= set(ds[k].dims)]
    extra: list[str] = []
    for k in names:
        extra += [d for d in ds[k].dims if d not in sample_dims and d not in extra]
    def stacked(k):
        da = ds[k].transpose(*(d for d in extra if d in ds[k].dims), *sample_dims)
        da = da.expand_dims({d: ds.sizes[d] for d in extra if d not in ds[k].dims})
        return da.transpose(*extra, *sample_dims).values.reshape(
            *(ds.sizes[d] for d in extra), -1)

    arrays = {k: stacked(k) for k in names}
    coords = {d: ds[d].values for d in extra if d in ds.coords}
    out = summarize_arrays(arrays, extra, coords, {k: v for k, v in ds.attrs.items()
                                                   if k in ("scenario", "seed")})
    if events:
        ev = [(e.label, e.output, e.statistic, *probability(e.holds(stacked(e.output))))
              for e in events]
        with_events = build({}, extra, coords, events=ev)
        out = out.assign({k: with_events[k] for k in ("p_event", "p_event_mcse")})
        out = out.assign_coords({k: with_events[k] for k in ("event_output",
                                                             "event_statistic")})
    for k in names:
        for v in (k, f"{k}_mcse"):
            out[v].attrs["units"] = ds[k].attrs.get("units", out[v].attrs["units"])
    return out


def constant(values: Mapping[str, float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Summaries of variables equal in every draw (sd 0, other statistics the value, MCSE 0)."""
    sd = STATS.index("sd")
    return {k: (np.where(np.arange(len(STATS)) == sd, 0.0, v), np.zeros(len(STATS)))
            for k, v in values.items()}


# --------------------------------------------------------------------------- tables, JSON


def ordered_names(names: Sequence[str]) -> list[str]:
    """Key outputs first, then the rest in their given order."""
    first = [k for k in KEY_OUTPUTS if k in names]
    return first + [k for k in names if k not in first]


def summarized(ds: xr.Dataset) -> list[str]:
    """The summarised variables of a result Dataset (key outputs first)."""
    return ordered_names([k for k in ds.data_vars if ds[k].dims[-1:] == ("stat",)
                          and not k.endswith("_mcse")])


def _extra_dims(ds: xr.Dataset) -> list[str]:
    return [d for d in ds.dims if d not in ("stat", "event")]


def summary_table(ds: xr.Dataset, variables_first: bool = False) -> pd.DataFrame:
    """Tidy table of a result Dataset: extra dims, variable, statistic, value, mcse, units.

    One row per cell (combination of the extra dims), variable and statistic; P(profit >
    0) is a row with variable ``profit`` and statistic ``p_gt_0``. Rows go cell by cell,
    or variable by variable with ``variables_first`` (P(profit > 0) rows last); with
    ``variables_first`` the extra dims come after ``variable``.
    """
    extra = _extra_dims(ds)
    names = summarized(ds)
    cells = list(itertools.product(*(range(ds.sizes[d]) for d in extra)))
    stack = {k: (ds[k].transpose(*extra, "stat").values, ds[f"{k}_mcse"].transpose(
        *extra, "stat").values) for k in names}
    p = ("p_profitable" in ds and (ds["p_profitable"].transpose(*extra).values,
                                   ds["p_profitable_mcse"].transpose(*extra).values))

    def at(c):
        return {d: ds[d].values[i] if d in ds.coords else i
                for d, i in zip(extra, c, strict=True)}

    def stat_rows(k, c):
        v, e = stack[k][0][c], stack[k][1][c]
        return [{**at(c), "variable": k, "statistic": s, "value": float(v[j]),
                 "mcse": float(e[j]), "units": ds[k].attrs.get("units", "")}
                for j, s in enumerate(STATS)]

    ev = ("p_event" in ds and (ds["p_event"].transpose(*extra, "event").values,
                               ds["p_event_mcse"].transpose(*extra, "event").values))

    def p_row(c):
        rows = []
        if p and np.isfinite(p[0][c]):
            rows.append({**at(c), "variable": "profit", "statistic": "p_gt_0",
                         "value": float(p[0][c]), "mcse": float(p[1][c]), "units": "1"})
        for j in range(ds.sizes.get("event", 0) if ev else 0):
            rows.append({**at(c), "variable": str(ds["event_output"].values[j]),
                         "statistic": str(ds["event_statistic"].values[j]),
                         "value": float(ev[0][c][j]), "mcse": float(ev[1][c][j]),
                         "units": "1"})
        return rows

    rows = []
    if variables_first:
        for k in names:
            for c in cells:
                rows += stat_rows(k, c)
        for c in cells:
            rows += p_row(c)
        cols = ["variable", *extra]
    else:
        for c in cells:
            for k in names:
                rows += stat_rows(k, c)
            rows += p_row(c)
        cols = [*extra, "variable"]
    return pd.DataFrame(rows, columns=[*cols, "statistic", "value", "mcse", "units"])


def stat_dict(ds: xr.Dataset, name: str, mcse: str = "all", **sel) -> dict[str, float]:
    """One variable's statistics (at ``sel``) as a dict.

    ``mcse="all"``: ``mcse_<stat>`` for every statistic; ``"mean"``: only ``mcse_mean``
    and the expected shortfalls' (the run JSON's layout).
    """
    v = ds[name].sel(sel).values
    e = ds[f"{name}_mcse"].sel(sel).values
    out = {s: float(x) for s, x in zip(STATS, v, strict=True)}
    keep = STATS if mcse == "all" else ("mean", "es05", "es95")
    out.update({f"mcse_{s}": float(x) for s, x in zip(STATS, e, strict=True) if s in keep})
    return out


def json_summary(ds: xr.Dataset) -> dict:
    """Per variable (no extra dims): mean, sd, q05..q95, es05, es95, mcse_mean, mcse_es*."""
    return {k: stat_dict(ds, k, mcse="mean") for k in summarized(ds)}


def event_list(ds: xr.Dataset, **sel) -> list[dict]:
    """Every event's label, output, statistic, P and MCSE at ``sel`` (JSON's layout)."""
    if "p_event" not in ds:
        return []
    p, se = ds["p_event"].sel(sel), ds["p_event_mcse"].sel(sel)
    return [{"event": str(lab), "output": str(out), "statistic": str(st),
             "p": float(p.values[j]), "mcse": float(se.values[j])}
            for j, (lab, out, st) in enumerate(zip(ds["event"].values,
                                                   ds["event_output"].values,
                                                   ds["event_statistic"].values,
                                                   strict=True))]


def p_profitable(ds: xr.Dataset, **sel) -> tuple[float | None, float | None]:
    """P(profit > 0) and its MCSE at ``sel`` (None, None when profit is not computed)."""
    if "p_profitable" not in ds:
        return None, None
    p = float(ds["p_profitable"].sel(sel))
    if not np.isfinite(p):
        return None, None
    return p, float(ds["p_profitable_mcse"].sel(sel))
