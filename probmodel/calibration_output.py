"""What a calibration produced, as tables, JSON, an ArviZ DataTree, figures and a run record.

The numbers come from :func:`probmodel.calibration.calibrate`; this module arranges them
(nothing here samples) and :func:`run_record` describes the run folder that
:func:`probmodel.runs.write` writes.
"""

from __future__ import annotations

import math

import numpy as np

from probmodel.calibration import INTERVAL, Calibration
from probmodel.calibration import ess as _ess
from probmodel.model import unit_of

# --------------------------------------------------------------------------- tables


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    q = np.quantile(np.asarray(x, np.float64).ravel(), INTERVAL)
    return float(q[0]), float(q[1]), float(q[2])


def prior_posterior_table(cal: Calibration, names=None):
    """Median and 90% interval of each parameter (and key output) before and after.

    ``shrinkage`` = 1 - posterior variance / prior variance on the scale the sampler
    works on (log for positive quantities): near 0 means the answer is still the prior's.
    """
    import pandas as pd

    names = names or [*cm_names(cal)]
    rows = []
    for name in names:
        if name not in cal.prior or name not in cal.posterior:
            continue
        pr, po = np.asarray(cal.prior[name], np.float64), cal.posterior[name].ravel()
        a, b = _interval(pr), _interval(po)
        positive = bool(np.all(pr > 0) and np.all(po > 0))
        tp, tq = (np.log(pr), np.log(po)) if positive else (pr, po)
        vp = float(np.var(tp))
        shrink = 1.0 - float(np.var(tq)) / vp if vp > 0 else float("nan")
        rows.append({
            "variable": name, "role": "parameter" if name in cal.model.latent_names
            else "output", "units": unit_of(name) or cal.scenario.parameters[name].unit,
            "prior_q05": a[0], "prior_q50": a[1], "prior_q95": a[2],
            "posterior_q05": b[0], "posterior_q50": b[1], "posterior_q95": b[2],
            "shrinkage": shrink,
            "observed": name in {o.name for o in cal.model.observations},
        })
    return pd.DataFrame(rows)


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


def diagnostics_table(cal: Calibration):
    """Per parameter: r_hat, ess_bulk, ess_tail, divergences, ok."""
    import pandas as pd

    return pd.DataFrame(cal.diagnostics.table,
                        columns=["parameter", "r_hat", "ess_bulk", "ess_tail", "divergences",
                                 "ok"])


def predictive_table(cal: Calibration):
    """Each observation against its posterior predictive: value, kind, quantiles, p-value."""
    import pandas as pd

    rows = []
    for o in cal.model.observations:
        rep = cal.posterior_predictive[o.name].ravel()
        q = _interval(rep)
        # Posterior predictive tail probability of the observed value (two-sided for
        # measurements, one-sided for bounds): small values flag a misfit.
        below = float(np.mean(rep <= o.value))
        p = {"lower_bound": 1 - below, "upper_bound": below}.get(o.kind, 2 * min(below,
                                                                               1 - below))
        rows.append({"observation": o.name, "kind": o.kind, "value": o.value,
                     "noise": o.noise_text(), "pp_q05": q[0], "pp_q50": q[1], "pp_q95": q[2],
                     "pp_tail_prob": p, "source": o.source})
    return pd.DataFrame(rows)


def summary(cal: Calibration) -> dict:
    """JSON-ready summary: settings, diagnostics, prior vs posterior, P(profit > 0)."""
    pp = prior_posterior_table(cal)
    out = {
        "scenario": cal.scenario.name,
        "settings": cal.settings,
        "seconds": cal.seconds,
        "diagnostics_ok": cal.diagnostics.ok,
        "divergences": cal.diagnostics.divergences,
        "failures": cal.diagnostics.failures,
        "max_r_hat": max(r["r_hat"] for r in cal.diagnostics.table),
        "min_ess_bulk": min(r["ess_bulk"] for r in cal.diagnostics.table),
        "min_ess_tail": min(r["ess_tail"] for r in cal.diagnostics.table),
        "calibrated_parameters": list(cal.model.latent_names),
        "observations": [o.name for o in cal.model.observations],
        "prior_posterior": {r["variable"]: {k: r[k] for k in (
            "prior_q05", "prior_q50", "prior_q95", "posterior_q05", "posterior_q50",
            "posterior_q95", "shrinkage")} for r in pp.to_dict("records")},
    }
    if "profit" in cal.posterior:
        p = cal.posterior["profit"].ravel() > 0
        ess = _ess_of(p.reshape(cal.posterior["profit"].shape).astype(np.float64))
        prob = float(p.mean())
        out["p_profitable"] = {
            "prior": float(np.mean(cal.prior["profit"] > 0)),
            "posterior": prob,
            "posterior_mcse": math.sqrt(max(prob * (1 - prob), 0.0) / max(ess, 1.0)),
        }
    return out


def _ess_of(x: np.ndarray) -> float:
    v = _ess(x, "mean")
    return v if math.isfinite(v) else float(x.size)


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


def run_record(cal: Calibration):
    """What a calibration run folder holds (:func:`probmodel.runs.write` writes it).

    Files: draws.nc (DataTree), diagnostics.csv, prior_posterior.csv,
    posterior_predictive.csv, summary.json, manifest.json, scenario/, figures/.
    The folder is written even when the diagnostics fail: it is the evidence.
    """
    from probmodel import runs

    s = cal.settings
    return runs.Run(
        "calibrate", cal.scenario.name, f"calibrate{s['seed']}{s['samples']}", [cal.scenario],
        netcdf={"draws.nc": to_datatree(cal)},
        tables={"diagnostics.csv": diagnostics_table(cal),
                "prior_posterior.csv": prior_posterior_table(cal),
                "posterior_predictive.csv": predictive_table(cal)},
        summary_json=summary(cal), figures=lambda: figures(cal),
        manifest=dict(
            method="NUTS (numpyro)", **s, draws_kept=s["chains"] * s["samples"],
            diagnostics_ok=cal.diagnostics.ok, divergences=cal.diagnostics.divergences,
            failures=cal.diagnostics.failures,
            calibrated_parameters=list(cal.model.latent_names),
            observations=[o.name for o in cal.model.observations],
            dtype="float64 (NUTS), float32 (prior draws)", seconds=cal.seconds))
