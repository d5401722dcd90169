"""One run across two processes (jax.distributed on localhost, CPU, gloo collectives).

Process 0 and process 1 each hold one CPU device; the global mesh spans both, each
process supplies its own block of chunk ids, every per-chunk statistic is gathered and
the pilot's histogram ranges are process 0's. Process 0's summary.json must equal a
single-process run of the same seed bit for bit (the engine combines chunk statistics
in chunk order, so the device count does not change the answer); process 1 writes
nothing. Bad flag combinations are refused with exit 2 before any work.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "priors" / "deepseek-adjusted.toml")
# four chunks, two per process (three full ones of 2**17 draws, a partial one of 1,234).
# Not one chunk per device: XLA simplifies a scan of length one, and its float32 results
# can then differ in the last bit from the same chunk inside a longer scan.
DRAWS = str(3 * (1 << 17) + 1234)


def _env() -> dict:
    # the test session's compilation cache (tests/conftest.py) is inherited
    return dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "probmodel", "run", SCENARIO, "--draws", DRAWS,
            "--seed", "7", "--json", "--out", str(out), *extra]


@pytest.mark.slow
def test_two_processes_give_the_single_process_summary_bit_for_bit(tmp_path):
    env = _env()
    coord = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen(_cmd(tmp_path / f"multi{i}", "--coordinator", coord,
                                   "--num-processes", "2", "--process-id", str(i)),
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    single = subprocess.run(_cmd(tmp_path / "single"), cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=120))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert single.returncode == 0, single.stderr
    for p, (_, e) in zip(procs, outs, strict=True):
        assert p.returncode == 0, e
    assert outs[1][0] == ""  # process 1 prints nothing ...
    assert not (tmp_path / "multi1").exists()  # ... and writes nothing
    a = json.loads((tmp_path / "single" / "summary.json").read_text())
    b = json.loads((tmp_path / "multi0" / "summary.json").read_text())
    assert b["draws"] == int(DRAWS)
    assert a == b
    assert json.loads(outs[0][0])["p_profitable"] == a["p_profitable"]


@pytest.mark.parametrize(("flags", "says"), [
    (["--coordinator", "127.0.0.1:1"], "go together"),
    (["--num-processes", "2", "--process-id", "0"], "go together"),
    (["--coordinator", "nohostport", "--num-processes", "2", "--process-id", "0"],
     "HOST:PORT"),
    (["--coordinator", "127.0.0.1:1", "--num-processes", "0", "--process-id", "0"],
     "--num-processes"),
    (["--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "2"],
     "--process-id"),
])
def test_bad_flag_combinations_exit_2_and_write_nothing(tmp_path, capsys, flags, says):
    from probmodel.cli import main

    rc = main(["run", SCENARIO, "--draws", "1000", "--out", str(tmp_path / "r"), *flags])
    assert rc == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
