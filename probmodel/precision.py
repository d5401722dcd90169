"""Precision control of a streaming run: the current MCSEs against the target.

:func:`precision_status` (after each call of a ``--precision`` run) and
:func:`check_reachable` (after the first: a precision no draw limit can reach is refused
at once) for :func:`probmodel.streaming.run_stream`; :func:`moments` combines the
per-chunk moments both use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from probmodel import distributed, histograms, results
from probmodel.mcse import block_factors, posterior_inflation, posterior_part, posterior_parts


def moments(cat: Mapping[str, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray]:
    """Combine per-chunk (count, mean, M2) in chunk order: total N, mean, sd."""
    c = cat["count"].astype(np.float64)  # (chunks,)
    n = int(cat["count"].sum())
    w = c[:, None]
    mean = (w * cat["mean"]).sum(axis=0) / max(n, 1)
    m2 = cat["m2"].sum(axis=0) + (w * (cat["mean"] - mean) ** 2).sum(axis=0)
    sd = np.sqrt(m2 / (n - 1)) if n > 1 else np.zeros_like(mean)
    return n, mean, sd


def check_reachable(status: dict, precision: float) -> None:
    """Refuse a precision that no draw limit can reach, from the first MCSEs.

    An MCSE falls as 1/sqrt(draws), so reaching ``precision`` takes about
    ``draws x (mcse / precision)^2`` draws; beyond :data:`probmodel.checks.MAX_DRAWS`
    the run would only stop at its limit (or be killed), so it ends now (exit 2).
    """
    from probmodel.checks import MAX_DRAWS
    from probmodel.errors import UsageError

    n = status["draws"]
    p_se = status["p_profitable_mcse"] or 0.0
    q_se = status["worst_relative_quantile_mcse"] or 0.0
    worst, what = ((p_se, "P(profit > 0)") if p_se >= q_se else
                   (q_se, f"{status['worst_quantile']} (relative)"))
    if status["met"] or status["posterior_limited"] or not worst > 0:
        return
    needed = float(distributed.agree(np.float64(n * (worst / precision) ** 2)))
    if needed <= MAX_DRAWS:
        return
    reachable = worst * math.sqrt(n / MAX_DRAWS)
    raise UsageError(f"--precision {precision:g}: out of reach: after {n:,} draws the MCSE "
                     f"of {what} is {worst:.2g}, so about {needed:.2g} draws would be "
                     f"needed (draws x (MCSE / precision)^2), beyond the engine's most "
                     f"({MAX_DRAWS:,}); the finest precision in reach is about "
                     f"{reachable:.1g}; nothing was written")


def precision_status(acc, ranges, key_outputs, precision, varying,
                      posterior_ess=None) -> dict:
    """Current MCSEs against the requested precision."""
    cat = acc.totals()
    n, mean, sd = moments(cat)  # of the histogrammed variables, in hist_vars' order
    vmin, vmax = cat["min"].min(axis=0), cat["max"].max(axis=0)
    hv = acc.plan.hist_vars  # the key outputs among them: histogrammed
    hi = [varying.index(k) for k in hv]
    values, _ = histograms.summary(hv, acc.hist, *ranges[:3], n, mean, sd, vmin,
                                   vmax, ranges[3:], cat["tails"].sum(axis=0))
    p_now = (float(cat["profitable"].sum()) / max(n, 1)) if "profitable" in cat else None
    sd_all = np.full(len(varying), np.nan)  # block_factors' order; only hi's are used
    sd_all[hi] = sd
    factors = block_factors(cat, sd_all, p_now, ())
    if factors is not None:  # correlated inputs: batch-means MCSEs
        for j, k in zip(hi, hv, strict=True):
            values[k] = (values[k][0], np.asarray(values[k][1]) * factors["variables"][j])
    post_extra = posterior_parts(acc.post, posterior_ess)
    post_f = posterior_inflation(values, hv, None if post_extra is None else post_extra[hi])
    worst_q, worst_name = 0.0, None
    post_q = 0.0  # the largest relative quantile MCSE from the posterior sample alone
    iq = [results.STATS.index(results.qname(q)) for q in results.QUANTILES]
    for k in (k for k in key_outputs if k in values):
        val, se = values[k]
        half90 = abs(val[iq[-1]] - val[iq[0]]) / 2
        j = hv.index(k)
        for i in iq:
            rel = se[i] / max(abs(val[i]), half90, 1e-300)
            if rel > worst_q:
                worst_q, worst_name = rel, f"{k} {results.STATS[i]}"
            if post_f is not None and post_f[j] > 1.0:
                # the posterior part of this MCSE, which more forward draws do not shrink
                post_q = max(post_q, rel * math.sqrt(1.0 - 1.0 / post_f[j] ** 2))
    p_se = None
    extra = 0.0
    if "profitable" in cat:
        p = float(cat["profitable"].sum()) / max(n, 1)
        extra, _, _ = posterior_part(acc.post, posterior_ess)
        f = factors.get("p_profitable", 1.0) if factors is not None else 1.0
        p_se = math.sqrt(max(p * (1 - p), 0.0) / max(n, 1) * f * f + extra)
    met = worst_q <= precision and (p_se is None or p_se <= precision)
    # the posterior sample's part does not shrink with more forward draws
    limited = math.sqrt(extra) > precision or post_q > precision
    return {"target": precision, "draws": n, "met": bool(met), "p_profitable_mcse": p_se,
            "worst_relative_quantile_mcse": worst_q, "worst_quantile": worst_name,
            "posterior_mcse": math.sqrt(extra) if posterior_ess else None,
            "posterior_ess": posterior_ess, "posterior_limited": bool(limited)}


def status_note(status: Mapping) -> str:
    """``MCSE of P(profit > 0) 0.0031, worst quantile 0.0042 (margin q05); target 0.002``."""
    parts = []
    if status.get("p_profitable_mcse") is not None:
        parts.append(f"MCSE of P(profit > 0) {status['p_profitable_mcse']:.2g}")
    if status.get("worst_quantile"):
        parts.append(f"worst relative quantile MCSE {status['worst_relative_quantile_mcse']:.2g}"
                     f" ({status['worst_quantile']})")
    return f"{', '.join(parts)}; target {status['target']:g}"
