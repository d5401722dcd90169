"""What a calibration produced, as one result tree, and the files derived from it.

The numbers come from :func:`probmodel.calibration.calibrate`; this module arranges them
(nothing here samples). :func:`to_tree` is the calibration's result tree
(:mod:`probmodel.tree`): the ArviZ groups of draws.nc (prior, prior_predictive,
posterior, posterior_predictive, observed_data, sample_stats) and the analysis groups
``/diagnostics``, ``/prior_posterior`` (quantiles before and after, with their MCSEs)
and ``/predictive_check``, all kept in draws.nc. :func:`outputs` derives
diagnostics.csv, prior_posterior.csv, posterior_predictive.csv and summary.json from the
tree alone (a serving calibration's folder, :mod:`probmodel.serving.output`, too).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from probmodel.model import unit_of

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from probmodel.calibration import Calibration

#: The quantiles each calibration summary gives, and their names.
INTERVAL = (0.05, 0.5, 0.95)
STATS = ("q05", "q50", "q95")
#: Probabilities of the +-1 sd interval of a quantile's sampling distribution.
_ONE_SD = (0.1586553, 0.8413447)

# --------------------------------------------------------------------------- statistics


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    q = np.quantile(np.asarray(x, np.float64).ravel(), INTERVAL)
    return float(q[0]), float(q[1]), float(q[2])


def mcse_quantile(x: np.ndarray, prob: float) -> float:
    """MCSE of the ``prob`` quantile of (chain, draw) draws, as arviz-stats computes it.

    arviz-stats' ``mcse(method="quantile")``: the ESS of the indicator x <= quantile
    (split chains), then half the distance between the order statistics at the +-1 sd
    points of the Beta posterior of the quantile's rank. NaN with fewer than 4 draws or
    a NaN draw. The same arithmetic without importing arviz-stats (its scipy.stats
    import costs the command line most of a second; tests check agreement).
    """
    from scipy.special import betaincinv

    from probmodel.calibration import _ess_2d, _split, _valid

    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if not _valid(x, 1):
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = _ess_2d(_split((x <= np.quantile(x, prob)).astype(np.float64)))
        ppf = betaincinv(ess * prob + 1, ess * (1 - prob) + 1, np.asarray(_ONE_SD))
    s = np.sort(x.ravel())
    at = ppf * s.size - 1
    lo = s[int(np.floor(np.nanmax((at[0], 0))))]
    hi = s[int(np.ceil(np.nanmin((at[1], s.size - 1))))]
    return float((hi - lo) / 2)


def _ess_of(x: np.ndarray) -> float:
    from probmodel.calibration import ess

    v = ess(x, "mean")
    return v if math.isfinite(v) else float(x.size)


# --------------------------------------------------------------------------- tree groups


def cm_names(cal: Calibration) -> list[str]:
    """Calibrated parameters first, then the outputs that are observed or key."""
    from probmodel.results import KEY_OUTPUTS

    obs = [o.name for o in cal.model.observations]
    extra = [k for k in (*obs, *KEY_OUTPUTS, "mean_utilization", "tokens_per_user_per_day")
             if k in cal.model.outputs]
    seen: list[str] = []
    for k in (*cal.model.latent_names, *extra):
        if k not in seen:
            seen.append(k)
    return seen


def prior_posterior_dataset(cal: Calibration, names=None) -> xr.Dataset:
    """``/prior_posterior``: each parameter's (and key output's) quantiles before and after.

    Dims ``variable`` and ``stat`` (q05, q50, q95): ``prior``, ``posterior`` and their
    MCSEs (:func:`mcse_quantile`: the prior's draws are iid, the posterior's NUTS
    chains), ``shrinkage`` = 1 - posterior variance / prior variance on the scale the
    sampler works on (log for positive quantities): near 0 means the answer is still
    the prior's. Coordinates ``role``, ``units`` and ``observed`` (1 when an observation
    bears on the name directly). P(profit > 0) before and after when profit is computed.
    """
    import xarray as xr

    names = names or [*cm_names(cal)]
    obs = {o.name for o in cal.model.observations}
    rows = []
    for name in names:
        if name not in cal.prior or name not in cal.posterior:
            continue
        pr = np.asarray(cal.prior[name], np.float64)
        post = np.asarray(cal.posterior[name], np.float64)
        po = post.ravel()
        positive = bool(np.all(pr > 0) and np.all(po > 0))
        tp, tq = (np.log(pr), np.log(po)) if positive else (pr, po)
        vp = float(np.var(tp))
        rows.append((name, "parameter" if name in cal.model.latent_names else "output",
                     unit_of(name) or cal.scenario.parameters[name].unit,
                     _interval(pr), _interval(po),
                     [mcse_quantile(pr, q) for q in INTERVAL],
                     [mcse_quantile(post, q) for q in INTERVAL],
                     1.0 - float(np.var(tq)) / vp if vp > 0 else float("nan"),
                     int(name in obs)))

    def col(i):
        return np.asarray([r[i] for r in rows], np.float64).reshape(len(rows), len(STATS))

    ds = xr.Dataset(
        {"prior": (("variable", "stat"), col(3)),
         "posterior": (("variable", "stat"), col(4)),
         "prior_mcse": (("variable", "stat"), col(5)),
         "posterior_mcse": (("variable", "stat"), col(6)),
         "shrinkage": ("variable", np.asarray([r[7] for r in rows], np.float64),
                       {"long_name": "1 - posterior / prior variance (log scale when "
                                     "positive)"})},
        coords={"variable": np.asarray([r[0] for r in rows], str), "stat": list(STATS),
                "role": ("variable", np.asarray([r[1] for r in rows], str)),
                "units": ("variable", np.asarray([r[2] for r in rows], str)),
                "observed": ("variable", np.asarray([r[8] for r in rows], np.int8))})
    if "profit" in cal.posterior:
        post = cal.posterior["profit"]
        p = post.ravel() > 0
        ess = _ess_of(p.reshape(post.shape).astype(np.float64))
        prob = float(p.mean())
        ds["p_profitable_prior"] = ((), float(np.mean(cal.prior["profit"] > 0)))
        ds["p_profitable"] = ((), prob, {"long_name": "posterior P(profit > 0)"})
        ds["p_profitable_mcse"] = ((), math.sqrt(max(prob * (1 - prob), 0.0) / max(ess, 1.0)),
                                   {"method": "sqrt(p (1 - p) / ESS)"})
    return ds


def diagnostics_dataset(cal: Calibration) -> xr.Dataset:
    """``/diagnostics``: per calibrated parameter r-hat, bulk and tail ESS, divergences, ok.

    Attributes: the scenario, the NUTS settings and timings (JSON), the divergent
    transitions and the failures (JSON list of lines).
    """
    import xarray as xr

    t = cal.diagnostics.table
    return xr.Dataset(
        {"r_hat": ("parameter", np.asarray([r["r_hat"] for r in t], np.float64)),
         "ess_bulk": ("parameter", np.asarray([r["ess_bulk"] for r in t], np.float64)),
         "ess_tail": ("parameter", np.asarray([r["ess_tail"] for r in t], np.float64)),
         "divergences": ("parameter", np.asarray([r["divergences"] for r in t], np.int64)),
         "ok": ("parameter", np.asarray([int(bool(r["ok"])) for r in t], np.int8))},
        coords={"parameter": np.asarray([r["parameter"] for r in t], str)},
        attrs={"scenario": cal.scenario.name, "nuts_settings": json.dumps(cal.settings),
               "seconds": json.dumps(cal.seconds),
               "divergences": int(cal.diagnostics.divergences),
               "failures": json.dumps(list(cal.diagnostics.failures))})


def predictive_dataset(cal: Calibration) -> xr.Dataset:
    """``/predictive_check``: each observation against its posterior predictive.

    The observed value, the replicated quantiles (``pp`` on ``stat``) and the posterior
    predictive tail probability of the observed value (two-sided for measurements,
    one-sided for bounds: small values flag a misfit); kind, noise and source as
    coordinates.
    """
    import xarray as xr

    obs = cal.model.observations
    q, tail = [], []
    for o in obs:
        rep = cal.posterior_predictive[o.name].ravel()
        q.append(_interval(rep))
        below = float(np.mean(rep <= o.value))
        tail.append({"lower_bound": 1 - below, "upper_bound": below}.get(
            o.kind, 2 * min(below, 1 - below)))
    return xr.Dataset(
        {"value": ("observation", np.asarray([o.value for o in obs], np.float64)),
         "pp": (("observation", "stat"),
                np.asarray(q, np.float64).reshape(len(obs), len(STATS))),
         "pp_tail_prob": ("observation", np.asarray(tail, np.float64))},
        coords={"observation": np.asarray([o.name for o in obs], str), "stat": list(STATS),
                "kind": ("observation", np.asarray([o.kind for o in obs], str)),
                "noise": ("observation", np.asarray([o.noise_text() for o in obs], str)),
                "source": ("observation", np.asarray([o.source for o in obs], str))})


# --------------------------------------------------------------------------- tables


def _strs(da) -> list[str]:
    return [str(v) for v in np.asarray(da.values).ravel()]


def prior_posterior_frame(ds: xr.Dataset) -> pd.DataFrame:
    """prior_posterior.csv from ``/prior_posterior``.

    Columns: variable, role, units, prior_q05..q95, posterior_q05..q95, shrinkage,
    observed, then the MCSE of each quantile (prior_q05_mcse ... posterior_q95_mcse).
    """
    import pandas as pd

    cols = ["variable", "role", "units", *(f"prior_{s}" for s in STATS),
            *(f"posterior_{s}" for s in STATS), "shrinkage", "observed",
            *(f"{w}_{s}_mcse" for w in ("prior", "posterior") for s in STATS)]
    stats = [str(s) for s in ds["stat"].values]
    rows = []
    for i, name in enumerate(_strs(ds["variable"])):
        r: dict[str, Any] = {"variable": name, "role": str(ds["role"].values[i]),
                             "units": str(ds["units"].values[i])}
        for w in ("prior", "posterior"):
            r.update({f"{w}_{s}": float(ds[w].values[i, j]) for j, s in enumerate(stats)})
        r["shrinkage"] = float(ds["shrinkage"].values[i])
        r["observed"] = bool(int(ds["observed"].values[i]))
        for w in ("prior", "posterior"):
            r.update({f"{w}_{s}_mcse": float(ds[f"{w}_mcse"].values[i, j])
                      for j, s in enumerate(stats)})
        rows.append(r)
    return pd.DataFrame(rows, columns=cols)


def prior_posterior_table(cal: Calibration, names=None) -> pd.DataFrame:
    """Median and 90% interval of each parameter (and key output) before and after.

    With the MCSE of each quantile and the ``shrinkage`` (:func:`prior_posterior_dataset`).
    """
    return prior_posterior_frame(prior_posterior_dataset(cal, names))


def diagnostics_frame(ds: xr.Dataset) -> pd.DataFrame:
    """diagnostics.csv from ``/diagnostics``.

    Columns: parameter, r_hat, ess_bulk, ess_tail, divergences, ok.
    """
    import pandas as pd

    rows = [{"parameter": name, "r_hat": float(ds["r_hat"].values[i]),
             "ess_bulk": float(ds["ess_bulk"].values[i]),
             "ess_tail": float(ds["ess_tail"].values[i]),
             "divergences": int(ds["divergences"].values[i]),
             "ok": bool(int(ds["ok"].values[i]))}
            for i, name in enumerate(_strs(ds["parameter"]))]
    return pd.DataFrame(rows, columns=["parameter", "r_hat", "ess_bulk", "ess_tail",
                                       "divergences", "ok"])


def predictive_frame(ds: xr.Dataset) -> pd.DataFrame:
    """posterior_predictive.csv from ``/predictive_check``."""
    import pandas as pd

    stats = [str(s) for s in ds["stat"].values]
    rows = []
    for i, name in enumerate(_strs(ds["observation"])):
        rows.append({"observation": name, "kind": str(ds["kind"].values[i]),
                     "value": float(ds["value"].values[i]),
                     "noise": str(ds["noise"].values[i]),
                     **{f"pp_{s}": float(ds["pp"].values[i, j]) for j, s in enumerate(stats)},
                     "pp_tail_prob": float(ds["pp_tail_prob"].values[i]),
                     "source": str(ds["source"].values[i])})
    return pd.DataFrame(rows, columns=["observation", "kind", "value", "noise",
                                       *(f"pp_{s}" for s in STATS), "pp_tail_prob", "source"])


def summary_json(diag: xr.Dataset, pp: xr.Dataset, check: xr.Dataset) -> dict:
    """summary.json from ``/diagnostics``, ``/prior_posterior`` and ``/predictive_check``.

    Settings, diagnostics, prior vs posterior (with MCSEs), P(profit > 0).
    """
    a = diag.attrs
    failures = [str(f) for f in json.loads(a["failures"])]
    r_hat, bulk, tail = ([float(v) for v in diag[k].values]
                         for k in ("r_hat", "ess_bulk", "ess_tail"))
    table = prior_posterior_frame(pp)
    keys = ("prior_q05", "prior_q50", "prior_q95", "posterior_q05", "posterior_q50",
            "posterior_q95", "shrinkage",
            *(f"{w}_{s}_mcse" for w in ("prior", "posterior") for s in STATS))
    out = {
        "scenario": str(a["scenario"]),
        "settings": json.loads(a["nuts_settings"]),
        "seconds": json.loads(a["seconds"]),
        "diagnostics_ok": not failures,
        "divergences": int(a["divergences"]),
        "failures": failures,
        "max_r_hat": max(r_hat),
        "min_ess_bulk": min(bulk),
        "min_ess_tail": min(tail),
        "calibrated_parameters": _strs(diag["parameter"]),
        "observations": _strs(check["observation"]),
        "prior_posterior": {r["variable"]: {k: r[k] for k in keys}
                            for r in table.to_dict("records")},
    }
    if "p_profitable" in pp:
        out["p_profitable"] = {"prior": float(pp["p_profitable_prior"]),
                               "posterior": float(pp["p_profitable"]),
                               "posterior_mcse": float(pp["p_profitable_mcse"])}
    return out


def summary(cal: Calibration) -> dict:
    """JSON-ready summary: settings, diagnostics, prior vs posterior, P(profit > 0)."""
    return summary_json(diagnostics_dataset(cal), prior_posterior_dataset(cal),
                        predictive_dataset(cal))


# --------------------------------------------------------------------------- DataTree


def to_datatree(cal: Calibration):
    """The calibration as an ArviZ DataTree with ``units`` attributes.

    Groups: prior, prior_predictive, posterior, posterior_predictive, observed_data and
    sample_stats.
    """
    import xarray as xr

    def units(name):
        p = cal.scenario.parameters.get(name)
        return {"units": p.unit if p else unit_of(name)}

    chains, draws = next(iter(cal.posterior.values())).shape[:2]
    cd = {"chain": np.arange(chains), "draw": np.arange(draws)}

    def grid(d):
        return xr.Dataset({k: (("chain", "draw"), np.asarray(v), units(k)) for k, v in d.items()},
                          coords=cd)

    def flat(d):
        n = len(next(iter(d.values())))
        return xr.Dataset({k: (("chain", "draw"), np.asarray(v)[None, :], units(k))
                           for k, v in d.items()},
                          coords={"chain": [0], "draw": np.arange(n)})

    post = grid(cal.posterior)
    post.attrs.update({"inference_library": "numpyro", "sampler": "NUTS",
                       "calibrated_parameters": ", ".join(cal.model.latent_names),
                       **{k: str(v) for k, v in cal.settings.items()}})
    prior = flat({k: v for k, v in cal.prior.items()})
    prior.attrs["method"] = "forward Monte Carlo from the priors (iid)"
    obs = xr.Dataset({o.name: ((), o.value, {**units(o.name), "kind": o.kind,
                                             "noise": o.noise_text(), "source": o.source})
                      for o in cal.model.observations})
    stats = grid(cal.sample_stats)
    return xr.DataTree.from_dict({
        "posterior": post,
        "posterior_predictive": grid(cal.posterior_predictive),
        "prior": prior,
        "prior_predictive": flat(cal.prior_predictive),
        "observed_data": obs,
        "sample_stats": stats,
    })


# --------------------------------------------------------------------------- run folder


def figures(cal: Calibration) -> dict:
    """The calibration's figures by file name (nothing saved)."""
    from probmodel.plots.calibration import plot_posterior_predictive, plot_prior_posterior

    observed = {o.name: (o.value, o.kind) for o in cal.model.observations}
    # Observed outputs already appear in the predictive figure.
    outputs = [k for k in cm_names(cal)
               if k not in cal.model.latent_names and k not in observed]
    figs = {
        "prior_posterior": plot_prior_posterior(cal.prior, cal.posterior,
                                                cal.model.latent_names, observed,
                                                cal.scenario.title),
        "posterior_predictive": plot_posterior_predictive(
            cal.posterior_predictive, observed, cal.prior_predictive, cal.scenario.title),
    }
    if outputs:
        figs["prior_posterior_outputs"] = plot_prior_posterior(
            cal.prior, cal.posterior, outputs, observed, cal.scenario.title)
    return figs


#: The analysis groups of a calibration's tree (besides the ArviZ groups of draws).
ANALYSIS_GROUPS = ("diagnostics", "prior_posterior", "predictive_check")


def to_tree(cal: Calibration) -> xr.DataTree:
    """A calibration's result tree (:func:`probmodel.tree.make`), all of it in draws.nc.

    The ArviZ groups (:func:`to_datatree`) and ``/diagnostics``, ``/prior_posterior``
    and ``/predictive_check``; :func:`outputs` derives diagnostics.csv,
    prior_posterior.csv, posterior_predictive.csv and summary.json from it. The folder
    is written even when the diagnostics fail: it is the evidence.
    """
    from probmodel import tree

    arviz = to_datatree(cal)
    groups: dict[str, Any] = {k: v.to_dataset() for k, v in arviz.children.items()}
    groups.update({"diagnostics": diagnostics_dataset(cal),
                   "prior_posterior": prior_posterior_dataset(cal),
                   "predictive_check": predictive_dataset(cal)})
    s = cal.settings
    return tree.make(
        "calibrate", cal.scenario.name, groups, salt=f"calibrate{s['seed']}{s['samples']}",
        files={"draws.nc": {f"/{g}": f"/{g}" for g in groups}},
        settings=dict(
            method="NUTS (numpyro)", **s, draws_kept=s["chains"] * s["samples"],
            diagnostics_ok=cal.diagnostics.ok, divergences=cal.diagnostics.divergences,
            failures=cal.diagnostics.failures,
            calibrated_parameters=list(cal.model.latent_names),
            observations=[o.name for o in cal.model.observations],
            dtype="float64 (NUTS), float32 (prior draws)", seconds=cal.seconds))


def outputs(t: xr.DataTree):
    """A calibration folder's tables and summary.json, from its tree alone.

    A serving calibration (settings ``calibration`` = ``serving-calibration``) is
    derived by :func:`probmodel.serving.output.calibration_outputs`.
    """
    from probmodel import tree

    s = tree.settings(t)
    if "calibration" in s:
        from probmodel.serving import output as serving

        if s["calibration"] == serving.KIND:
            return serving.calibration_outputs(t)
    diag, pp, check = (t[g].to_dataset() for g in ANALYSIS_GROUPS)
    return tree.Outputs(
        tables={"diagnostics.csv": diagnostics_frame(diag),
                "prior_posterior.csv": prior_posterior_frame(pp),
                "posterior_predictive.csv": predictive_frame(check)},
        json={"summary.json": summary_json(diag, pp, check)})
