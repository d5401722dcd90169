"""Sweeps (Monte Carlo and point) and projections: the run folder is a function of the tree."""

import json

import pytest
import xarray as xr

from probmodel import tree
from probmodel.cli import main

ADJ = "deepseek-adjusted.toml"
AGENTS = "agents-h20-2025-2030.toml"


def _json(capsys, args):
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args", [
    ["--grid", "pay_rate=0.2:0.5:0.1"],
    ["--grid", "pay_rate=0.3,0.4", "--grid", "gpu_cost_share=0.6,0.8", "--event",
     "margin > 20%", "--crossing", "0.9", "--crossing", "0.5"],
    ["--grid", "gpu_cost_share=0.6,0.7", "--output", "revenue"],  # no crossing found
])
def test_a_sweep_folder_is_a_function_of_its_tree(priors, tmp_path, capsys, args):
    out = tmp_path / "s"
    printed = _json(capsys, ["sweep", str(priors / ADJ), *args, "-n", "2000", "--seed", "3",
                             "--keep-draws", "50", "--out", str(out), "--json"])
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "sweep.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"draws", "summary", "crossings"}
        cross = t["crossings"].dataset
        assert cross["interval"].dims == ("crossing", tree.CI_DIM)
        assert list(cross[tree.CI_DIM].values) == list(tree.CI_BOUNDS)
    written = json.loads((out / "summary.json").read_text())
    assert {k: v for k, v in printed.items() if k != "run_dir"} == written
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "sweep"
    assert man["tree"]["files"]["sweep.nc"]["/crossings"] == "/crossings"
    if (out / "crossings.csv").is_file():
        rows = (out / "crossings.csv").read_text().splitlines()
        assert len(rows) == 1 + len(written["crossings"])
        for c in written["crossings"]:
            assert c["interval"] == pytest.approx([c["value"] - 2 * c["mcse"],
                                                   c["value"] + 2 * c["mcse"]])


def test_a_point_sweep_folder_is_a_function_of_its_tree(priors, tmp_path, capsys):
    out = tmp_path / "p"
    printed = _json(capsys, ["sweep", str(priors / ADJ), "--grid", "pay_rate=0.3,0.4",
                             "--grid", "gpu_cost_share=0.6,0.7,0.8", "--point", "--out",
                             str(out), "--json"])
    assert tree.mismatches(out) == []
    man = json.loads((out / "manifest.json").read_text())
    assert (man["kind"], man["cells"], man["tree"]["files"]) == (
        "sweep-point", 6, {"grid.nc": {"/": "/grid"}})
    with xr.open_dataset(out / "grid.nc", engine="h5netcdf") as ds:  # the grid at the root
        assert ds["margin"].dims == ("pay_rate", "gpu_cost_share")
    assert {k: v for k, v in printed.items() if k != "run_dir"} == json.loads(
        (out / "summary.json").read_text())
    assert [len(row) for row in printed["values"]] == [3, 3]


@pytest.mark.parametrize("args", [[], ["--event", "chips_required > 1M"]])
def test_a_projection_folder_is_a_function_of_its_tree(priors, tmp_path, capsys, args):
    out = tmp_path / "j"
    printed = _json(capsys, ["project", str(priors / AGENTS), "-n", "2048", "--seed", "2",
                             *args, "--out", str(out), "--json"])
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "draws.nc", engine="h5netcdf") as t:
        assert {"prior", "summary", "point_path"} <= set(t.children)
        assert "p_profitable_mcse" in t["summary"].dataset
        assert t["point_path"].dataset["chips_required"].dims == ("year",)
    summary = json.loads((out / "summary.json").read_text())
    point = json.loads((out / "point_path.json").read_text())
    assert printed["point_path"] == {k: v for k, v in point.items() if k != "years"}
    assert point["years"] == summary["years"] == printed["years"]
    assert {k: v for k, v in printed.items() if k not in ("run_dir", "point_path")} == summary
    assert list(printed)[:4] == ["scenario", "draws", "seed", "run_dir"]


def test_a_distributed_sweep_writes_the_folder_of_the_local_one(priors, tmp_path, capsys):
    pytest.importorskip("distributed")
    from dask.distributed import LocalCluster

    args = ["sweep", str(priors / ADJ), "--grid", "pay_rate=0.3,0.4,0.5", "-n", "2000",
            "--seed", "4", "--keep-draws", "20", "-q"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as lc:
        assert main([*args, "--scheduler", lc.scheduler_address,
                     "--out", str(tmp_path / "remote")]) == 0
    capsys.readouterr()
    assert tree.mismatches(tmp_path / "remote") == []
    for name in ("summary.csv", "summary.json", "crossings.csv"):
        assert (tmp_path / "remote" / name).read_bytes() == (
            tmp_path / "local" / name).read_bytes()
    with xr.open_datatree(tmp_path / "local" / "sweep.nc", engine="h5netcdf") as a, \
            xr.open_datatree(tmp_path / "remote" / "sweep.nc", engine="h5netcdf") as b:
        for group in ("draws", "summary", "crossings"):
            xr.testing.assert_identical(a[group].to_dataset(), b[group].to_dataset())
