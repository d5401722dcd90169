"""A plain NumPy Monte Carlo of priors/deepseek-adjusted.toml: the benchmark's baseline.

The same model and the same distributions as probmodel (numbers read from the scenario
file), written the way a careful NumPy user would: ``Generator.beta`` and
``Generator.lognormal`` in float64, chunks of 2**17 draws, streaming float64 moments,
P(profit > 0) and fixed-bin histograms of every varying variable for the quantiles
(the same summary probmodel's streaming engine computes). Outputs that do not vary
between draws are computed once, as scalars.
"""

from __future__ import annotations

import math

import numpy as np

CHUNK = 1 << 17
BINS = 1 << 15
HOURS = 24.0
SECONDS = 86400.0

#: The varying variables, in the order probmodel lists them (inputs, then outputs).
VARYING = ("gpu_price_per_hour", "gpu_cost_share", "cache_hit_rate", "offpeak_share",
           "v3_share", "pay_rate", "dau", "tokens_per_request", "gpu_cost", "total_cost",
           "revenue_before_pay_rate", "revenue", "profit", "margin", "cost_profit_ratio",
           "requests_per_dau")


def load(path: str = "priors/deepseek-adjusted.toml") -> dict:
    """Native distribution parameters, fixed values and prices from the scenario file."""
    from probmodel.io import read_scenario

    sc = read_scenario(path)
    return {
        "dist": {k: (p.dist, dict(p.params)) for k, p in sc.uncertain.items()},
        "fixed": {k: float(p.point) for k, p in sc.fixed.items()},
        "prices": np.asarray(sc.prices, np.float64),
    }


def draw(rng: np.random.Generator, spec: dict, n: int) -> dict[str, np.ndarray]:
    """One chunk: every varying input and output (float64)."""
    d = {}
    for name, (fam, p) in spec["dist"].items():
        if fam == "Beta":
            d[name] = rng.beta(p["alpha"], p["beta"], n)
        elif fam == "LogNormal":
            d[name] = rng.lognormal(p["loc"], p["scale"], n)
        else:
            raise ValueError(f"the reference implements Beta and LogNormal, not {fam}")
    f = spec["fixed"]
    gpus = f["nodes_avg"] * f["gpus_per_node"]
    d["gpu_cost"] = gpus * d["gpu_price_per_hour"] * HOURS
    d["total_cost"] = d["gpu_cost"] / d["gpu_cost_share"]
    inp, out = f["input_tokens_per_day"], f["output_tokens_per_day"]
    hit = d["cache_hit_rate"]
    off = d["offpeak_share"]
    v3 = d["v3_share"]
    pr = spec["prices"]  # window x model x class
    # blended price per class = sum over window, model of share x price
    blended = [((1 - off) * (v3 * pr[0, 0, c] + (1 - v3) * pr[0, 1, c])
                + off * (v3 * pr[1, 0, c] + (1 - v3) * pr[1, 1, c])) for c in range(3)]
    d["revenue_before_pay_rate"] = (inp * hit * blended[0] + inp * (1 - hit) * blended[1]
                                    + out * blended[2]) / 1e6
    d["revenue"] = d["pay_rate"] * d["revenue_before_pay_rate"]
    d["profit"] = d["revenue"] - d["total_cost"]
    d["margin"] = d["profit"] / d["revenue"]
    d["cost_profit_ratio"] = d["profit"] / d["total_cost"]
    d["requests_per_dau"] = (inp + out) / (d["dau"] * d["tokens_per_request"])
    return d


def constants(spec: dict) -> dict[str, float]:
    """Outputs that do not depend on any uncertain input."""
    f = spec["fixed"]
    gpus = f["nodes_avg"] * f["gpus_per_node"]
    tpd = f["input_tokens_per_day"] + f["output_tokens_per_day"]
    tps = tpd / SECONDS
    peak = f["nodes_peak"] / f["nodes_avg"]
    flops = 2.0 * f["active_params"] * tps * peak
    return {"gpus": gpus, "peak_factor": peak, "tokens_per_day": tpd,
            "tokens_per_second": tps, "flops_required": flops,
            "implied_utilization": flops / (f["chip_peak_flops"] * gpus)}


def run(spec: dict, draws: int, seed: int = 0) -> dict:
    """Stream ``draws`` draws: moments, P(profit > 0), histogram quantiles."""
    rng = np.random.default_rng(seed)
    nv = len(VARYING)
    counts, means, m2s = [], [], []
    profitable = 0
    hist = np.zeros((nv, BINS + 2), np.int64)
    lo = hi = None
    done = 0
    while done < draws:
        n = min(CHUNK, draws - done)
        d = draw(rng, spec, n)
        x = np.stack([d[k] for k in VARYING])
        if lo is None:  # pilot: ranges from the first chunk
            a, b = np.quantile(x, [0.001, 0.999], axis=1)
            span = np.maximum(b - a, 1e-30)
            lo, hi = a - 3 * span, b + 3 * span
            inv_w = BINS / (hi - lo)
        mean_c = x.mean(axis=1)
        counts.append(n)
        means.append(mean_c)
        m2s.append(((x - mean_c[:, None]) ** 2).sum(axis=1))
        profitable += int(np.count_nonzero(d["profit"] > 0))
        b = np.clip(np.floor((x - lo[:, None]) * inv_w[:, None]), -1, BINS).astype(np.int64)
        b += 1 + (np.arange(nv) * (BINS + 2))[:, None]
        hist += np.bincount(b.ravel(), minlength=nv * (BINS + 2)).reshape(nv, BINS + 2)
        done += n
    c = np.asarray(counts, np.float64)[:, None]
    means = np.asarray(means)
    mean = (c * means).sum(axis=0) / draws  # Chan's combination of chunk moments
    m2 = np.sum(m2s, axis=0) + (c * (means - mean) ** 2).sum(axis=0)
    sd = np.sqrt(m2 / max(draws - 1, 1))
    cum = np.cumsum(hist, axis=1)
    med = []
    for j in range(nv):
        k = int(np.searchsorted(cum[j], 0.5 * draws))
        med.append(lo[j] + (k - 0.5) / inv_w[j])
    p = profitable / draws
    return {"draws": draws, "mean": dict(zip(VARYING, mean, strict=True)),
            "sd": dict(zip(VARYING, sd, strict=True)),
            "median": dict(zip(VARYING, med, strict=True)), "p_profitable": p,
            "p_profitable_mcse": math.sqrt(p * (1 - p) / draws),
            "constants": constants(spec)}
