"""Forward Monte Carlo throughput: probmodel against a plain NumPy implementation.

One run of this script times both on priors/deepseek-adjusted.toml at 1e6, 1e7 and 1e8
draws. Each (engine, draws) configuration runs in its own subprocess, so the peak RSS
reported is that configuration's; NumPy and probmodel configurations alternate, so
load from other processes on the machine falls on both alike. probmodel runs without
the persistent compilation cache, so "compile" is the real first-call cost (trace +
XLA compile); its draws/s exclude it (the benchmark runs the compiled function).

Usage: python benchmarks/bench_forward.py [--draws 1e6,1e7,1e8] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "priors/deepseek-adjusted.toml"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_numpy(draws: int) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy_reference as ref

    spec = ref.load(SCENARIO)
    ref.run(spec, ref.CHUNK)  # warm caches (imports, allocator)
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = ref.run(spec, draws, seed=1)
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": time.process_time() - c0, "rate": draws / wall,
            "rss_mb": _rss_mb(), "p": res["p_profitable"]}


def child_probmodel(draws: int) -> dict:
    t0 = time.perf_counter()
    from probmodel import api, sampling, streaming

    t_import = time.perf_counter() - t0
    sc = api.load_scenario(SCENARIO)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    # First call: the same compiled plan as the timed run, on two calls' worth of draws.
    # (keep_cap scaled so that the kept-draw stride, hence the compiled plan, is the same)
    warm_n = min(draws, 2 * streaming.CHUNKS_PER_CALL * sampling.CHUNK)
    kw = {} if draws <= streaming.KEEP_CAP else {"keep_cap": streaming.KEEP_CAP * warm_n / draws}
    t0 = time.perf_counter()
    streaming.run_stream(model, args, warm_n, 0, **kw)
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = streaming.run_stream(model, args, draws, 1)
    wall = time.perf_counter() - t0
    per_draw = wall / draws
    return {"wall": wall, "cpu": time.process_time() - c0, "rate": draws / wall,
            "rss_mb": _rss_mb(), "compile": max(t_warm - warm_n * per_draw, 0.0),
            "import": t_import, "p": float(res.summary["p_profitable"]),
            "method": res.quantile_method, "kept": len(res.kept["margin"])}


def run_child(engine: str, draws: int) -> dict:
    env = dict(os.environ, PROBMODEL_JAX_CACHE="off")
    cmd = [sys.executable, __file__, "--child", engine, "--draws", str(draws)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", default="1e6,1e7,1e8")
    ap.add_argument("--child", choices=["numpy", "probmodel"])
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    if a.child:
        n = int(float(a.draws))
        res = child_numpy(n) if a.child == "numpy" else child_probmodel(n)
        print(json.dumps(res))
        return
    import jax

    sizes = [int(float(x)) for x in a.draws.split(",")]
    print(f"scenario {SCENARIO}; {os.cpu_count()} CPU cores; jax {jax.__version__} "
          f"({jax.default_backend()}, {len(jax.devices())} device(s)); load average at "
          f"start {os.getloadavg()[0]:.2f}")
    rows = []
    for n in sizes:
        best = {}
        for _ in range(a.repeat):
            for engine in ("numpy", "probmodel"):
                r = run_child(engine, n)
                if engine not in best or r["rate"] > best[engine]["rate"]:
                    best[engine] = r
        rows.append((n, best["numpy"], best["probmodel"]))
        npy, pm = best["numpy"], best["probmodel"]
        print(f"  done {n:.0e}: numpy {npy['rate'] / 1e6:.2f} M/s, probmodel "
              f"{pm['rate'] / 1e6:.2f} M/s", flush=True)
    print()
    print("| draws | NumPy draws/s | probmodel draws/s | ratio | draws per CPU-second "
          "NumPy / probmodel (ratio) | NumPy peak RSS | probmodel peak RSS | probmodel "
          "compile | P(profit>0) NumPy / probmodel |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, npy, pm in rows:
        cn, cp = n / npy["cpu"], n / pm["cpu"]
        print(f"| {n:.0e} | {npy['rate'] / 1e6:.2f} M | {pm['rate'] / 1e6:.2f} M | "
              f"{pm['rate'] / npy['rate']:.2f}x | {cn / 1e6:.2f} M / {cp / 1e6:.2f} M "
              f"({cp / cn:.2f}x) | {npy['rss_mb']:.0f} MB | {pm['rss_mb']:.0f} MB | "
              f"{pm['compile']:.2f} s | {npy['p']:.4f} / {pm['p']:.4f} |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}; probmodel import "
          f"{rows[0][2]['import']:.2f} s; quantiles: {rows[-1][2]['method']}")


if __name__ == "__main__":
    main()
