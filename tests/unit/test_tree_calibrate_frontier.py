"""Calibration, serving calibration, backtest and frontier folders are functions of their tree.

Each command runs small through the CLI; the folder's tables and JSON must be what its
result tree, read back from the netCDF, derives (:func:`probmodel.tree.mismatches`).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from probmodel import tree
from probmodel.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "tests" / "fixtures" / "calibration" / "fleet.toml"
CHAT = ROOT / "priors" / "chatbot-h20-roofline.toml"
DATA = ROOT / "data" / "inferencex" / "dsr1-measurements.csv"
ARVIZ = ("prior", "prior_predictive", "posterior", "posterior_predictive", "observed_data",
         "sample_stats")


def _run(args: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(args)
    return code, buf.getvalue()


def _printed_is_summary(printed: str, folder: Path) -> None:
    """--json prints the folder's summary.json plus run_dir."""
    out = json.loads(printed)
    assert out.pop("run_dir") == str(folder)
    assert out == json.loads((folder / "summary.json").read_text())


def _groups(path: Path) -> set[str]:
    with xr.open_datatree(path, engine="h5netcdf") as t:
        return set(t.children)


# --------------------------------------------------------------------------- NUTS calibration


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cal") / "run"
    code, printed = _run(["calibrate", str(FLEET), "--chains", "2", "--warmup", "100",
                          "--samples", "200", "--seed", "3", "--out", str(out), "--json",
                          "-q"])
    assert code in (0, 3)  # few draws may fail the diagnostics; the folder is written
    _printed_is_summary(printed, out)
    return out


def test_a_calibration_folder_is_a_function_of_its_tree(fleet):
    assert tree.mismatches(fleet) == []
    assert _groups(fleet / "draws.nc") >= {*ARVIZ, "diagnostics", "prior_posterior",
                                           "predictive_check"}
    man = json.loads((fleet / "manifest.json").read_text())
    assert (man["kind"], man["method"], man["chains"], man["samples"]) == (
        "calibrate", "NUTS (numpyro)", 2, 200)
    with xr.open_datatree(fleet / "draws.nc", engine="h5netcdf") as t:
        pp = t["prior_posterior"].to_dataset()
        assert list(pp["stat"].values) == ["q05", "q50", "q95"]
        assert (pp["posterior_mcse"].values > 0).all()
        assert (pp["prior_mcse"].values > 0).all()
    # one test per calibration: test workers split a module's tests, and each worker
    # would run its own NUTS fit for the fixture
    _quantiles_carry_their_mcse(fleet)
    _quantile_mcse_is_arviz_stats(fleet)


def _quantiles_carry_their_mcse(fleet):
    import pandas as pd

    pp = pd.read_csv(fleet / "prior_posterior.csv")
    assert list(pp.columns[:11]) == [
        "variable", "role", "units", "prior_q05", "prior_q50", "prior_q95", "posterior_q05",
        "posterior_q50", "posterior_q95", "shrinkage", "observed"]
    mc = [f"{w}_{s}_mcse" for w in ("prior", "posterior") for s in ("q05", "q50", "q95")]
    assert list(pp.columns[11:]) == mc
    # an MCSE is small against the 90% interval it is an error of
    width = pp["posterior_q95"] - pp["posterior_q05"]
    assert (pp["posterior_q50_mcse"] < width).all()
    summ = json.loads((fleet / "summary.json").read_text())
    row = summ["prior_posterior"]["peak_factor"]
    assert set(mc) <= set(row)
    assert {"diagnostics_ok", "max_r_hat", "settings", "prior_posterior"} <= set(summ)


def _quantile_mcse_is_arviz_stats(fleet):
    from arviz_stats.base import array_stats

    from probmodel.calibration_output import mcse_quantile

    with xr.open_datatree(fleet / "draws.nc", engine="h5netcdf") as t:
        post = t["posterior"]["peak_factor"].values
        prior = t["prior"]["peak_factor"].values
    for x in (post, prior, np.random.default_rng(1).gamma(2.0, size=(3, 101))):
        for q in (0.05, 0.5, 0.95):
            want = array_stats.mcse(x, chain_axis=0, draw_axis=1, method="quantile", prob=q)
            assert mcse_quantile(x, q) == pytest.approx(float(want), rel=1e-12)
    assert np.isnan(mcse_quantile(np.ones((2, 3)), 0.5))  # fewer than 4 draws


# The serving calibration and the backtests are checked in
# tests/unit/test_serving.py::test_calibrate_then_backtest_with_and_without_cv (one
# calibration serves both).


# --------------------------------------------------------------------------- frontier


@pytest.mark.parametrize("chips", ["H20,H800", "H20"])
def test_a_frontier_folder_is_a_function_of_its_tree(tmp_path, chips):
    out = tmp_path / "f"
    code, printed = _run(["frontier", str(CHAT), "--chips", chips, "--draws", "300",
                          "--slo", "interactivity >= 20", "--out", str(out), "--json",
                          "-q"])
    assert code == 0
    _printed_is_summary(printed, out)
    assert tree.mismatches(out) == []
    assert _groups(out / "frontier.nc") == {"summary", "bands", "curves", "pairs"}
    with xr.open_datatree(out / "frontier.nc", engine="h5netcdf") as t:
        pairs = t["pairs"].to_dataset()
        assert pairs.sizes.get("pair", 0) == (1 if "," in chips else 0)
        assert "p_slo_met_mcse" in t["summary"].dataset
    summ = json.loads((out / "summary.json").read_text())
    assert [c["chip"] for c in summ["chips"]] == chips.split(",")
    assert len((out / "pairs.csv").read_text().splitlines()) == len(summ["pairs"]) + 1
