"""Calibration speed: ESS per second of the slowest parameter, by NUTS chain method.

Each chain method runs in its own process (``numpyro.set_host_device_count(4)`` must
precede JAX's start; all three get it, so only the method differs): 4 chains x (500
warmup + 1000 draws) on priors/deepseek-evidence.toml, twice in the process. The first
run includes compilation (numpyro 0.22 recompiles on every run with the progress bar
off, so the second run compiles again unless the persistent cache holds it: the
benchmark runs without the cache to show the real cost, then with it).

Usage: python benchmarks/bench_nuts.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "priors/deepseek-evidence.toml"
METHODS = ("sequential", "vectorized", "parallel")


def child(method: str) -> dict:
    import numpyro

    numpyro.set_host_device_count(4)
    from probmodel import api, calibration

    sc = api.load_scenario(SCENARIO)
    runs = []
    for seed in (0, 1):
        t0 = time.perf_counter()
        cal = calibration.calibrate(sc, chains=4, chain_method=method, seed=seed)
        wall = time.perf_counter() - t0
        ess = min(row["ess_bulk"] for row in cal.diagnostics.table)
        slow = min(cal.diagnostics.table, key=lambda r: r["ess_bulk"])["parameter"]
        runs.append({"wall": wall, "ess": ess, "slowest": slow,
                     "divergences": cal.diagnostics.divergences})
    return {"method": method, "runs": runs}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
        return
    print(f"scenario {SCENARIO}; 4 chains x (500 warmup + 1000 draws); {os.cpu_count()} "
          f"CPU cores; load average at start {os.getloadavg()[0]:.2f}")
    print()
    print("| chain_method | cache | 1st run s | ESS/s 1st | 2nd run s | ESS/s 2nd | "
          "slowest parameter (ESS bulk) |")
    print("|---|---|---|---|---|---|---|")
    for cache in ("off", ""):
        for m in METHODS:
            env = dict(os.environ, PROBMODEL_JAX_CACHE=cache)
            out = subprocess.run([sys.executable, __file__, "--child", m], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])["runs"]
            print(f"| {m} | {'off' if cache else 'on'} | {r[0]['wall']:.2f} | "
                  f"{r[0]['ess'] / r[0]['wall']:.0f} | {r[1]['wall']:.2f} | "
                  f"{r[1]['ess'] / r[1]['wall']:.0f} | {r[1]['slowest']} "
                  f"({r[1]['ess']:.0f}) |", flush=True)


if __name__ == "__main__":
    main()
