"""Run folders of serving calibrations and backtests, and reading a calibration back.

A serving calibration folder holds draws.nc (the posterior as an xarray DataTree, group
``/posterior`` with ``chain`` and ``draw`` dims and the levels it saw in attributes),
measurements.csv (a byte copy of the rows it was fitted to), efficiencies.csv (each
chip's efficiencies and each serving engine's constants, median and 90% interval),
predictions.csv and scores.csv (in-sample), summary.json, the scenario and figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from probmodel.errors import UsageError
from probmodel.serving import hierarchy as H
from probmodel.serving.fit import Posterior
from probmodel.serving.measurements import METRICS, Measurements

KIND = "serving-calibration"


def posterior_tree(post: Posterior, attrs: dict):
    """The posterior draws as a DataTree (``/posterior``), levels and settings in attrs."""
    import xarray as xr

    data = {}
    for k, v in post.draws.items():
        dims = ["chain", "draw", *(f"{k}_dim_{i}" for i in range(v.ndim - 2))]
        data[k] = (dims, v)
    ds = xr.Dataset(data)
    ds.attrs.update({"levels": json.dumps(post.names), "settings": json.dumps(post.settings),
                     **{k: json.dumps(v) if not isinstance(v, str | int | float) else v
                        for k, v in attrs.items()}})
    return xr.DataTree.from_dict({"/posterior": ds})


def load(cal_dir: str | Path) -> tuple[Posterior, dict]:
    """A serving calibration's posterior and manifest, or a one-line error."""
    d = Path(cal_dir)
    man_path = d / "manifest.json"
    if not man_path.is_file():
        raise UsageError(f"--calibration: {cal_dir}: not a run folder (no manifest.json)")
    try:
        man = json.loads(man_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"--calibration: {man_path}: unreadable manifest ({e})") from None
    if man.get("calibration") != KIND:
        raise UsageError(f"--calibration: {cal_dir} is a '{man.get('kind')}' run, not a "
                         "serving calibration (probmodel calibrate on a scenario with "
                         "[measurements], e.g. priors/inferencex-evidence.toml)")
    from probmodel import runs
    runs.check_files(d, man, f"--calibration: {cal_dir}")  # deleted or changed files
    import xarray as xr
    try:
        tree = xr.open_datatree(d / "draws.nc")
        ds = tree["posterior"].to_dataset().load()
    except (OSError, ValueError, KeyError) as e:
        raise UsageError(f"--calibration: {d / 'draws.nc'}: cannot be read ({e})") from None
    names = {k: tuple(v) for k, v in json.loads(ds.attrs["levels"]).items()}
    draws = {k: np.asarray(ds[k].values, np.float64) for k in ds.data_vars}
    post = Posterior(draws=draws, names=names, settings=json.loads(ds.attrs["settings"]),
                     rows_used=int(man.get("rows_used", 0)))
    return post, man


def efficiencies_table(post: Posterior):
    """Each seen chip's efficiency shares and each engine's constants: q05, q50, q95."""
    import pandas as pd

    d = post.flat()
    rows = []
    for j, kind in enumerate(H.KINDS[:H.CHIP_KINDS]):
        for c, chip in enumerate(post.names["chip"]):
            z = d["chip_z"][:, j, c]
            rows.append(_row("chip", chip, f"{kind}_efficiency", 1.0 / (1.0 + np.exp(-z)), "1"))
    for s, stack in enumerate(post.names["stack"]):
        rows.append(_row("engine", stack, "step_overhead", np.exp(d["log_overhead"][:, s]) * 1e3,
                         "ms"))
        rows.append(_row("engine", stack, "mtp_acceptance",
                         1.0 / (1.0 + np.exp(-d["accept_logit"][:, s])), "1"))
        rows.append(_row("engine", stack, "ttft_fixed",
                         np.exp(d["log_ttft_fixed"][:, s]) * 1e3, "ms"))
        for j, kind in enumerate(H.KINDS[:H.CHIP_KINDS]):
            rows.append(_row("engine", stack, f"{kind}_logit_shift",
                             d["stack_raw"][:, j, s] * H.SIGMA["stack"], "1"))
    for v, vendor in enumerate(post.names["vendor"]):
        for j in range(H.CHIP_KINDS, len(H.KINDS)):
            z = d["mu"][:, j] + d["vendor_raw"][:, j, v] * H.SIGMA["vendor"]
            rows.append(_row("vendor", vendor, f"{H.KINDS[j]}_efficiency",
                             1.0 / (1.0 + np.exp(-z)), "1"))
        rows.append(_row("vendor", vendor, "collective_latency",
                         np.exp(d["log_latency"][:, v]) * 1e6, "us"))
    rows.append(_row("all", "all", "draft_pass_cost", d["draft_cost"], "1"))
    rows.append(_row("all", "all", "queue_factor", d["queue"], "1"))
    for k in ("tput_per_gpu", "median_tpot", "median_ttft"):
        rows.append(_row("all", "all", f"noise_sd_{k}", H.NOISE_FLOOR + d[f"noise_{k}"],
                         "log"))
    return pd.DataFrame(rows)


def _row(level, name, quantity, x, unit):
    q = np.quantile(np.asarray(x, np.float64), [0.05, 0.5, 0.95])
    return {"level": level, "name": name, "quantity": quantity, "q05": q[0], "q50": q[1],
            "q95": q[2], "unit": unit}


def predictions_table(meas: Measurements, q: dict, fold: list[str] | None = None):
    """The input's columns, ``<metric>_q05/_q50/_q95`` and ``status`` (and the CV fold)."""
    import pandas as pd

    df = pd.DataFrame(meas.records, columns=meas.header)
    for k in METRICS:
        for p in ("05", "50", "95"):
            col = q.get(f"{k}_q{p}")
            df[f"{k}_q{p}"] = col if col is not None else np.nan
    df["status"] = meas.status
    if fold is not None:
        df["left_out"] = fold
    return df


def full_rows(meas: Measurements, q_sub: dict, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Quantiles over every row of ``meas`` (NaN where not predicted) from a subset's."""
    out = {}
    for k, v in q_sub.items():
        col = np.full(len(meas), np.nan)
        col[mask] = v
        out[k] = col
    return out
