"""probmodel against the plain NumPy Monte Carlo a user would write, in one process.

Both sample priors/deepseek-adjusted.toml at 2^24 draws, best of two repeats each:
- NumPy: ``numpy_plain.run`` (float32 chunks of 10^5, Betas as gamma ratios, mean margin
  and P(profit > 0) only; one core);
- probmodel: ``probmodel.run`` as the CLI calls it (every variable's moments, quantiles
  with MCSE, P(profit > 0), kept draws, the run folder written to a temporary folder),
  after one warm-up run of the same size so compilation is not counted.
Printed: draws/s of each, the ratio, and draws per CPU-second (process CPU time, all
threads), which the machine's load does not change.

    .venv/bin/python benchmarks/bench_plain.py [--draws N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy_plain

SCENARIO = "priors/deepseek-adjusted.toml"


def _timed(f):
    w0, c0 = time.perf_counter(), time.process_time()
    r = f()
    return r, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    """Run both engines and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1 << 24)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    n = a.draws

    import probmodel

    sc = probmodel.load_scenario(SCENARIO)
    spec = numpy_plain.load(SCENARIO)
    print(f"{SCENARIO}, {n:,} draws, best of {a.repeats}; {os.cpu_count()} CPU cores; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        probmodel.run(sc, draws=n, seed=99, out=Path(tmp) / "warm")  # compile the same plan
        best = {}
        for rep in range(a.repeats):
            res, w, c = _timed(lambda rep=rep: numpy_plain.run(spec, n, seed=rep))
            if "numpy" not in best or w < best["numpy"][1]:
                best["numpy"] = (res["p_profitable"], w, c)
            out = Path(tmp) / f"run{rep}"
            res, w, c = _timed(
                lambda out=out, rep=rep: probmodel.run(sc, draws=n, seed=rep, out=out))
            if "probmodel" not in best or w < best["probmodel"][1]:
                best["probmodel"] = (res.summary["p_profitable"], w, c)
            print(f"  repeat {rep}: numpy {n / best['numpy'][1] / 1e6:.2f} M/s, "
                  f"probmodel {n / w / 1e6:.2f} M/s", flush=True)

    (pn, wn, cn), (pp, wp, cp) = best["numpy"], best["probmodel"]
    print()
    print("| engine | draws/s | draws per CPU-second | P(profit > 0) |")
    print("|---|---|---|---|")
    print(f"| plain NumPy | {n / wn / 1e6:.2f} M | {n / cn / 1e6:.2f} M | {pn:.4f} |")
    print(f"| probmodel run | {n / wp / 1e6:.2f} M | {n / cp / 1e6:.2f} M | {pp:.4f} |")
    print(f"\nratio (probmodel / NumPy): {wn / wp:.2f}x wall, {cn / cp:.2f}x per CPU-second; "
          f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
