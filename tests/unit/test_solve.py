"""solve: targets and events parsed, the answer against a brute-force grid on the same
draws, the honesty of its stated uncertainty over seeds, the conditional draw of a
correlated input, one compile for every try, and the command end to end."""

import json
import logging

import jax
import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel.analysis import solve as so
from probmodel.analysis import sweep as sw
from probmodel.analysis import targets as tg
from probmodel.cli import main
from probmodel.errors import UsageError
from probmodel.spec import pearson_for_spearman


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


@pytest.fixture(scope="module")
def corr(priors):
    return probmodel.load_scenario(priors / "deepseek-correlated.toml")


def test_numbers_read_as_the_tables_print_them():
    assert tg.parse_number("20%", "--target", "margin") == pytest.approx(0.2)
    assert tg.parse_number("-50k", "--target", "profit") == -50_000
    assert tg.parse_number("1.2M", "--target", "chips_required") == pytest.approx(1.2e6)
    assert tg.parse_number("$3B", "--target", "revenue") == 3e9
    assert tg.parse_number("1,500", "--target", "x") == 1500
    with pytest.raises(UsageError, match="--target: x: 'abc' is not a number"):
        tg.parse_number("abc", "--target", "x")


def test_targets_and_events_parse(adj):
    t = tg.parse_target("P(margin > 20%) >= 90%", adj)
    assert (t.stat, t.output, t.cmp, t.threshold) == ("p", "margin", ">=", 0.9)
    assert t.event.x == pytest.approx(0.2)
    assert t.label == "P(margin > 20%)"
    t = tg.parse_target("P(profit<-50k)<=0.05", adj)
    assert (t.event.op, t.event.x, t.cmp, t.threshold) == ("<", -50_000, "<=", 0.05)
    assert tg.parse_target("q05(profit) >= -50k", adj).stat == "q05"
    assert tg.parse_target("median(margin) > 0", adj).stat == "q50"
    assert tg.parse_target("es05(profit) >= -50k", adj).stat == "es05"
    assert tg.parse_target("mean(total_cost) <= 120k", adj).threshold == 120_000
    e = tg.parse_event("margin > 20%", adj)
    assert e.holds(np.array([0.1, 0.3], np.float32)).tolist() == [False, True]
    assert e.key == "p_margin_gt_0.2"


@pytest.mark.parametrize(("text", "message"), [
    ("P(profit > 0) >= 1.5", "--target: the probability in .* must lie in \\[0, 1\\]"),
    ("P(profit >> 0) >= 0.9", "--target: 'profit >> 0' is not of the form OUTPUT OP X"),
    ("q100(profit) >= 0", "--target: .* is not a target"),
    ("q00(profit) >= 0", "--target: q00: a quantile runs from q01 to q99"),
    ("P(proft > 0) >= 0.9", "--target: 'proft' is not computed .*did you mean 'profit'"),
    ("mean(profit) = 0", "--target: .* is not a target"),
])
def test_bad_targets(adj, text, message):
    with pytest.raises(UsageError, match=message):
        tg.parse_target(text, adj)


def _crossing(values, est, target):
    """The grid pair (last value not meeting, first value meeting) of a monotone curve."""
    met = np.array([target.met(e) for e in est])
    i = int(np.flatnonzero(met[1:] != met[:-1])[0])
    return values[i], values[i + 1]


@pytest.mark.parametrize("text", ["P(profit > 0) >= 0.9", "q05(profit) >= -50k",
                                  "es05(profit) >= -60k"])
def test_answer_agrees_with_a_grid_of_201_values_on_the_same_draws(adj, text):
    # The brute force is the sweep (another code path), 201 cells on the same seed: its
    # draws are the solve's, so the grid's crossing must bracket the solved value, and
    # the crossing lie inside the solve's stated Monte Carlo range.
    draws = 1 << 14
    t = tg.parse_target(text, adj)
    res = so.solve(adj, "pay_rate", t, draws=draws, seed=5)
    values = np.round(np.linspace(0.2, 0.8, 201), 6)
    g = sw.make_grid({"pay_rate": values})
    s = sw.sweep(adj, g, "profit", draws=draws, seed=5, keep=2).summary
    est = (s["p_profitable"].values if t.is_probability else
           s["profit"].sel(stat=t.stat).values)
    a, b = _crossing(values, est, t)
    assert a - 1e-6 <= res.value <= b + 1e-6
    lo, hi = res.value_interval
    assert lo <= b
    assert a <= hi
    assert hi - lo > 0
    assert t.met(res.achieved)
    assert abs(res.achieved - t.threshold) <= 2 * res.achieved_mcse + 1e-9
    assert res.direction == "above"
    assert res.draws == draws


@pytest.mark.parametrize("text", ["P(profit > 0) >= 0.8", "q05(profit) >= -50k",
                                  "es05(profit) >= -60k"])
def test_stated_uncertainty_is_honest_over_30_seeds(adj, text):
    # The stated Monte Carlo range is +-2 standard errors of the solved value: the spread
    # of the answer over independent seeds must match a quarter of its width.
    t = tg.parse_target(text, adj)
    vals, stated = [], []
    for seed in range(30):
        r = so.solve(adj, "pay_rate", t, draws=1 << 13, seed=100 + seed)
        vals.append(r.value)
        stated.append((r.value_interval[1] - r.value_interval[0]) / 4)
    ratio = np.std(vals, ddof=1) / np.mean(stated)
    assert 0.7 <= ratio <= 1.4, ratio


def test_one_compile_for_every_try(adj, caplog):
    t = tg.parse_target("P(profit > 0) >= 0.7", adj)
    before = so._outputs._cache_size()
    with caplog.at_level(logging.WARNING, logger="jax"), jax.log_compiles():
        res = so.solve(adj, "pay_rate", t, draws=1503, seed=1)  # a shape no other test uses
    compiles = [r for r in caplog.records if "Compiling" in r.getMessage()
                and "_outputs" in r.getMessage()]
    assert len(compiles) == 1
    assert len(res.tries) > 10
    assert so._outputs._cache_size() - before == 1


def test_the_estimate_is_monotone_on_common_random_numbers(adj):
    held = so.Held(adj, "pay_rate", ("profit",), 4096, 0)
    p = [float((held.at(v)["profit"] > 0).mean()) for v in np.linspace(0.1, 0.9, 41)]
    assert np.all(np.diff(p) >= 0)
    # the draws of the other inputs are the run's: pay_rate at each draw's own value
    # gives back the run's profit
    run = probmodel.simulate(adj, draws=4096, seed=0)
    v = float(run.pay_rate.values[0, 7])
    assert held.at(v)["profit"][7] == pytest.approx(float(run.profit.values[0, 7]), rel=1e-5)


def test_correlated_partners_are_drawn_given_the_value(corr):
    # Gaussian copula conditional on the normal score z of pay_rate's value: a partner's
    # normal score has mean rho z and sd sqrt(1 - rho^2) (rho: Pearson of the scores).
    held = so.Held(corr, "pay_rate", ("v3_share", "cache_hit_rate", "gpu_price_per_hour"),
                   1 << 15, 3)
    assert set(held.partners) == {"v3_share", "cache_hit_rate", "offpeak_share"}
    law = corr.parameters["pay_rate"]
    value = float(stats.beta(law.params["alpha"], law.params["beta"]).ppf(0.9))
    z = stats.norm.ppf(0.9)
    names, spear = corr.correlation_matrix()
    pear = pearson_for_spearman(np.asarray(spear))
    at = held.at(value)
    n = at["v3_share"].size
    for k in ("v3_share", "cache_hit_rate"):
        rho = pear[names.index(k), names.index("pay_rate")]
        p = corr.parameters[k]
        u = stats.norm.ppf(np.clip(stats.beta(p.params["alpha"], p.params["beta"]).cdf(
            at[k]), 1e-9, 1 - 1e-9))
        assert abs(u.mean() - rho * z) < 4 * np.sqrt(1 - rho**2) / np.sqrt(n), k
        assert u.std() == pytest.approx(np.sqrt(1 - rho**2), abs=0.02), k
    # an input outside the linked set keeps its own draws at every value
    assert (held.at(0.2)["gpu_price_per_hour"] == at["gpu_price_per_hour"]).all()
    # at the median of pay_rate (z = 0) the partners' scores are centred, narrower
    med = held.at(float(stats.beta(law.params["alpha"], law.params["beta"]).ppf(0.5)))
    p = corr.parameters["v3_share"]
    u = stats.norm.ppf(stats.beta(p.params["alpha"], p.params["beta"]).cdf(med["v3_share"]))
    rho = pear[names.index("v3_share"), names.index("pay_rate")]
    assert abs(u.mean()) < 4 / np.sqrt(n)
    assert u.std() == pytest.approx(np.sqrt(1 - rho**2), abs=0.02)


def test_unreachable_and_everywhere_targets_refused(adj):
    t = tg.parse_target("P(profit > 0) >= 0.999", adj)
    with pytest.raises(UsageError, match=r"--target: .* is not reached for pay_rate in "
                                         r"\[0.3, 0.4\]; the best is P\(profit > 0\) = "
                                         r"0\.\d+ ± 0\.\d+ at pay_rate = 0.4"):
        so.solve(adj, "pay_rate", t, draws=4096, seed=0, search_range=(0.3, 0.4))
    t = tg.parse_target("P(profit > 0) >= 0.01", adj)
    with pytest.raises(UsageError, match=r"--target: .* holds everywhere"):
        so.solve(adj, "pay_rate", t, draws=4096, seed=0, search_range=(0.3, 0.4))


def test_a_falling_target_and_a_fixed_input(adj):
    # a higher GPU price lowers the mean profit: the target holds at and below the answer
    t = tg.parse_target("mean(profit) >= 0", adj)
    res = so.solve(adj, "gpu_price_per_hour", t, draws=8192, seed=0)
    assert res.direction == "below"
    assert t.met(res.achieved)
    assert res.value_interval[0] <= res.value <= res.value_interval[1]


def _cli(args, capsys):
    rc = main(args)
    return rc, capsys.readouterr()


def test_solve_command_json_and_run_folder(priors, tmp_path, capsys):
    out = tmp_path / "s"
    rc, cap = _cli(["solve", str(priors / "deepseek-adjusted.toml"), "--vary", "pay_rate",
                    "--target", "P(profit > 0) >= 0.9", "--draws", "8192", "--json",
                    "--event", "margin > 20%", "--out", str(out)], capsys)
    assert rc == 0, cap.err
    d = json.loads(cap.out)
    assert {"value", "value_interval", "achieved", "achieved_mcse", "tries",
            "draws"} <= set(d)
    lo, hi = d["value_interval"]
    assert lo <= d["value"] <= hi
    assert d["draws"] == 8192
    assert d["events"][0]["event"] == "margin > 20%"
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "solve_pay_rate.png", "solve_pay_rate.svg"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["value"] == d["value"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "solve"
    assert manifest["target"] == "P(profit > 0) >= 0.9"


def test_solve_command_prints(priors, tmp_path, capsys):
    rc, cap = _cli(["solve", str(priors / "deepseek-adjusted.toml"), "--vary",
                    "pay_rate=0.2:0.8", "--target", "q05(profit) >= -50k", "--draws", "8192",
                    "--out", str(tmp_path / "s")], capsys)
    assert rc == 0, cap.err
    assert "pay_rate = " in cap.out
    assert "Monte Carlo range: [" in cap.out
    assert "q05(profit) = " in cap.out
    assert "tries on the same 8,192 draws" in cap.out


@pytest.mark.parametrize(("args", "message"), [
    (["--vary", "pay_rate", "--target", "P(profit >> 0) >= 0.9"], "error: --target: "),
    (["--vary", "pay_rate", "--target", "P(proft > 0) >= 0.9"], "error: --target: 'proft'"),
    (["--vary", "pay_rat", "--target", "P(profit > 0) >= 0.9"],
     "error: --vary: unknown parameter 'pay_rat'"),
    (["--vary", "pay_rate=0.5:0.4", "--target", "P(profit > 0) >= 0.9"],
     "error: --vary: pay_rate=0.5:0.4: LO must be below HI"),
    (["--vary", "pay_rate=0.3:1.5", "--target", "P(profit > 0) >= 0.9"],
     "error: --vary: pay_rate=1.5 is outside its domain"),
    (["--vary", "pay_rate=0.3:0.4", "--target", "P(profit > 0) >= 0.999"],
     "error: --target: P(profit > 0) >= 0.999 is not reached"),
    (["--vary", "pay_rate", "--target", "P(profit > 0) >= 0.9", "--event", "margin >"],
     "error: --event: 'margin >' is not of the form"),
    (["--target", "P(profit > 0) >= 0.9"], "error: --vary: give the input"),
    (["--vary", "pay_rate", "--target", "P(profit > 0) >= 0.9", "--set", "pay_rate=0.3"],
     "error: --vary: pay_rate is also fixed by --set"),
])
def test_solve_errors_one_line_exit_2(priors, tmp_path, capsys, args, message):
    rc, cap = _cli(["solve", str(priors / "deepseek-adjusted.toml"), *args, "--draws", "4096",
                    "--out", str(tmp_path / "s")], capsys)
    assert rc == 2
    assert cap.err.startswith(message), cap.err
    assert len(cap.err.strip().splitlines()) == 1
    assert "Traceback" not in cap.err
    assert not (tmp_path / "s").exists()
