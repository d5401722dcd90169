"""One fixture file per mistake: each gives exit 2 and located one-line messages."""

import pytest

from probmodel.cli import main

# fixture -> fragments every message line must contain, in order of appearance
CASES = {
    "toml_syntax.toml": [("toml_syntax.toml", "TOML syntax error")],
    "unknown_distribution.toml": [("unknown_distribution.toml", "parameters.pay_rate.dist",
                                   "Betta")],
    "unknown_key.toml": [("unknown_key.toml", "parameters.pay_rate.p50x")],
    "missing_unit.toml": [("missing_unit.toml", "parameters.pay_rate.unit", "missing")],
    "missing_source.toml": [("missing_source.toml", "parameters.pay_rate.source", "missing")],
    "p05_not_below_p95.toml": [("p05_not_below_p95.toml", "parameters.pay_rate.p95",
                                "must exceed p05")],
    "value_outside_domain.toml": [("value_outside_domain.toml", "parameters.pay_rate.value",
                                   "outside the domain (0, 1]")],
    "point_outside_support.toml": [("point_outside_support.toml",
                                    "parameters.gpu_price_per_hour.point", "outside the support")],
    "support_outside_domain.toml": [("support_outside_domain.toml", "parameters.pay_rate",
                                     "exceeds the domain")],
    "beta_impossible_mean_sd.toml": [("beta_impossible_mean_sd.toml", "parameters.pay_rate.sd")],
    "nan_value.toml": [("nan_value.toml", "parameters.gpu_cost_share.value", "finite")],
    "inf_value.toml": [("inf_value.toml", "parameters.users.p95", "finite")],
    "extends_cycle_a.toml": [("extends_cycle_", "extends", "cycle")],
    "extends_missing.toml": [("extends_missing.toml", "extends", "no_such_file.toml")],
    "unknown_parameter.toml": [("unknown_parameter.toml", "parameters.pay_rat",
                                "did you mean 'pay_rate'")],
    "native_and_interval.toml": [("native_and_interval.toml", "parameters.pay_rate")],
    "many_problems.toml": [
        ("many_problems.toml", "titel", "unknown top-level key"),
        ("many_problems.toml", "parameters.pay_rate.p95", "must exceed p05"),
        ("many_problems.toml", "parameters.users.value", "outside the domain"),
        ("many_problems.toml", "parameters.v3_share.source", "missing"),
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["check", "point", "run"])
def test_bad_file_gives_located_lines(fixtures, capsys, tmp_path, monkeypatch, name, command):
    monkeypatch.chdir(tmp_path)
    args = [command, str(fixtures / "bad" / name)]
    if command == "run":
        args += ["--draws", "10"]
    code = main(args)
    cap = capsys.readouterr()
    assert code == 2
    assert cap.out == ""
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == len(CASES[name]), cap.err
    for line, fragments in zip(lines, CASES[name], strict=True):
        assert line.startswith("error: ")
        for frag in fragments:
            assert frag in line, (frag, line)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "{p}", "--draws", "0"], "--draws: must be a whole number of at least 2"),
        (["run", "{p}", "--draws", "-5"], "--draws: must be a whole number of at least 2"),
        (["run", "{p}", "--draws", "abc"], "--draws"),
        (["run", "{p}", "--seed", "-1"], "--seed"),
        (["point", "{p}", "--set", "pay_rat=0.3"], "unknown parameter 'pay_rat'"),
        (["point", "{p}", "--set", "pay_rate"], "NAME=VALUE"),
        (["point", "{p}", "--set", "pay_rate=abc"], "not a number"),
        (["point", "{p}", "--set", "pay_rate=1.5"], "outside its domain"),
        (["run", "{p}", "--bogus"], "No such option"),
        (["frobnicate"], "No such command"),
        (["run", "no/such/file.toml"], "no such file"),
    ],
)
def test_bad_flags(priors, capsys, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{p}", str(priors / "deepseek-adjusted.toml")) for a in args]
    code = main(argv)
    cap = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in cap.err
    assert len(cap.err.strip().splitlines()) == 1, cap.err
    assert fragment in cap.err


def test_existing_out_is_refused_and_untouched(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code = main(["run", str(priors / "deepseek-adjusted.toml"), "--draws", "10",
                 "--out", str(out)])
    assert code == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"
