"""The planner in headless Chromium, driven by each control's accessible name."""

import json

import pytest

from probmodel.cli import main
from probmodel.planner.live import LivePage
from probmodel.report.browser import Chromium

from .conftest import PRIORS, cli_json

ADJ = "deepseek-adjusted"
P = "document.querySelector('[data-testid=p-profit]').dataset.value"


@pytest.fixture(scope="module")
def browser(chromium):
    with Chromium(chromium) as c:
        yield c


def _wait_answer(pg, n):
    pg.wait(f"Number(document.body.dataset.answers || 0) > {n}", 180)


def test_the_page_loads_clean_and_every_control_is_named(planner_url, browser):
    with LivePage(browser, planner_url + f"?scenario={ADJ}") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        assert pg.errors() == []
        assert pg.outside_requests() == []
        assert float(pg.eval(P)) > 0
        labels = set(pg.eval("Array.from(document.querySelectorAll('#controls [aria-label]'))"
                             ".map(e => e.getAttribute('aria-label'))"))
        import probmodel

        sc = probmodel.load_scenario(PRIORS / f"{ADJ}.toml")
        assert set(sc.parameters) <= labels
        for name in sc.uncertain:  # the handles, named as --set names them
            assert {f"{name}.p05", f"{name}.p95"} <= labels
        # every control is reachable by its name alone (one element per label)
        dupes = pg.eval("(() => { const c = {}; for (const e of document.querySelectorAll("
                        "'[aria-label]')) { const k = e.getAttribute('aria-label');"
                        " c[k] = (c[k] || 0) + 1; } return Object.keys(c).filter("
                        "k => c[k] > 1); })()")
        assert dupes == []


def test_moving_a_control_gives_the_cli_s_answer(planner_url, browser, tmp_path):
    with LivePage(browser, planner_url + f"?scenario={ADJ}&seed=5") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        n = pg.answers()
        pg.set_control("pay_rate.p95", "0.7")
        _wait_answer(pg, n)
        n = pg.answers()
        pg.set_control("gpu_price_per_hour", "LogNormal(0.7, 0.2)")
        _wait_answer(pg, n)
        got = float(pg.eval(P))
        search = pg.eval("location.search")
        assert pg.errors() == []
    want = cli_json(["run", str(PRIORS / f"{ADJ}.toml"), "--set", "pay_rate.p95=0.7",
                     "--set", "gpu_price_per_hour=LogNormal(0.7, 0.2)", "--seed", "5",
                     "--draws", "65536", "--out", str(tmp_path / "r")])
    assert got == want["p_profitable"]
    # the URL carries the view: opening it again draws the same answer
    with LivePage(browser, planner_url + search) as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        assert float(pg.eval(P)) == got
        assert pg.eval("document.querySelector('[aria-label=\"pay_rate.p95\"]').value") == "0.7"


def test_a_bad_value_shows_its_error_and_changes_nothing(planner_url, browser):
    with LivePage(browser, planner_url + f"?scenario={ADJ}") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        before = pg.eval(P)
        url = pg.eval("location.search")
        pg.set_control("gpu_cost_share.p95", "2")
        pg.wait("Number(document.body.dataset.errors || 0) >= 1", 60)
        msg = pg.eval("document.getElementById('error-gpu_cost_share').textContent")
        assert msg.startswith("--set: ")
        assert "gpu_cost_share" in msg
        assert pg.eval(P) == before
        assert pg.eval("location.search") == url
        # the server keeps serving: the next good value is drawn
        n = pg.answers()
        pg.set_control("gpu_cost_share.p95", "0.9")
        _wait_answer(pg, n)
        assert pg.eval(P) != before
        assert pg.eval("document.getElementById('error-gpu_cost_share').textContent") == ""


def test_goal_seek_and_save_from_the_page(planner_url, browser, tmp_path):
    with LivePage(browser, planner_url + f"?scenario={ADJ}&draws=16384&seed=1") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        pg.set_control("vary", "pay_rate")
        pg.set_control("target", "P(profit > 0) >= 0.6")
        pg.click("solve-run")
        got = float(pg.wait("document.getElementById('solve-result').dataset.value", 180))
        n = pg.answers()
        pg.set_control("nodes_avg", "210")
        _wait_answer(pg, n)
        pg.set_control("name", "page-saved")
        pg.click("save-run")
        saved = pg.wait("document.getElementById('save-result').dataset.file", 60)
        assert pg.errors() == []
    want = cli_json(["solve", str(PRIORS / f"{ADJ}.toml"), "--vary", "pay_rate", "--target",
                     "P(profit > 0) >= 0.6", "--draws", "16384", "--seed", "1", "--out",
                     str(tmp_path / "s")])
    assert got == want["value"]
    from pathlib import Path

    path = Path(saved) if Path(saved).is_absolute() else Path.cwd() / saved
    assert main(["check", str(path)]) == 0
    assert "nodes_avg" in path.read_text()


def test_screenshot_of_a_serving_scenario(planner_url, browser, tmp_path):
    with LivePage(browser, planner_url + "?scenario=chatbot-h20-roofline") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        assert not pg.eval("document.getElementById('frontier-box').hidden")
        assert json.loads(json.dumps(pg.errors())) == []
        png = pg.screenshot()
    assert png.startswith(b"\x89PNG")


def test_compare_from_the_page_is_the_api_s_paired_answer(planner_url, browser):
    with LivePage(browser, planner_url + f"?scenario={ADJ}&draws=16384") as pg:
        pg.wait("document.body.dataset.ready === '1'", 180)
        pg.set_control("compare sets", "pay_rate=0.2")
        pg.click("compare-run")
        got = float(pg.wait("document.getElementById('compare-result').dataset.value", 180))
        curves = pg.eval("document.getElementById('chart-compare').data.length")
        assert pg.errors() == []
    from .test_api import call

    st, d = call(planner_url, "/api/compare", {
        "a": {"scenario": ADJ, "draws": 16384},
        "b": {"scenario": ADJ, "sets": ["pay_rate=0.2"]}, "output": "margin"})
    assert st == 200
    assert got == next(p["p_greater"] for p in d["pairs"] if p["scenario"].startswith("A:"))
    assert curves == 2  # A and B drawn side by side
    assert sorted(d["ecdf"]["x"]) == sorted(d["scenarios"])
