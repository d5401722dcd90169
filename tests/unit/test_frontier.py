"""Serving at a latency target: the frontier, the operating point and the fleet built on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from probmodel.cli import main
from probmodel.errors import InputWarning
from probmodel.model import evaluate_point
from probmodel.serving import deployment as dep
from probmodel.serving import frontier as fr
from probmodel.serving import physics
from probmodel.spec import read_scenario

ROOT = Path(__file__).resolve().parents[2]
PRIORS = ROOT / "priors"
CHAT = PRIORS / "chatbot-h20-roofline.toml"
ANT = PRIORS / "serving-dsr1-h20-ant.toml"


def one_line(cap) -> str:
    lines = [ln for ln in cap.err.splitlines() if ln.strip()]
    assert len(lines) == 1, cap.err
    return lines[0]


# --------------------------------------------------------------------------- at_target


def _curves(iv, tt, tp):
    iv, tt, tp = (np.asarray(x, np.float64)[None, :] for x in (iv, tt, tp))
    return {"median_intvty": iv, "median_ttft": tt, "tput_per_gpu": tp,
            "output_tput_per_gpu": tp / 2, "prefill_tput_per_gpu": np.ones_like(tp)}


GRID = np.array([1.0, 2.0, 4.0, 8.0])


def test_operating_point_interpolates_the_crossing_in_log_log():
    # interactivity 100, 50, 25, 12.5 (halves per doubling): 30 is crossed between 2 and 4
    c = _curves([100, 50, 25, 12.5], [0.1, 0.1, 0.1, 0.1], [10, 20, 40, 80])
    at = fr.at_target(c, GRID, 30.0)
    f = math.log(50 / 30) / math.log(2)  # fraction of the octave from 2 to 4
    assert at["concurrency"][0] == pytest.approx(2 * 2 ** f, rel=1e-12)
    assert at["tput_per_gpu"][0] == pytest.approx(20 * 2 ** f, rel=1e-12)
    assert at["median_intvty"][0] == pytest.approx(30.0, rel=1e-12)
    assert at["met"][0] == 1.0


def test_the_first_limit_reached_binds_ttft_or_interactivity():
    c = _curves([100, 50, 25, 12.5], [0.5, 1.0, 2.0, 4.0], [10, 20, 40, 80])
    at = fr.at_target(c, GRID, 30.0, 1.5)  # TTFT 1.5 s is crossed first, at 2^1.585
    assert at["median_ttft"][0] == pytest.approx(1.5, rel=1e-12)
    assert at["median_intvty"][0] > 30.0
    at = fr.at_target(c, GRID, 60.0, 1.5)  # now interactivity 60 binds first
    assert at["median_intvty"][0] == pytest.approx(60.0, rel=1e-12)
    assert at["median_ttft"][0] < 1.5


def test_out_of_reach_is_flagged_and_a_ttft_no_load_can_meet_is_dropped():
    c = _curves([100, 50, 25, 12.5], [3.0, 3.1, 3.2, 3.3], [10, 20, 40, 80])
    at = fr.at_target(c, GRID, 30.0, 2.0)  # one prompt alone takes 3 s: TTFT unreachable
    assert at["met"][0] == 0.0
    assert at["median_intvty"][0] == pytest.approx(30.0, rel=1e-12)  # runs at the target
    at = fr.at_target(c, GRID, 200.0)  # faster than one request in flight: concurrency 1
    assert at["met"][0] == 0.0
    assert at["concurrency"][0] == 1.0


def test_past_the_knee_more_requests_only_wait():
    # throughput flat after concurrency 2 (HBM full): the operating point stops there
    c = _curves([100, 60, 60, 60], [0.1, 0.2, 5.0, 50.0], [10, 20, 20.1, 20.1])
    at = fr.at_target(c, GRID, 10.0)
    assert at["concurrency"][0] == 2.0
    assert at["median_ttft"][0] == pytest.approx(0.2)


@pytest.mark.slow
def test_metrics_are_monotone_along_the_grid_on_the_shipped_scenarios():
    """Up to the knee, interactivity falls, TTFT and throughput rise, in every draw.

    The operating point relies on it (the SLO holds on a leading run of the grid). Past
    the knee (prefill pool saturated) the physics' closed loop, a fixed number of damped
    fixed-point steps, is not converged and wobbles by a few per cent: no operating point
    is taken there.
    """
    from probmodel.analysis import frontier as fa

    for path in (ANT, CHAT, PRIORS / "serving-dsr1-h200.toml"):
        sc = read_scenario(path)
        res = fa.frontier(sc, fa.parse_chips(None, sc), fa.Slo(), draws=512, seed=3)
        c = res.chips[0].curves
        iv, tt, tp = c["median_intvty"], c["median_ttft"], c["tput_per_gpu"]
        g = np.asarray(fr.GRID)
        rising = np.log(tp[:, 1:] / tp[:, :-1]) > fr.KNEE_ELASTICITY * np.log(g[1:] / g[:-1])
        knee = np.cumprod(rising, axis=1).sum(axis=1)
        before = np.arange(tp.shape[1] - 1)[None, :] < knee[:, None]
        assert np.median(knee) >= 10, path.name  # the knee lies well inside the grid
        assert np.all(np.diff(iv, axis=1)[before] <= 1e-9 * iv[:, 1:][before]), path.name
        assert np.all(np.diff(tt, axis=1)[before] >= -1e-9 * tt[:, 1:][before]), path.name


def test_the_operating_point_is_what_the_physics_gives_at_that_concurrency():
    """Interpolation between grid points is within 1% of the physics run at c*."""
    sc = read_scenario(CHAT)
    v = evaluate_point(sc.point_values())
    a = v["slo_interactivity"]
    args = {k: np.float64(v[k]) if k in v else np.float64(dep.SLO_OPTIONAL[k])
            for k in dep.SLO_ARGUMENTS}
    conc = v["slo_concurrency"]
    direct = dep.serve(**{**{k: args[k] for k in dep.ARGUMENTS if k != "concurrency"},
                          "prefill_workers": args["prefill_workers"] * dep.PREFILL_HEADROOM,
                          "concurrency": np.float64(conc)})
    assert 1.0 < conc < fr.GRID[-1]
    assert float(direct["median_intvty"]) == pytest.approx(a, rel=0.01)
    assert float(direct["output_tput_per_gpu"]) == pytest.approx(
        v["slo_output_tput_per_gpu"], rel=0.01)
    assert v["slo_met"] == 1.0
    assert v["slo_ttft_at"] <= v["slo_ttft"]


# --------------------------------------------------------------------------- the fleet


def test_fleet_at_the_target_adds_up_and_pays_for_what_it_provisions():
    sc = read_scenario(CHAT)
    v = evaluate_point(sc.point_values())
    out_s = v["output_tokens_per_day"] / 86400 * v["peak_factor"]
    decode = out_s / (v["slo_output_tput_per_gpu"] * v["production_derate"])
    assert v["serving_decode_gpus"] == pytest.approx(decode, rel=1e-12)
    miss = v["input_tokens_per_day"] * (1 - v["cache_hit_rate"]) / 86400 * v["peak_factor"]
    hits = (v["input_tokens_per_day"] * v["cache_hit_rate"] / 86400 * v["peak_factor"]
            * v["cached_seconds_per_token"])
    assert v["serving_prefill_gpus"] == pytest.approx(
        miss / v["slo_prefill_tput_per_gpu"] + hits, rel=1e-12)
    assert v["chips_required_serving"] == pytest.approx(decode + v["serving_prefill_gpus"],
                                                        rel=1e-12)
    # provisioned fleet paid all day (the default), or the average fleet only
    assert v["paid_chips"] == pytest.approx(v["chips_required_serving"], rel=1e-12)
    avg = evaluate_point(sc.with_overrides({"idle_capacity_paid": 0.0}).point_values())
    assert avg["paid_chips"] == pytest.approx(v["chips_required_serving"] / v["peak_factor"],
                                              rel=1e-12)
    assert v["gpu_cost"] == pytest.approx(v["paid_chips"] * 24 * v["gpu_price_per_hour"],
                                          rel=1e-12)


def test_a_faster_target_needs_more_chips_and_the_report_peak_more_still():
    sc = read_scenario(CHAT)
    v = evaluate_point(sc.point_values())
    base = v["chips_required_serving"]
    fast = evaluate_point(sc.with_overrides({"slo_interactivity": 50.0}).point_values())
    # decode pays for the speed (smaller batches); prefill does not depend on it
    assert fast["serving_decode_gpus"] > 1.3 * v["serving_decode_gpus"]
    assert fast["serving_prefill_gpus"] == pytest.approx(v["serving_prefill_gpus"], rel=1e-9)
    assert fast["slo_intvty"] == pytest.approx(50.0, rel=0.005)
    peak4 = evaluate_point(read_scenario(PRIORS / "chatbot-h20-roofline-peak4.toml")
                           .point_values())["chips_required_serving"]
    assert peak4 == pytest.approx(base * 4.0 / 1.33, rel=1e-9)


def test_cached_prefix_is_not_prefill_work_and_benchmark_rows_have_none():
    rows = {"isl": np.float64(4000.0)}
    assert physics.prefill_tokens(rows) == 4000.0
    assert physics.prefill_tokens({**rows, "prefix_hit": np.float64(0.75)}) == 1000.0
    sc = read_scenario(ANT)
    v0 = evaluate_point(sc.point_values())
    v1 = evaluate_point(sc.with_overrides({"cache_hit_rate": 0.5}).point_values())
    assert v1["median_ttft"] < v0["median_ttft"]
    # per computed token the tail attends further back: a little slower per token
    assert v1["prefill_tput_per_gpu"] < v0["prefill_tput_per_gpu"]


# --------------------------------------------------------------------------- the command


def test_frontier_command_writes_a_run_folder_and_reproduces(tmp_path, capsys):
    args = ["frontier", str(CHAT), "--chips", "H20,H800", "--slo", "interactivity >= 20",
            "--slo", "ttft <= 2000ms", "--draws", "600", "--seed", "5", "--json"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    b = json.loads(capsys.readouterr().out)
    a.pop("run_dir"), b.pop("run_dir")
    assert a == b  # same seed, same answer
    assert a["slo"] == "interactivity >= 20 and ttft <= 2000ms"
    assert a["slo_ttft"] == 2.0
    assert a["slo_interactivity"] == 20.0
    assert [c["chip"] for c in a["chips"]] == ["H20", "H800"]
    (pair,) = a["pairs"]
    n = 600
    # every draw is A cheaper, B cheaper, or neither meets the SLO
    total = pair["p_a_cheaper"] + pair["p_b_cheaper"] + pair["p_neither"]
    assert total == pytest.approx(1.0, abs=1.0 / n)
    for c in a["chips"]:
        q = c["cost_per_mtok_output"]
        assert 0 < q["q05"] <= q["q50"] <= q["q95"]
        assert c["median_intvty"]["q05"] >= 20.0 * (1 - 1e-6)
    folder = tmp_path / "a"
    for f in ("frontier.nc", "bands.csv", "pairs.csv", "summary.csv", "summary.json",
              "manifest.json", "figures/frontier.png"):
        assert (folder / f).is_file(), f
    import xarray as xr

    tree = xr.open_datatree(folder / "frontier.nc")
    bands = tree["bands"].to_dataset()
    t = bands["tput_per_gpu"].sel(quantile=0.5).values
    # the frontier falls as the users' speed rises
    assert np.all(np.diff(t, axis=1) <= 1e-6 * np.maximum(t[:, 1:], 1))


def test_frontier_uses_the_scenarios_own_target(tmp_path, capsys):
    assert main(["frontier", str(CHAT), "--draws", "300", "--json",
                 "--out", str(tmp_path / "r")]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["slo"] == "interactivity >= 20 and ttft <= 2s"


@pytest.mark.parametrize(("args", "words"), [
    (["--slo", "interactivity <= 20"], "bound from below"),
    (["--slo", "latency < 3"], "unknown metric"),
    (["--slo", "ttft <= -1"], "positive"),
    (["--slo", "fast"], "is not of the form"),
    (["--chips", "H20,H20"], "given twice"),
    (["--chips", "H2O"], "H2O"),
    (["--draws", "0"], "draws"),
])
def test_frontier_bad_flags_are_one_line(args, words, capsys, tmp_path):
    code = main(["frontier", str(CHAT), *args, "--out", str(tmp_path / "x")])
    cap = capsys.readouterr()
    assert code == 2
    assert words in one_line(cap)
    assert not (tmp_path / "x").exists()


def test_frontier_refuses_a_scenario_without_a_deployment(capsys):
    code = main(["frontier", str(PRIORS / "deepseek-adjusted.toml")])
    cap = capsys.readouterr()
    assert code == 2
    assert "not a serving deployment" in one_line(cap)


@pytest.mark.slow
def test_a_chips_own_numbers_are_independent_between_chips_shared_ones_paired():
    """Common random numbers for what chips share, independent draws for their own."""
    from probmodel import sampling

    sc = read_scenario(CHAT)
    with pytest.warns(InputWarning, match="keeps its own mtp_acceptance"):
        h800 = sc.with_overrides({"chip": "H800"})
    assert sampling.rng_label(sc, "gpu_price_per_hour") == "gpu_price_per_hour@H20"
    assert sampling.rng_label(h800, "serving_bw_efficiency") == \
        "serving_bw_efficiency@H800/sglang"
    assert sampling.rng_label(sc, "output_length") == "output_length"
    names = ("gpu_price_per_hour", "serving_bw_efficiency", "output_length", "users")
    a = sampling.sample_arrays(sc, 4000, 11, names=names)
    b = sampling.sample_arrays(h800, 4000, 11, names=names)
    again = sampling.sample_arrays(sc, 4000, 11, names=names)
    for k in names:
        np.testing.assert_array_equal(a[k], again[k])  # same chip, same draws
    np.testing.assert_array_equal(a["output_length"], b["output_length"])
    np.testing.assert_array_equal(a["users"], b["users"])
    # a chip's own numbers: ranks uncorrelated between chips (|rho| < 4 / sqrt(n))
    for k in ("gpu_price_per_hour", "serving_bw_efficiency"):
        ra, rb = (np.argsort(np.argsort(x)) for x in (a[k], b[k]))
        rho = np.corrcoef(ra, rb)[0, 1]
        assert abs(rho) < 4 / np.sqrt(4000), (k, rho)
