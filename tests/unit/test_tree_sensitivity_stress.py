"""Sensitivity and stress runs: one result tree each, and the folder derived from it."""

import json

import numpy as np
import pytest
import xarray as xr

import probmodel
from probmodel import tree
from probmodel.cli import main

ADJ = "deepseek-adjusted.toml"


def _groups(path):
    with xr.open_datatree(path, engine="h5netcdf") as t:
        return set(t.children), {k: dict(t[k].dims) for k in t.children}, t.load()


def test_a_sensitivity_folder_is_a_function_of_its_tree(priors, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sensitivity", str(priors / ADJ), "--draws", "2000", "--sobol-n", "64",
                 "--seed", "1", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert tree.mismatches(out) == []
    names, dims, sens = _groups(out / "sensitivity.nc")
    assert names == {"tornado", "tornado_inner", "sobol", "drivers", "summary"}
    assert dims["sobol"]["ci_bound"] == 2
    # the report's two-range tornado comes from the tree, not from re-running the model
    from probmodel.analysis.sensitivity import Tornado, tornado
    from probmodel.report.folder import read_run
    from probmodel.report.sensitivity import _tornados

    inner = Tornado.from_dataset(sens["tornado_inner"].to_dataset())
    fresh = tornado(probmodel.load_scenario(priors / ADJ), inner.output, (0.10, 0.90))
    assert inner.names == fresh.names
    np.testing.assert_array_equal(inner.at_low, fresh.at_low)
    pair, why = _tornados(read_run(out), inner.output)
    assert why == ""
    assert pair[1].names == inner.names
    assert list(sens["sobol"]["ci_bound"].values) == ["lower", "upper"]
    assert "margin_mcse" in sens["summary"].dataset
    assert _groups(out / "draws.nc")[0] == {"prior", "summary"}
    # --json prints summary.json, plus where it was written
    summary = json.loads((out / "summary.json").read_text())
    assert printed.pop("run_dir") == str(out)
    assert printed == summary
    # the half-widths of the files are those of the tree's intervals
    sob = sens["sobol"].dataset
    row = summary["sobol"]["inputs"][0]
    lo, hi = sob["S1_interval"].sel(input=row["input"]).values
    assert row["S1_conf"] == pytest.approx((hi - lo) / 2, rel=1e-12)
    man = json.loads((out / "manifest.json").read_text())
    assert (man["kind"], man["output"], man["sobol_n_base"]) == ("sensitivity", "margin", 64)


@pytest.mark.slow
def test_a_correlated_sensitivity_tree_holds_the_dependence_intervals(priors, tmp_path):
    out = tmp_path / "c"
    assert main(["sensitivity", str(priors / "deepseek-correlated.toml"), "--draws", "5000",
                 "--sobol-n", "64", "--out", str(out), "-q"]) == 0
    assert tree.mismatches(out) == []
    names, _, sens = _groups(out / "sensitivity.nc")
    assert "dependence" in names
    dep = sens["dependence"].dataset
    assert dep["delta_interval"].dims == ("input", "ci_bound")
    assert "delta_conf" not in dep
    head = (out / "dependence.csv").read_text().splitlines()[0]
    assert head == "input,delta,delta_conf,s1,s1_conf"


@pytest.mark.parametrize("args", [["--band", "pay_rate=0:10", "--band",
                                   "gpu_price_per_hour=90:100"],
                                  ["--band", "pay_rate=0:10", "--event", "margin > 20%"]])
def test_a_stress_folder_is_a_function_of_its_tree(priors, tmp_path, capsys, args):
    out = tmp_path / "st"
    assert main(["stress", str(priors / ADJ), *args, "--draws", "4000", "--seed", "3",
                 "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "stress.nc", engine="h5netcdf") as t:
        assert "band" in t.dataset.dims  # the result at the file's root, as before
        assert not t.children
    assert _groups(out / "draws.nc")[0] == {"prior"}
    assert printed.pop("run_dir") == str(out)
    assert printed == json.loads((out / "summary.json").read_text())
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "stress"
    assert man["tree"]["files"]["stress.nc"] == {"/": "/stress"}
