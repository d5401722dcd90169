"""Trust: failures found before any work, faults that leave nothing, no silent answers.

Each failure is one line on stderr, a non-zero exit, and nothing written.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from probmodel import checks, runs, sampling, streaming
from probmodel.cli import main
from probmodel.progress import Progress

ROOT = Path(__file__).resolve().parents[2]


def _err_lines(capsys) -> list[str]:
    """stderr's lines other than progress lines (stderr is not a terminal here)."""
    return [ln for ln in capsys.readouterr().err.splitlines()
            if ln.strip() and not ln.startswith("sampling")]


def _nothing_written(folder: Path) -> bool:
    return not any(p.name.startswith((".probmodel-probe", "runs")) or ".partial-" in p.name
                   for p in folder.iterdir()) if folder.exists() else True


# --------------------------------------------------------------------------- --out


@pytest.mark.parametrize("command", [
    ["run", "{priors}/deepseek-adjusted.toml", "--draws", "1000"],
    ["stress", "{priors}/deepseek-adjusted.toml", "--band", "pay_rate=0:10", "--draws", "1000"],
    ["sweep", "{priors}/deepseek-adjusted.toml", "--grid", "pay_rate=0.2,0.4"],
    ["compare", "{priors}/deepseek-adjusted.toml", "{priors}/deepseek-theoretical.toml",
     "--draws", "1000"],
    ["sensitivity", "{priors}/deepseek-adjusted.toml", "--draws", "1000"],
    ["calibrate", "{priors}/deepseek-evidence.toml"],
    ["project", "{priors}/agents-h20-2025-2030.toml", "--draws", "1000"],
])
@pytest.mark.parametrize("where", ["/proc/probmodel-x", "{file}/sub/x"])
def test_unwritable_out_is_refused_before_any_work(priors, capsys, tmp_path, monkeypatch,
                                                   command, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    out = where.format(file=tmp_path / "a-file")
    t0 = time.perf_counter()
    rc = main([a.format(priors=priors) for a in command] + ["--out", out])
    lines = _err_lines(capsys)
    assert rc == 2
    assert len(lines) == 1
    assert lines[0].startswith("error: --out: ")
    assert "cannot" in lines[0]
    assert time.perf_counter() - t0 < 20  # refused, not sampled
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_refused(priors, capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc = main(["run", str(priors / "deepseek-adjusted.toml"), "--draws", "1000",
                   "--out", str(ro / "x")])
    finally:
        ro.chmod(0o755)
    assert rc == 2
    assert "cannot be written" in _err_lines(capsys)[0]
    assert list(ro.iterdir()) == []


def test_check_out_dir_leaves_no_probe(tmp_path):
    runs.check_out_dir(tmp_path / "new" / "run")
    runs.check_out_dir(None, tmp_path / "runs")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- --draws


@pytest.mark.parametrize(("draws", "fragment"), [
    ("1", "at least 2"), ("0", "at least 2"),
    (str(checks.MAX_DRAWS + 1), f"at most {checks.MAX_DRAWS:,}"),
])
def test_draws_out_of_range(priors, capsys, tmp_path, monkeypatch, draws, fragment):
    monkeypatch.chdir(tmp_path)
    rc = main(["run", str(priors / "deepseek-adjusted.toml"), "--draws", draws])
    lines = _err_lines(capsys)
    assert rc == 2
    assert len(lines) == 1
    assert fragment in lines[0]
    assert not (tmp_path / "runs").exists()


def test_max_draws_fits_the_int32_chunk_ids():
    per_call_many_devices = streaming.CHUNKS_PER_CALL * 8192
    last_chunk = -(-checks.MAX_DRAWS // sampling.CHUNK) - 1
    assert last_chunk + per_call_many_devices <= np.iinfo(np.int32).max


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("quiet", [False, True])
def test_long_run_prints_its_estimated_time_after_the_first_call(terminal, quiet):
    import io

    clock, stream = _Clock(), io.StringIO()
    with Progress(10**12, "sampling", unit="draws", quiet=quiet, stream=stream,
                  terminal=terminal, clock=clock) as p:
        clock.t = 60.0
        p(1_048_576)  # compiling and the first call: not the running speed
        clock.t = 62.0
        p(2_097_152)  # 2 s per 1,048,576 draws: 1e12 draws take ~22 days
        clock.t = 64.0
        p(3_145_728)
        text = stream.getvalue()
    lines = [ln for ln in text.splitlines() if "will take about" in ln]
    assert len(lines) == 1, text
    assert lines[0].startswith("sampling: 1,000,000,000,000 draws will take about 22 days")


def test_short_run_prints_no_estimate():
    import io

    clock, stream = _Clock(), io.StringIO()
    with Progress(4_000_000, "sampling", unit="draws", stream=stream, terminal=False,
                  clock=clock, interval=1e9) as p:
        clock.t = 30.0
        p(1_048_576)  # compiling
        clock.t = 32.0
        p(2_097_152)  # 4 s left: below progress.ESTIMATE_AFTER
    assert "will take" not in stream.getvalue()


# --------------------------------------------------------------------------- non-finite


@pytest.fixture
def overflowing(priors, tmp_path) -> Path:
    """A valid scenario whose Beta(1e-30, 1e-30) cost share is exactly 0 or 1: half the
    draws divide by zero (total cost = GPU cost / share)."""
    shutil.copy(priors / "deepseek-theoretical.toml", tmp_path)
    text = (priors / "deepseek-adjusted.toml").read_text()
    assert "alpha = 14\nbeta = 6\n" in text
    f = tmp_path / "tiny.toml"
    f.write_text(text.replace("alpha = 14\nbeta = 6\n", "alpha = 1e-30\nbeta = 1e-30\n"))
    return f


def test_non_finite_draws_exit_4_and_write_nothing(overflowing, capsys, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["run", str(overflowing), "--draws", "4000"])
    lines = _err_lines(capsys)
    assert rc == 4
    assert len(lines) == 1
    assert lines[0].startswith("error: non-finite draws")
    assert "profit (" in lines[0]
    assert " of 4,000 draws)" in lines[0]
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_streaming_counts_non_finite_draws_on_both_paths(overflowing):
    from probmodel.io import read_scenario

    sc = read_scenario(overflowing)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    exact = streaming.run_stream(model, args, 4000, 0)
    hist = streaming.run_stream(model, args, 4000, 0, keep_cap=100, exact_when_kept=False)
    kept = exact.kept["profit"]
    n_bad = int((~np.isfinite(kept)).sum())
    assert 0 < n_bad < 4000  # about half: share 0 (inf) or 1 (finite)
    for st in (exact, hist):
        assert st.summary["profit"].attrs["non_finite"] == n_bad
        assert st.summary["total_cost"].attrs["non_finite"] == n_bad
        assert "non_finite" not in st.summary["revenue"].attrs


def test_help_documents_exit_status_4(capsys):
    main(["--help"])
    assert "4 a run whose output draws include NaN" in " ".join(capsys.readouterr().out.split())


# --------------------------------------------------------------------------- compare


def test_compare_names_same_named_files_by_path(priors, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(priors / "deepseek-theoretical.toml", tmp_path / d / "base.toml")
    text = (tmp_path / "b" / "base.toml").read_text()
    (tmp_path / "b" / "base.toml").write_text(text + "\n")  # a different file
    rc = main(["compare", "a/base.toml", "b/base.toml", "--draws", "2000", "--json",
               "--out", "cmp"])
    assert rc == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert '"a/base"' in out
    assert '"b/base"' in out
    assert (tmp_path / "cmp" / "scenario" / "a" / "base.toml").read_bytes() == \
        (tmp_path / "a" / "base.toml").read_bytes()
    assert (tmp_path / "cmp" / "scenario" / "b" / "base.toml").read_bytes() == \
        (tmp_path / "b" / "base.toml").read_bytes()


def test_unique_names_uses_the_shortest_distinguishing_suffix(priors, tmp_path):
    from probmodel.analysis.compare import unique_names
    from probmodel.io import read_scenario

    paths = [tmp_path / "x" / "a" / "s" / "base.toml", tmp_path / "y" / "a" / "s" /
             "base.toml", tmp_path / "other.toml"]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(priors / "deepseek-theoretical.toml", p)
    names = [s.name for s in unique_names([read_scenario(p) for p in paths])]
    assert names == ["x/a/s/base", "y/a/s/base", "other"]
    same = [read_scenario(paths[0]), read_scenario(paths[0])]
    assert [s.name for s in unique_names(same)] == ["base", "base"]  # refused later


# --------------------------------------------------------------------------- faults


_TERM_SCRIPT = """
import os, signal, sys
from probmodel import cli, runs
orig = runs._Folder.netcdf
def netcdf(self, name, tree):
    orig(self, name, tree)
    os.kill(os.getpid(), signal.{sig})
runs._Folder.netcdf = netcdf
sys.exit(cli.main(["run", {scenario!r}, "--draws", "1000", "--out", "done"]))
"""


@pytest.mark.parametrize(("sig", "rc", "word"), [("SIGTERM", 143, "terminated"),
                                                 ("SIGINT", 130, "interrupted")])
def test_signal_while_writing_leaves_nothing(priors, tmp_path, sig, rc, word):
    code = _TERM_SCRIPT.format(sig=sig, scenario=str(priors / "deepseek-adjusted.toml"))
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=False)
    # progress lines (stderr is not a terminal here) may come first; then the one error
    lines = [ln for ln in res.stderr.splitlines()
             if ln.strip() and not ln.startswith("sampling:")]
    assert res.returncode == rc, res.stderr
    assert lines == [f"error: {word}" + ("; no run folder was written" if rc == 130 else
                                          " (SIGTERM); no run folder was written")]
    assert list(tmp_path.iterdir()) == []


def test_stale_partials_of_dead_processes_are_removed_and_nothing_else(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname().replace(".", "_").replace("-", "_")
    names = {
        "dead": f".r1.partial-{host}-{dead.pid}-0123abcd",
        "alive": f".r2.partial-{host}-{os.getpid()}-0123abcd",
        "parent": f".r3.partial-{host}-{os.getppid()}-0123abcd",
        "other_host": f".r4.partial-elsewhere_{host}-{dead.pid}-0123abcd",
        "old_style": ".r5.partial-0123abcd",
        "not_partial": f"r6.partial-{host}-{dead.pid}-0123abcd",
    }
    for n in names.values():
        (tmp_path / n).mkdir()
        (tmp_path / n / "draws.nc").write_bytes(b"x" * 10)
    (tmp_path / "keep.txt").write_text("mine")
    from probmodel import tree

    path = runs.write(tree.make("test", "t", {}), runs_dir=tmp_path)
    left = {p.name for p in tmp_path.iterdir()}
    assert names["dead"] not in left
    assert left == {*(v for k, v in names.items() if k != "dead"), "keep.txt", path.name}


def test_partial_name_carries_host_and_pid(tmp_path):
    name = runs._partial_name(tmp_path / "run1")
    host = socket.gethostname().replace(".", "_").replace("-", "_")
    assert name.startswith(f".run1.partial-{host}-{os.getpid()}-")


@pytest.mark.parametrize("delay", [0.5, 1.5])
@pytest.mark.parametrize("how", [
    "import runpy; runpy.run_module('probmodel', run_name='__main__')",  # python -m
    "from probmodel.__main__ import main; main()",  # the console script
])
def test_ctrl_c_during_start_up_prints_one_line(priors, tmp_path, delay, how):
    # The child says when Python itself has started (a Ctrl-C during the interpreter's
    # own site import is Python's business), then imports the command line and JAX.
    code = f"import sys; sys.stderr.write('ready\\n'); sys.stderr.flush(); {how}"
    p = subprocess.Popen([sys.executable, "-c", code, "run",
                          str(priors / "deepseek-adjusted.toml"), "--draws", "1000"],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stderr.readline() == "ready\n"
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    assert "Traceback" not in err, err
    if p.returncode != 0:  # (a run that finished first is fine)
        assert p.returncode == 130, err
        assert [ln for ln in err.splitlines() if ln.strip()] == [
            "error: interrupted; no run folder was written"]
        assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_full_chunks_count_non_finite_draws_as_the_masked_path_does(overflowing):
    """Full chunks take the unmasked moments; a non-finite draw sends them to the masked
    path, which counts it (two full chunks and a partial one, histogram path)."""
    from probmodel.io import read_scenario

    sc = read_scenario(overflowing)
    model = sampling.ForwardModel.from_scenario(sc)
    args = model.args(sc)
    n = 2 * sampling.CHUNK + 100
    hist = streaming.run_stream(model, args, n, 0, keep_all=True, exact_when_kept=False)
    assert hist.stride == 1
    assert hist.quantile_method.startswith("histogram")
    n_bad = int((~np.isfinite(hist.kept["profit"])).sum())
    assert n // 4 < n_bad < 3 * n // 4
    for k in ("profit", "total_cost"):
        assert hist.summary[k].attrs["non_finite"] == n_bad


def test_unmasked_moments_equal_masked_and_catch_a_bad_row_not_histogrammed():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 2.0, (5, sampling.CHUNK)).astype(np.float32)
    hidx = np.asarray([1, 3], np.int32)
    c = jnp.float64(sampling.CHUNK)
    valid = jnp.ones(sampling.CHUNK, bool)
    f = jax.jit(lambda x, full: streaming._moments(x[hidx], hidx, list(x), valid, c, full))
    fast, masked = f(x, True), f(x, False)
    for k in ("mean", "m2", "min", "max", "nonfinite"):
        np.testing.assert_array_equal(np.asarray(fast[k]), np.asarray(masked[k]))
    np.testing.assert_allclose(np.asarray(fast["mean"]), x[hidx].astype(np.float64).mean(1),
                               rtol=1e-12)
    bad = x.copy()
    bad[4, [7, 900]] = [np.nan, np.inf]  # a row that is not histogrammed
    bad[1, 5] = -np.inf
    got = f(bad, True)
    assert np.asarray(got["nonfinite"]).tolist() == [0, 1, 0, 0, 2]
    assert float(got["min"][0]) == float(np.min(np.delete(bad[1], 5)))
