"""The only module that reads or writes files: scenario files and run folders.

A run folder is written under a hidden temporary name next to its final place and
renamed when complete, so an interrupted or failed run never leaves a folder that
looks finished, and an existing folder is never overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import xarray as xr

from probmodel.errors import RunError
from probmodel.spec import Scenario, build_scenario, check_complete

RUNS_DIR = Path("runs")
_PACKAGES = ("probmodel", "jax", "jaxlib", "numpyro", "arviz", "arviz-base", "arviz-stats",
             "xarray", "numpy", "scipy", "h5netcdf", "SALib")


def _label(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (and what it extends).

    Raises
    ------
    ScenarioError
        With every problem found, each located by file and key path.
    """
    p = Path(path)
    scenario = build_scenario(p, lambda f: f.read_bytes().decode("utf-8"), _label)
    check_complete(scenario)
    return scenario


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def git_commit() -> str | None:
    """The probmodel source commit, when it runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                           capture_output=True, text=True, timeout=5, check=False)
    return res.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def scenario_hashes(scenario: Scenario) -> dict[str, str]:
    """SHA-256 of every file the scenario was read from."""
    return {p.name: sha256(p) for p in scenario.files}


def check_out_dir(out: str | Path | None) -> None:
    """Refuse an --out folder that exists already (before any work is done)."""
    if out is not None and Path(out).exists():
        raise RunError(f"--out: {out} already exists; probmodel never overwrites a run "
                       "(choose a new folder)")


class RunFolder:
    """A run folder being written: files go to ``tmp``; :meth:`commit` renames it."""

    def __init__(self, final: Path, tmp: Path):
        self.final = final
        self.tmp = tmp
        self.files: list[str] = []

    @property
    def path(self) -> Path:
        """The folder being written (temporary until committed)."""
        return self.tmp

    def write_json(self, name: str, data: Any) -> None:
        """Write JSON (NaN written as null)."""
        (self.tmp / name).write_text(json.dumps(_clean(data), indent=2) + "\n")
        self.files.append(name)

    def write_csv(self, name: str, frame) -> None:
        """Write a pandas DataFrame as CSV."""
        frame.to_csv(self.tmp / name, index=False)
        self.files.append(name)

    def write_netcdf(self, name: str, tree: xr.DataTree | xr.Dataset) -> None:
        """Write an xarray DataTree (ArviZ groups) or Dataset as netCDF4/HDF5."""
        tree.to_netcdf(self.tmp / name, engine="h5netcdf")
        self.files.append(name)

    def save_figure(self, name: str, fig) -> list[str]:
        """Save a matplotlib Figure as figures/<name>.png and .svg; closes it."""
        import matplotlib.pyplot as plt

        d = self.tmp / "figures"
        d.mkdir(exist_ok=True)
        names = []
        for ext in ("png", "svg"):
            fig.savefig(d / f"{name}.{ext}", dpi=150, bbox_inches="tight")
            names.append(f"figures/{name}.{ext}")
        plt.close(fig)
        self.files.extend(names)
        return names

    def copy_scenario(self, scenario: Scenario) -> None:
        """Byte-exact copies of every scenario file used, in scenario/."""
        d = self.tmp / "scenario"
        d.mkdir(exist_ok=True)
        for p in scenario.files:
            shutil.copyfile(p, d / p.name)
            self.files.append(f"scenario/{p.name}")


def _clean(x: Any) -> Any:
    if isinstance(x, float):
        return x if x == x and x not in (float("inf"), float("-inf")) else None
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and callable(x.item):
        return _clean(x.item())
    return x


def run_id(scenario_name: str, salt: str) -> str:
    """``<UTC time>_<scenario>_<short hash>``: sortable, and unique within a second."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    h = hashlib.sha256(f"{salt}{uuid.uuid4()}".encode()).hexdigest()[:8]
    return f"{now}_{scenario_name}_{h}"


@contextlib.contextmanager
def run_folder(name: str, out: str | Path | None = None,
               runs_dir: Path = RUNS_DIR) -> Iterator[RunFolder]:
    """Write a run folder atomically.

    Yields a :class:`RunFolder` whose files go to a hidden temporary folder beside the
    final one; on normal exit it is renamed into place (refusing to replace anything),
    on any exception (Ctrl-C included) it is removed.
    """
    final = Path(out) if out is not None else runs_dir / name
    check_out_dir(out)
    if out is None and final.exists():
        raise RunError(f"{final} already exists; probmodel never overwrites a run")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    rf = RunFolder(final, tmp)
    try:
        yield rf
        if final.exists():
            raise RunError(f"{final} appeared while the run was being written; the run "
                           f"was not saved")
        os.rename(tmp, final)  # atomic on one filesystem; fails rather than replace a folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def base_manifest(kind: str, scenario: Scenario | None, **extra: Any) -> dict[str, Any]:
    """Manifest fields common to every command."""
    import jax

    m: dict[str, Any] = {
        "kind": kind,
        "command": " ".join(["probmodel", *sys.argv[1:]]) if sys.argv else "",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": f"{platform.system()} {platform.machine()}",
        "devices": [str(d) for d in jax.devices()],
    }
    if scenario is not None:
        m["scenario"] = scenario.name
        m["scenario_title"] = scenario.title
        m["scenario_files"] = scenario_hashes(scenario)
        if scenario.overrides:
            m["overrides"] = dict(scenario.overrides)
    m.update(extra)
    return m


def read_posterior(run_dir: str | Path, allow_failed: bool = False) -> dict[str, Any]:
    """Posterior draws of the parameters a calibration run inferred.

    Parameters
    ----------
    run_dir : path
        A folder written by ``probmodel calibrate``.
    allow_failed : bool
        Accept a run whose diagnostics failed (r-hat, ESS or divergences).

    Returns
    -------
    dict
        Parameter name -> 1-D float64 array of posterior draws (chains concatenated; one
        common length, so rows are joint draws).

    Raises
    ------
    RunError
        Naming the folder and what is wrong: missing, not a calibration run, failed
        diagnostics, or no posterior draws.
    """
    import numpy as np

    d = Path(run_dir)
    where = f"--posterior: {d}"
    if not d.exists():
        raise RunError(f"{where}: no such folder")
    if not d.is_dir():
        raise RunError(f"{where}: is a file, not a run folder")
    man_path = d / "manifest.json"
    if not man_path.is_file():
        raise RunError(f"{where}: not a run folder (no manifest.json)")
    try:
        manifest = json.loads(man_path.read_text())
    except (OSError, ValueError) as e:
        raise RunError(f"{where}: manifest.json is unreadable ({e})") from None
    if manifest.get("kind") != "calibrate":
        raise RunError(f"{where}: not a calibration run (manifest kind is "
                       f"'{manifest.get('kind')}'); run `probmodel calibrate` first")
    if not allow_failed and manifest.get("diagnostics_ok") is False:
        raise RunError(f"{where}: that calibration failed its diagnostics (see its "
                       "diagnostics.csv); rerun calibrate with more --warmup/--samples")
    names = manifest.get("calibrated_parameters") or []
    nc = d / "draws.nc"
    if not nc.is_file() or not names:
        raise RunError(f"{where}: no posterior draws (draws.nc or calibrated_parameters "
                       "missing)")
    try:
        tree = xr.open_datatree(nc, engine="h5netcdf")
        post = tree["posterior"].to_dataset()
    except (OSError, KeyError, ValueError) as e:
        raise RunError(f"{where}: draws.nc has no readable posterior group ({e})") from None
    missing = [n for n in names if n not in post]
    if missing:
        raise RunError(f"{where}: draws.nc lacks posterior draws of {', '.join(missing)}")
    out = {n: np.asarray(post[n].values, np.float64).reshape(-1) for n in names}
    tree.close()
    return out
