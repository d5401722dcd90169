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


# --------------------------------------------------------------------------- report, export


@pytest.fixture(scope="module")
def small_run(priors, tmp_path_factory):
    """One small run folder (2,000 draws), copied by the tests that damage it."""
    d = tmp_path_factory.mktemp("hardening") / "run"
    assert main(["run", str(priors / "deepseek-adjusted.toml"), "--draws", "2000", "--out",
                 str(d), "--quiet"]) == 0
    return d


@pytest.mark.parametrize(("command", "flag", "target"), [
    ("report", "--out", "/proc/x.html"), ("export", "--xlsx", "/proc/x.xlsx"),
    ("report", "--out", "{tmp}/no/such/folder/x.html"),
])
def test_report_and_export_to_an_unwritable_place_are_one_line(small_run, capsys, tmp_path,
                                                               command, flag, target):
    code = main([command, str(small_run), flag, target.replace("{tmp}", str(tmp_path))])
    cap = capsys.readouterr()
    assert code == 2
    line = one_line(cap)
    assert flag in line
    assert "x.html" in line or "x.xlsx" in line or "not a folder" in line


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
@pytest.mark.parametrize("command", ["report", "export"])
def test_report_of_a_folder_whose_netcdf_changed_is_refused(small_run, capsys, tmp_path,
                                                            damage, command):
    import shutil

    d = tmp_path / "run"
    shutil.copytree(small_run, d)
    nc = d / "draws.nc"
    if damage == "deleted":
        nc.unlink()
    else:
        nc.write_bytes(nc.read_bytes()[:1000])
    target = tmp_path / ("r.html" if command == "report" else "r.xlsx")
    code = main([command, str(d), "--out" if command == "report" else "--xlsx", str(target)])
    cap = capsys.readouterr()
    assert code == 2
    line = one_line(cap)
    assert "draws.nc" in line
    assert ("missing" if damage == "deleted" else "SHA-256") in line
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no partial file either


# --------------------------------------------------------------------------- --coordinator


def run_cli(args, timeout=60, **kw):
    """``python -m probmodel ARGS`` in a child process (exit status, stdout, stderr)."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "probmodel", *args], capture_output=True,
                         text=True, timeout=timeout, check=False, **kw)
    return res.returncode, res.stdout, res.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_coordinator_port_out_of_range_is_refused(priors, capsys, tmp_path):
    code = main(["run", str(priors / "deepseek-adjusted.toml"), "--coordinator",
                 "localhost:99999", "--num-processes", "2", "--process-id", "1", "--out",
                 str(tmp_path / "r")])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert "--coordinator" in line
    assert "65535" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("process_id", ["1", "0"])
def test_coordinator_nobody_joins_times_out_with_one_line(priors, tmp_path, process_id):
    import time

    addr = f"127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    code, out, err = run_cli(["run", str(priors / "deepseek-adjusted.toml"), "--draws", "100",
                              "--coordinator", addr, "--num-processes", "2", "--process-id",
                              process_id, "--coordinator-timeout", "1", "--out",
                              str(tmp_path / "r")], cwd=tmp_path)
    took = time.monotonic() - t0
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # no C++ stack, no XLA log
    assert lines[0].startswith(f"error: --coordinator {addr}: ")
    assert "--coordinator-timeout" in lines[0]
    assert took < 30
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- --scheduler


@pytest.mark.parametrize(("address", "says"), [
    ("nonsense:::", "expected tcp://HOST:PORT"), ("", "empty address"),
    ("http://127.0.0.1:8787", "web address"), ("tcp://127.0.0.1:70000", "65535"),
    ("tcp://127.0.0.1:1", "could not connect"),
])
def test_scheduler_bad_address_is_one_line_before_any_work(priors, capsys, tmp_path,
                                                           monkeypatch, address, says):
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
                 "pay_rate=0.3,0.4", "--draws", "100", "--scheduler", address])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert line.startswith("error: --scheduler")
    assert says in line
    assert list(tmp_path.iterdir()) == []


def test_scheduler_that_never_answers_times_out(priors, capsys, tmp_path, monkeypatch):
    import socket

    from probmodel import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    with socket.socket() as server:  # accepts (the kernel's backlog) and says nothing
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        code = main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
                     "pay_rate=0.3,0.4", "--draws", "100", "--scheduler", address,
                     "--out", str(tmp_path / "s")])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert f"--scheduler {address}: no Dask scheduler answered within 0.5 s" in line
    assert not (tmp_path / "s").exists()


def test_scheduler_malformed_leaves_no_finaliser_traceback(priors, tmp_path):
    import time

    t0 = time.monotonic()
    code, _, err = run_cli(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
                              "pay_rate=0.3,0.4", "--draws", "100", "--scheduler",
                              "http://127.0.0.1:8786"], cwd=tmp_path)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert time.monotonic() - t0 < 20
    assert list(tmp_path.iterdir()) == []
