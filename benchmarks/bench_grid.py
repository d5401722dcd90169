"""A 15-cell grid (the report's table 15) at 1e6 draws per cell, through probmodel's sweep.

Pay rate {25, 30, 35, 40, 45}% x GPU cost share {60, 70, 80}% on
priors/deepseek-adjusted.toml, the other inputs drawn (common random numbers across
cells). The sweep draws each chunk's inputs once and evaluates the cells with one
compiled, vmapped function; the run is timed twice in one process (the first includes
tracing and compilation), with the persistent compilation cache off, and the number of
XLA compilations of each run is counted.

Usage: python benchmarks/bench_grid.py [--draws 1e6]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time

os.environ.setdefault("PROBMODEL_JAX_CACHE", "off")


class _Count(logging.Handler):
    def __init__(self):
        super().__init__()
        self.n = 0

    def emit(self, record):
        if "Compiling" in record.getMessage() or "compil" in record.getMessage().lower():
            self.n += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", default="1e6")
    draws = int(float(ap.parse_args().draws))
    import jax

    from probmodel import api
    from probmodel.analysis import sweep

    jax.config.update("jax_log_compiles", True)
    counter = _Count()
    logging.getLogger("jax").addHandler(counter)
    logging.getLogger("jax").setLevel(logging.WARNING)
    sc = api.load_scenario("priors/deepseek-adjusted.toml")
    grid = sweep.make_grid({"pay_rate": [0.25, 0.30, 0.35, 0.40, 0.45],
                            "gpu_cost_share": [0.60, 0.70, 0.80]})
    print(f"table 15 grid: {grid.n_cells} cells x {draws:.0e} draws; {os.cpu_count()} CPU "
          f"cores; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| run | wall s | cell-draws/s | XLA compilations | P(profit>0) at 35% / 70% |")
    print("|---|---|---|---|---|")
    for label in ("1st (incl. compile)", "2nd"):
        counter.n = 0
        t0 = time.perf_counter()
        res = sweep.sweep(sc, grid, output="margin", draws=draws, seed=0, keep=1000)
        wall = time.perf_counter() - t0
        p = res.summary["p_profitable"].sel(pay_rate=0.35, gpu_cost_share=0.70).item()
        print(f"| {label} | {wall:.2f} | {grid.n_cells * draws / wall / 1e6:.2f} M | "
              f"{counter.n} | {p:.4f} |", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
