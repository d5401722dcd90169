"""compare, solve (goal seek) and solve --choose: each run folder is a function of its tree."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from probmodel import tree
from probmodel.cli import main
from probmodel.report.folder import read_run

ADJ, OFF, PAY = "deepseek-adjusted.toml", "deepseek-offpeak-measured.toml", "deepseek-pay45.toml"
ROOF = "chatbot-h20-fleet-roofline.toml"


def test_a_comparison_folder_is_a_function_of_its_tree(priors, tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["compare", str(priors / ADJ), str(priors / OFF), str(priors / PAY), "-n",
                 "2048", "--keep-draws", "500", "--event", "margin > 20%", "--out", str(out),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "draws.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"prior", "summary", "ecdf"}
        assert t["prior"].sizes["draw"] == 500
        assert "p_event_difference" in t["summary"].dataset
    saved = json.loads((out / "summary.json").read_text())
    assert printed.pop("run_dir") == str(out)
    assert printed == saved
    assert len(saved["pairs"]) == 6
    assert saved["shared_uncertain_parameters"]  # kept in the tree's /summary attrs
    r = read_run(out)
    assert r.tree is not None
    assert r.summary == saved
    assert list(r.tables["pairs"].columns) == list(pd.read_csv(out / "pairs.csv").columns)


def test_a_solve_folder_is_a_function_of_its_tree(priors, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["solve", str(priors / ADJ), "--vary", "pay_rate", "--target",
                 "P(profit > 0) >= 0.8", "--event", "margin > 20%", "-n", "4096", "--out",
                 str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "solve.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"answer", "summary", "tries", "curve"}
        ans = t["answer"].dataset
        assert list(ans[tree.CI_DIM].values) == list(tree.CI_BOUNDS)
        lo, hi = ans["value_interval"].values
        assert lo <= float(ans["value"]) <= hi
        assert t.attrs["vary"] == "pay_rate"
    saved = json.loads((out / "summary.json").read_text())
    printed.pop("run_dir")
    assert printed == saved
    assert saved["value_interval"] == [lo, hi]
    assert saved["events"][0]["event"] == "margin > 20%"
    assert read_run(out).tree is not None


@pytest.mark.parametrize("extra", [
    ["--choose", "chip=H20,H200,B200", "--minimise", "q50(cost_per_mtok_output)",
     "--subject-to", "P(decode_tokens_per_sequence_second >= 10) >= 0.9"],
    ["--choose", "chip=H200,B200", "--maximise", "q50(decode_tokens_per_sequence_second)"]])
def test_a_choice_folder_is_a_function_of_its_tree(priors, tmp_path, capsys, extra):
    out = tmp_path / "ch"
    assert main(["solve", str(priors / ROOF), *extra, "-n", "2048", "--out", str(out),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert tree.mismatches(out) == []
    with xr.open_datatree(out / "choose.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"summary", "options"}
        o = t["options"].dataset
        assert o.sizes["constraint"] == (1 if "--subject-to" in extra else 0)
        assert np.isfinite(t["summary"]["p_best"].values).sum() == int(o["feasible"].sum())
    saved = json.loads((out / "summary.json").read_text())
    printed.pop("run_dir")
    assert printed == saved
    assert saved["best"] == saved["ranking"][0]
    m = json.loads((out / "manifest.json").read_text())
    assert (m["kind"], m["choose"]) == ("solve", "chip")
    assert read_run(out).tree is not None
