"""--set on laws: NAME.KEY=VALUE and 'NAME=Family(a, b)', validated exactly as a file's
table (the same located one-line messages), recorded in the manifest."""

import json

import pytest

import probmodel
from probmodel import distributions as dists
from probmodel.cli import main
from probmodel.errors import ScenarioError
from probmodel.spec import parse_overrides
from probmodel.spec.parameters import LawOverride


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


def _law(sc, sets):
    return sc.with_overrides(parse_overrides(sets))


def test_parse_forms():
    got = parse_overrides(["pay_rate.p95=0.7", "pay_rate=Beta(2, 5)", "users=3e7",
                           "dau=LogNormal(loc=17, scale=0.3)"])
    assert got["pay_rate.p95"] == 0.7
    assert got["users"] == 3e7
    assert got["pay_rate"] == LawOverride("Beta", {"alpha": 2.0, "beta": 5.0}, "Beta(2, 5)")
    assert got["dau"].keys == {"loc": 17.0, "scale": 0.3}


def test_p95_keeps_the_law_s_p05(adj):
    # pay_rate is given by mean and sd in the file: setting p95 switches to the
    # interval form, p05 taken from the law as it stands
    old = adj.parameters["pay_rate"]
    sc = _law(adj, ["pay_rate.p95=0.7"])
    p = sc.parameters["pay_rate"]
    q05, q95 = dists.quantile(p.dist, p.params, [0.05, 0.95])
    assert q95 == pytest.approx(0.7, rel=1e-6)
    assert q05 == pytest.approx(dists.quantile(old.dist, old.params, [0.05])[0], rel=1e-5)
    assert p.point == old.point
    assert p.file == "--set"
    assert sc.law_overrides == {"pay_rate.p95": "0.7"}
    assert sc.overrides == {}
    assert "set on the command line (--set pay_rate.p95=0.7)" in p.source


def test_point_and_family_overrides(adj):
    p = _law(adj, ["pay_rate.point=0.4"]).parameters["pay_rate"]
    assert p.point == 0.4
    assert p.params == pytest.approx(adj.parameters["pay_rate"].params)
    p = _law(adj, ["pay_rate=Beta(2, 5)"]).parameters["pay_rate"]
    assert (p.dist, p.params["alpha"], p.params["beta"], p.point) == ("Beta", 2, 5, 0.35)
    p = _law(adj, ["pay_rate=Beta(p05=0.2, p95=0.6)"]).parameters["pay_rate"]
    assert dists.quantile(p.dist, p.params, [0.05, 0.95]) == pytest.approx([0.2, 0.6],
                                                                          rel=1e-6)
    # a fixed parameter given a law becomes uncertain; its point is kept when inside
    sc = _law(adj, ["gpu_cost_share=Beta(14, 6)"])
    assert "gpu_cost_share" in sc.uncertain


def test_the_same_message_as_a_file(adj, tmp_path, priors):
    # v3_share is given by p05 = 0.15 and p95 = 0.58 in the file
    f = tmp_path / "bad.toml"
    f.write_text(f'schema_version = 1\nextends = "{priors / "deepseek-adjusted.toml"}"\n'
                 '[parameters.v3_share]\ndist = "Beta"\np05 = 0.15\np95 = 0.1\npoint = 0.35\n'
                 'unit = "1"\nsource = "x"\n')
    with pytest.raises(ScenarioError) as from_file:
        probmodel.load_scenario(f)
    with pytest.raises(ScenarioError) as from_set:
        _law(adj, ["v3_share.p95=0.1"])
    file_line, = from_file.value.lines()
    set_line, = from_set.value.lines()
    assert set_line == "--set: parameters.v3_share.p95: p95 (0.1) must exceed p05 (0.15)"
    assert file_line.split(": ", 1)[1] == set_line.split(": ", 1)[1]


@pytest.mark.parametrize(("item", "message"), [
    ("pay_rate.p95=0.1", "error: --set: parameters.pay_rate.p95: p95 (0.1) must exceed p05"),
    ("pay_rate=Bta(2, 5)", "error: --set: pay_rate: unknown distribution 'Bta' (did you "
                           "mean 'Beta'?)"),
    ("pay_rate=Beta(2, 5, 3)", "error: --set: pay_rate: Beta takes 2 native parameters"),
    ("pay_rate=Beta(-2, 5)", "error: --set: parameters.pay_rate.alpha: must be positive"),
    ("pay_rate=Normal(0.3, 0.1)", "error: --set: parameters.pay_rate: Normal support "
                                  "[-inf, inf] exceeds the domain (0, 1] of pay_rate"),
    ("pay_rate.point=1.5", "error: --set: parameters.pay_rate.point: (1.5) is outside the "
                           "support"),
    ("pay_rate.foo=3", "error: --set: parameters.pay_rate.foo: unknown key"),
    ("nodes_avg.p95=3", "error: --set: nodes_avg.p95: nodes_avg is fixed"),
    ("pay_rat.p95=0.7", "error: --set: unknown parameter 'pay_rat' (did you mean "
                        "'pay_rate'?)"),
    ("pay_rate=Beta(2, x)", "error: --set: pay_rate: 'x' in Beta(2, x) is not a number"),
])
def test_override_that_breaks_a_law_exits_2(priors, capsys, item, message):
    rc = main(["check", str(priors / "deepseek-adjusted.toml"), "--set", item])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1


def test_recorded_in_the_manifest(priors, tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["run", str(priors / "deepseek-adjusted.toml"), "-n", "2048", "-q", "--out",
               str(out), "--set", "pay_rate.p95=0.7", "--set", "dau=LogNormal(17, 0.3)"])
    assert rc == 0, capsys.readouterr().err
    m = json.loads((out / "manifest.json").read_text())
    assert m["law_overrides"] == {"pay_rate.p95": "0.7", "dau": "LogNormal(17, 0.3)"}
