"""The engine's correlation hook: every path draws correlated inputs the same way.

The within-chunk reordering itself (Iman-Conover) is tested with its module; here a
recording stand-in checks the wiring (which key, names and matrix reach it, and that run,
sample_arrays and the sweep all see its output), then the real function's targets and
marginals through the engine.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel import sampling, streaming
from probmodel.analysis import sweep as sw
from probmodel.spec import Correlation, Scenario

ADJ = "deepseek-adjusted.toml"
PAIR = ("pay_rate", "v3_share")


def correlated(sc: Scenario, rank: float) -> Scenario:
    a, b = sorted(PAIR)
    return dataclasses.replace(sc, correlations=(Correlation(a, b, rank, "test"),))


@pytest.fixture
def recorder(monkeypatch):
    """The engine's rank_correlate replaced by a stand-in that permutes the first name's draws.

    The permutation is drawn from the key it is given, so the draws show which key came.
    """
    calls = []

    def rank_correlate(key, draws, names, spearman):
        calls.append((names, spearman.shape))
        out = dict(draws)
        x = draws[names[0]]
        # permuted only when the target (traced) is the scenario's: the values arrive too
        out[names[0]] = jnp.where(spearman[0, 1] == jnp.float32(-0.4),
                                  x[jax.random.permutation(key, x.shape[0])], x)
        return out

    monkeypatch.setattr(sampling, "rank_correlate", rank_correlate)
    jax.clear_caches()
    yield calls
    jax.clear_caches()  # no compiled function keeps the stand-in


@pytest.mark.slow
def test_hook_gets_the_chunk_key_names_and_matrix_and_every_path_sees_it(priors, recorder):
    base = probmodel.load_scenario(priors / ADJ)
    sc = correlated(base, -0.4)
    model = sampling.ForwardModel.from_scenario(sc)
    order = tuple(k for k in sc.uncertain if k in PAIR)  # the scenario's order
    assert model.correlated == order
    args = model.args(sc)
    np.testing.assert_array_equal(args["correlation"], np.float32([[1, -0.4], [-0.4, 1]]))
    n = sampling.CHUNK
    indep = sampling.sample_arrays(base, n, 3)
    corr = sampling.sample_arrays(sc, n, 3)
    names, matrix = recorder[-1]
    assert names == order
    assert matrix == (2, 2)
    want_key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(3), 0),
                                  sampling.name_id("<correlation>"))
    perm = np.asarray(jax.random.permutation(want_key, n))
    np.testing.assert_array_equal(corr[order[0]], indep[order[0]][perm])
    for k in (order[1], "dau", "gpu_price_per_hour"):
        if k in indep:
            np.testing.assert_array_equal(corr[k], indep[k])
    assert not np.array_equal(corr["profit"], indep["profit"])
    # the streaming scan (run) calls the same per-chunk function: the same input draws
    # (outputs: another compiled graph, float32 rounding on the scale of revenue)
    st = streaming.run_stream(model, args, 5000, 3, keep_all=True)
    for k, _ in model.uncertain:
        np.testing.assert_array_equal(st.kept[k], corr[k][:5000])
    rev = np.abs(corr["revenue"][:5000]) + np.abs(corr["total_cost"][:5000])
    assert np.max(np.abs(st.kept["profit"] - corr["profit"][:5000]) / rev) < 1e-6
    # the sweep draws its inputs from the same chunks
    res = sw.sweep(sc, sw.parse_grid(["gpu_cost_share=0.6,0.8"]), draws=3000, seed=3,
                   keep=3000)
    fixed = sampling.sample_arrays(sc.with_overrides({"gpu_cost_share": 0.8}), 3000, 3)
    m = res.kept["margin"].sel(gpu_cost_share=0.8).values.ravel()
    # two compiled graphs: float32 rounding, on the scale of cost / revenue
    scale = 1 + np.abs(fixed["margin"])
    assert np.max(np.abs(m - fixed["margin"]) / scale) < 1e-5


def test_targets_and_marginals_through_the_engine(priors):
    base = probmodel.load_scenario(priors / ADJ)
    sc = correlated(base, -0.4)
    n = 4 * sampling.CHUNK
    indep = sampling.sample_arrays(base, n, 5)
    corr = sampling.sample_arrays(sc, n, 5)
    rho = stats.spearmanr(corr["pay_rate"], corr["v3_share"]).statistic
    assert abs(rho - (-0.4)) < 0.02
    for k in PAIR:  # the same values in every chunk, reordered
        for c in range(4):
            sl = slice(c * sampling.CHUNK, (c + 1) * sampling.CHUNK)
            np.testing.assert_array_equal(np.sort(corr[k][sl]), np.sort(indep[k][sl]))
    np.testing.assert_array_equal(corr["dau"], indep["dau"])
    # prefix stability: fewer draws are the first draws
    np.testing.assert_array_equal(sampling.sample_arrays(sc, 1000, 5)["pay_rate"],
                                  corr["pay_rate"][:1000])
