"""Importance of inputs that are correlated: Borgonovo's delta and first-order effects.

Sobol indices from a Saltelli design assume independent inputs: the design recombines
columns of two independent samples, which breaks any correlation, so with correlated
inputs they answer a question about a different model. Measures estimated from *given
data* (one joint sample, correlations included) stay valid under dependence:

- Borgonovo's moment-independent delta (Borgonovo 2007, Reliab. Eng. Syst. Saf. 92:
  771-784): half the expected L1 distance between the density of Y and the density of Y
  given the input, in [0, 1]; 0 when Y does not depend on the input (nor on anything
  correlated with it). Estimated by Plischke, Borgonovo & Smith (2013, Eur. J. Oper.
  Res. 226: 536-550): equal-frequency classes of the input, kernel densities of Y per
  class, bootstrap bias reduction and interval.
- The first-order index S1 = Var(E[Y | X_i]) / Var(Y) from the same classes (the
  correlation ratio). Under dependence it includes what an input explains through the
  inputs correlated with it, so the S1 of a group need not add up to 1.

Both come from SALib's estimators on the draws as given (see the function's Notes).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import xarray as xr


def dependence_importance(inputs: Mapping[str, np.ndarray], y: np.ndarray, *,
                          draws: int = 10_000, num_resamples: int = 10,
                          conf_level: float = 0.95, seed: int = 0) -> xr.Dataset:
    """Delta and first-order indices of ``y`` for each input, valid for correlated inputs.

    Parameters
    ----------
    inputs : mapping of str to ndarray
        The inputs' joint draws (one row per draw, correlations included).
    y : ndarray
        The output of the same draws.
    draws : int
        At most this many draws are used (the first ones: draws are iid, so a prefix is
        a random sample). The estimator evaluates kernel densities of ``y`` per class of
        the input, for the draws and for each bootstrap resample: about 0.4 s per
        evaluation at 1e4 draws on one CPU core, so (1 + num_resamples) x inputs of them.
    num_resamples : int
        Bootstrap resamples of the rows, for Plischke's bias reduction and the interval.
    conf_level : float
        Probability of the interval.
    seed : int
        Seed of the bootstrap (same seed, same answer).

    Returns
    -------
    xarray.Dataset
        Over dim ``input``: ``delta`` and ``delta_conf``, ``s1`` and ``s1_conf``
        (``*_conf`` is the half-width of the ``conf_level`` interval, normal
        approximation of the bootstrap); attributes record the method and settings.

    Notes
    -----
    The estimators are SALib's (``SALib.analyze.delta.calc_delta``: equal-frequency
    classes of the input, Silverman kernel densities of y on a 100-point grid;
    ``sobol_first`` for S1 on the same classes). The bootstrap is done here, on the rows
    as drawn, with an explicit generator: ``SALib.analyze.delta.analyze`` would also run
    its "balanced" and "step" variants (3x the cost, meaningless for draws from the
    model's own law), seed NumPy's global generator and print notices.
    """
    from SALib.analyze.delta import calc_delta, sobol_first
    from scipy.stats import norm

    names = list(inputs)
    x = np.column_stack([np.asarray(inputs[k], np.float64).ravel() for k in names])
    yy = np.asarray(y, np.float64).ravel()
    ok = np.isfinite(yy) & np.isfinite(x).all(axis=1)
    x, yy = x[ok][:draws], yy[ok][:draws]
    n = yy.size
    # SALib's class count for n draws (its analyze(): ~n^(2/7), at most 48)
    exp = 2.0 / (7.0 + np.tanh((1500.0 - n) / 500.0))
    m = np.linspace(0, n, round(min(int(np.ceil(n**exp)), 48)) + 1)
    grid = np.linspace(yy.min(), yy.max(), 100)
    rng = np.random.default_rng(seed)
    boot = [rng.integers(0, n, n) for _ in range(num_resamples)]
    z = norm.ppf(0.5 + conf_level / 2)
    out = {k: np.empty(len(names)) for k in ("delta", "delta_conf", "s1", "s1_conf")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns on skipped (constant-y) classes
        for i in range(len(names)):
            xi = x[:, i]
            d_hat = calc_delta(yy, grid, xi, m)
            d = np.array([2 * d_hat - calc_delta(yy[b], grid, xi[b], m) for b in boot])
            s = np.array([sobol_first(yy[b], xi[b], m) for b in boot])
            out["delta"][i], out["delta_conf"][i] = d.mean(), z * d.std(ddof=1)
            out["s1"][i], out["s1_conf"][i] = sobol_first(yy, xi, m), z * s.std(ddof=1)
    ds = xr.Dataset({k: ("input", v) for k, v in out.items()}, coords={"input": names})
    ds.attrs.update({
        "method": "Borgonovo delta (Plischke, Borgonovo & Smith 2013 given-data estimator, "
                  "bootstrap bias reduction) and first-order S1 on the same classes, from "
                  "the joint draws (SALib); valid for correlated inputs",
        "draws": int(n), "num_resamples": num_resamples, "conf_level": conf_level,
        "ci_kind": "bootstrap (normal approximation)", "seed": seed,
    })
    return ds


def for_output(inputs: Mapping[str, np.ndarray], y: np.ndarray, output: str,
               draws: int, num_resamples: int, seed: int = 0) -> xr.Dataset:
    """:func:`dependence_importance` of one named output, inputs sorted by delta.

    The largest delta comes first; the ``output`` attribute names ``y``.
    """
    dep = dependence_importance(inputs, y, draws=draws, num_resamples=num_resamples,
                                seed=seed)
    dep = dep.isel(input=np.argsort(-dep.delta.values, kind="stable"))
    dep.attrs["output"] = output
    return dep


def with_intervals(dep: xr.Dataset) -> xr.Dataset:
    """``dep`` with intervals on a ``ci_bound`` dim instead of half-widths (a result tree).

    ``delta`` and ``s1`` keep their estimates; ``delta_interval`` and ``s1_interval``
    (dims ``input``, ``ci_bound``) hold the lower and upper bounds, estimate minus and
    plus the half-width; the attributes are kept.
    """
    from probmodel.tree import CI_BOUNDS, CI_DIM

    attrs = {"ci_kind": dep.attrs.get("ci_kind", "bootstrap (normal approximation)"),
             "ci_prob": float(dep.attrs["conf_level"])}
    out = xr.Dataset(coords={"input": [str(n) for n in dep.input.values],
                             CI_DIM: list(CI_BOUNDS)}, attrs=dict(dep.attrs))
    for key in ("delta", "s1"):
        v, c = dep[key].values, dep[f"{key}_conf"].values
        out[key] = ("input", v)
        out[f"{key}_interval"] = (("input", CI_DIM), np.stack([v - c, v + c], axis=-1), attrs)
    return out


def half_width(group: xr.Dataset, key: str) -> np.ndarray:
    """Half the width of ``<key>_interval`` (the ``*_conf`` of the CSV and JSON files)."""
    iv = group[f"{key}_interval"]
    return (iv.sel(ci_bound="upper").values - iv.sel(ci_bound="lower").values) / 2


def table(group: xr.Dataset):
    """dependence.csv of a :func:`with_intervals` group: input, delta, delta_conf, s1, s1_conf.

    ``*_conf`` are half the widths of the intervals.
    """
    import pandas as pd

    return pd.DataFrame({"input": [str(n) for n in group.input.values],
                         "delta": group.delta.values, "delta_conf": half_width(group, "delta"),
                         "s1": group.s1.values, "s1_conf": half_width(group, "s1")})


def json_summary(group: xr.Dataset) -> dict:
    """The public JSON form of a :func:`with_intervals` group (half-widths as ``*_conf``)."""
    dc, sc = half_width(group, "delta"), half_width(group, "s1")
    return {"method": str(group.attrs["method"]), "draws": int(group.attrs["draws"]),
            "num_resamples": int(group.attrs["num_resamples"]),
            "conf_level": float(group.attrs["conf_level"]), "inputs": [
                {"input": str(n), "delta": float(group.delta.values[i]),
                 "delta_conf": float(dc[i]), "S1": float(group.s1.values[i]),
                 "S1_conf": float(sc[i])}
                for i, n in enumerate(group.input.values)]}
