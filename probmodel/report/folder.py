"""Reading a run folder as its documented files: manifest, summaries, tables, figures, scenario.

The report and the workbook are built from the folder only (never from the engine's
objects). A folder whose manifest records its result tree (:mod:`probmodel.tree`) is
read as that tree: its tables and summary are derived from it by the function that
wrote the folder's files. A folder written before keeps the documented layout
(manifest.json, scenario/, draws.nc, summary.csv, summary.json, figures/) and is read
from those files, so a report can be made long after the run.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from probmodel.errors import RunError
from probmodel.runs import check_run_folder

#: Run kinds the report knows; any other kind is still reported generically.
KINDS = ("run", "sweep", "compare", "sensitivity", "project", "calibrate", "stress",
         "frontier")


@dataclass
class RunFolder:
    """The files of one run folder, read once."""

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # <name>.csv -> frame
    figures: dict[str, Path] = field(default_factory=dict)  # figure name -> best file
    scenario_files: dict[str, bytes] = field(default_factory=dict)  # scenario/ copies
    tree: Any = None  # the result tree (xarray.DataTree) when the folder records one

    @property
    def kind(self) -> str:
        """The command that wrote the folder (manifest ``kind``)."""
        return str(self.manifest.get("kind", "unknown"))

    @property
    def title(self) -> str:
        """The scenario's title (or the scenario names of a comparison)."""
        if t := self.manifest.get("scenario_title"):
            return str(t)
        if sc := self.manifest.get("scenarios"):
            return "comparison of " + ", ".join(str(k) for k in sc)
        return str(self.manifest.get("scenario", self.path.name))

    @property
    def draws(self) -> int | None:
        """Monte Carlo draws (or paths) per scenario or cell, when recorded."""
        d = self.manifest.get("draws", self.summary.get("draws"))
        return int(d) if isinstance(d, int | float) else None

    def file_hashes(self) -> list[tuple[str, str, str | None]]:
        """(file, recorded SHA-256, SHA-256 of the copy in scenario/ or None if absent)."""
        recorded: dict[str, str] = dict(self.manifest.get("scenario_files") or {})
        for name, sc in (self.manifest.get("scenarios") or {}).items():
            if isinstance(sc, dict):
                sub = scenario_subfolder(name)
                recorded.update({sub + f: h for f, h in (sc.get("files") or {}).items()})
        out = []
        for name, digest in recorded.items():
            data = self.scenario_files.get(name)
            out.append((name, str(digest),
                        hashlib.sha256(data).hexdigest() if data is not None else None))
        return out

    def draws_dataset(self):
        """The draws of draws.nc as one xarray Dataset (the first group holding draws).

        Returns None when the folder has no draws.nc. The prior group of a forward run,
        the posterior predictive of a calibration; the file is read into memory and
        closed.
        """
        import xarray as xr

        if self.tree is not None:
            return _draws_of(self.tree)
        nc = self.path / "draws.nc"
        if not nc.is_file():
            return None
        with xr.open_datatree(nc, engine="h5netcdf") as tree:
            ds = _draws_of(tree)
            return None if ds is None else ds.load()

    def scenario_tomls(self) -> list[tuple[str, dict[str, Any]]]:
        """The scenario files in extends order, most derived first: (name, TOML table).

        Files that fail to parse are skipped (their bytes are still shown verbatim).
        """
        parsed = {}
        for name, data in self.scenario_files.items():
            try:
                parsed[name] = tomllib.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
        extended = {str(t.get("extends", "")).rsplit("/", 1)[-1] for t in parsed.values()}
        heads = [n for n in parsed if n not in extended] or list(parsed)
        ordered: list[str] = []
        for head in heads:
            n: str | None = head
            while n and n in parsed and n not in ordered:
                ordered.append(n)
                n = str(parsed[n].get("extends", "")).rsplit("/", 1)[-1] or None
        return [(n, parsed[n]) for n in ordered]


def _draws_of(tree):
    """The first group of ``tree`` holding draws (prior, posterior predictive, ...)."""
    for group in ("prior", "posterior_predictive", "posterior"):
        if group in tree.children:
            return tree[group].to_dataset()
    for node in tree.subtree:
        if node.has_data and "draw" in node.dims:
            return node.to_dataset()
    return None


def _from_tree(p: Path, manifest: dict[str, Any]):
    """(tree, summary.json body, tables) of a folder that records its result tree.

    The tables and JSON are derived from the tree by the function that wrote the
    folder's files (:func:`probmodel.tree.derive`), and given the types a reader of the
    files gets (JSON's null for NaN, CSV's column types), so a report reads a folder
    with a tree and one written before alike. (None, None, None) without a tree.
    """
    import io

    from probmodel import tree as tr
    from probmodel.runs import clean

    try:
        t = tr.read(p, manifest)
        if t is None:
            return None, None, None
        out = tr.derive(t)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        # an edited manifest, a netCDF of another layout: one line, nothing half-read
        raise RunError(f"{p}: its result tree is unreadable ({type(e).__name__}: "
                       f"{str(e)[:200]})") from None
    summary = json.loads(json.dumps(clean(out.summary_json)))
    tables = {Path(n).stem: pd.read_csv(io.StringIO(f.to_csv(index=False)))
              for n, f in out.tables.items()}
    return t, summary, tables


def _read_json(path: Path, where: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunError(f"{where}: {path.name} is unreadable ({e})") from None
    if not isinstance(data, dict):
        raise RunError(f"{where}: {path.name} is not a JSON object")
    return data


def read_run(path: str | Path) -> RunFolder:
    """Read a run folder written by probmodel.

    Raises
    ------
    RunError
        Naming the folder when it is missing, not a folder, or lacks a readable
        manifest.json.
    """
    p = Path(path)
    where = str(p)
    check_run_folder(p)  # the folder, its manifest and its data files' hashes
    manifest = _read_json(p / "manifest.json", where)
    tree, summary, tables = _from_tree(p, manifest)
    if tree is None:  # a folder written before its result tree was recorded
        summary = (_read_json(p / "summary.json", where) if (p / "summary.json").is_file()
                   else {})
        tables = {}
        for csv in sorted(p.glob("*.csv")):
            try:
                tables[csv.stem] = pd.read_csv(csv)
            except (OSError, ValueError, pd.errors.ParserError) as e:
                raise RunError(f"{where}: {csv.name} is unreadable ({e})") from None
    figures: dict[str, Path] = {}
    for ext in ("png", "svg"):  # SVG preferred: it replaces a PNG of the same name
        for f in sorted((p / "figures").glob(f"*.{ext}")):
            figures[f.stem] = f
    # a comparison of scenarios named alike keeps each one's files in a subfolder
    scen = {f.relative_to(p / "scenario").as_posix(): f.read_bytes()
            for f in sorted((p / "scenario").rglob("*.toml"))}
    return RunFolder(p, manifest, summary, tables, figures, scen, tree)


def scenario_subfolder(name: str) -> str:
    """``a/`` for a comparison's scenario named ``a/x`` (its copies' subfolder), else ``''``.

    Two compared files of one name (``a/x.toml``, ``b/x.toml``) are named by their path
    and copied into ``scenario/a/`` and ``scenario/b/`` (:meth:`probmodel.runs`).
    """
    return name.rsplit("/", 1)[0] + "/" if "/" in name else ""


def finite(x: Any) -> float | None:
    """``x`` as a float when it is a finite number, else None (JSON null, NaN, text)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def as_array(values) -> np.ndarray:
    """A 1-D float64 array of draws with non-finite values dropped."""
    a = np.asarray(values, np.float64).ravel()
    return a[np.isfinite(a)]
