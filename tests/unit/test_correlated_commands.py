"""Every command on the correlated scenario (priors/deepseek-correlated.toml), end to end.

Each command must draw the correlated inputs from the one engine: the same values as a
plain run of the same seed (so the Spearman targets and the marginals hold wherever the
draws go), common random numbers across scenarios with the same correlated set, and a
one-line refusal from calibrate.
"""

import json

import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel import sampling
from probmodel.analysis import projection as pj
from probmodel.analysis import sensitivity as se
from probmodel.cli import main

CORR = "deepseek-correlated.toml"
ADJ = "deepseek-adjusted.toml"
DRAWS = 6000


@pytest.fixture(scope="module")
def sc(priors):
    return probmodel.load_scenario(priors / CORR)


@pytest.fixture(scope="module")
def base(sc):
    """The engine's draws of the correlated scenario (seed 4): what every command must see."""
    return sampling.sample_arrays(sc, DRAWS, 4)


def _spearman_bound(rank: float, n: int) -> float:
    """4 standard errors of a sample Spearman correlation (Fieller's 1.06 / (n - 3))."""
    return 4 * np.sqrt(1.06 / (n - 3)) * (1 - rank**2) + 0.02


@pytest.mark.slow
def test_targets_and_marginals_at_1e5_draws_through_simulate(priors, sc):
    # one whole chunk: a chunk is reordered as a whole, so its values are the same
    # multiset as without correlations only when none of it is cut off
    n = sampling.CHUNK
    ds = probmodel.simulate(sc, draws=n, seed=11)
    indep = probmodel.simulate(probmodel.load_scenario(priors / ADJ), draws=n, seed=11)
    assert sc.correlations
    for c in sc.correlations:  # Spearman at the first 1e5 draws
        rho = stats.spearmanr(ds[c.a].values.ravel()[:100_000],
                              ds[c.b].values.ravel()[:100_000]).statistic
        assert abs(rho - c.rank) < 0.02, (c.a, c.b, rho)
    for k in sc.uncertain:  # marginals: the same values, reordered
        np.testing.assert_array_equal(np.sort(ds[k].values.ravel()),
                                      np.sort(indep[k].values.ravel()))


def test_run_uses_the_engine_draws(priors, sc, base, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(priors / CORR), "--draws", str(DRAWS), "--seed", "4",
                 "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    p = float((base["profit"] > 0).mean())
    got = data["p_profitable"] if "p_profitable" in data else data["summary"]["p_profitable"]
    got = got["value"] if isinstance(got, dict) else got
    # streamed and host graphs differ only by float32 rounding: a draw near 0 may flip
    assert abs(got - p) <= 3 / DRAWS
    man = json.loads((out / "manifest.json").read_text())
    assert man["correlations"]["names"]


def test_sweep_cells_see_the_correlated_draws(priors, sc, base):
    from probmodel.analysis import sweep as sw

    res = sw.sweep(sc, sw.parse_grid(["nodes_avg=200,226.75"]), draws=DRAWS, seed=4,
                   keep=DRAWS)
    # the cell at the scenario's own value is the plain run of the correlated scenario
    at = sc.parameters["nodes_avg"].point
    m = res.kept["margin"].sel(nodes_avg=at, method="nearest").values.ravel()
    # two compiled graphs: float32 rounding on the scale of cost / revenue
    assert np.max(np.abs(m - base["margin"]) / (1 + np.abs(base["margin"]))) < 1e-5
    # ... and not the independent pairing of the same values
    indep = sampling.sample_arrays(probmodel.load_scenario(priors / ADJ), DRAWS, 4)["margin"]
    assert np.mean(np.abs(m - indep) > 1e-3 * (1 + np.abs(indep))) > 0.5


def test_compare_shares_draws_between_scenarios_with_the_same_correlated_set(
        priors, sc, base, tmp_path):
    from probmodel.analysis import compare as cmp

    child = tmp_path / "fewer-nodes.toml"
    child.write_text(
        'schema_version = 1\ntitle = "correlated, 10% fewer nodes"\n'
        f'extends = "{(priors / CORR).as_posix()}"\n\n'
        '[parameters.nodes_avg]\nvalue = 204.0\nunit = "node"\nsource = "test"\n')
    other = probmodel.load_scenario(child)
    # the same correlated set (same marginals, same matrix): the same draws of every input
    o = sampling.sample_arrays(other, DRAWS, 4)
    for k in sc.uncertain:
        np.testing.assert_array_equal(o[k], base[k])
    res = cmp.compare([sc, other], "margin", draws=DRAWS, seed=4, keep=DRAWS)
    m = res.kept["margin"].values[0]
    np.testing.assert_array_equal(m[:, 0], base["margin"])
    # common random numbers: the paired difference's sd is far below the unpaired one
    d = m[:, 1] - m[:, 0]
    assert np.all(d > 0)  # fewer nodes never lower the margin of the same draw
    assert d.std() < 0.2 * np.sqrt(m[:, 0].var() + m[:, 1].var())


@pytest.mark.slow
def test_sensitivity_reports_dependence_valid_importance(priors, tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(priors / CORR), "--draws", "5000", "--sobol-n", "256",
                 "--seed", "2", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["correlated"] is True
    assert "assume independent inputs" in data["note"]
    dep = data["dependence"]
    assert dep["draws"] == se.DEPENDENCE_DRAWS
    rows = {r["input"]: r for r in dep["inputs"]}
    assert set(rows) == set(probmodel.load_scenario(priors / CORR).uncertain)
    deltas = [r["delta"] for r in dep["inputs"]]
    assert deltas == sorted(deltas, reverse=True)
    # the margin's sign rests on pay_rate: the top input, by more than its interval
    top, second = dep["inputs"][0], dep["inputs"][1]
    assert top["input"] == "pay_rate"
    assert top["delta"] - top["delta_conf"] > second["delta"] + second["delta_conf"]
    # dau and tokens_per_request do not enter the margin: a delta at the estimator's
    # kernel-smoothing floor (~0.05 at 4,096 draws), far below pay_rate's, and no S1
    for k in ("dau", "tokens_per_request"):
        assert rows[k]["delta"] < top["delta"] / 5
        assert rows[k]["S1"] - rows[k]["S1_conf"] < 0.01
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"dependence.csv", "figures/dependence.png"} <= files
    man = json.loads((out / "manifest.json").read_text())
    assert man["correlated"] is True
    assert man["dependence_draws"] == se.DEPENDENCE_DRAWS
    assert "dependence" in (out / "summary.csv").read_text()
    # without correlations: no dependence section
    assert main(["sensitivity", str(priors / ADJ), "--draws", "2000", "--sobol-n", "64",
                 "--out", str(tmp_path / "indep"), "--json"]) == 0
    assert "dependence" not in json.loads(capsys.readouterr().out)


def test_project_base_year_inputs_are_the_engine_draws(priors, tmp_path):
    child = tmp_path / "agents-correlated.toml"
    child.write_text(
        'schema_version = 1\ntitle = "agents, correlated"\n'
        f'extends = "{(priors / "agents-h20-2025-2030.toml").as_posix()}"\n\n'
        '[[correlations]]\nbetween = ["pay_rate", "v3_share"]\nrank = -0.6\n'
        'source = "test"\n')
    sc = probmodel.load_scenario(child)
    _, arrays = pj.sample_paths(sc, 4000, 7)
    plain = sampling.sample_arrays(sc, 4000, 7)
    for k in ("pay_rate", "v3_share"):
        np.testing.assert_array_equal(arrays[k], plain[k])
    rho = stats.spearmanr(arrays["pay_rate"], arrays["v3_share"]).statistic
    assert abs(rho + 0.6) < _spearman_bound(-0.6, 4000)


def test_stress_conditioning_moves_the_correlated_inputs(priors, sc, base):
    from probmodel.analysis import stress as st

    band = st.parse_band("pay_rate=0:20", list(sc.uncertain), list(sc.fixed))
    res, ds = st.run(sc, [band], DRAWS, 4)
    np.testing.assert_array_equal(ds["pay_rate"].values.ravel(), base["pay_rate"])
    # cache_hit_rate is correlated with pay_rate (rank 0.35): lower in the bottom quintile
    d = res["cache_hit_rate_diff"].sel(band="pay_rate=0:20", stat="mean")
    se_ = res["cache_hit_rate_diff_mcse"].sel(band="pay_rate=0:20", stat="mean")
    assert float(d) < -4 * float(se_)
    # dau is not correlated with pay_rate: no shift beyond 4 MCSE
    d = res["dau_diff"].sel(band="pay_rate=0:20", stat="mean")
    assert abs(float(d)) < 4 * float(res["dau_diff_mcse"].sel(band="pay_rate=0:20",
                                                              stat="mean"))


def test_calibrate_refuses_with_one_line(priors, capsys):
    rc = main(["calibrate", str(priors / CORR)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1
    assert "correlations" in err[0]
    assert "calibrate" in err[0]


@pytest.mark.slow
def test_holding_a_correlated_input_conditions_its_partners(sc):
    """--set pay_rate=0.30 equals the correlated model's own draws near 0.30 (4 MCSE)."""
    import dataclasses

    from probmodel.analysis import sweep as sw

    base = sampling.sample_arrays(sc, 2**21, 0, names=("pay_rate", "profit"))
    band = np.abs(base["pay_rate"] - 0.30) < 0.005
    p_band = float((base["profit"][band] > 0).mean())
    se_band = np.sqrt(p_band * (1 - p_band) / band.sum())
    held = sc.with_overrides({"pay_rate": 0.30})
    model = sampling.ForwardModel.from_scenario(held)
    assert model.held == ("pay_rate",)
    assert "v3_share" in model.given
    n = 2**18
    p = float((sampling.sample_arrays(held, n, 1, names=("profit",))["profit"] > 0).mean())
    se = np.sqrt(p * (1 - p) / n)
    assert abs(p - p_band) < 4 * np.hypot(se, se_band), (p, p_band)
    # with the pairs dropped (as before) the answer is far outside that bound
    dropped = dataclasses.replace(held, conditioned={}, conditioning=())
    p0 = float((sampling.sample_arrays(dropped, n, 1, names=("profit",))["profit"] > 0).mean())
    assert abs(p0 - p_band) > 8 * np.hypot(se, se_band), (p0, p_band)
    # a sweep cell at 0.30 is the --set run: the same draws (two compiled graphs)
    res = sw.sweep(sc, sw.parse_grid(["pay_rate=0.25,0.30"]), draws=DRAWS, seed=1,
                   keep=DRAWS)
    cell = res.kept["margin"].sel(pay_rate=0.30, method="nearest").values.ravel()
    ref = sampling.sample_arrays(held, DRAWS, 1, names=("margin",))["margin"]
    assert np.max(np.abs(cell - ref) / (1 + np.abs(ref))) < 1e-5


def test_partners_keep_their_own_law_over_the_held_inputs_law(sc):
    """Held at 16 equally likely values of its law, pay_rate's partner keeps its marginal."""
    from probmodel.distributions.reference import scipy_dist

    law = sc.parameters["pay_rate"]
    values = scipy_dist(law.dist, law.params).ppf((np.arange(16) + 0.5) / 16)
    pooled = np.concatenate([
        sampling.sample_arrays(sc.with_overrides({"pay_rate": float(v)}), 8192, 20 + i,
                               names=("v3_share",))["v3_share"]
        for i, v in enumerate(values)])
    v3 = sc.parameters["v3_share"]
    ref = scipy_dist(v3.dist, v3.params)
    se = ref.std() / np.sqrt(pooled.size)
    # 16 strata of the held law stand in for its integral: a small stratification error
    assert abs(pooled.mean() - ref.mean()) < 4 * se + 0.0005
    # KS: 1.63 / sqrt(n) = 0.0045 is iid's 1% point; 0.01 allows the strata and blocks
    ks = stats.kstest(pooled, ref.cdf).statistic
    assert ks < 0.01
