"""The result tree of an analysis and the run folder derived from it (probmodel.tree)."""

import json

import numpy as np
import pytest
import xarray as xr

from probmodel import runs, tree
from probmodel.report.folder import read_run


def _toy(kind="unknown-kind"):
    summary = xr.Dataset({"x": ("stat", np.arange(9.0)), "x_mcse": ("stat", np.ones(9))},
                         coords={"stat": ["mean", "sd", "q05", "q25", "q50", "q75", "q95",
                                          "es05", "es95"]})
    draws = xr.Dataset({"x": (("chain", "draw"), np.arange(6.0).reshape(1, 6))})
    return tree.make(kind, "toy", {"prior": draws, "summary": summary}, salt="s",
                     settings={"seed": 3, "nested": {"a": [1, 2.5, float("nan")]}},
                     files={"draws.nc": {"/prior": "/prior"},
                            "extra.nc": {"/": "/summary"}})


def test_settings_and_layout_round_trip_through_the_attributes():
    t = _toy()
    assert tree.kind(t) == "unknown-kind"
    assert tree.settings(t) == {"seed": 3, "nested": {"a": [1, 2.5, None]}}
    files = tree.netcdf_files(t)
    assert set(files) == {"draws.nc", "extra.nc"}
    assert set(files["draws.nc"].children) == {"prior"}
    assert "x_mcse" in files["extra.nc"].dataset  # the summary at the file's root
    # a root listed after a group: both are in the file
    t.attrs["files"] = json.dumps({"x.nc": {"/draws": "/prior", "/": "/summary"}})
    x = tree.netcdf_files(t)["x.nc"]
    assert set(x.children) == {"draws"}
    assert "x_mcse" in x.dataset


def test_a_folder_is_written_from_its_tree_and_read_back_as_it(tmp_path):
    t = _toy()
    path = runs.write(t, out=tmp_path / "f")
    m = json.loads((path / "manifest.json").read_text())
    assert (m["kind"], m["seed"], m["nested"]["a"][2]) == ("unknown-kind", 3, None)
    assert {"draws.nc", "extra.nc", "summary.csv", "summary.json"} <= set(m["files"])
    back = tree.read(path, m)
    xr.testing.assert_identical(back["prior"].to_dataset(), t["prior"].to_dataset())
    xr.testing.assert_identical(back["summary"].to_dataset(), t["summary"].to_dataset())
    assert tree.settings(back) == tree.settings(t)
    assert tree.mismatches(path) == []
    r = read_run(path)
    assert r.tree is not None
    assert r.summary["summary"]["x"]["q50"] == 4.0
    assert list(r.tables["summary"]["variable"].unique()) == ["x"]


def test_a_file_changed_after_the_run_is_a_mismatch(tmp_path):
    path = runs.write(_toy(), out=tmp_path / "f")
    (path / "summary.json").write_text("{}\n")
    assert tree.mismatches(path) == ["summary.json"]


def test_a_run_folder_is_a_function_of_its_tree(priors, tmp_path):
    args = ["--draws", "4096", "--event", "margin > 20%"]
    from probmodel.cli import main

    out = tmp_path / "r"
    assert main(["run", str(priors / "deepseek-adjusted.toml"), *args, "--out", str(out),
                 "-q"]) == 0
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "draws.nc", engine="h5netcdf") as t:
        assert {"prior", "summary"} <= set(t.children)  # the summary kept in netCDF
        assert "p_profitable_mcse" in t["summary"].dataset


@pytest.mark.parametrize("bad", [
    {"files": "draws.nc"},                       # not a mapping
    {"files": {"draws.nc": {"/nope": "/prior"}}},  # a group the file does not hold
    {"files": {"gone.nc": {"/": "/"}}},          # a file that is not there
])
def test_a_folder_whose_tree_entry_was_edited_is_one_line(tmp_path, bad):
    from probmodel.errors import RunError

    path = runs.write(_toy(), out=tmp_path / "f")
    man = json.loads((path / "manifest.json").read_text())
    man["tree"].update(bad)
    (path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(RunError, match="its result tree is unreadable"):
        read_run(path)
