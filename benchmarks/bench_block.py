"""Where one chunk's time goes: random bits, input draws, equations, summaries.

Each layer of the streaming engine is compiled on its own and timed per chunk of
``sampling.CHUNK`` (2^17) draws of priors/deepseek-adjusted.toml, in wall and in
process CPU time (all threads; XLA uses every core it is given, so CPU time is the
figure that the machine's load changes least). Layers:

- ``bits``: the uniform random bits of 8 rows (threefry, sequential form);
- ``inputs``: every uncertain input (Betas by Cheng's BB with compacted retries,
  LogNormals from one batch of normals);
- ``chunk``: inputs and every equation (``ForwardModel.chunk``);
- ``block, exact path``: the streaming block as a 1e6-draw run uses it (every draw
  kept, no moments, no histograms);
- ``block, histograms``: as a run beyond 2^20 draws uses it (moments of every varying
  variable; 32,768-bin histograms and tail sums of the key outputs; draws thinned by
  128); and, for comparison, with histograms of every varying variable, as it was.

The plain NumPy Monte Carlo of the same model (``numpy_plain.py``, one core) is timed
per 2^17 draws alongside. Usage: ``.venv/bin/python benchmarks/bench_block.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy_plain

SCENARIO = "priors/deepseek-adjusted.toml"


def main() -> None:
    import jax
    import jax.numpy as jnp

    import probmodel
    from probmodel import results, sampling, streaming
    from probmodel.sampling import CHUNK, chunk_key

    sc = probmodel.load_scenario(SCENARIO)
    model = sampling.ForwardModel.from_scenario(sc, ())
    args = model.args(sc, {})
    varying, constant = streaming._split(model, args)
    nv = len(varying)
    root = jax.random.PRNGKey(0)
    print(f"{SCENARIO}: {len(model.uncertain)} uncertain inputs, {nv} varying variables; "
          f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f}")

    def timed(name: str, f, chunks_per_call: int = 1, reps: int = 12) -> None:
        r = f(0)
        jax.block_until_ready(r)
        w, c = time.perf_counter(), time.process_time()
        for i in range(1, reps + 1):
            jax.block_until_ready(f(i))
        n = reps * chunks_per_call
        w, c = (time.perf_counter() - w) / n, (time.process_time() - c) / n
        print(f"| {name} | {w * 1e3:.1f} | {c * 1e3:.1f} |", flush=True)

    print("\n| per chunk of 2^17 draws | wall ms | CPU ms |\n|---|---|---|")
    bits = jax.jit(lambda i: sampling._uniform_bits(
        jnp.stack([jax.random.fold_in(root, k) for k in range(8)]), i, (CHUNK,)))
    timed("bits (8 rows x 2 x 2^17 uniforms)", bits)
    inputs = jax.jit(lambda a, i: model.draw_inputs(chunk_key(root, i), a, CHUNK))
    timed("inputs", lambda i: inputs(args, jnp.int32(i)))
    chunk = jax.jit(lambda a, i: {k: v for k, v in model.chunk(
        chunk_key(root, i), a, CHUNK, broadcast=False).items() if k in varying})
    timed("chunk (inputs and equations)", lambda i: chunk(args, jnp.int32(i)))
    key = tuple(k for k in varying if k in {*results.KEY_OUTPUTS, "profit"})
    for name, hist, stride, hv in (
            ("block, exact path (1e6 runs)", False, 1, ()),
            (f"block, histograms of the {len(key)} key outputs (runs > 2^20 draws)", True,
             128, key),
            (f"block, histograms of all {nv} variables (before)", True, 128, varying)):
        nh = len(hv)
        ranges = (np.zeros(nh), np.full(nh, 1000.0), np.zeros(nh, bool),
                  np.full(nh, 100, np.int32), np.full(nh, 30000, np.int32))
        plan = streaming.Plan(model, varying, constant, hist, stride, 8, 1, (), hv)
        f = streaming._compiled(plan)
        timed(name, lambda i, f=f, r=ranges: f(args, root,
                                               jnp.arange(8, dtype=jnp.int32) + 8 * i,
                                               np.int64(1 << 40), *r),
              chunks_per_call=8, reps=3)
    spec = numpy_plain.load(SCENARIO)
    numpy_plain.run(spec, CHUNK, seed=0)
    w, c = time.perf_counter(), time.process_time()
    numpy_plain.run(spec, 16 * CHUNK, seed=1)
    print(f"| plain NumPy (numpy_plain.py, one core) | {(time.perf_counter() - w) / 16 * 1e3:.1f} "
          f"| {(time.process_time() - c) / 16 * 1e3:.1f} |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
