"""``probmodel serve`` as a user starts and stops it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from probmodel.cli import main

from .conftest import PRIORS, ROOT


def test_bad_flags_are_one_line(capsys):
    assert main(["serve", str(PRIORS / "deepseek-adjusted.toml"), "--port", "99999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --port: 99999 is not a port number (0-65535)"]
    with socket.socket() as s:  # a port that is taken
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["serve", str(PRIORS / "deepseek-adjusted.toml"), "--port",
                     str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: --port: cannot listen on 127.0.0.1:{port}")
    assert main(["serve", str(ROOT / "no-such.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_serve_answers_then_ctrl_c_stops_it_cleanly(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    before = set(os.listdir(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "probmodel", "serve", str(PRIORS / "deepseek-adjusted.toml"),
         "--port", "0", "--save-dir", str(tmp_path / "saved")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("probmodel planner: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url + "api/scenarios", timeout=60) as r:
            names = [s["name"] for s in json.loads(r.read())["scenarios"]]
        assert names == ["deepseek-adjusted"]
        with urllib.request.urlopen(url, timeout=60) as r:
            assert b'data-testid="p-profit"' in r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        t0 = time.time()
        out, err = proc.communicate(timeout=30)
    assert time.time() - t0 < 15
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "error" not in err
    assert out.strip().endswith("probmodel planner stopped")
    assert set(os.listdir(tmp_path)) == before  # nothing left behind
