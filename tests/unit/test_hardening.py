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
    args = [command, str(priors / "chatbot-h20-fleet-roofline.toml"), "--json"]
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
    code = main(["point", str(priors / "chatbot-h20-fleet-roofline.toml"), "--set",
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


# --------------------------------------------------------------------------- signals


def processes_with(mark: str) -> list[int]:
    """Live processes whose environment holds ``mark`` (the child and its helpers)."""
    from pathlib import Path

    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if mark.encode() in (p / "environ").read_bytes():
                    found.append(int(p.name))
            except OSError:
                continue
    return found


# The signal arrives inside a finaliser (as one from outside does when it lands in a
# garbage-collector callback): Python swallows what the handler raises there.
_IN_FINALISER = """
import os, signal, sys
from probmodel import cli, runs
class Bomb:
    def __del__(self):
        os.kill(os.getpid(), signal.{sig})
orig = runs._Folder.csv
def csv(self, name, frame):
    orig(self, name, frame)
    Bomb()  # deleted at once: the handler runs inside __del__
runs._Folder.csv = csv
sys.argv = ["probmodel", "run", {scenario!r}, "--draws", "1000", "--out", "done"]
cli.entry()
"""

# The signal arrives while the figure process is being stopped, after the folder is done.
_IN_HELPER_STOP = """
import os, signal, sys
from probmodel import cli
from probmodel.plots import render
orig = render._stop
def stop():
    if render._WORKER is not None:
        os.kill(os.getpid(), signal.{sig})
    orig()
render._stop = stop
sys.argv = ["probmodel", "run", {scenario!r}, "--draws", "1000", "--out", "done"]
cli.entry()
"""


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/environ").exists(),
                    reason="needs /proc to find helper processes")
@pytest.mark.parametrize(("where", "sig", "rc", "word"), [
    ("finaliser", "SIGTERM", 143, "terminated (SIGTERM)"),
    ("helper_stop", "SIGINT", 130, "interrupted"),
])  # (each signal's plain path: tests/unit/test_trust.py)
def test_signal_while_writing_or_stopping_the_helper(priors, tmp_path, sig, rc, word, where):
    import os
    import subprocess
    import sys
    import time
    import uuid

    mark = f"PROBMODEL_TEST_MARK={uuid.uuid4().hex}"
    script = (_IN_FINALISER if where == "finaliser" else _IN_HELPER_STOP).format(
        sig=sig, scenario=str(priors / "deepseek-adjusted.toml"))
    env = {**os.environ, "PROBMODEL_TEST_MARK": mark.split("=")[1],
           "PROBMODEL_FIGURE_PROCESS": "1"}
    res = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=False, env=env)
    lines = [ln for ln in res.stderr.splitlines()
             if ln.strip() and not ln.startswith("sampling:")]
    assert res.returncode == rc, res.stderr
    assert "Exception ignored" not in res.stderr
    assert len(lines) == 1, res.stderr
    if where == "finaliser":
        assert lines == [f"error: {word}; no run folder was written"]
        assert list(tmp_path.iterdir()) == []  # no folder, no partial folder
    else:  # the folder was complete (and announced) before the signal: it stays
        assert lines == [f"error: {word}; the run folder done was complete before it"]
        assert [p.name for p in tmp_path.iterdir()] == ["done"]
    time.sleep(0.2)
    assert processes_with(mark.split("=")[1]) == []  # no figure process left


# --------------------------------------------------------------------------- --precision


def test_precision_out_of_reach_is_refused_with_the_estimate(priors, capsys, tmp_path,
                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["run", str(priors / "deepseek-adjusted.toml"), "--precision", "1e-12",
                 "--quiet"])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert line.startswith("error: --precision 1e-12: out of reach: after ")
    assert "draws would be needed" in line
    assert "281,466,386,776,064" in line
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


# --------------------------------------------------------------------------- odd paths


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("via", ["argument", "extends"])
def test_scenario_that_is_a_fifo_is_one_line_not_a_hang(tmp_path, via):
    import os

    os.mkfifo(tmp_path / "pipe.toml")
    path = "pipe.toml"
    if via == "extends":
        (tmp_path / "child.toml").write_text(
            'schema_version = 1\ntitle = "x"\nextends = "pipe.toml"\n')
        path = "child.toml"
    code, out, err = run_cli(["check", path], timeout=30, cwd=tmp_path)
    assert code == 2
    assert out == ""
    assert err.strip() == ("error: pipe.toml: cannot read: not a regular file (a FIFO); a "
                           "scenario is a TOML file")


@pytest.mark.parametrize("via", ["argument", "extends"])
def test_symlink_loop_is_one_line(tmp_path, capsys, monkeypatch, via):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.toml").symlink_to("b.toml")
    (tmp_path / "b.toml").symlink_to("a.toml")
    path = "a.toml"
    if via == "extends":
        (tmp_path / "child.toml").write_text(
            'schema_version = 1\ntitle = "x"\nextends = "a.toml"\n')
        path = "child.toml"
    code = main(["check", path])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert line == ("error: a.toml: a symbolic link that leads nowhere (a loop or a missing "
                    "target)" if via == "argument" else
                    "error: child.toml: extends: a.toml: a symbolic link loop")


# --------------------------------------------------------------------------- --set chip=


def test_chip_pick_that_changes_nothing_is_refused(priors, capsys):
    code = main(["point", str(priors / "deepseek-adjusted.toml"), "--set", "chip=H200"])
    cap = capsys.readouterr()
    line = one_line(cap)
    assert code == 2
    assert cap.out == ""
    assert line.startswith("error: --set chip=H200 changes nothing: deepseek-adjusted states "
                           "chip_peak_flops, gpu_price_per_hour itself")


def test_chip_pick_warns_about_the_numbers_the_file_keeps(priors, capsys, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(f'schema_version = 1\nextends = "{priors / "chatbot-h20-fleet-roofline.toml"}"\n'
                 '[parameters.chip_hbm_capacity]\nvalue = 141e9\nunit = "B"\n'
                 'source = "the 141 GB H20"\n')
    code = main(["point", str(f), "--set", "chip=H200", "--json"])
    cap = capsys.readouterr()
    assert code == 0
    lines = cap.err.strip().splitlines()
    assert lines == ["warning: --set chip=H200: mine keeps its own chip_hbm_capacity (stated "
                     "in the file; a catalog never overrides it); --set chip_hbm_capacity="
                     "VALUE changes it"]
    values = json.loads(cap.out)
    assert values["chip_hbm_capacity"] == 141e9  # kept
    assert values["chip_hbm_bandwidth"] == 4.8e12  # H200's


# --------------------------------------------------------------------------- one mistake, one line


def test_fixed_parameter_with_a_law_is_one_line(priors, capsys, tmp_path):
    f = tmp_path / "fixed.toml"
    f.write_text(f'schema_version = 1\ntitle = "x"\nextends = "{priors / "deepseek-adjusted.toml"}"'
                 '\n[parameters.pay_rate]\nvalue = 0.3\ndist = "Beta"\np05 = 0.2\np95 = 0.4\n'
                 'unit = "1"\nsource = "s"\n')
    code = main(["check", str(f)])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert line.endswith("fixed.toml: parameters.pay_rate: a fixed parameter (value = ...) "
                         "takes no distribution keys (here dist, p05, p95): drop them, or "
                         "drop value and give dist = ...")


# --------------------------------------------------------------------------- long echoes


LONG = "x" * 100_000


@pytest.mark.parametrize("args", [
    ["point", "{p}", "--set", f"{LONG}=1"],
    ["run", "{p}", "--draws", LONG],
    ["run", f"{LONG}.toml"],
    ["report", LONG],
    ["export", "{tmp}", "--xlsx", f"{LONG}.xlsx"],
    ["sweep", "{p}", "--grid", f"{LONG}=1,2"],
    ["check", "{long_name}"],
    ["check", "{long_years}"],
])
def test_errors_cut_what_they_echo(priors, capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    src = (priors / "agents-h20-2025-2030.toml").read_text().replace(
        'extends = "', f'extends = "{priors}/')
    years = ", ".join(str(2025 + i) for i in range(6000))  # ~36,000 characters
    (tmp_path / "years.toml").write_text(src.replace(
        "years = [2025, 2026, 2027, 2028, 2029, 2030]", f"years = [{years}]"))
    (tmp_path / "name.toml").write_text(
        f'schema_version = 1\ntitle = "x"\nextends = "{priors / "deepseek-adjusted.toml"}"\n'
        f'[parameters.{LONG}]\nvalue = 1\nunit = "1"\nsource = "s"\n')
    subs = {"{p}": str(priors / "deepseek-adjusted.toml"), "{tmp}": str(tmp_path),
            "{long_name}": "name.toml", "{long_years}": "years.toml"}
    code = main([subs.get(a, a) for a in args])
    cap = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert 1 <= len(lines) <= 2, cap.err[:500]
    assert all(len(line) < 600 for line in lines), [len(line) for line in lines]
    assert "…" in cap.err


# --------------------------------------------------------------------------- early errors


@pytest.mark.parametrize(("args", "says"), [
    (["sweep", "{adj}", "--grid", "pay_rat=0.1,0.2"], "--grid: unknown parameter 'pay_rat'"),
    (["compare", "{adj}"], "compare: give at least two scenario files"),
    (["compare", "{adj}", "{adj}"], "is given twice"),
    (["run", "{adj}", "--posterior", "{tmp}/nowhere"], "--posterior: "),
    (["sensitivity", "{adj}", "--sobol-n", "3"], "--sobol-n: must be a power of two"),
    (["project", "{adj}"], "no [projection] table"),
    (["calibrate", "{adj}"], "observations: missing: nothing to calibrate against"),
])
def test_errors_found_from_arguments_come_before_the_engine(priors, capsys, tmp_path,
                                                            monkeypatch, args, says):
    # (tests/unit/test_startup.py checks that these paths import no JAX)
    monkeypatch.chdir(tmp_path)
    subs = {"{adj}": str(priors / "deepseek-adjusted.toml")}
    code = main([subs.get(a, a).replace("{tmp}", str(tmp_path)) for a in args])
    line = one_line(capsys.readouterr())
    assert code == 2
    assert says in line
    assert list(tmp_path.iterdir()) == []


def test_a_scenario_with_every_input_fixed_runs_and_says_so(priors, capsys, tmp_path):
    # priors/inferencex-evidence.toml states measured rows and fixed model numbers only:
    # no uncertain input, so no varying draw (once a reshape of zero columns aborted)
    code = main(["run", str(priors / "inferencex-evidence.toml"), "--draws", "3000", "-q",
                 "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert "every input of inferencex-evidence is fixed" in out
    assert (tmp_path / "r" / "summary.json").is_file()
