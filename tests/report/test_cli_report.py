"""--report and --quiet on every draw-computing command; progress lines in a log."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import html5lib
import pytest

from probmodel.cli import main

from .conftest import FLEET, KINDS, PRINTED, PRIORS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", KINDS)
def test_report_flag_writes_a_valid_report_into_the_run_folder(kind, request):
    run_dir = request.getfixturevalue(f"{kind}_dir")  # made by the CLI with --report -q
    report = run_dir / "report.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    # strict WHATWG parsing: any parse error raises html5lib.html5parser.ParseError
    html5lib.HTMLParser(strict=True).parse(text)
    man = json.loads((run_dir / "manifest.json").read_text())
    assert man["command"] in text
    assert f"report: {report}" in PRINTED[kind]
    assert "report.html" not in man.get("files", [])  # written after the folder, not in it


def test_report_line_goes_to_stderr_under_json(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(PRIORS / "deepseek-adjusted.toml"), "-n", "2000", "--json",
                 "--report", "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["run_dir"] == str(out)  # stdout holds the JSON alone
    assert f"report: {out / 'report.html'}" in cap.err
    html5lib.HTMLParser(strict=True).parse((out / "report.html").read_text())


def test_report_flag_on_a_point_sweep(tmp_path, capsys):
    out = tmp_path / "grid"
    assert main(["sweep", str(PRIORS / "deepseek-adjusted.toml"), "--grid",
                 "pay_rate=0.25,0.45", "--point", "--report", "--out", str(out)]) == 0
    html5lib.HTMLParser(strict=True).parse((out / "report.html").read_text())


# a line per engine update (with an ETA once a count is in) and the heartbeat's lines
_LINE = re.compile(r"^sampling: ([\d,]+)/1,200,000 draws \((\d+)%\), [\w ]+ elapsed(, ETA \d|$)")


def test_progress_lines_in_a_log_and_quiet(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROBMODEL_PROGRESS_INTERVAL", "0")  # a line per engine update
    args = ["run", str(PRIORS / "deepseek-adjusted.toml"), "-n", "1200000"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err.splitlines()  # captured: not a terminal
    lines = [m for ln in err if (m := _LINE.match(ln))]
    done = [int(m.group(1).replace(",", "")) for m in lines]
    assert done  # alive before the end
    assert done == sorted(done)
    assert done[0] < 1_200_000
    assert err[-1].startswith("sampling: done, 1,200,000 draws in ")
    assert main([*args, "-q", "--out", str(tmp_path / "b")]) == 0
    assert "sampling" not in capsys.readouterr().err


def test_calibrate_reports_warmup_then_sampling_over_its_chains(tmp_path):
    # a fresh process: the chains run in parallel only when JAX starts with a device per
    # chain, and then numpyro's loop reports through probmodel.progress
    env = {**os.environ, "PROBMODEL_PROGRESS_INTERVAL": "0"}
    p = subprocess.run(
        [sys.executable, "-m", "probmodel", "calibrate", str(FLEET), "--chains", "2",
         "--warmup", "100", "--samples", "100", "--seed", "3", "--chain-progress",
         "--out", str(tmp_path / "c")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode in (0, 3), p.stderr[-2000:]
    lines = p.stderr.splitlines()
    warm = [ln for ln in lines if ln.startswith("warm-up (2 chains): ")]
    samp = [ln for ln in lines if ln.startswith("sampling (2 chains): ")]
    assert warm, p.stderr[-2000:]
    assert samp, p.stderr[-2000:]
    assert lines.index(warm[-1]) < lines.index(samp[0])
    assert all(re.search(r"/200 steps \(\d+%\)", ln) for ln in warm + samp[:-1])
    assert samp[-1].startswith("sampling (2 chains): done, 200 steps in ")
