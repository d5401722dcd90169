"""Reading files: scenario files and the posterior of a calibration run folder.

Run folders are written by :mod:`probmodel.runs` alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from probmodel.errors import RunError
from probmodel.spec import Scenario, read_scenario  # noqa: F401 - the one scenario reader


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
    import xarray as xr

    d = Path(run_dir)
    where = f"--posterior: {d}"
    names = check_posterior(d, allow_failed)
    nc = d / "draws.nc"
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


def check_posterior(run_dir: str | Path, allow_failed: bool = False,
                    scenario: Scenario | None = None) -> list[str]:
    """The calibrated parameter names of a ``--posterior`` folder, checked without xarray.

    A missing folder, one that is not a calibration run, one that failed its
    diagnostics (unless ``allow_failed``), one without draws, and (with ``scenario``)
    one none of whose parameters the scenario has: a RunError or UsageError naming the
    folder, before the engine is imported.
    """
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
    if scenario is not None and not any(
            k in scenario.parameters and k not in scenario.overrides for k in names):
        from probmodel.errors import UsageError

        raise UsageError(f"--posterior: none of its parameters ({', '.join(names)}) is "
                         f"a parameter of {scenario.name}; nothing to draw from it")
    return list(names)


def posterior_ess(run_dir: str | Path, names: list[str] | None = None) -> float | None:
    """The ESS of a calibration run's posterior sample, for a run that uses ``names``.

    The smallest bulk ESS in its diagnostics.csv among ``names`` (default: all its
    parameters); else summary.json's ``min_ess_bulk``; None when neither says (an older
    run). The MCSE of a run drawing from this posterior includes the posterior sample's
    error through it (:func:`probmodel.mcse.posterior_part`).
    """
    import csv

    d = Path(run_dir)
    try:
        with open(d / "diagnostics.csv", newline="") as f:
            ess = {r["parameter"]: float(r["ess_bulk"]) for r in csv.DictReader(f)}
        use = [v for k, v in ess.items() if names is None or k in names]
        if use and min(use) > 0:
            return min(use)
    except (OSError, KeyError, ValueError):
        pass
    try:
        v = json.loads((d / "summary.json").read_text()).get("min_ess_bulk")
    except (OSError, ValueError):
        return None
    return float(v) if isinstance(v, int | float) and v > 0 else None
