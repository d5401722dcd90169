"""MCSEs of a correlated run are honest: batch means over Iman-Conover's blocks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from probmodel import mcse, streaming

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_batch_ratio_is_one_for_iid_draws_and_the_block_variance_otherwise():
    rng = np.random.default_rng(0)
    b, size = 400, 64
    iid = rng.normal(size=(b, size))
    counts = np.full(b, size)
    r = mcse.batch_ratio(iid.sum(axis=1), counts, np.var(iid, ddof=1))
    # the ratio of two variance estimates from 400 blocks: relative sd ~ sqrt(2/399)
    assert abs(float(r) - 1.0) < 4 * np.sqrt(2 / (b - 1))
    # a shared shock per block: Var(block mean) = (1 + size x 0.25) / size per draw
    shared = iid + 0.5 * rng.normal(size=(b, 1))
    r = mcse.batch_ratio(shared.sum(axis=1), counts, np.var(shared, ddof=1))
    want = (1 + size * 0.25) / 1.25
    assert abs(float(r) / want - 1.0) < 4 * np.sqrt(2 / (b - 1))
    # blocks without draws are left out; one block cannot give a variance
    assert np.isnan(mcse.batch_ratio(np.array([3.0, 0.0]), np.array([4, 0]), 1.0))


@pytest.mark.long
def test_reported_mcse_matches_the_spread_over_seeds():
    """Spread of estimates over 100 seeds / mean reported MCSE within 3 SE of 1.

    The ratio's standard error is about ratio / sqrt(2 x 99) = 0.071, so the band is
    [0.79, 1.21]; iid MCSEs give 1.21-1.32 for the means (benchmarks/README.md).
    """
    from bench_correlation_mcse import measure

    res = measure(100, 131_072)
    for label in ("P(profit > 0)", "mean profit", "mean total_cost"):
        r = res[label]
        assert abs(r["ratio"] - 1.0) < 3 * r["ratio_se"], (label, r)
        assert r["factor"] >= 1.0
    # without the batch means the cost's MCSE would be too small by more than the band
    assert res["mean total_cost"]["ratio_iid"] > 1.0 + 2 * res["mean total_cost"]["ratio_se"]


def test_uncorrelated_runs_keep_iid_mcses():
    import probmodel
    from probmodel import sampling

    sc = probmodel.load_scenario(ROOT / "priors" / "deepseek-adjusted.toml")
    model = sampling.ForwardModel.from_scenario(sc)
    s = streaming.run_stream(model, model.args(sc), 20_000, 1).summary
    assert "mcse_method" not in s.attrs
    assert "mcse_factor" not in s["profit"].attrs


@pytest.mark.long
def test_posterior_runs_carry_the_tables_error_in_every_statistic():
    """Spread over 80 posterior tables (40 iid rows each) / reported MCSE within 3 SE of 1.

    With the forward draws' MCSE alone the ratio is ~30: a 40-row table's error dwarfs
    65,536 forward draws' (benchmarks/README.md). The median's MCSE takes the mean's
    posterior factor (an approximation), so its band is one-sided: not too small.
    """
    from bench_posterior_mcse import measure

    res = measure(80, 40, 32_768)
    for label in ("P(profit > 0)", "mean profit", "mean revenue"):
        r = res[label]
        assert abs(r["ratio"] - 1.0) < 3 * r["ratio_se"], (label, r)
    med = res["median profit"]
    assert med["ratio"] < 1.0 + 3 * med["ratio_se"], med
    assert res["mean profit"]["ratio_forward"] > 5


def test_draw_factors_see_a_shared_shock_per_block():
    from probmodel.correlation import BLOCK

    rng = np.random.default_rng(3)
    b = 200
    iid = rng.normal(size=b * BLOCK)
    assert float(mcse.draw_factors(iid)) < 1.0 + 4 * np.sqrt(2 / (b - 1))
    shock = np.repeat(rng.normal(size=b), BLOCK) * 0.05 + iid  # within-block correlation
    want = np.sqrt((1 + BLOCK * 0.05**2) / (1 + 0.05**2))
    assert abs(float(mcse.draw_factors(shock)) / want - 1) < 3 * np.sqrt(1 / (2 * (b - 1)))
    assert float(mcse.draw_factors(iid[: 4 * BLOCK])) == 1.0  # too few blocks: iid


def test_sweep_and_compare_scale_mcses_only_for_correlated_draws():
    import probmodel
    from probmodel.analysis import compare as cmp
    from probmodel.analysis import sweep as sw

    corr = probmodel.load_scenario(ROOT / "priors" / "deepseek-correlated.toml")
    adj = probmodel.load_scenario(ROOT / "priors" / "deepseek-adjusted.toml")
    n = 65_536
    grid = sw.parse_grid(["nodes_avg=200,226.75"])
    for sc, correlated in ((corr, True), (adj, False)):
        s = sw.sweep(sc, grid, output="profit", draws=n, seed=5, keep=10).summary
        p = s["p_profitable"].values
        iid = np.sqrt(p * (1 - p) / n)
        ratio = s["p_profitable_mcse"].values / iid
        if correlated:
            assert np.all(ratio >= 1 - 1e-12)
            assert np.any(ratio > 1.02)
        else:
            np.testing.assert_allclose(ratio, 1.0, rtol=1e-12)
    c = cmp.compare([adj, corr], "profit", draws=n, seed=5).summary
    p = c["p_profitable"].values
    ratio = c["p_profitable_mcse"].values / np.sqrt(p * (1 - p) / n)
    assert np.all(ratio >= 1 - 1e-12)


def test_stress_mcses_never_below_iid_and_wider_for_correlated_draws():
    import probmodel
    from probmodel.analysis import stress as st

    corr = probmodel.load_scenario(ROOT / "priors" / "deepseek-correlated.toml")
    bands = [st.parse_band("gpu_price_per_hour=80:100", list(corr.uncertain))]
    res, ds = st.run(corr, bands, 65_536, 3)
    assert "batch means" in res.attrs["mcse_method"]
    flat = {k: ds[k].values.ravel() for k in ("profit", "gpu_price_per_hour")}
    iid = st.stress_arrays(flat, bands, ["profit"])["profit"]["mcse"]
    blocked = st.stress_arrays(flat, bands, ["profit"], blocks=True)["profit"]["mcse"]
    assert np.all(blocked >= iid - 1e-15)
    assert np.any(blocked > 1.05 * iid)
