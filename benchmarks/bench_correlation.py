"""Cost of Iman-Conover rank correlation per 2^17-draw chunk, against the chunk itself.

Run: python benchmarks/bench_correlation.py

Times (median of 9 after a warm-up, each a separately jitted function): one engine chunk
of priors/deepseek-adjusted.toml (draw every input and evaluate every output), and
probmodel.correlation.rank_correlate on that chunk's inputs for 2, 4, 6 and 8 correlated
names; and the argsort it is built on, XLA's float argsort against the packed-integer
sort it uses.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np

import probmodel
from probmodel import correlation as co
from probmodel import sampling

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(f, *args, reps: int = 9) -> float:
    jax.block_until_ready(f(*args))
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1e3


def main() -> None:
    sc = probmodel.load_scenario(os.path.join(ROOT, "priors/deepseek-adjusted.toml"))
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    n = sampling.CHUNK
    key = jax.random.PRNGKey(0)
    print(f"load average at start {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPU cores; "
          f"jax {jax.__version__} ({jax.default_backend()})")
    chunk = jax.jit(lambda k, a: model.chunk(k, a, n))
    base = timed(chunk, key, args)
    print(f"engine chunk (2^17 draws, every input and output): {base:.1f} ms")
    inputs = jax.jit(lambda k, a: model.draw_inputs(k, a, n))(key, args)
    names = tuple(k for k in sc.uncertain)
    for k in (2, 4, 6, 8):
        sub = names[:k]
        r = np.eye(k) + 0.2 * (1 - np.eye(k))
        f = jax.jit(lambda key, d, r, sub=sub: co.rank_correlate(key, d, sub, r))
        t = timed(f, key, inputs, jnp.asarray(r))
        print(f"rank_correlate, {k} names: {t:.1f} ms = {t / base:.2f} x the chunk "
              f"({2 * k - 1} sorts)")
    x = inputs[names[0]]
    print(f"one argsort of 2^17 float32: XLA float {timed(jax.jit(jnp.argsort), x):.1f} ms, "
          f"packed int64 (used) {timed(jax.jit(co.rank_order), x):.1f} ms")


if __name__ == "__main__":
    main()
