"""The commands end to end, as a user runs them, in a temporary folder."""

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from probmodel.cli import main

ADJ = "deepseek-adjusted.toml"


def run_json(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return json.loads(cap.out)


def test_run_json_and_run_folder(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run_json(capsys, "run", str(priors / ADJ), "--draws", "5000", "--seed", "7", "--json")
    assert set(res) == {"scenario", "draws", "seed", "run_dir", "summary", "p_profitable",
                        "p_profitable_mcse"}
    assert res["scenario"] == "deepseek-adjusted"
    assert (res["draws"], res["seed"]) == (5000, 7)
    for name in ("margin", "profit", "revenue", "total_cost", "implied_utilization",
                 "pay_rate"):
        s = res["summary"][name]
        assert set(s) == {"mean", "sd", "q05", "q25", "q50", "q75", "q95", "es05", "es95",
                          "mcse_mean", "mcse_es05", "mcse_es95"}
        assert s["es05"] <= s["q05"] <= s["q25"] <= s["q50"] <= s["q75"] <= s["q95"] <= s["es95"]
    p, se = res["p_profitable"], res["p_profitable_mcse"]
    assert 0 < p < 1
    assert se == pytest.approx(np.sqrt(p * (1 - p) / 5000))

    run_dir = tmp_path / res["run_dir"]
    assert run_dir.parent == tmp_path / "runs"
    names = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}
    assert {"draws.nc", "summary.csv", "summary.json", "manifest.json",
            "scenario/deepseek-adjusted.toml", "scenario/deepseek-theoretical.toml"} <= names
    for f in ("deepseek-adjusted.toml", "deepseek-theoretical.toml"):
        assert (run_dir / "scenario" / f).read_bytes() == (priors / f).read_bytes()
    man = json.loads((run_dir / "manifest.json").read_text())
    assert man["seed"] == 7
    assert man["draws"] == 5000
    assert man["kind"] == "run"
    assert set(man["scenario_files"]) == {"deepseek-adjusted.toml", "deepseek-theoretical.toml"}
    assert "jax" in man["versions"]
    assert "numpyro" in man["versions"]

    import arviz as az

    tree = az.from_netcdf(run_dir / "draws.nc")
    prior = tree["prior"]
    assert dict(prior.sizes) == {"chain": 1, "draw": 5000}
    assert prior["revenue"].attrs["units"] == "USD/day"
    assert prior["pay_rate"].attrs["units"] == "1"
    # es05 / es95: the means of the draws at or below q05 / at or above q95 (numpy)
    for name in ("profit", "margin", "revenue"):
        x = prior[name].values.ravel().astype(np.float64)
        lo, hi = np.quantile(x, [0.05, 0.95])
        assert res["summary"][name]["es05"] == pytest.approx(x[x <= lo].mean(), rel=1e-12)
        assert res["summary"][name]["es95"] == pytest.approx(x[x >= hi].mean(), rel=1e-12)
    stored = json.loads((run_dir / "summary.json").read_text())
    assert stored["summary"]["margin"] == res["summary"]["margin"]
    csv = (run_dir / "summary.csv").read_text().splitlines()
    assert csv[0] == "variable,statistic,value,mcse,units"
    assert any(line.startswith("profit,p_gt_0,") for line in csv)


def test_same_seed_identical_other_seed_within_mcse(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = run_json(capsys, "run", str(priors / ADJ), "-n", "20000", "--seed", "1", "--json")
    b = run_json(capsys, "run", str(priors / ADJ), "-n", "20000", "--seed", "1", "--json")
    c = run_json(capsys, "run", str(priors / ADJ), "-n", "20000", "--seed", "2", "--json")
    assert a["summary"] == b["summary"]
    assert a["p_profitable"] == b["p_profitable"]
    assert a["run_dir"] != b["run_dir"]
    assert a["summary"]["margin"] != c["summary"]["margin"]
    # Two independent estimates: difference within 5 combined MCSE (false alarm ~6e-7).
    for name in ("revenue", "total_cost", "margin"):
        sa, sc = a["summary"][name], c["summary"][name]
        assert abs(sa["mean"] - sc["mean"]) < 5 * np.hypot(sa["mcse_mean"], sc["mcse_mean"])
    d = abs(a["p_profitable"] - c["p_profitable"])
    assert d < 5 * np.hypot(a["p_profitable_mcse"], c["p_profitable_mcse"])


def test_run_out_dir_and_table_output(priors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["run", str(priors / ADJ), "--draws", "3000", "--out", "myrun"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert (tmp_path / "myrun" / "draws.nc").exists()
    assert not (tmp_path / "runs").exists()
    for word in ("margin", "profit", "revenue", "total_cost", "implied_utilization",
                 "P(profit > 0)", "$k/day", "90% interval"):
        assert word in cap.out
    assert [p.name for p in tmp_path.iterdir()] == ["myrun"]  # no temporary left behind


def test_interrupted_run_leaves_no_folder(priors, capsys, tmp_path, monkeypatch):
    from probmodel import runs

    monkeypatch.chdir(tmp_path)

    def boom(*a, **k):  # a Ctrl-C while the folder's tables are written
        raise KeyboardInterrupt

    monkeypatch.setattr(runs._Folder, "csv", boom)
    code = main(["run", str(priors / ADJ), "--draws", "100"])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert list((tmp_path / "runs").iterdir()) == []


def test_point_json_names(priors, capsys):
    v = run_json(capsys, "point", str(priors / ADJ), "--json")
    for name in ("nodes_avg", "nodes_peak", "gpus_per_node", "gpu_price_per_hour",
                 "gpu_cost_share", "input_tokens_per_day", "output_tokens_per_day",
                 "cache_hit_rate", "offpeak_share", "v3_share", "pay_rate", "active_params",
                 "chip_peak_flops", "peak_factor", "dau", "tokens_per_request", "gpus",
                 "gpu_cost", "total_cost", "revenue", "profit", "margin", "cost_profit_ratio",
                 "tokens_per_day", "tokens_per_second", "flops_required",
                 "implied_utilization", "requests_per_dau"):
        assert isinstance(v[name], float), name
    v2 = run_json(capsys, "point", str(priors / ADJ), "--json", "--set", "pay_rate=0.45",
                  "--set", "gpu_cost_share=0.8")
    assert v2["pay_rate"] == 0.45
    assert v2["gpu_cost_share"] == 0.8
    assert v2["margin"] == pytest.approx(0.3469, abs=5e-5)


def test_point_table(priors, capsys):
    assert main(["point", str(priors / "chatbot-h20.toml")]) == 0
    out = capsys.readouterr().out
    assert "chips_required" in out
    assert "661.4 thousand chips" in out


def test_check_shows_quantiles(priors, capsys):
    assert main(["check", str(priors / ADJ)]) == 0
    out = capsys.readouterr().out
    assert "pay_rate" in out
    assert "Beta" in out
    assert "p05" in out
    assert "OK:" in out


def test_console_script_end_to_end(priors, tmp_path):
    exe = [sys.executable, "-m", "probmodel", "run", str(priors / "chatbot-h20.toml"),
           "--draws", "2000", "--json"]
    res = subprocess.run(exe, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert "chips_required" in data["summary"]
    assert data["p_profitable"] is None  # no revenue in a demand-only scenario
    ds = xr.open_datatree(tmp_path / data["run_dir"] / "draws.nc")
    assert ds["prior"]["chips_required"].attrs["units"] == "chip"
    bad = subprocess.run([sys.executable, "-m", "probmodel", "point", "nope.toml"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: nope.toml: no such file"
