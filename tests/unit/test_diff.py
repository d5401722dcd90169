"""diff: two scenarios' parameters side by side, inherited ones named with their file,
differences first; the command's table, JSON and errors."""

import json

import pytest

import probmodel
from probmodel.analysis.diff import diff
from probmodel.cli import main


@pytest.fixture(scope="module")
def pair(priors):
    return (probmodel.load_scenario(priors / "deepseek-theoretical.toml"),
            probmodel.load_scenario(priors / "deepseek-adjusted.toml"))


def test_inherited_parameters_and_differences_first(pair):
    d = diff(*pair)
    rows = {r["name"]: r for r in d["parameters"]}
    # deepseek-adjusted extends deepseek-theoretical: nodes_avg comes from the parent
    na = rows["nodes_avg"]
    assert not na["differs"]
    assert na["a"]["stated"] == "stated"
    assert na["b"]["stated"] == "inherited"
    assert na["b"]["file"].endswith("deepseek-theoretical.toml")
    # the adjusted view replaces pay_rate (fixed 1 in the parent) by a Beta
    pr = rows["pay_rate"]
    assert pr["differs"]
    assert pr["a"]["law"] == "fixed"
    assert pr["a"]["point"] == 1.0
    assert pr["b"]["law"].startswith("Beta(")
    assert pr["b"]["stated"] == "stated"
    lo, hi = pr["b"]["interval_90"]
    assert lo < pr["b"]["median"] < hi
    # dau is only in the adjusted view
    assert rows["dau"]["a"] is None
    assert rows["dau"]["differs"]
    flags = [r["differs"] for r in d["parameters"]]
    assert flags == sorted(flags, reverse=True)  # differences first
    assert set(d["differing"]) >= {"pay_rate", "gpu_cost_share", "v3_share", "dau"}
    assert "nodes_avg" not in d["differing"]


def test_a_scenario_against_itself(pair):
    d = diff(pair[1], pair[1])
    assert d["differing"] == []
    assert d["prices"] == "same"
    assert d["correlations"] == "same"


def test_command_table_and_json(priors, capsys):
    a, b = str(priors / "deepseek-theoretical.toml"), str(priors / "deepseek-adjusted.toml")
    assert main(["diff", a, b]) == 0
    text = capsys.readouterr().out
    assert "parameters differ (first)" in text
    assert "≠ pay_rate" in text
    assert "inherited: deepseek-theoretical.toml" in text
    assert main(["diff", a, b, "--json", "--set", "pay_rate=0.4"]) == 0
    d = json.loads(capsys.readouterr().out)
    pr = next(r for r in d["parameters"] if r["name"] == "pay_rate")
    assert pr["b"]["stated"] == "overridden"
    assert pr["b"]["point"] == 0.4
    assert not pr["differs"]


def test_errors_one_line(priors, tmp_path, capsys):
    rc = main(["diff", str(priors / "deepseek-adjusted.toml"), str(tmp_path / "nope.toml")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "no such file" in err
    assert len(err.strip().splitlines()) == 1
