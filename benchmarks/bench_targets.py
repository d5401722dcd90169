"""Every speed target of the project in one table: start-up, run, calibrate, throughput.

Each CLI figure is a fresh ``python -m probmodel ...`` process, as a user runs it; wall
time and the process's own peak RSS (``os.wait4``) are measured. "Warm" means JAX's
persistent compilation cache already holds the programs (one untimed run first);
"cold" points ``PROBMODEL_JAX_CACHE`` at a new empty folder, like the very first call
on a machine. Throughput runs in this process, as ``bench_plain.py`` does: the plain
NumPy Monte Carlo a careful user writes (``numpy_plain.py``) against ``probmodel.run``
(summaries of every variable and the run folder included), best of two, after one
untimed probmodel run of the same size.

Targets (medians; the machine's load is printed, since wall times depend on it):

- start-up: ``--help``, ``--version``, errors about a file or a flag, ``check`` and
  ``point`` under 0.5 s;
- ``run --draws 1000000``: under 2 s warm, under 6 s cold; ``--draws 100000000`` under
  20 s within 1 GB peak RSS;
- ``calibrate priors/deepseek-evidence.toml``: under 10 s warm (the slowest of the
  repeats, for the 95th percentile), under 20 s cold, with max r-hat <= 1.01, min ESS
  >= 400 and no divergences;
- throughput at 2^24 draws in one process: ``probmodel.run`` at >= 1.5x the plain NumPy
  draws/s and ``probmodel.simulate`` (every draw of every variable, no summaries) at
  >= 2x, and ``probmodel.run`` at >= 1x per CPU-second.

Never a test (timings depend on the machine). Usage::

    .venv/bin/python benchmarks/bench_targets.py [--repeat 3] [--quick]

``--quick`` skips the 1e8-draw run and the cold calibration (the two slowest items);
``--only startup|run|calibrate|throughput`` measures one group.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
ADJUSTED = "priors/deepseek-adjusted.toml"
EVIDENCE = "priors/deepseek-evidence.toml"

ROWS: list[tuple[str, str, str, bool | None]] = []  # (what, measured, target, met)


def cli(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit status of one ``python -m probmodel`` process."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "probmodel", *args], cwd=ROOT,
                         env={**os.environ, **(env or {})},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, p.returncode


def row(what: str, measured: str, target: str, met: bool | None) -> None:
    ROWS.append((what, measured, target, met))
    flag = "" if met is None else ("met" if met else "NOT met")
    print(f"  {what}: {measured} (target {target}) {flag}", flush=True)


def spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def startup(repeat: int, tmp: Path) -> None:
    existing = tmp / "exists"
    existing.mkdir()
    cases = {
        "--help": ["--help"], "--version": ["--version"],
        "missing file": ["check", "no-such-file.toml"],
        "unknown flag": ["point", ADJUSTED, "--nope"],
        "bad --draws": ["run", ADJUSTED, "--draws", "1"],
        "existing --out": ["run", ADJUSTED, "--out", str(existing)],
        "check": ["check", ADJUSTED], "point": ["point", ADJUSTED],
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):  # interleaved: load falls on every case alike
        for k, args in cases.items():
            times[k].append(cli(args)[0])
    for k, xs in times.items():
        row(f"start-up: {k}", spread(xs), "< 0.5 s", statistics.median(xs) < 0.5)


def run_1e6(repeat: int, tmp: Path) -> None:
    args = ["run", ADJUSTED, "--draws", "1000000", "--quiet"]
    cold_cache = tmp / "cold-cache"
    wall, rss, rc = cli([*args, "--out", str(tmp / "run-cold")],
                        {"PROBMODEL_JAX_CACHE": str(cold_cache)})
    row("run 1e6 draws, cold cache", f"{wall:.2f} s, peak {rss:.0f} MB (exit {rc})", "< 6 s",
        wall < 6 and rc == 0)
    cli([*args, "--out", str(tmp / "run-warmup")])
    walls = []
    for i in range(repeat):
        wall, rss, _ = cli([*args, "--out", str(tmp / f"run-warm{i}")])
        walls.append(wall)
    row("run 1e6 draws, warm cache", f"{spread(walls)}, peak {rss:.0f} MB", "< 2 s",
        statistics.median(walls) < 2)


def run_1e8(tmp: Path) -> None:
    wall, rss, rc = cli(["run", ADJUSTED, "--draws", "100000000", "--quiet", "--out",
                         str(tmp / "run-1e8")])
    row("run 1e8 draws", f"{wall:.1f} s, peak {rss:.0f} MB (exit {rc})",
        "< 20 s, <= 1024 MB", wall < 20 and rss <= 1024 and rc == 0)


def calibrate(repeat: int, tmp: Path, cold: bool) -> None:
    args = ["calibrate", EVIDENCE, "--quiet"]

    def diag(folder: Path) -> tuple[str, bool]:
        s = json.loads((folder / "summary.json").read_text())
        ok = (s["max_r_hat"] <= 1.01 and min(s["min_ess_bulk"], s["min_ess_tail"]) >= 400
              and s["divergences"] == 0)
        return (f"r-hat {s['max_r_hat']:.4f}, ESS bulk {s['min_ess_bulk']:.0f} / tail "
                f"{s['min_ess_tail']:.0f}, {s['divergences']} divergences"), ok

    if cold:
        out = tmp / "cal-cold"
        wall, _, _ = cli([*args, "--out", str(out)],
                            {"PROBMODEL_JAX_CACHE": str(tmp / "cold-cache-cal")})
        text, ok = diag(out)
        row("calibrate, cold cache", f"{wall:.2f} s, {text}", "< 20 s", wall < 20 and ok)
    cli([*args, "--out", str(tmp / "cal-warmup")])
    walls = []
    for i in range(repeat):
        out = tmp / f"cal-warm{i}"
        wall, rss, _ = cli([*args, "--out", str(out)])
        walls.append(wall)
    text, ok = diag(out)
    row("calibrate, warm cache", f"{spread(walls)}, peak {rss:.0f} MB, {text}",
        "< 10 s (slowest)", max(walls) < 10 and ok)


def throughput(tmp: Path, n: int = 1 << 24) -> None:
    import numpy_plain

    import probmodel

    sc = probmodel.load_scenario(ADJUSTED)
    spec = numpy_plain.load(ADJUSTED)
    probmodel.run(sc, draws=n, seed=99, out=tmp / "thr-warm")

    def timed(f):
        w0, c0 = time.perf_counter(), time.process_time()
        f()
        return time.perf_counter() - w0, time.process_time() - c0

    probmodel.simulate(sc, draws=n, seed=99)
    best = {"numpy": (1e9, 1e9), "probmodel": (1e9, 1e9), "simulate": (1e9, 1e9)}
    for rep in range(2):  # alternating, best of two
        w, c = timed(lambda rep=rep: numpy_plain.run(spec, n, seed=rep))
        best["numpy"] = min(best["numpy"], (w, c))
        w, c = timed(lambda rep=rep: probmodel.run(sc, draws=n, seed=rep,
                                                   out=tmp / f"thr{rep}"))
        best["probmodel"] = min(best["probmodel"], (w, c))
        w, c = timed(lambda rep=rep: probmodel.simulate(sc, draws=n, seed=rep))
        best["simulate"] = min(best["simulate"], (w, c))
    (wn, cn), (wp, cp), (ws, _) = best["numpy"], best["probmodel"], best["simulate"]
    row("throughput vs plain NumPy, wall: run",
        f"{wn / wp:.2f}x ({n / wp / 1e6:.2f} M/s vs {n / wn / 1e6:.2f} M/s, {n:,} draws)",
        ">= 1.5x", wn / wp >= 1.5)
    row("throughput vs plain NumPy, wall: simulate",
        f"{wn / ws:.2f}x ({n / ws / 1e6:.2f} M/s vs {n / wn / 1e6:.2f} M/s)",
        ">= 2x", wn / ws >= 2)
    row("throughput vs plain NumPy, per CPU-second: run",
        f"{cn / cp:.2f}x ({n / cp / 1e6:.2f} M vs {n / cn / 1e6:.2f} M draws per CPU-s)",
        ">= 1x", cn / cp >= 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="skip the 1e8-draw run and the cold calibration")
    ap.add_argument("--only", choices=("startup", "run", "calibrate", "throughput"),
                    help="measure one group of targets")
    a = ap.parse_args()
    want = (lambda g: a.only in (None, g))  # noqa: E731
    load0 = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPU cores, python {sys.version.split()[0]}; load average "
          f"{load0:.2f} at start", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if want("startup"):
            startup(max(a.repeat, 5), tmp)
        if want("run"):
            run_1e6(a.repeat, tmp)
            if not a.quick:
                run_1e8(tmp)
        if want("calibrate"):
            calibrate(a.repeat, tmp, cold=not a.quick)
        if want("throughput"):
            throughput(tmp)
    print(f"\nload average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end\n")
    print("| what | measured | target | met |")
    print("|---|---|---|---|")
    for what, measured, target, met in ROWS:
        print(f"| {what} | {measured} | {target} | "
              f"{'' if met is None else ('yes' if met else '**no**')} |")


if __name__ == "__main__":
    main()
