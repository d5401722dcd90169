"""A scenario's deployment through the serving physics, and the engine catalog."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import numpy as np
import pytest

from probmodel import catalog, checks
from probmodel.errors import ScenarioError, UsageError
from probmodel.model import evaluate_point
from probmodel.serving import deployment as dep
from probmodel.serving import measurements as M
from probmodel.serving import physics
from probmodel.spec import read_scenario
from probmodel.spec.parameters import parse_parameter
from probmodel.spec.problems import Problems

ROOT = Path(__file__).resolve().parents[2]
H200 = ROOT / "priors" / "serving-dsr1-h200.toml"
DATA = ROOT / "data" / "inferencex" / "dsr1-measurements.csv"


def test_scenario_equals_the_backtest_physics_on_the_same_row(tmp_path):
    """The scenario path and the benchmark-row path give the same numbers (float64)."""
    sc = read_scenario(H200)
    values = evaluate_point(sc.point_values())
    with DATA.open() as f:
        base = next(r for r in csv.DictReader(f)
                    if r["hardware"] == "h200" and r["framework"] == "sglang"
                    and r["disagg"] == "False" and r["spec_method"] == "none"
                    and r["decode_tp"] == "8" and r["decode_dp_attention"] == "False"
                    and r["isl"] == "1024" and r["osl"] == "1024")
    p = tmp_path / "one.csv"
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(base))
        w.writeheader()
        w.writerow({**base, "conc": "64"})
    meas = M.read(p, 922 / 1024)
    rows, c, m = M.split(meas.config)
    pv = {k: prm.point for k, prm in sc.parameters.items()}
    e = {"bw": pv["serving_bw_efficiency"], "flops": pv["serving_flops_efficiency"],
         "prefill": pv["serving_prefill_efficiency"], "comm": pv["serving_comm_efficiency"],
         "overhead": pv["serving_step_overhead"], "latency": pv["serving_collective_latency"],
         "accepted": 1.0, "draft_cost": pv["mtp_draft_cost"],
         "queue": pv["serving_queue_factor"], "ttft_fixed": pv["serving_ttft_fixed"]}
    e = {k: np.full(1, v, np.float64) for k, v in e.items()}
    o = physics.serve(rows, m, c, e)
    err = pv["serving_model_error"]
    assert values["tput_per_gpu"] == pytest.approx(float(o["tput_per_gpu"][0]) * err, rel=1e-9)
    assert values["median_tpot"] == pytest.approx(float(o["median_tpot"][0]) / err, rel=1e-9)
    assert values["serving_gpus"] == 8.0
    # cost: price per GPU-second over tokens per GPU-second
    assert values["serving_cost_per_mtok"] == pytest.approx(
        values["gpu_price_per_hour"] / 3600 / values["tput_per_gpu"] * 1e6, rel=1e-12)
    assert values["serving_cost_per_mtok_output"] == pytest.approx(
        2 * values["serving_cost_per_mtok"], rel=1e-12)   # 922 in, 922 out


def test_deployment_changes_move_the_answer_the_right_way():
    sc = read_scenario(H200)
    base = evaluate_point(sc.point_values())
    more = evaluate_point(sc.with_overrides({"concurrency": 256}).point_values())
    assert more["tput_per_gpu"] > base["tput_per_gpu"]        # bigger batches
    assert more["median_tpot"] > base["median_tpot"]          # each user slower
    mtp = evaluate_point(sc.with_overrides({"mtp_draft_tokens": 2}).point_values())
    assert mtp["median_intvty"] > base["median_intvty"]
    fp8kv = evaluate_point(sc.with_overrides({"kv_bytes_per_element": 1}).point_values())
    assert fp8kv["tput_per_gpu"] >= base["tput_per_gpu"]
    disagg = evaluate_point(sc.with_overrides({
        "serving_disaggregated": 1, "prefill_tp": 8, "prefill_workers": 1,
        "decode_tp": 8}).point_values())
    assert disagg["serving_gpus"] == 16.0


@pytest.mark.parametrize(("sets", "needle"), [
    ({"chip": "H800"}, "H800 needs 84.0 GB per GPU"),
    ({"decode_tp": 4}, "167.8 GB of weights at decode_tp 4"),
])
def test_a_deployment_that_does_not_fit_is_refused_with_bytes(sets, needle):
    sc = read_scenario(H200).with_overrides(sets)
    with pytest.raises(UsageError, match=needle) as e:
        checks.check_weights_fit(sc)
    assert "has " in str(e.value)
    assert "\n" not in str(e.value)


def test_the_cli_refuses_it_in_one_line(tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "probmodel", "point", str(H200), "--set",
                        "chip=H800"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120, check=False)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "does not fit: H800 needs" in lines[0]
    assert "80.0 GB" in lines[0]


def _source(sc, name):
    return sc.parameters[name].description


def test_engine_follows_the_chip_and_the_engine_pick():
    sc = read_scenario(H200)
    assert "(H200/sglang)" in _source(sc, "serving_bw_efficiency")
    b200 = sc.with_overrides({"chip": "B200"})
    assert "(B200/sglang)" in _source(b200, "serving_bw_efficiency")
    assert b200.parameters["chip_hbm_capacity"].point != sc.parameters["chip_hbm_capacity"].point
    trt = sc.with_overrides({"engine": "trt"})
    assert "(H200/trt)" in _source(trt, "serving_step_overhead")
    amd = sc.with_overrides({"chip": "MI355X", "engine": "atom"})
    assert "(MI355X/atom)" in _source(amd, "serving_ttft_fixed")
    with pytest.raises(UsageError, match=r"no calibrated efficiencies for engine 'trt' on "
                                         r"chip MI300X .engines on MI300X: sglang, atom"):
        sc.with_overrides({"chip": "MI300X", "engine": "trt"})
    with pytest.raises(UsageError, match=r"unknown engine 'vllm' .known: sglang, trt, atom"):
        catalog.split_override("engine", "vllm")


def test_an_engine_needs_a_chip_in_its_file(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('schema_version = 1\ntitle = "x"\nengine = "sglang"\n')
    with pytest.raises(ScenarioError, match="engine: an engine's efficiencies are per chip"):
        read_scenario(p)
    p.write_text('schema_version = 1\ntitle = "x"\nchip = "H20"\nengine = "tensorrt"\n')
    with pytest.raises(ScenarioError, match="unknown engine 'tensorrt'"):
        read_scenario(p)


def test_every_chip_has_its_vendors_engines_and_valid_tables():
    from probmodel.serving.engines import ENGINES
    names = catalog.entries("engine")
    for chip in catalog.entries("chip"):
        vendor = catalog.entry_meta("chip", chip)["vendor"]
        for eng in ENGINES[vendor]:
            tables = names[f"{chip}/{eng}"]
            assert set(tables) == {k for k in dep.INPUTS if k.startswith("serving_")} | {
                "mtp_acceptance", "mtp_draft_cost", "serving_model_error",
                "serving_ttft_error"}
            problems = Problems("serving-engines.toml")
            for name, t in tables.items():
                p = parse_parameter(name, t, problems)
                assert p is not None, problems.items
                assert p.dist in ("Beta", "LogNormal")


def _fake_posterior(n=200):
    """A posterior over two chips (H200, MI300X), two stacks, two vendors."""
    from probmodel.serving.fit import Posterior
    rng = np.random.default_rng(1)
    shape = (2, n)
    draws = {
        "mu": rng.normal(0.0, 0.1, (*shape, 4)),
        "vendor_raw": rng.normal(0.0, 1.0, (*shape, 4, 2)),
        "generation_raw": rng.normal(0.0, 1.0, (*shape, 2, 2)),
        "chip_z": np.broadcast_to(np.array([[1.0, 0.5], [0.0, -0.5]]), (*shape, 2, 2)).copy(),
        "stack_raw": np.zeros((*shape, 2, 2)),
        "log_overhead": np.full((*shape, 2), np.log(2e-3)),
        "accept_logit": np.zeros((*shape, 2)),
        "log_latency": np.full((*shape, 2), np.log(1e-5)),
        "log_ttft_fixed": np.full((*shape, 2), np.log(0.1)),
        "draft_cost": np.full(shape, 0.1), "queue": np.full(shape, 2.0),
        "noise_tput_per_gpu": np.full(shape, 0.1), "noise_median_tpot": np.full(shape, 0.1),
        "noise_median_ttft": np.full(shape, 0.4),
    }
    names = {"vendor": ("nvidia", "amd"), "generation": ("nvidia-hopper", "amd-cdna3"),
             "chip": ("H200", "MI300X"), "stack": ("sglang-nvidia", "sglang-amd")}
    return Posterior(draws=draws, names=names, settings={}, rows_used=10)


def test_engine_catalog_from_a_posterior():
    from probmodel.serving import engines
    post = _fake_posterior()
    seen = engines.predictive(post, "H200", "sglang")
    # a seen chip on a seen engine: the fitted effect (here a constant)
    np.testing.assert_allclose(seen["serving_bw_efficiency"], 1 / (1 + np.exp(-1.0)))
    np.testing.assert_allclose(seen["serving_step_overhead"], 2e-3)
    unseen = engines.predictive(post, "H20", "sglang")  # no rows: pooled, so it varies
    assert np.std(unseen["serving_bw_efficiency"]) > 0.02
    trt = engines.predictive(post, "H200", "trt")       # unseen engine: its prior
    assert np.std(np.log(trt["serving_step_overhead"])) == pytest.approx(0.7, rel=0.15)
    doc = tomllib.loads(engines.catalog_text(post, {"rows_used": 10,
                                                     "created_utc": "2026-01-02T00:00"}))
    t = doc["engines"]["H200/sglang"]["serving_bw_efficiency"]
    assert t["point"] == pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-3)
    assert "10 rows, 2026-01-02" in t["source"]
    err = doc["engines"]["H20/sglang"]["serving_model_error"]
    assert err["point"] == 1.0
    assert err["p05"] * err["p95"] == pytest.approx(1.0, rel=2e-3)
    assert set(doc["engines"]) == {f"{c}/{e}" for c in catalog.entries("chip")
                                   for e in engines.ENGINES[
                                       catalog.entry_meta("chip", c)["vendor"]]}


def test_monte_carlo_of_a_deployment_is_finite_and_reproducible():
    from probmodel import api
    sc = read_scenario(H200)
    a = api.simulate(sc, draws=4096, seed=3)
    b = api.simulate(sc, draws=4096, seed=3)
    x = np.asarray(a["tput_per_gpu"])
    assert np.all(np.isfinite(x))
    assert np.array_equal(x, np.asarray(b["tput_per_gpu"]))
    point = evaluate_point(sc.point_values())["tput_per_gpu"]
    # the point (every parameter at its median) sits inside the central 50%
    lo, hi = np.quantile(x, [0.25, 0.75])
    assert lo < point < hi
