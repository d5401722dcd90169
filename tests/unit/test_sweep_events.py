"""Events on sweeps: P(event) per cell equal to the share of that cell's draws, crossings of
any event at any level with an honest MCSE, and the crossings in the sweep's files, JSON
and report headline (not only in a figure legend)."""

import json

import numpy as np
import pytest

import probmodel
from probmodel.analysis import sweep as sw
from probmodel.analysis import targets as tg
from probmodel.cli import main


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


def test_p_event_per_cell_is_the_share_of_the_cell_draws(adj):
    events = tg.parse_events(["margin > 20%", "pay_rate >= 40%"], adj)
    g = sw.make_grid({"pay_rate": [0.3, 0.4, 0.5]})
    res = sw.sweep(adj, g, "margin", 4096, 3, keep=4096, events=events)
    p = res.summary["p_event"].transpose("pay_rate", "event").values
    m = res.kept["margin"].values[0]  # (draw, pay_rate): every draw kept
    assert p[:, 0] == pytest.approx((m > np.float32(0.2)).mean(axis=0), abs=1e-12)
    assert p[:, 1].tolist() == [0.0, 1.0, 1.0]  # an event on the swept input itself
    se = res.summary["p_event_mcse"].values[:, 0]
    assert se == pytest.approx(np.sqrt(p[:, 0] * (1 - p[:, 0]) / 4096))


def test_crossing_mcse_matches_the_spread_over_seeds(adj):
    # 30 seeds: the sample sd of 30 values is within +-40% of the true sd with
    # probability > 0.99, so an honest MCSE gives spread / stated inside 0.6-1.4.
    events = tg.parse_events(["margin > 20%"], adj)
    g = sw.make_grid({"pay_rate": np.linspace(0.3, 0.7, 9)})
    found: dict = {}
    for seed in range(30):
        res = sw.sweep(adj, g, "margin", 4096, 100 + seed, keep=16, events=events,
                       levels=(0.5, 0.9))
        for c in res.crossings:
            found.setdefault((c["event"], c["level"]), []).append((c["value"], c["mcse"]))
    assert set(found) == {("profit > 0", 0.5), ("profit > 0", 0.9),
                          ("margin > 20%", 0.5), ("margin > 20%", 0.9)}
    for key, v in found.items():
        v = np.asarray(v)
        assert len(v) == 30, key
        ratio = v[:, 0].std(ddof=1) / v[:, 1].mean()
        assert 0.6 < ratio < 1.4, (key, ratio)


def test_crossing_levels_refused(adj):
    with pytest.raises(probmodel.errors.UsageError, match=r"--crossing: 1\.5 is not"):
        sw.check_levels([1.5])


def test_sweep_command_events_and_crossings(priors, tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
               "pay_rate=0.2:0.7:0.1", "-n", "4096", "--event", "margin > 20%",
               "--crossing", "90%", "--out", str(out), "-q", "--report"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "P(margin > 20%) ± MCSE" in cap.out
    assert "P(margin > 20%) = 90% at pay_rate = " in cap.out
    csv = (out / "crossings.csv").read_text().splitlines()
    assert csv[0].startswith("event,level,parameter,value,mcse,lower,upper")
    assert any(line.startswith("margin > 20%,0.9,pay_rate,0.5") for line in csv), csv
    d = json.loads((out / "summary.json").read_text())
    assert d["crossing_levels"] == [0.9]
    assert {c["event"] for c in d["crossings"]} == {"profit > 0", "margin > 20%"}
    assert d["cells"][0]["events"][0]["statistic"] == "p_gt_0.2"
    assert "margin,p_gt_0.2," in (out / "summary.csv").read_text()
    html = (out / "report.html").read_text()
    head = html[html.index('class="headline"'):html.index("</p>", html.index(
        'class="headline"'))]
    assert "P(margin &gt; 20%) = 90% at pay_rate = 59." in head, head
    assert "P(margin &gt; 20%) ± MCSE in each cell" in html
    # the terminal rounds a crossing as the report does: the value to its MCSE's digits
    import re

    shown = [m[3] for line in cap.out.splitlines() if (m := re.match(
        r"P\((.*)\) = (\d+)% at pay_rate = ([\d.]+ ± [\d.]+%) ", line))]
    assert len(shown) == 2  # P(profit > 0) and P(margin > 20%) at 90%
    for text in shown:
        assert text in html, text


@pytest.mark.parametrize(("args", "message"), [
    (["--crossing", "1.5"], "error: --crossing: 1.5 is not a probability"),
    (["--crossing", "x"], "error: --crossing: level: 'x' is not a number"),
    (["--event", "margn > 0"], "error: --event: 'margn' is not computed"),
    (["--event", "margin > 0", "--point"], "error: --event: needs a Monte Carlo sweep"),
])
def test_bad_sweep_flags_one_line_exit_2(priors, tmp_path, capsys, args, message):
    rc = main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
               "pay_rate=0.3,0.4", "-n", "4096", *args, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
