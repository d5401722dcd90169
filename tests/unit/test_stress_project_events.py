"""Events on stress and project: P(event) per case (with the band-edge influence terms in
its MCSE) and per year, equal to the share of the draws, in the tables, JSON, summary files
and report."""

import json

import numpy as np
import pytest

import probmodel
from probmodel import results
from probmodel.analysis import stress as st
from probmodel.analysis import targets as tg
from probmodel.cli import main


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


def test_p_event_per_case_is_the_share_of_the_case_draws(adj):
    events = tg.parse_events(["margin > 20%", "profit < -50k"], adj)
    band = st.parse_band("pay_rate=20:40", list(adj.uncertain))
    res, ds = st.run(adj, [band], 4096, 2, events=events)
    x = ds["pay_rate"].values.ravel()
    lo, hi = np.quantile(x, [0.2, 0.4])
    inside = (x >= lo) & (x <= hi)
    m, pr = ds["margin"].values.ravel(), ds["profit"].values.ravel()
    want = {"base": [(m > np.float32(0.2)).mean(), (pr < -50_000).mean()],
            "pay_rate=20:40": [(m[inside] > np.float32(0.2)).mean(),
                               (pr[inside] < -50_000).mean()]}
    for case, w in want.items():
        assert res["p_event"].sel(band=case).values == pytest.approx(w, abs=1e-12)
    d = res["p_event_diff"].sel(band="pay_rate=20:40").values
    assert d == pytest.approx(np.subtract(want["pay_rate=20:40"], want["base"]), abs=1e-12)


def test_stress_event_mcse_matches_the_spread_over_seeds(adj):
    # 30 seeds: an honest MCSE gives spread / stated within 0.6-1.4 (the sample sd of
    # 30 draws lies within +-40% of the true sd with probability > 0.99). The band's
    # edges are themselves estimated: without their influence terms the case's MCSE
    # would be too small.
    events = tg.parse_events(["margin > 20%"], adj)
    band = st.parse_band("pay_rate=20:40", list(adj.uncertain))
    ps, ses, ds_, dses = [], [], [], []
    for seed in range(30):
        res, _ = st.run(adj, [band], 4096, 300 + seed, events=events)
        r = res.sel(band="pay_rate=20:40", event="margin > 20%")
        ps.append(float(r.p_event))
        ses.append(float(r.p_event_mcse))
        ds_.append(float(r.p_event_diff))
        dses.append(float(r.p_event_diff_mcse))
    for v, se in ((ps, ses), (ds_, dses)):
        ratio = np.std(v, ddof=1) / np.mean(se)
        assert 0.6 < ratio < 1.4, ratio


def test_stress_command_events(priors, tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(["stress", str(priors / "deepseek-adjusted.toml"), "--band", "pay_rate=0:10",
               "-n", "4096", "--event", "margin > 20%", "--out", str(out), "-q", "--report"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "P(margin > 20%)" in text
    assert "pay_rate=0:10,margin,p_gt_0.2," in (out / "summary.csv").read_text()
    case = json.loads((out / "summary.json").read_text())["cases"]["pay_rate=0:10"]
    assert case["events"][0]["event"] == "margin > 20%"
    assert set(case["events"][0]) >= {"p", "mcse", "diff", "diff_mcse"}
    assert "P(margin &gt; 20%) ± MCSE</th>" in (out / "report.html").read_text()


def test_projection_events_per_year(priors, tmp_path, capsys):
    sc = probmodel.load_scenario(priors / "agents-h20-2025-2030.toml")
    out = tmp_path / "p"
    rc = main(["project", str(priors / "agents-h20-2025-2030.toml"), "-n", "4096",
               "--event", "chips_required > 1M", "--out", str(out), "-q", "--report"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "P(chips_required > 1M) ± MCSE" in text
    d = json.loads((out / "summary.json").read_text())
    ev = d["events"][0]
    assert ev["event"] == "chips_required > 1M"
    assert list(ev["p"]) == [str(y) for y in d["years"]]
    # the share of the run's own paths, year by year
    from probmodel.analysis import projection as pj

    ds = pj.simulate(sc, 4096, 0)
    want = (ds["chips_required"].values[0] > 1e6).mean(axis=0)
    assert list(ev["p"].values()) == pytest.approx(want, abs=1e-12)
    assert list(ev["mcse"].values()) == pytest.approx(np.sqrt(want * (1 - want) / 4096))
    assert ",p_gt_1e+06," in (out / "summary.csv").read_text()
    assert "P(chips_required &gt; 1M) ± MCSE</th>" in (out / "report.html").read_text()


def test_summarize_event_on_a_variable_without_year(priors):
    sc = probmodel.load_scenario(priors / "agents-h20-2025-2030.toml")
    from probmodel.analysis import projection as pj

    ds = pj.simulate(sc, 1024, 1)
    static = next(k for k in ds.data_vars if "year" not in ds[k].dims
                  and np.ptp(ds[k].values) > 0)
    med = float(np.median(ds[static].values))
    ev = tg.Event(static, ">", med, f"{static} > {med}")
    s = results.summarize(ds, names=["chips_required"], events=[ev])
    p = s["p_event"].values[:, 0]
    assert np.all(p == p[0])  # the same draws every year
    assert p[0] == pytest.approx((ds[static].values > np.float32(med)).mean(), abs=1e-12)
