"""The planner's JSON API: the CLI's numbers, no recompilation, one-line errors, saving."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from probmodel.cli import main
from probmodel.planner.engine import CompileCounter

from .conftest import PRIORS, cli_json

ADJ = "deepseek-adjusted"


def call(url: str, path: str, body=None, raw: bytes | None = None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url.rstrip("/") + path, data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_job(url: str, job, seconds: float = 120, seen: list | None = None) -> dict:
    """Poll /api/jobs/JOB until it stops running (its count appended to ``seen``)."""
    t0 = time.time()
    while True:
        st, j = call(url, f"/api/jobs/{job}")
        assert st == 200, j
        if seen is not None:
            seen.append(j["done"])
        if j["state"] != "running" or time.time() - t0 > seconds:
            return j
        time.sleep(0.05)


def test_answer_is_the_cli_run_bit_for_bit(planner_url, tmp_path):
    sets = ["pay_rate.p95=0.7", "gpu_price_per_hour=2.1"]
    st, got = call(planner_url, "/api/run", {"scenario": ADJ, "sets": sets, "seed": 3,
                                             "events": ["margin > 20%"]})
    assert st == 200, got
    want = cli_json(["run", str(PRIORS / f"{ADJ}.toml"), "--draws", "65536", "--seed", "3",
                     *(a for s in sets for a in ("--set", s)), "--event", "margin > 20%",
                     "--out", str(tmp_path / "r")])
    assert got["draws"] == want["draws"] == 65536
    assert got["p_profitable"] == want["p_profitable"]
    assert got["p_profitable_mcse"] == want["p_profitable_mcse"]
    assert got["events"] == want["events"]
    assert got["summary"] == want["summary"]
    # the charts come from the same draws: the exceedance curve at 0 is P(profit > 0)
    ex = got["charts"]["exceedance"]
    i = min(range(len(ex["x"])), key=lambda j: abs(ex["x"][j]))
    assert abs(ex["x"][i]) < (ex["x"][1] - ex["x"][0])
    assert next(r["name"] for r in got["charts"]["tornado"]) == "pay_rate"


def test_new_numbers_reuse_the_compiled_program(planner_url):
    # an event is structure (one more count in the program); its threshold is a number
    st, _ = call(planner_url, "/api/run", {"scenario": ADJ, "sets": ["pay_rate.p95=0.65"],
                                           "events": ["profit > 20k"]})
    assert st == 200
    before = CompileCounter.count()
    answers = []
    for sets in (["pay_rate.p95=0.55"], ["pay_rate.p05=0.1", "pay_rate.p95=0.8"],
                 ["pay_rate=Beta(3, 5)"], ["nodes_avg=200", "pay_rate.p95=0.6"],
                 ["gpu_cost_share.p05=0.5"]):
        st, d = call(planner_url, "/api/run", {"scenario": ADJ, "sets": sets,
                                               "events": ["profit > 10k"]})
        assert st == 200, d
        assert d["timing"]["compilations"] == 0, sets
        answers.append(d["p_profitable"])
    assert CompileCounter.count() == before
    assert len(set(answers)) == len(answers)  # every change moved the answer


@pytest.mark.parametrize(("sets", "message", "param"), [
    (["pay_rate.p95=abc"], "--set: pay_rate.p95: 'abc' is not a number", "pay_rate"),
    (["pay_rate.p95=0.01"], "must exceed p05", "pay_rate"),
    (["users=3e7"], "--set: users is not used by deepseek-adjusted", "users"),
    (["nosuch=1"], "--set: unknown parameter 'nosuch'", "nosuch"),
    (["gpu_cost_share=1.5"], "outside its domain", "gpu_cost_share"),
])
def test_a_bad_value_is_one_line_about_its_control(planner_url, sets, message, param):
    st, d = call(planner_url, "/api/run", {"scenario": ADJ, "sets": sets})
    assert st == 400
    assert message in d["error"]
    assert "\n" not in d["error"]
    assert d["param"] == param
    st, d = call(planner_url, "/api/run", {"scenario": ADJ})  # and the server goes on
    assert st == 200
    assert d["p_profitable"] is not None


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps({"scenario": "nope"}).encode(), "unknown scenario 'nope'"),
    (json.dumps({"scenario": ADJ, "draws": 0}).encode(), "draws: an integer"),
    (json.dumps({"scenario": ADJ, "draws": "many"}).encode(), "draws: an integer"),
    (json.dumps({"scenario": ADJ, "seed": -1}).encode(), "seed: an integer"),
    (json.dumps({"scenario": ADJ, "sets": "x" * 100_000}).encode(), "not of the form"),
    (json.dumps({"scenario": ADJ, "sets": [1, 2]}).encode(), "a list of strings"),
    (json.dumps({"scenario": ADJ, "events": ["margin >> 2"]}).encode(), "event"),
    (b"x" * 300_000, "over 256 kB"),
])
def test_hostile_requests_get_one_line_and_the_server_stays(planner_url, body, message):
    st, d = call(planner_url, "/api/run", raw=body)
    assert st == 400, d
    assert message in d["error"], d["error"]
    assert len(d["error"]) < 400
    assert call(planner_url, "/api/scenarios")[0] == 200


def test_two_sessions_at_once_get_their_own_answers(planner_url):
    views = [{"scenario": ADJ, "sets": ["pay_rate.p95=0.5"]},
             {"scenario": ADJ, "sets": ["pay_rate.p95=0.75"]}]
    alone = [call(planner_url, "/api/run", v)[1]["p_profitable"] for v in views]
    got: dict[int, float] = {}

    def session(i):
        for _ in range(3):
            st, d = call(planner_url, "/api/run", views[i])
            assert st == 200
            got.setdefault(i, d["p_profitable"])
            assert d["p_profitable"] == got[i]

    ts = [threading.Thread(target=session, args=(i,)) for i in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert [got[0], got[1]] == alone


def test_goal_seek_is_probmodel_solve(planner_url, tmp_path):
    st, got = call(planner_url, "/api/solve", {"scenario": ADJ, "draws": 16384, "seed": 1,
                                               "vary": "pay_rate",
                                               "target": "P(profit > 0) >= 0.6"})
    assert st == 200, got
    want = cli_json(["solve", str(PRIORS / f"{ADJ}.toml"), "--vary", "pay_rate", "--target",
                     "P(profit > 0) >= 0.6", "--draws", "16384", "--seed", "1", "--out",
                     str(tmp_path / "s")])
    for k in ("value", "value_interval", "achieved", "achieved_mcse", "tries"):
        assert got[k] == want[k], k
    st, d = call(planner_url, "/api/solve", {"scenario": ADJ, "vary": "pay_rate",
                                             "target": "P(profit > 0) >= 2"})
    assert st == 400
    assert d["param"] == "target"


def test_compare_pairs_the_draws(planner_url):
    a = {"scenario": ADJ, "draws": 16384}
    st, d = call(planner_url, "/api/compare", {
        "a": a, "b": {"scenario": ADJ, "sets": ["pay_rate=0.2"]}, "output": "margin"})
    assert st == 200, d
    pair = next(p for p in d["pairs"] if p["scenario"].startswith("A:"))
    # B holds pay_rate at 0.2, below nearly all of A's law: A's margin is higher in most
    # draws, and P(A > B) + P(B > A) = 1 (continuous margins)
    assert pair["p_greater"] > 0.8
    back = next(p for p in d["pairs"] if p["scenario"].startswith("B:"))
    assert pair["p_greater"] + back["p_greater"] == pytest.approx(1.0, abs=1e-9)


def test_save_writes_a_new_file_that_check_accepts(planner_url, tmp_path):
    view = {"scenario": ADJ, "sets": ["pay_rate.p95=0.7", "nodes_avg=200"], "name": "my-view"}
    st, d = call(planner_url, "/api/save", view)
    assert st == 200, d
    assert sorted(d["parameters"]) == ["nodes_avg", "pay_rate"]
    assert d["scenario"] == "my-view"  # offered from now on
    st, got = call(planner_url, "/api/run", {"scenario": "my-view", "draws": 4096})
    assert st == 200, got
    from pathlib import Path

    saved = Path(d["file"]) if Path(d["file"]).is_absolute() else Path.cwd() / d["file"]
    assert main(["check", str(saved)]) == 0
    # never overwritten: neither a file of that name nor a scenario offered
    other = saved.parent / "external.toml"
    other.write_text("# a user's own file\n")
    st, d = call(planner_url, "/api/save", {**view, "name": "external"})
    assert st == 400
    assert "already exists" in d["error"]
    assert d["param"] == "name"
    assert other.read_text() == "# a user's own file\n"
    for name in ("my-view", "deepseek-correlated"):
        st, d = call(planner_url, "/api/save", {**view, "name": name})
        assert st == 400
        assert "offered here already" in d["error"]
    st, d = call(planner_url, "/api/save", {**view, "name": "../escape"})
    assert st == 400
    assert d["param"] == "name"
    # the saved file gives the same answer as the view it came from
    import probmodel
    from probmodel import api

    a = api.summarise(probmodel.load_scenario(saved), 4096, 0)[2]
    b = api.summarise(probmodel.load_scenario(
        PRIORS / f"{ADJ}.toml", {"pay_rate.p95": 0.7, "nodes_avg": 200.0}), 4096, 0)[2]
    assert float(a["p_profitable"]) == float(b["p_profitable"])


def test_refine_reports_progress_then_the_answer(planner_url):
    st, d = call(planner_url, "/api/refine", {"scenario": ADJ, "draws": 262144})
    assert st == 200
    seen = []
    j = wait_job(planner_url, d["job"], seen=seen)
    assert j["state"] == "done", j
    assert j["total"] == 262144
    assert j["done"] == 262144
    assert j["result"]["draws"] == 262144
    assert seen == sorted(seen)
    assert call(planner_url, "/api/jobs/999")[0] == 400


def test_report_writes_a_run_folder_and_its_page(planner_url):
    st, d = call(planner_url, "/api/report", {"scenario": ADJ, "draws": 4096,
                                              "sets": ["pay_rate.p95=0.7"]})
    assert st == 200
    j = wait_job(planner_url, d["job"])
    assert j["state"] == "done", j
    with urllib.request.urlopen(planner_url.rstrip("/") + j["result"]["report"]) as r:
        page = r.read().decode()
    assert "<html" in page
    assert "pay_rate.p95=0.7" in page


def test_frontier_of_a_serving_scenario(planner_url):
    st, d = call(planner_url, "/api/frontier", {
        "scenario": "chatbot-h20-roofline", "draws": 512, "chips": "H20,H800",
        "slo": ["interactivity >= 20", "ttft <= 2"]})
    assert st == 200, d
    assert [c["chip"] for c in d["chips"]] == ["H20", "H800"]
    assert {b["chip"] for b in d["bands"]} == {"H20", "H800"}
    assert all(0 <= c["p_slo_met"] <= 1 for c in d["chips"])
    st, d = call(planner_url, "/api/frontier", {"scenario": "deepseek-adjusted"})
    assert st == 400
    st, d = call(planner_url, "/api/frontier", {"scenario": "chatbot-h20-roofline",
                                                "draws": 1 << 20})
    assert st == 400
    assert "at most 65,536" in d["error"]
    st, d = call(planner_url, "/api/frontier", {"scenario": "chatbot-h20-roofline",
                                                "slo": ["speed >= 3"]})
    assert st == 400
    assert d["param"] == "slo"


@pytest.mark.slow
def test_picking_another_chip_reuses_the_compiled_program(planner_url):
    view = {"scenario": "chatbot-h20-roofline", "draws": 4096}
    st, first = call(planner_url, "/api/run", view)
    assert st == 200, first
    seen = {first["summary"]["chips_required_serving"]["q50"]}
    for chip in ("H200", "H800"):
        st, d = call(planner_url, "/api/run", {**view, "sets": [f"chip={chip}"]})
        assert st == 200, d
        assert d["timing"]["compilations"] == 0, chip
        seen.add(d["summary"]["chips_required_serving"]["q50"])
    assert len(seen) == 3


def test_a_report_job_with_a_bad_event_ends_with_the_cli_s_line(planner_url):
    st, d = call(planner_url, "/api/report", {"scenario": ADJ, "draws": 4096,
                                              "events": ["margin >> 2"]})
    assert st == 200
    j = wait_job(planner_url, d["job"])
    assert j["state"] == "error"
    assert not j["error"].startswith("internal error")
    assert "--event" in j["error"]
