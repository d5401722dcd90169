"""The scenario package: correlations, parsed sections, and bad input caught with a located line.

Every bad file is driven through the CLI: exit 2, one ``error: file: path: message``
line per problem on stderr, nothing on stdout, no run folder written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from probmodel.cli import main
from probmodel.errors import ScenarioError, UsageError
from probmodel.spec import (
    Correlation,
    Observation,
    Projection,
    check_positive_definite,
    pearson_for_spearman,
    read_scenario,
)

ROOT = Path(__file__).resolve().parents[2]
ADJUSTED = ROOT / "priors" / "deepseek-adjusted.toml"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def child(tmp_path: Path, body: str, name: str = "s.toml", parent: Path = ADJUSTED) -> Path:
    return write(tmp_path, f'schema_version = 1\nextends = "{parent}"\n{body}', name)


def table(name: str, unit: str, *lines: str) -> str:
    """A [parameters.NAME] table with a unit, a source and the given key lines."""
    return "\n".join([f"[parameters.{name}]", *lines, f'unit = "{unit}"', 'source = "s"'])


def corr(a: str, b: str, rank: float, source: str = "s") -> str:
    return f'\n[[correlations]]\nbetween = ["{a}", "{b}"]\nrank = {rank}\nsource = "{source}"\n'


def refused(tmp_path, monkeypatch, capsys, args) -> list[str]:
    """Run the CLI in an empty folder; check exit 2, no stdout, nothing written."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    code = main(args)
    cap = capsys.readouterr()
    assert code == 2, cap.err
    assert cap.out == ""
    assert "Traceback" not in cap.err
    assert list(work.iterdir()) == []  # no run folder, nothing else
    lines = cap.err.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


# --------------------------------------------------------------------------- correlations


def test_correlations_parse_sorted_with_matrix_in_uncertain_order(tmp_path):
    p = child(tmp_path, corr("v3_share", "pay_rate", -0.4, "mix") + corr("dau", "pay_rate", 0.2))
    sc = read_scenario(p)
    assert sc.correlations == (Correlation("pay_rate", "v3_share", -0.4, "mix"),
                               Correlation("dau", "pay_rate", 0.2, "s"))
    names, m = sc.correlation_matrix()
    assert names == ("v3_share", "pay_rate", "dau")  # scenario.uncertain order
    np.testing.assert_array_equal(m, [[1.0, -0.4, 0.0], [-0.4, 1.0, 0.2], [0.0, 0.2, 1.0]])


def test_no_correlations_gives_an_empty_matrix():
    sc = read_scenario(ADJUSTED)
    assert sc.correlations == ()
    names, m = sc.correlation_matrix()
    assert names == ()
    assert m.shape == (0, 0)


def test_extends_merges_correlation_lists_and_a_child_overrides_a_pair(tmp_path):
    parent = child(tmp_path, corr("pay_rate", "v3_share", -0.4) + corr("dau", "pay_rate", 0.2),
                   name="parent.toml")
    kid = child(tmp_path, corr("v3_share", "pay_rate", -0.1, "newer")
                + corr("dau", "v3_share", 0.3), parent=parent)
    sc = read_scenario(kid)
    got = {c.pair: (c.rank, c.source) for c in sc.correlations}
    assert got == {("pay_rate", "v3_share"): (-0.1, "newer"), ("dau", "pay_rate"): (0.2, "s"),
                   ("dau", "v3_share"): (0.3, "s")}


def test_set_drops_the_correlations_of_a_fixed_parameter(tmp_path):
    body = corr("pay_rate", "v3_share", -0.4) + corr("dau", "v3_share", 0.3)
    sc = read_scenario(child(tmp_path, body))
    fixed = sc.with_overrides({"pay_rate": 0.3})
    assert [c.pair for c in fixed.correlations] == [("dau", "v3_share")]


def test_pearson_for_spearman_is_the_normal_score_conversion():
    r = np.array([-0.9, -0.4, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(pearson_for_spearman(r), 2 * np.sin(np.pi * r / 6), rtol=0, atol=0)
    # A bivariate normal with Pearson rho has Spearman (6/pi) arcsin(rho/2): the inverse.
    np.testing.assert_allclose(6 / np.pi * np.arcsin(pearson_for_spearman(r) / 2), r, atol=1e-15)


def test_positive_definite_check_names_the_pairs_involved():
    names = ("a", "b", "c", "d")
    ok = np.array([[1, 0.5, 0.3, 0], [0.5, 1, 0.2, 0], [0.3, 0.2, 1, 0], [0, 0, 0, 1.0]])
    assert check_positive_definite(names, ok) == []
    # a~b and a~c strongly positive, b~c strongly negative: impossible together; d unrelated.
    bad = np.array([[1, 0.9, 0.9, 0], [0.9, 1, -0.9, 0.1], [0.9, -0.9, 1, 0], [0, 0.1, 0, 1.0]])
    assert set(check_positive_definite(names, bad)) == {("a", "b"), ("a", "c"), ("b", "c")}


def test_check_prints_the_rank_correlation_matrix(tmp_path, monkeypatch, capsys):
    p = child(tmp_path, corr("pay_rate", "v3_share", -0.4))
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(p)]) == 0
    text = capsys.readouterr().out
    assert "Rank correlations" in text
    assert "-0.40" in text
    assert text.rstrip().endswith("fixed parameters, 1 rank correlation")


@pytest.mark.parametrize(("body", "path", "message"), [
    (corr("pay_rate", "nodes_avg", 0.3), "correlations[0].between", "nodes_avg is fixed"),
    (corr("pay_rate", "users", 0.3), "correlations[0].between",
     "'users' is not a parameter of this scenario"),
    (corr("pay_rate", "pay_rat", 0.3), "correlations[0].between", "did you mean 'pay_rate'"),
    (corr("pay_rate", "v3_share", 1.0), "correlations[0].rank", "strictly between -1 and 1"),
    (corr("pay_rate", "v3_share", -1.5), "correlations[0].rank", "strictly between -1 and 1"),
    (corr("pay_rate", "pay_rate", 0.5), "correlations[0].between", "twice"),
    (corr("pay_rate", "v3_share", 0.3) + corr("v3_share", "pay_rate", 0.2),
     "correlations[1].between", "already given at correlations[0]"),
    ('\n[[correlations]]\nbetween = ["pay_rate", "v3_share"]\nrank = 0.3\n',
     "correlations[0].source", "missing"),
    (corr("pay_rate", "v3_share", 0.3) + 'why = "x"\n', "correlations[0].why", "unknown key"),
    ('\n[correlations]\nbetween = ["pay_rate", "v3_share"]\n', "correlations", "array of tables"),
    (corr("pay_rate", "v3_share", 0.9) + corr("pay_rate", "dau", 0.9)
     + corr("v3_share", "dau", -0.9), "correlations", "not positive definite"),
])
def test_bad_correlations_get_one_located_line(tmp_path, monkeypatch, capsys, body, path, message):
    p = child(tmp_path, body)
    for command in (["check", str(p)], ["run", str(p), "--draws", "10"]):
        lines = refused(tmp_path, monkeypatch, capsys, command)
        assert len(lines) == 1, lines
        assert f"s.toml: {path}: " in lines[0]
        assert message in lines[0]


def test_not_positive_definite_names_each_pair(tmp_path, monkeypatch, capsys):
    p = child(tmp_path, corr("pay_rate", "v3_share", 0.9) + corr("pay_rate", "dau", 0.9)
              + corr("v3_share", "dau", -0.9) + corr("cache_hit_rate", "offpeak_share", 0.1))
    (line,) = refused(tmp_path, monkeypatch, capsys, ["check", str(p)])
    for pair in ("(pay_rate, v3_share", "(dau, pay_rate", "(dau, v3_share"):
        assert pair in line
    assert "cache_hit_rate" not in line


# --------------------------------------------------------------------------- parsed sections


def test_projection_and_observations_arrive_parsed():
    sc = read_scenario(ROOT / "priors" / "agents-h20-2025-2030.toml")
    assert isinstance(sc.projection, Projection)
    assert sc.projection.years[0] == sc.projection.base_year
    ev = read_scenario(ROOT / "priors" / "deepseek-evidence.toml")
    assert ev.observations
    assert all(isinstance(o, Observation) for o in ev.observations.values())
    assert read_scenario(ADJUSTED).projection is None


# --------------------------------------------------------------------------- bad input (issue 11)


def test_empty_file_is_refused(tmp_path, monkeypatch, capsys):
    p = write(tmp_path, "")
    for cmd in ("check", "point", "run"):
        (line,) = refused(tmp_path, monkeypatch, capsys, [cmd, str(p)])
        assert "s.toml: schema_version: missing" in line
        assert "empty" in line


def test_a_scenario_without_parameters_is_refused(tmp_path, monkeypatch, capsys):
    p = write(tmp_path, 'schema_version = 1\ntitle = "nothing"\n')
    (line,) = refused(tmp_path, monkeypatch, capsys, ["run", str(p), "--draws", "10"])
    assert "s.toml: parameters: missing" in line


def test_missing_schema_version_is_refused(tmp_path, monkeypatch, capsys):
    text = ADJUSTED.read_text(encoding="utf-8").replace("schema_version = 1\n", "")
    p = write(tmp_path, text.replace('extends = "', f'extends = "{ADJUSTED.parent}/'))
    (line,) = refused(tmp_path, monkeypatch, capsys, ["check", str(p)])
    assert "s.toml: schema_version: missing" in line


@pytest.mark.parametrize("data", [
    "schema_version = 1\ntitle = \"caf\xe9\"\n".encode("latin-1"),
    bytes(range(256)) * 4,
])
def test_binary_or_latin1_file_is_refused(tmp_path, monkeypatch, capsys, data):
    p = tmp_path / "s.toml"
    p.write_bytes(data)
    (line,) = refused(tmp_path, monkeypatch, capsys, ["check", str(p)])
    assert "s.toml: not UTF-8 text" in line


def test_nul_bytes_in_utf8_are_a_toml_error(tmp_path, monkeypatch, capsys):
    p = tmp_path / "s.toml"
    p.write_bytes(b"schema_version = 1\n\x00\x00\x00")
    (line,) = refused(tmp_path, monkeypatch, capsys, ["check", str(p)])
    assert "s.toml: TOML syntax error" in line


@pytest.mark.parametrize("nested", ["x = " + "[" * 2000 + "]" * 2000,
                                    "x = " + "{a = " * 2000 + "1" + "}" * 2000])
def test_deeply_nested_toml_is_refused(tmp_path, monkeypatch, capsys, nested):
    p = write(tmp_path, "schema_version = 1\n" + nested + "\n")
    (line,) = refused(tmp_path, monkeypatch, capsys, ["check", str(p)])
    assert "s.toml: nested too deeply" in line


@pytest.mark.parametrize(("body", "path", "message"), [
    # Beta shapes that float32 rounds to 0: every draw would be NaN.
    (table("pay_rate", "1", 'dist = "Beta"', "alpha = 1e-300", "beta = 2", "point = 0.3"),
     "parameters.pay_rate.alpha", "below the float32 range"),
    # A fixed value float32 cannot hold: inf (1e308) or 0 (1e-320).
    (table("chip_peak_flops", "FLOP/s", "value = 1e308"),
     "parameters.chip_peak_flops.value", "exceeds the float32 range"),
    (table("chip_peak_flops", "FLOP/s", "value = 1e-320"),
     "parameters.chip_peak_flops.value", "below the float32 range"),
    (table("dau", "user", 'dist = "LogNormal"', "p05 = 1e39", "p95 = 1e40", "point = 3e39"),
     "parameters.dau.p05", "exceeds the float32 range"),
    # An elicitation whose solved native parameter float32 cannot hold.
    (table("dau", "user", 'dist = "Gamma"', "mean = 1e8", "sd = 1e-12", "point = 1e8"),
     "parameters.dau", "the solved shape"),
    # An unknown key with a string value is an unknown key (not "must be a number").
    (table("pay_rate", "1", 'dist = "Beta"', "p05 = 0.2", "p95 = 0.5", "point = 0.35",
           'colour = "red"'),
     "parameters.pay_rate.colour", "unknown key"),
    (table("gpus_per_node", "GPU/node", "value = 8", 'sorce = "typo"'),
     "parameters.gpus_per_node.sorce", "did you mean 'source'"),
    # A unit that is not the model's.
    (table("gpus_per_node", "GPU", "value = 8"),
     "parameters.gpus_per_node.unit", "'GPU' is not the unit of gpus_per_node ('GPU/node')"),
])
def test_values_the_engine_cannot_use_are_refused(tmp_path, monkeypatch, capsys, body, path,
                                                 message):
    p = child(tmp_path, body + "\n")
    for cmd in (["check", str(p)], ["point", str(p)], ["run", str(p), "--draws", "10"]):
        line, *others = refused(tmp_path, monkeypatch, capsys, cmd)
        assert f"s.toml: {path}: " in line
        assert message in line
        assert all(path.rsplit(".", 1)[0] in other for other in others)  # p95, point too


def test_set_of_a_parameter_the_scenario_does_not_use_is_refused(tmp_path, monkeypatch, capsys):
    (line,) = refused(tmp_path, monkeypatch, capsys,
                      ["point", str(ADJUSTED), "--set", "utilization=0.5"])
    assert "--set: utilization is not used by deepseek-adjusted" in line


def test_set_of_an_optional_input_the_equations_use_is_accepted(capsys):
    assert main(["point", str(ADJUSTED), "--set", "price_index=2", "--json"]) == 0
    assert '"price_index": 2.0' in capsys.readouterr().out


@pytest.mark.parametrize("value", ["1e39", "1e-39"])
def test_set_value_outside_float32_is_refused(tmp_path, monkeypatch, capsys, value):
    (line,) = refused(tmp_path, monkeypatch, capsys,
                      ["point", str(ADJUSTED), "--set", f"dau={value}"])
    assert "--set: dau" in line
    assert "float32 range" in line


def test_with_overrides_errors_name_the_scenario():
    sc = read_scenario(ADJUSTED)
    with pytest.raises(UsageError, match="did you mean 'dau'"):
        sc.with_overrides({"daus": 1.0})
    with pytest.raises(UsageError, match="not used by"):
        sc.with_overrides({"users": 1.0})


def test_every_problem_of_a_file_at_once(tmp_path):
    p = child(tmp_path, '[parameters.gpus_per_node]\nvalue = 8\nunit = "GPU"\nsource = "s"\n'
                        + corr("pay_rate", "v3_share", 2.0))
    with pytest.raises(ScenarioError) as info:
        read_scenario(p)
    paths = [path for _, path, _ in info.value.problems]
    assert paths == ["parameters.gpus_per_node.unit", "correlations[0].rank"]


def test_float32_limits_are_numpys():
    from probmodel.distributions import registry

    assert registry.FLOAT32_MAX == float(np.finfo(np.float32).max)
    assert registry.FLOAT32_TINY == float(np.finfo(np.float32).tiny)
    assert registry.LOG_FLOAT32_MAX == math.log(float(np.finfo(np.float32).max))
