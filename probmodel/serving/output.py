"""Run folders of serving calibrations and backtests, and reading a calibration back.

A serving calibration folder holds draws.nc (its result tree: group ``/posterior`` with
``chain`` and ``draw`` dims and the levels it saw in attributes, and the groups its
tables are derived from), measurements.csv (a byte copy of the rows it was fitted to),
efficiencies.csv (each chip's efficiencies and each serving engine's constants, median
and 90% interval), predictions.csv and scores.csv (in-sample), summary.json, the
scenario and figures. A backtest folder holds backtest.nc (its result tree),
predictions.csv, scores.csv, cv_fits.json (with --cv), summary.json and figures. Every
table and JSON file is derived from the tree (:func:`calibration_outputs`,
:func:`backtest_outputs`).
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


# --------------------------------------------------------------------------- result trees


def table_dataset(df, dim: str):
    """A table as a Dataset along ``dim``: one variable per column, the order in attrs.

    Text columns are stored as strings (a missing field as ""), booleans as 0/1 marked
    ``bool``; :func:`table_frame` gives the same table back, byte for byte as CSV.
    """
    import pandas as pd
    import xarray as xr

    names, data = [], {}
    for i, c in enumerate(df.columns):
        col = df[c]
        attrs = {}
        if col.dtype == bool:
            values = col.to_numpy().astype(np.int8)
            attrs["dtype"] = "bool"
        elif pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy()
        else:  # text (object or str dtype)
            values = np.asarray(["" if v is None or (isinstance(v, float) and v != v)
                                 else str(v) for v in col], str)
        name = str(c)
        if not name or "/" in name or name == dim or name in data:
            name = f"column_{i}"
        names.append(name)
        data[name] = (dim, values, attrs)
    return xr.Dataset(data, attrs={"columns": json.dumps([str(c) for c in df.columns]),
                                   "variables": json.dumps(names)})


def table_frame(ds):
    """The table :func:`table_dataset` stored (its columns, in order)."""
    import pandas as pd

    cols = json.loads(ds.attrs["columns"])
    out = {}
    for c, name in zip(cols, json.loads(ds.attrs["variables"]), strict=True):
        v = ds[name]
        values = np.asarray(v.values)
        if v.attrs.get("dtype") == "bool":
            values = values.astype(bool)
        elif values.dtype.kind in "US":
            values = np.asarray([str(x) for x in values], dtype=object)
        out[c] = values
    return pd.DataFrame(out, columns=cols)


def calibration_tree(sc, post: Posterior, meas: Measurements, predictions, scores_table,
                     efficiencies):
    """A serving calibration's result tree (:mod:`probmodel.tree`), all in draws.nc.

    ``/posterior`` (the draws, their levels and settings, and the fit's diagnostics,
    rows used and seconds in attrs: :func:`load` reads it back), ``/efficiencies``,
    ``/scores`` and ``/predictions`` (in sample); :func:`calibration_outputs` derives
    efficiencies.csv, scores.csv, predictions.csv and summary.json from it.
    """
    from probmodel import runs, tree

    spec = sc.measurements
    d = post.diagnostics
    s = post.settings
    posterior = posterior_tree(post, {"length_scale": spec.length_scale})["posterior"]
    posterior = posterior.to_dataset().assign_attrs(
        diagnostics=json.dumps(runs.clean(d)), rows_used=int(post.rows_used),
        seconds=float(post.seconds))
    groups = {"posterior": posterior,
              "efficiencies": table_dataset(efficiencies, "efficiency"),
              "scores": table_dataset(scores_table, "score"),
              "predictions": table_dataset(predictions, "row")}
    return tree.make(
        "calibrate", sc.name, groups,
        salt=f"serving{s['seed']}{s['samples']}{s['warmup']}{s['chains']}",
        files={"draws.nc": {f"/{g}": f"/{g}" for g in groups}},
        settings={"calibration": KIND, "method": "NUTS (numpyro)", **s,
                  "length_scale": spec.length_scale, "rows_used": post.rows_used,
                  "diagnostics_ok": d["ok"], "divergences": d["divergences"],
                  "measurements": spec.file, "seconds": post.seconds})


def _in_sample(scores_table) -> dict:
    return {r["group"] + "/" + r["metric"]: r["median_abs_log_error"]
            for r in scores_table.to_dict("records")}


def calibration_summary(t) -> dict:
    """summary.json of a serving calibration, from its tree."""
    post = t["posterior"].to_dataset()
    a = post.attrs
    table = table_frame(t["scores"].to_dataset())
    return {"rows": int(t["predictions"].to_dataset().sizes.get("row", 0)),
            "rows_fitted": int(a["rows_used"]), **json.loads(a["diagnostics"]),
            "levels": json.loads(a["levels"]), "seconds": round(float(a["seconds"]), 1),
            "in_sample": _in_sample(table)}


def calibration_outputs(t):
    """A serving calibration folder's tables and summary.json, from its tree.

    efficiencies.csv, scores.csv and predictions.csv (in sample); measurements.csv is a
    byte copy of the rows fitted, not derived.
    """
    from probmodel import tree

    return tree.Outputs(
        tables={"efficiencies.csv": table_frame(t["efficiencies"].to_dataset()),
                "scores.csv": table_frame(t["scores"].to_dataset()),
                "predictions.csv": table_frame(t["predictions"].to_dataset())},
        json={"summary.json": calibration_summary(t)})


def backtest_tree(label: str, predictions, scores_table, fits: list, seconds: float,
                  settings: dict):
    """A backtest's result tree (:mod:`probmodel.tree`), in backtest.nc.

    ``/predictions`` (each row's quantiles, status and fold) and ``/scores`` (the
    leave-one-out fits and the seconds in attrs); ``settings`` are the manifest's.
    :func:`backtest_outputs` derives predictions.csv, scores.csv, cv_fits.json (with
    --cv) and summary.json from it.
    """
    from probmodel import runs, tree

    groups = {"predictions": table_dataset(predictions, "row"),
              "scores": table_dataset(scores_table, "score").assign_attrs(
                  fits=json.dumps(runs.clean(fits)), seconds=float(seconds))}
    return tree.make(
        "backtest", label, groups,
        salt=f"backtest{settings['seed']}{settings['cv']}{settings['draws']}",
        files={"backtest.nc": {f"/{g}": f"/{g}" for g in groups}}, settings=settings)


def backtest_summary(t) -> dict:
    """summary.json of a backtest, from its tree."""
    from probmodel import tree

    preds = table_frame(t["predictions"].to_dataset())
    scores_ds = t["scores"].to_dataset()
    table = table_frame(scores_ds)
    status: dict[str, int] = {}
    for s in preds["status"]:
        key = "predicted" if s == "predicted" else str(s).split(":")[0]
        status[key] = status.get(key, 0) + 1
    by: dict[str, dict] = {}
    for r in table.to_dict("records"):
        by.setdefault(r["group"], {})[r["metric"]] = {k: r[k] for k in (
            "rows", "median_abs_log_error", "within_25pct", "coverage_90",
            "interval_score", "median_width")}
    return {"rows": len(preds), "predicted": int((preds["status"] == "predicted").sum()),
            "status": status, "cv": tree.settings(t).get("cv"), "scores": by,
            "fits": json.loads(scores_ds.attrs["fits"]),
            "seconds": round(float(scores_ds.attrs["seconds"]), 1)}


def backtest_outputs(t):
    """A backtest folder's predictions.csv, scores.csv, cv_fits.json and summary.json."""
    from probmodel import tree

    summary = backtest_summary(t)
    return tree.Outputs(
        tables={"predictions.csv": table_frame(t["predictions"].to_dataset()),
                "scores.csv": table_frame(t["scores"].to_dataset())},
        json={**({"cv_fits.json": summary["fits"]} if summary["fits"] else {}),
              "summary.json": summary})
