"""Events (--event "margin > 20%"): P(event) ± MCSE counted while streaming, equal to the
share of the run's own draws, an MCSE that matches the spread over seeds, the tables,
JSON and summary files of run, and one-line errors."""

import json

import numpy as np
import pytest

import probmodel
from probmodel import results, sampling, streaming
from probmodel.analysis import targets as tg
from probmodel.cli import main


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


def _stream(sc, events, draws, seed, **kw):
    model = sampling.ForwardModel.from_scenario(sc)
    return streaming.run_stream(model, model.args(sc), draws, seed, events=events, **kw)


def test_p_event_is_the_share_of_the_run_draws(adj):
    events = tg.parse_events(["margin > 20%", "profit < -50k", "revenue >= 1.2M"], adj)
    st = _stream(adj, events, 20_000, 4)
    ds = probmodel.simulate(adj, draws=20_000, seed=4)
    got = results.event_list(st.summary)
    assert [e["event"] for e in got] == ["margin > 20%", "profit < -50k", "revenue >= 1.2M"]
    want = [float((ds.margin > np.float32(0.2)).mean()),
            float((ds.profit < -50_000).mean()), float((ds.revenue >= 1.2e6).mean())]
    assert [e["p"] for e in got] == pytest.approx(want, abs=1e-12)
    for e in got:
        assert e["mcse"] == pytest.approx(np.sqrt(e["p"] * (1 - e["p"]) / 20_000))
    # the histogram path (more draws than are kept) counts the same draws
    hist = results.event_list(_stream(adj, events, 20_000, 4, keep_cap=1000).summary)
    assert [e["p"] for e in hist] == [e["p"] for e in got]


def test_mcse_matches_the_spread_over_seeds(adj):
    events = tg.parse_events(["margin > 20%", "profit < -50k"], adj)
    ps, ses = [], []
    for seed in range(30):
        ev = results.event_list(_stream(adj, events, 1 << 13, 200 + seed).summary)
        ps.append([e["p"] for e in ev])
        ses.append([e["mcse"] for e in ev])
    ratio = np.std(ps, axis=0, ddof=1) / np.mean(ses, axis=0)
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio


def test_summary_table_rows(adj):
    events = tg.parse_events(["margin > 20%"], adj)
    df = results.summary_table(_stream(adj, events, 4096, 0).summary)
    row = df[(df.variable == "margin") & (df.statistic == "p_gt_0.2")]
    assert len(row) == 1
    assert 0 < row.value.iloc[0] < 1


def test_run_command_prints_and_writes_events(priors, tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["run", str(priors / "deepseek-adjusted.toml"), "-n", "4096", "--event",
               "margin > 20%", "--out", str(out), "-q"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "P(margin > 20%) = 0." in cap.out
    assert json.loads((out / "summary.json").read_text())["events"][0]["statistic"] == \
        "p_gt_0.2"
    assert "margin,p_gt_0.2," in (out / "summary.csv").read_text()
    rc = main(["run", str(priors / "deepseek-adjusted.toml"), "-n", "4096", "--event",
               "profit < -50k", "--json", "--out", str(tmp_path / "j")])
    d = json.loads(capsys.readouterr().out)
    assert d["events"][0]["event"] == "profit < -50k"


@pytest.mark.parametrize(("event", "message"), [
    ("margin >> 20%", "error: --event: 'margin >> 20%' is not of the form OUTPUT OP X"),
    ("margn > 20%", "error: --event: 'margn' is not computed by scenario"),
    ("margin > abc", "error: --event: 'margin > abc' is not of the form"),
])
def test_bad_events_one_line_exit_2(priors, tmp_path, capsys, event, message):
    rc = main(["run", str(priors / "deepseek-adjusted.toml"), "-n", "4096", "--event", event,
               "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
