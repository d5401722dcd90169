"""Calibration: observations, likelihoods, the calibrate command, --posterior, failures."""

import json
import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from probmodel import api, calibration, io
from probmodel import observations as obsmod
from probmodel.cli import main
from probmodel.errors import RunError

FLEET = "calibration/fleet.toml"
NONID = "calibration/nonidentified.toml"

# fixture -> (commands that must refuse it, fragments of the one message line)
BAD = {
    "obs_negative_count.toml": (("check", "run", "calibrate"),
                                ("observations.nodes_peak.value", "(-278)", "outside the domain")),
    "obs_unknown_name.toml": (("check", "run", "calibrate"),
                              ("observations.nodes_peek", "did you mean 'nodes_peak'")),
    "obs_missing_noise.toml": (("check", "run", "calibrate"),
                               ("observations.nodes_peak", "missing noise")),
    "obs_unknown_kind.toml": (("check", "run", "calibrate"),
                              ("observations.nodes_peak.kind", "'censored'")),
    "obs_missing_source.toml": (("check", "run", "calibrate"),
                                ("observations.nodes_peak.source", "missing")),
    "obs_wrong_unit.toml": (("check", "run", "calibrate"),
                            ("observations.nodes_peak.unit", "'GPU'", "'node'")),
    "obs_negative_noise.toml": (("check", "run", "calibrate"),
                                ("observations.nodes_peak.rel_sd", "must be positive")),
    "obs_fixed_parameter.toml": (("check", "calibrate"),
                                 ("observations.nodes_avg", "is fixed")),
    "obs_not_computed.toml": (("check", "calibrate"),
                              ("observations.chips_required", "not computed", "h800_h20_ratio")),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_observation_gives_located_line(fixtures, capsys, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    commands, fragments = BAD[name]
    for command in commands:
        args = [command, str(fixtures / "bad" / name)]
        args += {"run": ["--draws", "10"], "calibrate": ["--warmup", "5", "--samples", "5"]}.get(
            command, [])
        assert main(args) == 2, command
        cap = capsys.readouterr()
        assert cap.out == ""
        lines = cap.err.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"error: {fixtures / 'bad' / name}: ")
        for frag in fragments:
            assert frag in lines[0], (command, lines[0])
        assert "Traceback" not in cap.err
    assert not (tmp_path / "runs").exists()


def test_validator_reports_every_problem_at_once():
    probs = obsmod.validate({
        "nodes_avg": {"value": "a lot", "rel_sd": 0.1, "source": "x"},
        "users": {"value": 1e6, "source": "x"},
        "margin": {"value": -0.1, "sd": 0.1, "sd2": 1, "source": "x"},
    })
    paths = [p for p, _ in probs]
    assert paths == ["observations.nodes_avg.value", "observations.users",
                     "observations.margin.sd2"]


@pytest.mark.parametrize(("kind", "noise"), [("normal", {"sd": 3.0}), ("normal", {"rel_sd": 0.1}),
                                             ("lognormal", {"rel_sd": 0.05}),
                                             ("lower_bound", {"rel_sd": 0.02}),
                                             ("upper_bound", {"sd": 4.0})])
def test_log_likelihood_matches_scipy(kind, noise):
    o = obsmod.parse({"nodes_avg": {"value": 200.0, "kind": kind, "source": "t", **noise}})[
        "nodes_avg"]
    q = np.array([150.0, 199.0, 200.0, 230.0])
    got = np.asarray(obsmod.log_likelihood(o, q))
    if kind == "normal":
        sd = noise.get("sd", noise.get("rel_sd", 0) * 200.0)
        want = stats.norm(q, sd).logpdf(200.0)
    elif kind == "lognormal":
        want = stats.lognorm(s=0.05, scale=q).logpdf(200.0)
    elif kind == "lower_bound":  # P(q x exp(0.02 Z) >= 200)
        want = stats.norm.logsf(math.log(200.0), np.log(q), 0.02)
    else:  # P(q + 4 Z <= 200)
        want = stats.norm.logcdf(200.0, q, 4.0)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def fleet_run(fixtures, tmp_path_factory):
    """One small calibration through the CLI, shared by the tests below."""
    import contextlib
    import io as stdio

    d = tmp_path_factory.mktemp("cal")
    buf = stdio.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["calibrate", str(fixtures / FLEET), "--chains", "2", "--warmup", "200",
                     "--samples", "800", "--seed", "3", "--out", str(d / "run"), "--json"])
    return code, d / "run", buf.getvalue()


def test_calibrate_writes_run_folder(fleet_run):
    code, run, _ = fleet_run
    assert code == 0
    names = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
    assert {"draws.nc", "diagnostics.csv", "prior_posterior.csv", "posterior_predictive.csv",
            "summary.json", "manifest.json", "scenario/fleet.toml",
            "figures/prior_posterior.png", "figures/posterior_predictive.png"} <= names
    man = json.loads((run / "manifest.json").read_text())
    assert man["kind"] == "calibrate"
    assert man["diagnostics_ok"] is True
    assert man["calibrated_parameters"] == ["prefill_tokens_per_node_s",
                                            "decode_tokens_per_node_s", "peak_factor"]
    assert (man["chains"], man["warmup"], man["samples"], man["seed"]) == (2, 200, 800, 3)
    tree = xr.open_datatree(run / "draws.nc")
    assert {"prior", "prior_predictive", "posterior", "posterior_predictive", "observed_data",
            "sample_stats"} <= set(tree.children)
    assert dict(tree["posterior"].sizes) == {"chain": 2, "draw": 800}
    assert tree["posterior"]["nodes_avg"].attrs["units"] == "node"
    assert float(tree["observed_data"]["nodes_peak"]) == 380
    assert tree["observed_data"]["nodes_peak"].attrs["kind"] == "lower_bound"
    assert "diverging" in tree["sample_stats"]
    diag = (run / "diagnostics.csv").read_text().splitlines()
    assert diag[0] == "parameter,r_hat,ess_bulk,ess_tail,divergences,ok"
    assert len(diag) == 4


def test_recovery_with_tight_observations(fleet_run):
    # fleet.toml observes nodes_avg = 279.3 and decode = 12e3 (0.5% noise), generated by
    # prefill = 60e3 and decode = 12e3: the posterior must put prefill there.
    _, run, _ = fleet_run
    post = io.read_posterior(run)
    for name, truth in (("prefill_tokens_per_node_s", 60e3), ("decode_tokens_per_node_s", 12e3)):
        x = post[name]
        sd = x.std()
        assert sd < 0.02 * truth  # tight: the prior's 90% interval spans 4x
        assert abs(np.median(x) - truth) < 3 * sd, (name, np.median(x), sd)
    # the censored peak: nodes_avg x peak_factor >= 380 only bounds peak_factor below
    assert np.quantile(post["peak_factor"], 0.01) > 380 / 279.3 * 0.93


def test_run_with_posterior_cli_and_api(fleet_run, priors, capsys, tmp_path, monkeypatch):
    _, run, _ = fleet_run
    monkeypatch.chdir(tmp_path)
    code = main(["run", str(priors / "chatbot-h20-evidence.toml"), "--draws", "3000",
                 "--posterior", str(run), "--out", "r", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    man = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert man["posterior_source"] == str(run)
    assert sorted(man["posterior_parameters"]) == ["decode_tokens_per_node_s", "peak_factor",
                                                   "prefill_tokens_per_node_s"]
    # API: the same draws come from the posterior table, jointly
    sc = api.load_scenario(priors / "chatbot-h20-evidence.toml")
    post = api.load_posterior(run)
    ds = api.simulate(sc, draws=3000, seed=0, posterior=post)
    rows = {tuple(r) for r in np.stack([post["prefill_tokens_per_node_s"],
                                        post["decode_tokens_per_node_s"]], 1).astype(np.float32)}
    drawn = np.stack([ds["prefill_tokens_per_node_s"].values[0],
                      ds["decode_tokens_per_node_s"].values[0]], 1)
    assert all(tuple(r) in rows for r in drawn[:200])
    assert "users" not in ds.attrs["posterior_parameters"]
    # --set wins over the posterior
    fixed = api.simulate(sc.with_overrides({"peak_factor": 1.5}), draws=1000, seed=0,
                         posterior=post)
    assert "peak_factor" not in fixed.attrs["posterior_parameters"]


def test_read_posterior_refuses_what_is_not_a_calibration(fleet_run, priors, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunError, match="no such folder"):
        io.read_posterior(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match=r"no manifest\.json"):
        io.read_posterior(tmp_path / "empty")
    (tmp_path / "mc").mkdir()  # a Monte Carlo run folder, as `probmodel run` writes it
    (tmp_path / "mc" / "manifest.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(RunError, match="not a calibration run"):
        io.read_posterior(tmp_path / "mc")
    assert main(["run", str(priors / "chatbot-h20-evidence.toml"), "--draws", "10",
                 "--posterior", "mc"]) == 2


@pytest.mark.slow
def test_non_identified_model_fails_loudly(fixtures, capsys, tmp_path, monkeypatch):
    # Two flat priors and one tight observation of their sum: a curved ridge that NUTS
    # cannot explore. The run folder is still written (it is the evidence), exit 3.
    monkeypatch.chdir(tmp_path)
    code = main(["calibrate", str(fixtures / NONID), "--chains", "2", "--warmup", "150",
                 "--samples", "150", "--out", "bad"])
    cap = capsys.readouterr()
    assert code == 3
    lines = [ln for ln in cap.err.splitlines() if ln.startswith("error: diagnostics failed")]
    assert [ln.split(": ")[2] for ln in lines] == ["input_tokens_per_day",
                                                    "output_tokens_per_day"]
    man = json.loads((tmp_path / "bad" / "manifest.json").read_text())
    assert man["diagnostics_ok"] is False
    assert man["failures"]
    with pytest.raises(RunError, match="failed its diagnostics"):
        io.read_posterior(tmp_path / "bad")
    assert io.read_posterior(tmp_path / "bad", allow_failed=True)


def test_bad_settings_exit_2(fixtures, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args, frag in ((["--chains", "0"], "--chains"), (["--samples", "-1"], "--samples"),
                       (["--chain-method", "fast"], "--chain-method")):
        assert main(["calibrate", str(fixtures / FLEET), *args]) == 2
        assert frag in capsys.readouterr().err
    assert main(["calibrate", str(fixtures.parent.parent / "priors" / "chatbot-h20.toml")]) == 2
    assert "observations: missing" in capsys.readouterr().err


def test_diagnose_flags_each_failure():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((4, 1000))
    stuck = np.concatenate([good[:2], good[2:] + 5.0])  # two chains elsewhere
    d = calibration.diagnose({"a": good, "b": stuck}, ["a", "b"], np.zeros((4, 1000), bool))
    assert [r["ok"] for r in d.table] == [True, False]
    assert d.failures[0].startswith("b: r-hat")
    d2 = calibration.diagnose({"a": good}, ["a"], np.eye(4, 1000, dtype=bool))
    assert d2.failures == ["a: 4 divergent transitions"]


def test_diagnostics_match_arviz_stats():
    """rhat/ess are arviz-stats' rank-normalised formulas, computed without importing it."""
    from arviz_stats.base import array_stats as az

    rng = np.random.default_rng(1)
    for trial in range(24):
        chains, n = int(rng.integers(1, 6)), int(rng.integers(3, 1200))
        e = rng.standard_normal((chains, n))
        x = np.empty_like(e)
        x[:, 0] = e[:, 0]
        phi = rng.uniform(-0.5, 0.97)
        for t in range(1, n):
            x[:, t] = phi * x[:, t - 1] + e[:, t]
        if trial % 3 == 0:
            x = np.round(x, 1)  # ties
        if trial % 4 == 0:
            x[:, 1::2] = x[:, 0:n - 1:2]  # repeated draws, as NUTS rejections give
        if trial % 5 == 0:
            x = x + 3.0 * np.arange(chains)[:, None]  # chains apart
        kw = {"chain_axis": 0, "draw_axis": 1}
        pairs = [(calibration.rhat(x), az.rhat(x, **kw)),
                 (calibration.ess(x, "bulk"), az.ess(x, method="bulk", **kw)),
                 (calibration.ess(x, "tail"), az.ess(x, method="tail", prob=(0.05, 0.95), **kw)),
                 (calibration.ess(x, "mean"), az.ess(x, method="mean", **kw))]
        for ours, ref in pairs:
            np.testing.assert_allclose(ours, float(ref), rtol=1e-12, equal_nan=True)
    assert math.isnan(calibration.rhat(rng.standard_normal((1, 100))))  # one chain
    assert calibration.ess(np.full((4, 100), 2.0)) == 400.0  # constant: every draw counts
    nan = rng.standard_normal((4, 100))
    nan[0, 5] = np.nan
    assert math.isnan(calibration.rhat(nan))
    assert math.isnan(calibration.ess(nan, "tail"))


def test_calibration_figures_structure():
    from probmodel.plots.calibration import plot_posterior_predictive, plot_prior_posterior

    rng = np.random.default_rng(1)
    prior = {"peak_factor": rng.lognormal(0.4, 0.15, 500), "pay_rate": rng.beta(3, 7, 500)}
    post = {"peak_factor": rng.lognormal(0.45, 0.1, (2, 250)), "pay_rate": rng.beta(3, 7, 500)}
    fig = plot_prior_posterior(prior, post, observed={"peak_factor": (1.33, "lower_bound")},
                               title="T")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["peak_factor", "pay_rate"]
    assert axes[1].get_xlabel() == "pay_rate (%)"
    assert [ln.get_label() for ln in axes[0].get_lines()] == ["observed (lower bound)"]
    assert "prior (grey) and posterior (blue)" in fig._suptitle.get_text()
    fig2 = plot_posterior_predictive({"nodes_avg": rng.normal(227, 2, 400)},
                                     {"nodes_avg": (226.75, "lognormal")},
                                     {"nodes_avg": rng.lognormal(5.6, 0.3, 400)})
    (ax,) = [a for a in fig2.axes if a.get_visible()]
    assert ax.get_title() == "nodes_avg (lognormal)"
    assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(226.75)
    assert {p.get_label() for p in ax.patches} >= {"posterior predictive"}
