"""The effect of priors/deepseek-correlated.toml's correlations on the adjusted view.

Run: python docs/correlated_effect.py [--chunks 8] [--seed 0] [--importance]

Draws deepseek-adjusted chunk by chunk exactly as the engine does (chunk i from
fold_in(PRNGKey(seed), i), 2^17 draws each), applies probmodel.correlation.rank_correlate
to the correlated inputs of each chunk (the step the engine runs between drawing the
inputs and evaluating the equations when a scenario has [[correlations]]), and evaluates
the outputs of both the independent and the correlated draws. The two share every
input value (only the pairing differs), so their difference is the correlations', and
its MCSE is that of a paired difference. Once the scenario parser reads
[[correlations]], `probmodel run priors/deepseek-correlated.toml` gives the correlated
column (draws a multiple of 2^17, so no chunk is cut).
"""

from __future__ import annotations

import argparse
import tomllib
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

import probmodel
from probmodel import correlation as co
from probmodel import fmt, sampling
from probmodel.analysis import stress as st

ROOT = Path(__file__).resolve().parents[1]
KEY_STATS = ("margin", "profit")


def target(path: Path, order) -> tuple[tuple[str, ...], np.ndarray]:
    """Correlated names (in the scenario's order of uncertain parameters) and the matrix."""
    pairs = tomllib.loads(path.read_text())["correlations"]
    names = tuple(k for k in order if any(k in p["between"] for p in pairs))
    m = np.eye(len(names))
    for p in pairs:
        i, j = (names.index(k) for k in p["between"])
        m[i, j] = m[j, i] = p["rank"]
    return names, m


@partial(jax.jit, static_argnums=(0, 1))
def _chunk(model, names, key, args, matrix):
    inputs = model.draw_inputs(key, args, sampling.CHUNK)
    ckey = jax.random.fold_in(key, sampling.name_id("<correlation>"))
    corr = co.rank_correlate(ckey, inputs, names, matrix)
    n = sampling.CHUNK
    return model.evaluate(inputs, args, n), model.evaluate(corr, args, n)


def draws(chunks: int, seed: int):
    """Independent and correlated draws of every input and output (host arrays)."""
    sc = probmodel.load_scenario(ROOT / "priors/deepseek-adjusted.toml")
    names, m = target(ROOT / "priors/deepseek-correlated.toml", sc.uncertain)
    assert not co.check_positive_definite(names, m)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    ind, cor = [], []
    for key in sampling.chunk_keys(seed, 0, chunks):
        a, b = _chunk(model, names, key, args, jnp.asarray(m))
        ind.append({k: np.asarray(v) for k, v in a.items()})
        cor.append({k: np.asarray(v) for k, v in b.items()})
    cat = lambda parts: {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}  # noqa: E731
    return sc, names, m, cat(ind), cat(cor)


def main() -> None:
    """Print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--importance", action="store_true")
    a = ap.parse_args()
    sc, names, m, ind, cor = draws(a.chunks, a.seed)
    n = ind["profit"].size
    print(f"{n:,} draws (seed {a.seed}); correlated: {', '.join(names)}")
    # the independent draws are simulate()'s, draw for draw
    sim = probmodel.simulate(sc, draws=n, seed=a.seed)
    assert np.array_equal(sim["profit"].values.ravel(), ind["profit"])
    x = np.stack([cor[k] for k in names], axis=1)
    err = scipy.stats.spearmanr(x).statistic - m
    print(f"achieved Spearman - target: max |error| {np.abs(err).max():.4f} "
          f"(sd of a sample Spearman at n: <= {1 / np.sqrt(n - 1):.4f})")
    for k in sc.uncertain:
        assert np.array_equal(np.sort(ind[k]), np.sort(cor[k])), k
    print("every input's values identical with and without correlations (sorted arrays equal)")
    pi, pc = ind["profit"] > 0, cor["profit"] > 0
    d = pc.astype(float) - pi
    se = lambda p: np.sqrt(p * (1 - p) / n)  # noqa: E731
    print(f"P(profit > 0): independent {pi.mean():.4f} ± {se(pi.mean()):.4f}, "
          f"correlated {pc.mean():.4f} ± {se(pc.mean()):.4f}, "
          f"difference {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(n):.4f} (paired MCSE)")
    for name in (*KEY_STATS, "revenue", "total_cost"):
        for label, dr in (("independent", ind), ("correlated", cor)):
            y = dr[name].astype(np.float64)
            q = np.quantile(y, [0.05, 0.5, 0.95])
            es05 = y[y <= q[0]].mean()
            div, unit = fmt.scale_for(name)
            print(f"{name:>10} {label:>11}: q05 {q[0] / div:8.2f}  q50 {q[1] / div:8.2f}  "
                  f"q95 {q[2] / div:8.2f}  es05 {es05 / div:8.2f}  ({unit})")
    # a stress case on the correlated draws: conditioning moves the correlated inputs
    bands = [st.Band("pay_rate", 0, 10)]
    for label, dr in (("independent", ind), ("correlated", cor)):
        res = st.stress_arrays(dr, bands, ["profit", "v3_share", "cache_hit_rate"])
        print(f"pay_rate=0:10 {label:>11}: P(profit > 0) {res['profit']['value'][1, -1]:.4f}, "
              f"median v3_share {res['v3_share']['value'][0, 4]:.3f} -> "
              f"{res['v3_share']['value'][1, 4]:.3f}, median cache_hit_rate "
              f"{res['cache_hit_rate']['value'][0, 4]:.3f} -> "
              f"{res['cache_hit_rate']['value'][1, 4]:.3f}")
    if a.importance:
        from probmodel.analysis.dependence import dependence_importance

        imp = dependence_importance({k: cor[k] for k in sc.uncertain}, cor["margin"])
        print(imp.to_dataframe().sort_values("delta", ascending=False).round(3))


if __name__ == "__main__":
    main()
