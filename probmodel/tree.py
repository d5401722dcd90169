"""One result tree per analysis: what a command computed, as one ``xarray.DataTree``.

Every analysis (run, compare, sweep, project, sensitivity, stress, calibrate, frontier,
solve, backtest) returns its result as one DataTree, and everything the run folder
holds is derived from it by :func:`probmodel.runs.write`: the netCDF files, every CSV
table, summary.json and the manifest. The report and the workbook read the same tree
back (:func:`read`) and derive the same tables from it, so a number cannot differ
between the folder's files, the report and ``--json``.

Layout (groups in ArviZ's spirit, one name per kind of content):

``/summary``
    the result contract (:mod:`probmodel.results`): every statistic with its MCSE,
    P(profit > 0), events; extra dimensions for cells, scenarios or years.
``/prior`` (or ``/posterior``, ``/posterior_predictive``, ``/draws``)
    kept draws (dims ``chain``, ``draw``).
analysis groups
    ``/pairs``, ``/ecdf``, ``/cells``, ``/sobol``, ``/bands``, ``/curves``, ``/stress``...
    An interval on an *estimate* (a bootstrap or a bisection's bracket) is encoded one
    way everywhere: a ``ci_bound`` dimension with coordinates ``lower``/``upper``, as
    arviz-stats' ``eti``/``hdi`` return it. Quantiles of a *distribution* stay
    statistics (``q05``, ``q95`` on the ``stat`` dimension).

Root attributes (the tree's settings and provenance; JSON text where nested):

``kind``
    the command (the manifest's ``kind``); it names the function that derives the
    folder's tables and JSON (:data:`DERIVERS`).
``label``, ``salt``
    the run id's middle part and what its hash mixes in.
``settings``
    JSON object: the command's manifest fields (method, seed, draws, grid, ...).
``files``
    JSON object: netCDF file name -> {group in the file: group in the tree}; the
    layout that keeps every file where earlier versions wrote it (draws.nc holds the
    kept draws under ``/prior`` and the summary under ``/summary``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

#: The dimension and its labels of an interval on an estimate (arviz-stats' encoding).
CI_DIM = "ci_bound"
CI_BOUNDS = ("lower", "upper")

#: kind -> "module:function" deriving the folder's tables and JSON from the tree
#: (imported when used: the report needs only the kinds it shows).
DERIVERS: dict[str, str] = {
    "run": "probmodel.api:outputs",
    "compare": "probmodel.analysis.compare:outputs",
    "sweep": "probmodel.analysis.sweep_output:outputs",
    "sweep-point": "probmodel.analysis.sweep_output:point_outputs",
    "project": "probmodel.analysis.projection:outputs",
    "sensitivity": "probmodel.analysis.sensitivity_output:outputs",
    "stress": "probmodel.analysis.stress:outputs",
    "frontier": "probmodel.analysis.frontier:outputs",
    "solve": "probmodel.analysis.solve:outputs",  # goal seek, and a choice (choose.py)
    "calibrate": "probmodel.calibration_output:outputs",  # NUTS, and the serving fit
    "backtest": "probmodel.serving.output:backtest_outputs",
}


@dataclass
class Outputs:
    """The files a run folder derives from its tree (besides the netCDF and figures)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file name -> frame
    json: dict[str, Any] = field(default_factory=dict)  # file name -> JSON-able data

    @property
    def summary_json(self) -> dict[str, Any]:
        """summary.json's body ({} when the kind writes none)."""
        return self.json.get("summary.json", {})


def make(kind: str, label: str, groups: Mapping[str, Any], *, salt: str = "",
         settings: Mapping[str, Any] | None = None,
         files: Mapping[str, Mapping[str, str]] | None = None,
         attrs: Mapping[str, Any] | None = None) -> xr.DataTree:
    """An analysis's result tree.

    ``groups``: tree path -> Dataset (or DataTree, grafted whole); ``settings``: the
    manifest fields of the command; ``files``: the netCDF layout (:func:`netcdf_files`;
    default one file ``<kind>.nc`` with every group); ``attrs``: other root attributes
    (plain strings and numbers).
    """
    import xarray as xr

    nodes: dict[str, Any] = {}
    for path, node in groups.items():
        key = "/" + path.strip("/")
        nodes[key] = node.to_dataset() if isinstance(node, xr.DataTree) and not node.children \
            else node
    tree = xr.DataTree()
    for key, node in nodes.items():
        tree[key] = node if isinstance(node, xr.DataTree) else xr.DataTree(node)
    tree.attrs.update(dict(attrs or {}))
    tree.attrs.update({
        "kind": kind, "label": label, "salt": salt,
        "settings": json.dumps(_plain(dict(settings or {}))),
        "files": json.dumps({f: dict(g) for f, g in (files or {}).items()})})
    return tree


def _plain(x: Any) -> Any:
    """``x`` made JSON-safe (NaN/inf -> None, NumPy -> Python), as the manifest holds it."""
    from probmodel.runs import clean

    return clean(x)


def kind(tree: xr.DataTree) -> str:
    """The command that produced ``tree``."""
    return str(tree.attrs.get("kind", "unknown"))


def settings(tree: xr.DataTree) -> dict[str, Any]:
    """The command's settings (manifest fields) stored in the tree's attributes."""
    return dict(json.loads(tree.attrs.get("settings") or "{}"))


def layout(tree: xr.DataTree) -> dict[str, dict[str, str]]:
    """The netCDF layout: file -> {group in the file: group in the tree}."""
    files = json.loads(tree.attrs.get("files") or "{}")
    if files:
        return files
    return {f"{kind(tree)}.nc": {"/": "/"}}


def netcdf_files(tree: xr.DataTree) -> dict[str, xr.DataTree]:
    """The netCDF files of the run folder: file name -> the DataTree written there."""
    import xarray as xr

    out = {}
    for fname, groups in layout(tree).items():
        if list(groups.items()) == [("/", "/")]:
            whole = tree.copy()
            for k in ("kind", "label", "salt", "settings", "files"):
                whole.attrs.pop(k, None)
            out[fname] = whole
            continue
        # the file's root first (a tree group written at its root), then its groups;
        # copies are shallow and detached from the tree
        root = next((t for f, t in groups.items() if f.strip("/") == ""), None)
        sub = tree[root].copy() if root is not None else xr.DataTree()
        for in_file, in_tree in groups.items():
            if in_file.strip("/"):
                sub[in_file.strip("/")] = tree[in_tree].copy()
        out[fname] = sub
    return out


def derive(tree: xr.DataTree) -> Outputs:
    """The tables and JSON a run folder holds, derived from ``tree`` alone.

    The kind's deriver (:data:`DERIVERS`) when it has one; otherwise summary.csv and
    summary.json from ``/summary`` (:mod:`probmodel.results`).
    """
    ref = DERIVERS.get(kind(tree))
    if ref is not None:
        mod, fn = ref.split(":")
        deriver: Callable[[xr.DataTree], Outputs] = getattr(importlib.import_module(mod), fn)
        return deriver(tree)
    return default_outputs(tree)


def default_outputs(tree: xr.DataTree) -> Outputs:
    """summary.csv and summary.json of ``/summary`` (a kind without its own deriver)."""
    from probmodel import results

    out = Outputs()
    if "summary" in tree.children:
        s = tree["summary"].to_dataset()
        out.tables["summary.csv"] = results.summary_table(s)
        out.json["summary.json"] = {"summary": results.json_summary(s)}
    return out


def summary(tree: xr.DataTree) -> xr.Dataset | None:
    """The tree's ``/summary`` group as a Dataset (None when it has none)."""
    return tree["summary"].to_dataset() if "summary" in tree.children else None


def manifest_entry(tree: xr.DataTree) -> dict[str, Any]:
    """The manifest's ``tree`` entry: the netCDF layout and the root attributes.

    With it :func:`read` reassembles the tree from the folder's files (the settings as
    a JSON object, not as the text the attribute holds).
    """
    attrs = {k: v for k, v in tree.attrs.items() if k not in ("settings", "files")}
    return {"files": layout(tree), "attrs": attrs, "settings": settings(tree)}


def read(folder: str | Path, manifest: Mapping[str, Any]) -> xr.DataTree | None:
    """The result tree of a run folder, reassembled from its netCDF files.

    ``manifest["tree"]`` (written by :func:`probmodel.runs.write`) names the files, their
    groups and the tree's root attributes; a folder written before it has none (None).
    The files are read into memory and closed.
    """
    import xarray as xr

    spec = manifest.get("tree")
    if not isinstance(spec, Mapping):
        return None
    p = Path(folder)
    tree = xr.DataTree()
    for fname, groups in (spec.get("files") or {}).items():
        with xr.open_datatree(p / fname, engine="h5netcdf") as t:
            t = t.load()
            for in_file, in_tree in groups.items():
                node = t if in_file.strip("/") == "" else t[in_file.strip("/")]
                if in_tree.strip("/") == "":
                    for name, child in node.children.items():
                        tree[name] = child.copy()
                    tree.dataset = node.to_dataset()
                else:
                    tree[in_tree.strip("/")] = node.copy()
    tree.attrs = {**(spec.get("attrs") or {}), "settings": json.dumps(spec.get("settings") or {}),
                  "files": json.dumps(spec.get("files") or {})}
    return tree


def mismatches(folder: str | Path) -> list[str]:
    """The files of a run folder that differ from what its tree derives (none: [] ).

    Reads the folder's result tree back from its netCDF files and derives every table
    and JSON file again (:func:`derive`): a folder is a function of its tree when this
    is empty. Tests check it for every kind of analysis.
    """
    from probmodel.runs import clean

    p = Path(folder)
    manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    t = read(p, manifest)
    if t is None:
        return ["manifest.json: no result tree recorded"]
    out = derive(t)
    bad = []
    for name, frame in out.tables.items():
        if not (p / name).is_file() or (p / name).read_text() != frame.to_csv(index=False):
            bad.append(name)
    for name, data in out.json.items():
        text = json.dumps(clean(data), indent=2) + "\n"
        if not (p / name).is_file() or (p / name).read_text() != text:
            bad.append(name)
    written = {n for n in manifest.get("files", []) if n.endswith((".csv", ".json"))
               and "/" not in n and n != "manifest.json"}
    bad += sorted(n for n in written - set(out.tables) - set(out.json)
                  if n not in manifest.get("copied", []))
    return bad
