"""Hostile and mistaken inputs (issue 21): one line on stderr, the right exit status,
nothing left behind, never a traceback, never invalid JSON.

Most cases call :func:`probmodel.cli.main` in this process; those about signals,
hangs or native aborts run the command in a child process with a time limit.
"""

from __future__ import annotations

import json

import pytest

from probmodel.cli import main


def one_line(cap) -> str:
    """The single stderr line of a refused command (asserting there is exactly one)."""
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert lines[0].startswith("error: ")
    return lines[0]


# --------------------------------------------------------------------------- weights fit


@pytest.mark.parametrize("sets", [["model=llama-3.1-70b"], ["chip_hbm_capacity=1e9"]])
@pytest.mark.parametrize("command", ["point", "run"])
def test_weights_that_do_not_fit_are_one_line_not_infinity(priors, capsys, tmp_path,
                                                            monkeypatch, command, sets):
    monkeypatch.chdir(tmp_path)
    args = [command, str(priors / "chatbot-h20-roofline.toml"), "--json"]
    for s in sets:
        args += ["--set", s]
    if command == "run":
        args += ["--draws", "100"]
    code = main(args)
    cap = capsys.readouterr()
    assert code == 2
    assert cap.out == ""
    line = one_line(cap)
    assert "weights do not fit" in line
    assert "H20" in line or "chip_hbm_capacity" in line
    assert ("141,200,000,000 B" in line) == ("model=llama-3.1-70b" in sets)
    assert "86,400,000,000 B" in line or "900,000,000 B" in line
    assert not (tmp_path / "runs").exists()


def test_point_json_is_valid_json_where_the_weights_fit(priors, capsys):
    code = main(["point", str(priors / "chatbot-h20-roofline.toml"), "--set",
                 "model=llama-3.1-70b", "--set", "chip=B200", "--json"])
    cap = capsys.readouterr()
    assert code == 0
    json.loads(cap.out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def test_json_output_never_holds_infinity_or_nan(capsys):
    import numpy as np

    from probmodel.cli import print_json

    print_json({"a": float("inf"), "b": [np.float32("nan"), 1.5], "c": np.float64(-np.inf)})
    cap = capsys.readouterr()
    assert json.loads(cap.out, parse_constant=lambda c: pytest.fail(f"{c} in JSON")) == {
        "a": None, "b": [None, 1.5], "c": None}
