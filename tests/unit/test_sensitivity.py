"""Sensitivity: tornado, Sobol indices (Ishigami), drivers of loss, figures, command.

Statistical bounds are stated next to each check; seeds are fixed.
"""

import json
import math

import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel import distributions as dists
from probmodel.analysis import sensitivity as se
from probmodel.cli import main
from probmodel.errors import UsageError

ADJ = "deepseek-adjusted.toml"

# Ishigami-Homma, A = 7, B = 0.1, x_i ~ U(-pi, pi): analytic variance decomposition
# (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, §4.5).
A, B = 7.0, 0.1
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
V = V1 + V2 + V13
ISHIGAMI_S1 = np.array([V1, V2, 0.0]) / V  # 0.3139, 0.4424, 0
ISHIGAMI_ST = np.array([V1 + V13, V2, V13]) / V  # 0.5576, 0.4424, 0.2437


def ishigami(u):
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


@pytest.fixture(scope="module")
def adjusted(priors):
    return probmodel.load_scenario(priors / ADJ)


def test_ishigami_indices_inside_their_intervals():
    assert ISHIGAMI_S1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert ISHIGAMI_ST == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    r = se.sobol_indices(ishigami, ["x1", "x2", "x3"], n_base=2**13, seed=1,
                         num_resamples=200, conf_level=0.99)
    for key, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        lo, hi = r[key] - r[f"{key}_conf"], r[key] + r[f"{key}_conf"]
        assert np.all((lo <= truth) & (truth <= hi)), (key, r[key], r[f"{key}_conf"], truth)
        # and the intervals are informative (not so wide they cannot fail)
        assert np.all(r[f"{key}_conf"] < 0.06), (key, r[f"{key}_conf"])
    assert r["n_evals"] == 2**13 * 5


def test_sobol_intervals_are_the_same_for_the_same_seed_including_0():
    # SALib leaves its bootstrap unseeded for a seed of 0; probmodel must not.
    a, b = (se.sobol_indices(ishigami, ["x1", "x2", "x3"], n_base=2**8, seed=0,
                             num_resamples=50) for _ in range(2))
    for k in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_array_equal(a[k], b[k])


def test_sobol_n_must_be_a_power_of_two():
    with pytest.raises(UsageError, match="power of two"):
        se.sobol_indices(ishigami, ["a", "b", "c"], n_base=1000)


def test_tornado_reproduces_point_mode_one_input_at_a_time(adjusted):
    t = se.tornado(adjusted)
    assert t.output == "margin"
    assert t.point == pytest.approx(probmodel.point(adjusted)["margin"], rel=1e-12)
    assert t.names[0] == "pay_rate"
    assert np.all(np.diff(t.swing) <= 0)  # sorted by swing
    # each bar end is point mode with that one input set to its quantile
    for i in (0, 1, 2):
        name = t.names[i]
        p = adjusted.parameters[name]
        lo, hi = dists.quantile(p.dist, p.params, [0.05, 0.95])
        assert (t.low_input[i], t.high_input[i]) == pytest.approx((lo, hi))
        at_lo = probmodel.point(adjusted.with_overrides({name: float(lo)}))["margin"]
        assert t.at_low[i] == pytest.approx(at_lo, rel=1e-9)
    # inputs the margin does not depend on have no swing
    assert dict(zip(t.names, t.swing, strict=True))["dau"] == 0.0
    table = t.table()
    assert list(table["input"]) == list(t.names)


def test_sobol_on_the_adjusted_scenario(adjusted):
    s = se.sobol(adjusted, "margin", n_base=2**11, seed=0)
    assert s.names[0] == "pay_rate"
    st = dict(zip(s.names, s.st, strict=True))
    # dau and tokens_per_request do not enter margin: exactly zero variance share
    assert st["dau"] == 0.0
    assert st["tokens_per_request"] == 0.0
    assert np.all(s.s1 <= s.st + s.s1_conf + s.st_conf)
    ds = s.to_dataset()
    assert ds["S1_interval"].dims == ("input", "ci_bound")
    assert ds["S1_interval"].attrs["ci_prob"] == 0.95


def test_one_uncertain_input_explains_everything(priors):
    sc = probmodel.load_scenario(priors / "deepseek-theoretical.toml")
    s = se.sobol(sc, "profit", n_base=2**10, seed=0)
    assert s.names == ("gpu_price_per_hour",)
    # a single input: S1 = ST = 1 up to the estimator's error (inside the interval)
    assert abs(s.s1[0] - 1) <= s.s1_conf[0] + 1e-9
    assert abs(s.st[0] - 1) <= s.st_conf[0] + 1e-9


def test_unknown_output_and_all_fixed(adjusted, priors):
    with pytest.raises(UsageError, match="did you mean 'margin'"):
        se.choose_output(adjusted, "margn")
    sc = probmodel.load_scenario(priors / "deepseek-theoretical.toml")
    fixed = sc.with_overrides({"gpu_price_per_hour": 2.0})
    with pytest.raises(UsageError, match="no uncertain parameter"):
        se.tornado(fixed)


def test_drivers_of_loss_against_the_analytic_answer(adjusted):
    # Draws where profit < 0 exactly when pay_rate < 0.3: the loss draws of pay_rate
    # follow its prior truncated above 0.3. KS = 1 - F(0.3); conditional median =
    # F^-1(F(0.3) / 2); the other inputs are independent of the event.
    rng = np.random.default_rng(5)
    n = 200_000
    arrays = {}
    for name, p in adjusted.uncertain.items():
        arrays[name] = dists.scipy_dist(p.dist, p.params).rvs(n, random_state=rng)
    arrays["profit"] = arrays["pay_rate"] - 0.3
    arrays["margin"] = arrays["profit"] / arrays["pay_rate"]
    d = se.drivers(arrays, adjusted)
    law = dists.scipy_dist(adjusted.parameters["pay_rate"].dist,
                           adjusted.parameters["pay_rate"].params)
    f03 = law.cdf(0.3)
    assert d.event == "profit < 0"
    assert d.names[0] == "pay_rate"
    # P(loss): within 4 MCSE of F(0.3)
    assert abs(d.p_event - f03) < 4 * d.p_event_mcse
    # the empirical KS statistic of the loss draws against all draws: sup |F_ev - F_n|
    # is 1 - F_n(0.3), whose sd is sqrt(p(1-p)/n): within 4 of them
    assert abs(d.ks[0] - (1 - f03)) < 4 * math.sqrt(f03 * (1 - f03) / n)
    # the conditional median, within 4 of its MCSE (+ the all-draws median's error)
    assert abs(d.median_event[0] - law.ppf(f03 / 2)) < 4 * d.median_event_mcse[0] * 1.5
    assert d.shift[0] < 0
    assert d.rank_corr[0] > 0.9  # margin rises with pay_rate
    # independent inputs: KS of a subsample of m = n f03 draws against all draws is
    # about sqrt((1 - f03)/(n f03)) K, K Kolmogorov; below its 0.9999 quantile (~2.4)
    bound = 2.4 * math.sqrt((1 - f03) / (n * f03))
    assert np.all(d.ks[1:] < bound), (d.names, d.ks)
    assert np.all(np.abs(d.shift_fraction[1:]) < 0.02)
    table = d.table()
    assert list(table["rank"]) == list(range(1, len(d.names) + 1))


def test_drivers_use_the_adverse_tail_without_profit(priors):
    sc = probmodel.load_scenario(priors / "chatbot-h20.toml")
    rng = np.random.default_rng(2)
    n = 50_000
    arrays = {name: dists.scipy_dist(p.dist, p.params).rvs(n, random_state=rng)
              for name, p in sc.uncertain.items()}
    arrays["chips_required"] = arrays["users"] * arrays["peak_factor"]
    d = se.drivers(arrays, sc)
    assert d.output == "chips_required"
    assert d.event.startswith("chips_required above its 90% quantile")
    assert "no profit" in d.tail_note
    assert d.p_event == pytest.approx(0.1, abs=1e-3)
    assert set(d.names[:2]) == {"users", "peak_factor"}
    assert stats.spearmanr(arrays["users"], arrays["chips_required"])[0] == pytest.approx(
        dict(zip(d.names, d.rank_corr, strict=True))["users"], abs=1e-9)


def test_figures_structure(adjusted):
    from probmodel.plots import sensitivity as plots

    t = se.tornado(adjusted)
    fig = plots.plot_tornado(t)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "margin (%)"
    assert next(x.get_text() for x in ax.get_yticklabels()) == t.names[0]
    # inputs that do not move margin (dau, tokens_per_request) are named, not drawn
    assert len(ax.patches) == 2 * int((t.swing > 0).sum()) < 2 * len(t.names)
    assert "tornado of margin (%)" in ax.get_title()
    vlines = [line for line in ax.get_lines() if line.get_label().startswith("point value")]
    assert len(vlines) == 1
    assert vlines[0].get_xdata()[0] == pytest.approx(t.point * 100)

    s = se.sobol(adjusted, n_base=2**9)
    fig = plots.plot_sobol(s)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(s.names)
    assert "Sobol indices of margin" in ax.get_title()
    legend = {x.get_text() for x in ax.get_legend().get_texts()}
    assert legend == {"total (ST)", "first order (S1)"}

    rng = np.random.default_rng(0)
    arrays = {k: dists.scipy_dist(p.dist, p.params).rvs(5000, random_state=rng)
              for k, p in adjusted.uncertain.items()}
    arrays["profit"] = arrays["pay_rate"] - 0.3
    arrays["margin"] = arrays["profit"]
    d = se.drivers(arrays, adjusted)
    fig = plots.plot_drivers(d)
    assert len(fig.axes) == 1 + 3
    assert fig.axes[0].get_yticklabels()[0].get_text() == d.names[0]
    assert fig.axes[1].get_xlabel() == "pay_rate (%)"
    assert "drivers of profit < 0" in fig.get_suptitle()


def test_sensitivity_command_end_to_end(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["sensitivity", str(priors / ADJ), "--draws", "20000", "--sobol-n", "512",
                 "--seed", "2", "--out", "s1", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    res = json.loads(cap.out)
    assert res["output"] == "margin"
    assert res["tornado"]["inputs"][0]["input"] == "pay_rate"
    assert res["sobol"]["inputs"][0]["input"] == "pay_rate"
    assert res["drivers"]["event"] == "profit < 0"
    assert res["drivers"]["inputs"][0]["input"] == "pay_rate"
    p = res["drivers"]["p_event"]
    assert res["drivers"]["p_event_mcse"] == pytest.approx(math.sqrt(p * (1 - p) / 20000))
    run = tmp_path / "s1"
    names = {q.relative_to(run).as_posix() for q in run.rglob("*") if q.is_file()}
    assert {"tornado.csv", "sobol.csv", "drivers.csv", "summary.csv", "summary.json",
            "sensitivity.nc", "draws.nc", "manifest.json", "figures/tornado.png",
            "figures/sobol.svg", "figures/drivers.png",
            "scenario/deepseek-adjusted.toml"} <= names
    man = json.loads((run / "manifest.json").read_text())
    assert man["kind"] == "sensitivity"
    assert man["output"] == "margin"
    assert (run / "summary.csv").read_text().splitlines()[0] == \
        "analysis,input,statistic,value,lower,upper,mcse"


def test_sensitivity_command_table_and_h20(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["sensitivity", str(priors / "chatbot-h20.toml"), "--draws", "5000",
                 "--sobol-n", "256"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "tornado of chips_required" in cap.out
    assert "Drivers of chips_required above its 90% quantile" in cap.out
    assert "no profit" in cap.out
    assert "run folder: runs/" in cap.out


@pytest.mark.parametrize(("args", "message"), [
    (["--output", "margn"], "did you mean 'margin'"),
    (["--sobol-n", "1000"], "power of two"),
    (["--draws", "0"], "--draws"),
    (["--set", "pay_rat=0.3"], "unknown parameter"),
])
def test_sensitivity_bad_input_exits_2_with_one_line(priors, capsys, tmp_path, monkeypatch,
                                                     args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["sensitivity", str(priors / ADJ), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
    assert not (tmp_path / "runs").exists()


def test_imprecise_sobol_indices_are_named_in_a_note(adjusted):
    r = {"S1": np.array([0.5, 1.3, -0.02]), "S1_conf": np.array([0.05, 0.1, 0.01]),
         "ST": np.array([0.6, 0.9, 0.02]), "ST_conf": np.array([0.45, 0.05, 0.01])}
    text = se.imprecise_indices(["a", "b", "c"], r, 0.95)
    assert text.split("; ")[0].startswith("a ST = 0.60 [0.15, 1.05]")  # worst first
    assert "b S1 = 1.30 [1.20, 1.40] (95%)" in text  # above 1 by more than the slack
    assert "c " not in text  # -0.02 is within the slack of 0
    assert se.imprecise_indices(["a"], {k: v[2:] for k, v in r.items()}, 0.95) == ""
    s = se.sobol(adjusted, "margin", 64, seed=0)
    assert any(n.startswith("imprecise at --sobol-n 64: pay_rate S1 = 1.80") for n in s.notes)
