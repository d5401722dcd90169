"""Are the MCSEs of a posterior run honest? Spread over posterior tables against the MCSE.

A `run --posterior` draws its calibrated parameters from a posterior table of M rows;
its estimates err both by the forward draws and by the table (an MCMC sample of ESS
draws). Here K tables of M iid rows (ESS = M) are drawn from deepseek-adjusted's own
priors of pay_rate and gpu_price_per_hour, so the truth is the prior predictive; each
table feeds one run of N draws. The spread of each estimate over the tables, over the
mean reported MCSE, is 1 for an honest MCSE (its standard error ~ ratio / sqrt(2 (K-1))).
"Forward only" divides the reported MCSE by its posterior factor: the MCSE a run gave
before every statistic had the posterior term (P(profit > 0) had it already).

Run: ``python benchmarks/bench_posterior_mcse.py [K] [M] [N]`` (default 150 x 40 x 65,536).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import probmodel
from probmodel import results, sampling, streaming

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("pay_rate", "gpu_price_per_hour")


def measure(tables: int, rows: int, draws: int) -> dict:
    """Per estimate: spread / reported MCSE, its standard error, spread / forward MCSE."""
    sc = probmodel.load_scenario(ROOT / "priors" / "deepseek-adjusted.toml")
    model = sampling.ForwardModel.from_scenario(sc, NAMES)
    out = {k: {"est": [], "mcse": [], "fwd": []} for k in
           ("P(profit > 0)", "mean profit", "median profit", "mean revenue")}
    for t in range(tables):
        table = sampling.sample_arrays(sc, rows, 500 + t, names=NAMES)
        s = streaming.run_stream(model, model.args(sc, table), draws, 9000 + t,
                                 posterior_ess=float(rows)).summary
        r = out["P(profit > 0)"]
        r["est"].append(float(s["p_profitable"]))
        r["mcse"].append(float(s["p_profitable_mcse"]))
        r["fwd"].append(float(s.attrs["p_profitable_mcse_forward"]))
        for label, var, st in (("mean profit", "profit", "mean"),
                               ("median profit", "profit", "q50"),
                               ("mean revenue", "revenue", "mean")):
            d = results.stat_dict(s, var)
            f = float(s[var].attrs.get("mcse_posterior_factor", 1.0))
            out[label]["est"].append(d[st])
            out[label]["mcse"].append(d[f"mcse_{st}"])
            out[label]["fwd"].append(d[f"mcse_{st}"] / f)
    res = {}
    for label, r in out.items():
        sd = float(np.std(r["est"], ddof=1))
        m = float(np.mean(r["mcse"]))
        res[label] = {"ratio": sd / m, "ratio_se": sd / m / np.sqrt(2 * (tables - 1)),
                      "ratio_forward": sd / float(np.mean(r["fwd"]))}
    return res


def main() -> None:
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 65_536
    t0 = time.perf_counter()
    res = measure(k, m, n)
    print(f"deepseek-adjusted, posterior tables of {m} iid rows of pay_rate and "
          f"gpu_price_per_hour: {k} tables x {n:,} draws ({time.perf_counter() - t0:.0f} s)\n")
    print("| estimate | spread over tables / reported MCSE | / forward-only MCSE |")
    print("|---|---|---|")
    for label, r in res.items():
        print(f"| {label} | {r['ratio']:.3f} ± {r['ratio_se']:.3f} | {r['ratio_forward']:.2f} |")


if __name__ == "__main__":
    main()
