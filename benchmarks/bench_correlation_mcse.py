"""Are the MCSEs of a correlated run honest? Spread over seeds against the reported MCSE.

For priors/deepseek-correlated.toml, ``S`` runs of ``N`` draws with seeds 1000..1000+S-1:
the standard deviation of each estimate across the seeds over the mean MCSE the runs
report (batch means over Iman-Conover's independent blocks), and over the iid MCSE the
runs would report without them (the reported MCSE divided by its factor). A ratio of 1
is an honest MCSE; its own standard error is about ratio / sqrt(2 (S - 1)).

Run: ``python benchmarks/bench_correlation_mcse.py [S] [N]`` (default 200 x 131,072).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import probmodel
from probmodel import results, sampling, streaming

ROOT = Path(__file__).resolve().parents[1]


def measure(seeds: int, draws: int, path: Path = ROOT / "priors" / "deepseek-correlated.toml"):
    """Estimates, reported MCSEs and MCSE factors of P(profit > 0), mean profit and cost."""
    sc = probmodel.load_scenario(path)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    rows = {k: {"est": [], "mcse": [], "factor": []} for k in
            ("P(profit > 0)", "mean profit", "mean total_cost", "median profit")}
    for seed in range(1000, 1000 + seeds):
        s = streaming.run_stream(model, args, draws, seed).summary
        r = rows["P(profit > 0)"]
        r["est"].append(float(s["p_profitable"]))
        r["mcse"].append(float(s["p_profitable_mcse"]))
        r["factor"].append(float(s.attrs.get("p_profitable_mcse_factor", 1.0)))
        for label, var, st in (("mean profit", "profit", "mean"),
                               ("mean total_cost", "total_cost", "mean"),
                               ("median profit", "profit", "q50")):
            d = results.stat_dict(s, var)
            rows[label]["est"].append(d[st])
            rows[label]["mcse"].append(d[f"mcse_{st}"])
            rows[label]["factor"].append(float(s[var].attrs.get("mcse_factor", 1.0)))
    out = {}
    for label, r in rows.items():
        sd = float(np.std(r["est"], ddof=1))
        mcse = float(np.mean(r["mcse"]))
        iid = float(np.mean(np.asarray(r["mcse"]) / np.asarray(r["factor"])))
        out[label] = {"ratio": sd / mcse, "ratio_iid": sd / iid,
                      "ratio_se": sd / mcse / np.sqrt(2 * (seeds - 1)),
                      "factor": float(np.mean(r["factor"]))}
    return out


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    draws = int(sys.argv[2]) if len(sys.argv) > 2 else 131_072
    t0 = time.perf_counter()
    res = measure(seeds, draws)
    print(f"priors/deepseek-correlated.toml: {seeds} seeds x {draws:,} draws "
          f"({time.perf_counter() - t0:.0f} s)\n")
    print("| estimate | spread over seeds / reported MCSE | / iid MCSE | mean MCSE factor |")
    print("|---|---|---|---|")
    for label, r in res.items():
        print(f"| {label} | {r['ratio']:.3f} ± {r['ratio_se']:.3f} | {r['ratio_iid']:.3f} | "
              f"{r['factor']:.3f} |")


if __name__ == "__main__":
    main()
