"""solve --choose: every option on the same draws, constraints, the ranking and P(best in
a draw) from the paired draws; the command and its one-line errors."""

import json

import numpy as np
import pytest

import probmodel
from probmodel import sampling
from probmodel.analysis import choose as ch
from probmodel.analysis import targets as tg
from probmodel.cli import main
from probmodel.errors import UsageError

ROOF = "chatbot-h20-fleet-roofline.toml"
COST = "cost_per_mtok_output"
SPEED = "decode_tokens_per_sequence_second"


@pytest.fixture(scope="module")
def roof(priors):
    return probmodel.load_scenario(priors / ROOF)


def test_options_on_paired_draws(roof):
    name, options = ch.parse_choose("chip=H20,H800,B200", roof)
    assert (name, options) == ("chip", ["H20", "H800", "B200"])
    obj = tg.parse_statistic(f"q50({COST})", roof)
    con = tg.parse_target(f"P({SPEED} >= 10) >= 0.9", roof)
    res = ch.choose(roof, name, options, obj, True, [con], draws=4096, seed=2)
    # each option's draws are those of the scenario with --set chip=OPTION, same seed
    draws = {o: sampling.sample_arrays(roof.with_overrides({"chip": o}), 4096, 2,
                                       names=(COST, SPEED))
             for o in options}
    for o in options:
        v, se = res.estimates[o]["objective"]
        assert v == pytest.approx(float(np.quantile(draws[o][COST], 0.5)))
        assert se > 0
        p, _, met = res.estimates[o]["constraints"][0]
        assert p == pytest.approx(float((draws[o][SPEED] >= 10).mean()))
        assert met == (p >= 0.9)
    assert "H20" not in res.feasible  # 4 tokens/s per sequence at batch 88
    assert res.ranking == sorted(res.feasible, key=lambda o: res.estimates[o]["objective"][0])
    # P(best in a draw): the lowest cost among the feasible options in the same draw
    y = np.stack([draws[o][COST] for o in res.feasible])
    win = np.argmin(y, axis=0)
    for j, o in enumerate(res.feasible):
        assert res.p_best[o][0] == pytest.approx(float((win == j).mean()))
    assert sum(p for p, _ in res.p_best.values()) == pytest.approx(1.0)
    assert res.summary["p_best"].sel(option="H20").isnull()


def test_numeric_options_and_maximise(priors):
    adj = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    name, options = ch.parse_choose("gpu_cost_share=0.6,0.7,0.8", adj)
    assert options == [0.6, 0.7, 0.8]
    res = ch.choose(adj, name, options, tg.parse_statistic("P(profit > 0)", adj), False, [],
                    draws=4096, seed=0)
    # total cost = GPU rental / gpu_cost_share: a higher share means a lower total cost,
    # so the profit is higher in every single draw
    assert res.ranking == ["0.8", "0.7", "0.6"]
    assert res.p_best["0.8"][0] == 1.0


@pytest.mark.parametrize(("text", "message"), [
    ("chip=H20", "--choose: chip: give at least two options"),
    ("chip=H20,H2O", "--choose: unknown chip 'H2O'"),
    ("chip=H20,H20", "--choose: chip: an option is given twice"),
    ("chp=H20,H200", "--choose: unknown parameter 'chp'"),
    ("chip", "--choose: 'chip' is not of the form NAME=A,B,..."),
])
def test_bad_choose(roof, text, message):
    with pytest.raises(UsageError, match=message):
        ch.parse_choose(text, roof)


def test_no_feasible_option(roof):
    obj = tg.parse_statistic(f"q50({COST})", roof)
    con = tg.parse_target(f"P({SPEED} >= 1000) >= 0.9", roof)
    with pytest.raises(UsageError, match="--subject-to: no option of chip meets every"):
        ch.choose(roof, "chip", ["H20", "B200"], obj, True, [con], draws=2048, seed=0)


def test_command(priors, tmp_path, capsys):
    out = tmp_path / "c"
    rc = main(["solve", str(priors / ROOF), "--choose", "chip=H20,H200,B200", "--minimise",
               f"q50({COST})", "--subject-to", f"P({SPEED} >= 10) >= 0.9", "--draws",
               "4096", "--json", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    d = json.loads(cap.out)
    assert d["best"] == d["ranking"][0]
    assert {o["option"] for o in d["options"]} == {"H20", "H200", "B200"}
    assert (out / "figures" / "choose_chip.png").exists()
    assert json.loads((out / "manifest.json").read_text())["choose"] == "chip"
    rc = main(["solve", str(priors / ROOF), "--choose", "chip=H20,H200,B200", "--minimise",
               f"q50({COST})", "--draws", "4096", "--out", str(tmp_path / "d")])
    text = capsys.readouterr().out
    assert rc == 0
    assert "P(best in a draw) ± MCSE" in text
    assert "best: " in text


@pytest.mark.parametrize(("args", "message"), [
    (["--choose", "chip=H20,H200", "--minimise", "q50(cost)"],
     "error: --minimise: 'cost' is not computed"),
    (["--choose", "chip=H20,H200", "--minimise", "cost_per_mtok_output"],
     "error: --minimise: 'cost_per_mtok_output' is not a statistic"),
    (["--choose", "chip=H20,H200"], "error: --minimise: give one of"),
    (["--choose", "chip=H20,H200", "--minimise", "q50(cost_per_mtok_output)",
      "--subject-to", "P(decode_tokens_per_sequence_second >= 1000) >= 0.9"],
     "error: --subject-to: no option of chip meets every constraint"),
    (["--choose", "chip=H20,H200", "--minimise", "q50(cost_per_mtok_output)", "--vary",
      "users"], "error: --choose: give either --vary with --target, or --choose"),
])
def test_choose_errors_one_line_exit_2(priors, tmp_path, capsys, args, message):
    rc = main(["solve", str(priors / ROOF), *args, "--draws", "2048", "--out",
               str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()
