"""Start-up: wall time of the commands that should answer at once (issue 12, target 1).

Times ``probmodel --help``, ``--version``, an error for a missing file, a bad flag,
``check`` and ``point`` on priors/deepseek-adjusted.toml, each run as a fresh process
(``python -m probmodel ...``) ``--repeat`` times, interleaved so that load from other
processes falls on every command alike. Prints the median wall time with its spread
(interquartile range and min-max), the median CPU time (user + system) of the process,
which depends much less on the load of a shared machine than wall time, the load
average, and the cumulative time of ``import probmodel.cli`` from
``python -X importtime`` (median of the repeats).

The target is a median under 0.5 s. The figures depend on the machine's load (the
project's machine is shared); never used as a test.

Usage: python benchmarks/bench_startup.py [--repeat 15] [--source DIR]

``--source`` times another checkout of probmodel (its folder is put first on the
import path), e.g. to compare against the code before a change.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = str(ROOT / "priors" / "deepseek-adjusted.toml")
CASES = {
    "--help": ["--help"],
    "--version": ["--version"],
    "missing file": ["check", str(ROOT / "no-such-file.toml")],
    "bad flag": ["point", SCENARIO, "--nope"],
    "check": ["check", SCENARIO],
    "point": ["point", SCENARIO],
}


def _env(source: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
    return env


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _wall(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -m probmodel ARGS`` process."""
    c0, t0 = _cpu_children(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "probmodel", *args], env=env, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0, _cpu_children() - c0


def _import_cli_seconds(env: dict[str, str], cwd: Path) -> float:
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", "import probmodel.cli"],
                         env=env, cwd=cwd, capture_output=True, text=True, check=True)
    line = next(ln for ln in res.stderr.splitlines() if ln.rstrip().endswith("| probmodel.cli"))
    return int(line.split("|")[1]) / 1e6


def _spread(xs: list[float]) -> str:
    q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
    return (f"{statistics.median(xs):.3f} s  (IQR {q[0]:.3f}-{q[2]:.3f}, "
            f"min-max {min(xs):.3f}-{max(xs):.3f})")


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--source", type=Path, default=None,
                    help="time the probmodel package found in this folder instead")
    args = ap.parse_args()
    source = args.source.resolve() if args.source else None
    env = _env(source)
    # Run from a folder without a probmodel package in it, so that -m probmodel finds
    # the one asked for.
    cwd = source if source is not None else Path("/")
    times: dict[str, list[float]] = {k: [] for k in CASES}
    cpu: dict[str, list[float]] = {k: [] for k in CASES}
    imports = []
    for argv in CASES.values():  # warm the OS file cache and .pyc files
        _wall(argv, env, cwd)
    load0 = os.getloadavg()[0]
    for _ in range(args.repeat):
        for name, argv in CASES.items():
            wall, used = _wall(argv, env, cwd)
            times[name].append(wall)
            cpu[name].append(used)
        imports.append(_import_cli_seconds(env, cwd))
    print(f"probmodel start-up, {args.repeat} runs each, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; load average {load0:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end; source {source or 'installed'}")
    print()
    print("| command | median wall (IQR, min-max) | median CPU |")
    print("|---|---|---|")
    for name, xs in times.items():
        print(f"| `probmodel {' '.join(CASES[name][:1])}` ({name}) | {_spread(xs)} | "
              f"{statistics.median(cpu[name]):.3f} s |")
    print(f"| `import probmodel.cli` (-X importtime, cumulative) | {_spread(imports)} | |")


if __name__ == "__main__":
    main()
