"""The Monte Carlo a careful NumPy user would write for priors/deepseek-adjusted.toml.

What an analyst replacing a spreadsheet writes by hand, and so what probmodel must beat:
float32 draws in chunks of 10^5, every Beta as the ratio of two ``standard_gamma`` draws
(NumPy's fastest exact Beta), LogNormals from one batch of normals, the report's
equations, and only the two answers the analyst asked for: the mean margin and
P(profit > 0). One core (NumPy's random generator is single-threaded). No histograms,
no quantiles, no kept draws: that is ``numpy_reference.py``, the heavier baseline that
computes probmodel's full summary.

The numbers (native distribution parameters, fixed values, the price table) are read
from the scenario file, so both engines sample exactly the same model.
"""

from __future__ import annotations

import numpy as np

CHUNK = 100_000
HOURS = 24.0


def load(path: str = "priors/deepseek-adjusted.toml") -> dict:
    """Native distribution parameters, fixed values and prices from the scenario file."""
    from probmodel.io import read_scenario

    sc = read_scenario(path)
    return {
        "dist": {k: (p.dist, {n: float(v) for n, v in p.params.items()})
                 for k, p in sc.uncertain.items()},
        "fixed": {k: float(p.point) for k, p in sc.fixed.items()},
        "prices": np.asarray(sc.prices, np.float32),
    }


def _chunk(rng: np.random.Generator, spec: dict, n: int) -> tuple[float, int]:
    """Sum of margins and count of profitable draws in one chunk of ``n`` draws."""
    f32 = np.float32
    d = {}
    for name, (fam, p) in spec["dist"].items():
        if fam == "Beta":
            g1 = rng.standard_gamma(p["alpha"], n, dtype=f32)
            g2 = rng.standard_gamma(p["beta"], n, dtype=f32)
            d[name] = g1 / (g1 + g2)
        elif fam == "LogNormal":
            d[name] = np.exp(f32(p["loc"]) + f32(p["scale"])
                             * rng.standard_normal(n, dtype=f32))
        else:
            raise ValueError(f"the plain script implements Beta and LogNormal, not {fam}")
    f = spec["fixed"]
    pr = spec["prices"]  # window x model x class
    off, v3, hit = d["offpeak_share"], d["v3_share"], d["cache_hit_rate"]
    blended = [(1 - off) * (v3 * pr[0, 0, c] + (1 - v3) * pr[0, 1, c])
               + off * (v3 * pr[1, 0, c] + (1 - v3) * pr[1, 1, c]) for c in range(3)]
    inp, out = f32(f["input_tokens_per_day"] / 1e6), f32(f["output_tokens_per_day"] / 1e6)
    revenue = d["pay_rate"] * (inp * hit * blended[0] + inp * (1 - hit) * blended[1]
                               + out * blended[2])
    gpus = f32(f["nodes_avg"] * f["gpus_per_node"])
    cost = gpus * d["gpu_price_per_hour"] * f32(HOURS) / d["gpu_cost_share"]
    profit = revenue - cost
    return float(np.sum(profit / revenue, dtype=np.float64)), int(np.count_nonzero(profit > 0))


def run(spec: dict, draws: int, seed: int = 0) -> dict:
    """Mean margin and P(profit > 0) over ``draws`` draws."""
    rng = np.random.default_rng(seed)
    total, profitable, done = 0.0, 0, 0
    while done < draws:
        n = min(CHUNK, draws - done)
        s, k = _chunk(rng, spec, n)
        total += s
        profitable += k
        done += n
    return {"draws": draws, "margin_mean": total / draws, "p_profitable": profitable / draws}
