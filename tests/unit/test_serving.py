"""The serving physics, the benchmark reader, scores and the calibrate/backtest commands."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from probmodel.errors import UsageError
from probmodel.serving import measurements as M
from probmodel.serving import physics, scores

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "inferencex" / "dsr1-measurements.csv"


def _rows(n=None):
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    return rows if n is None else rows[:n]


def _write(tmp_path, rows, name="m.csv"):
    p = tmp_path / name
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return p


def _one(tmp_path, **changes):
    base = next(r for r in _rows() if r["hardware"] == "h200" and r["framework"] == "sglang"
                and r["disagg"] == "False" and r["spec_method"] == "none")
    return M.read(_write(tmp_path, [{**base, **changes}]), 1.0)


EFF = {"bw": 0.8, "flops": 0.5, "prefill": 0.4, "comm": 0.3, "overhead": 2e-3,
       "latency": 1e-5, "accepted": 1.0, "draft_cost": 0.1, "queue": 1.0,
       "ttft_fixed": 0.05}


def _eff(n, **kw):
    return {k: (np.full(n, v) if k not in ("draft_cost", "queue") else v)
            for k, v in {**EFF, **kw}.items()}


def test_every_row_is_read_and_the_unpredictable_ones_say_why():
    meas = M.read(DATA, 0.9)
    assert len(meas) == 1395
    bad = [s for s in meas.status if s != "predicted"]
    # 8 GB200 rows state 0 workers for a disaggregated deployment (README quirks)
    assert len(bad) == 8
    assert all("num_workers" in s for s in bad)
    assert set(meas.chip) == {"H200", "B200", "GB200", "MI300X", "MI355X"}


def test_decode_step_by_hand(tmp_path):
    """H200, DeepSeek-R1 FP8 on TP8 without DP attention, 4 sequences, BF16 KV."""
    meas = _one(tmp_path, isl="1024", osl="1024", conc="4", decode_tp="8", prefill_tp="8")
    rows, c, m = M.split(meas.config)
    b = 4.0
    d = physics.decode_step(rows, m, c, _eff(1), b)
    other = m["total_params"][0] - m["routed_expert_params"][0]
    attn = min(m["attention_params"][0], other)
    touched = 1 - (1 - 8 / 256) ** 4
    weights = m["routed_expert_params"][0] * touched / 8 + (other - attn) / 8 + attn / 8
    kv = b * (1024 + 512) * 70272          # MLA latent cache is read whole on every TP rank
    memory = (weights + kv) / (4.8e12 * 0.8)
    compute = (2 * 37e9 * b / 8 / 1979e12
               + b * 1536 * m["decode_attention_flops"][0] / 8 / 989e12) / 0.5
    assert float(d["memory"][0]) == pytest.approx(memory, rel=1e-6)
    assert float(d["compute"][0]) == pytest.approx(compute, rel=1e-6)
    tp_bytes = 61 * 2 * 2 * 7 / 8 * b * 7168 * 2          # two all-reduces per layer
    comm = tp_bytes * (2 / 900e9) / 0.3 + 61 * 2 * 1e-5
    assert float(d["comm"][0]) == pytest.approx(comm, rel=1e-6)
    core = physics.smoothmax(memory, compute) + comm + 2e-3
    assert float(d["step"][0]) == pytest.approx(float(core), rel=1e-6)


def test_closed_loop_obeys_littles_law(tmp_path):
    meas = M.read(DATA, 0.9)
    rows, c, m = M.split(M.subset(meas.config, meas.ok))
    out = physics.serve(rows, m, c, _eff(int(meas.ok.sum())))
    implied = np.asarray(out["tput_per_gpu"]) * rows["gpus"] / (rows["isl"] + rows["osl"]) \
        * (np.asarray(out["median_ttft"]) + rows["osl"] * np.asarray(out["median_tpot"]))
    ratio = implied / rows["conc"]
    # TTFT = max(model, conc/rate - osl TPOT): the loop holds at least conc, at most a
    # little more where the fixed point's last step has not settled
    assert ratio.min() >= 1 - 1e-3
    assert np.median(ratio) < 1.01
    assert np.all(np.isfinite(np.asarray(out["tput_per_gpu"])))


def test_more_bandwidth_more_throughput_more_clients_longer_ttft(tmp_path):
    meas = _one(tmp_path, conc="64")
    rows, c, m = M.split(meas.config)
    slow = physics.serve(rows, m, c, _eff(1, bw=0.5))
    fast = physics.serve(rows, m, c, _eff(1, bw=0.9))
    assert float(fast["tput_per_gpu"][0]) > float(slow["tput_per_gpu"][0])
    assert float(fast["median_tpot"][0]) < float(slow["median_tpot"][0])
    many = _one(tmp_path, conc="512")
    r2, c2, m2 = M.split(many.config)
    busy = physics.serve(r2, m2, c2, _eff(1))
    calm = physics.serve(rows, m, c, _eff(1))
    assert float(busy["median_ttft"][0]) > float(calm["median_ttft"][0])
    assert float(busy["tput_per_gpu"][0]) > float(calm["tput_per_gpu"][0])


def test_mtp_raises_tokens_per_step(tmp_path):
    meas = _one(tmp_path, spec_method="mtp", conc="4")
    rows, c, m = M.split(meas.config)
    assert rows["n_draft"][0] == 2          # SGLang's EAGLE steps for DeepSeek MTP
    plain = physics.serve(rows, m, c, _eff(1, accepted=1.0))
    mtp = physics.serve(rows, m, c, _eff(1, accepted=2.2))
    assert float(mtp["median_tpot"][0]) < float(plain["median_tpot"][0]) / 1.5


def test_weights_that_do_not_fit_are_refused_with_bytes(tmp_path):
    meas = _one(tmp_path, hardware="h20", decode_tp="4", prefill_tp="4")
    (status,) = meas.status
    assert status.startswith("does not fit: H20 needs ")
    needed, have = (float(x) for x in __import__("re").findall(r"([\d.]+) GB", status))
    assert have == 96.0
    assert needed > 671 * 0.25
    assert not meas.ok[0]


def test_unknown_chip_or_precision_is_a_status_not_a_drop(tmp_path):
    rows = _rows(3)
    rows[0] = {**rows[0], "hardware": "tpu-v5"}
    rows[1] = {**rows[1], "precision": "int3"}
    meas = M.read(_write(tmp_path, rows), 1.0)
    assert len(meas) == 3
    assert meas.status[0].startswith("unknown chip 'tpu-v5' (known: H800, H20")
    assert meas.status[1].startswith("unknown weight precision 'int3'")
    assert meas.status[2] == "predicted"


def test_a_bad_file_is_one_line(tmp_path):
    with pytest.raises(UsageError, match=r"nope\.csv: no such file"):
        M.read(tmp_path / "nope.csv")
    p = tmp_path / "x.csv"
    p.write_text("hardware,framework\nh200,sglang\n")
    with pytest.raises(UsageError, match=r"x\.csv: missing columns precision, spec_method"):
        M.read(p)
    p.write_text(",".join(M.REQUIRED) + "\n")
    with pytest.raises(UsageError, match="no rows"):
        M.read(p)


def test_scores_by_hand():
    y = np.array([100.0, 100.0, 100.0, 100.0])
    q50 = np.array([100.0, 120.0, 85.0, 200.0])
    q05, q95 = q50 / 1.5, q50 * 1.5
    s = scores.score_rows(y, q05, q50, q95)
    errs = np.abs(np.log(q50 / y))
    assert s["median_abs_log_error"] == pytest.approx(np.median(errs))
    assert s["within_25pct"] == 0.75
    assert s["coverage_90"] == 0.75          # 200 x /1.5 = 133 > 100 misses
    miss = math.log(200 / 1.5) - math.log(100)
    width = 2 * math.log(1.5)
    assert s["interval_score"] == pytest.approx(width + 20 * miss / 4)
    assert s["median_width"] == pytest.approx(1.5)


def test_measurements_table_is_validated(tmp_path):
    from probmodel.errors import ScenarioError
    from probmodel.spec import read_scenario

    p = tmp_path / "s.toml"
    p.write_text('schema_version = 1\nmodel = "deepseek-r1"\n[measurements]\n'
                 'file = "missing.csv"\nlength_scale = 5\nfoo = 1\n')
    with pytest.raises(ScenarioError) as e:
        read_scenario(p)
    text = str(e.value)
    assert "measurements.foo: unknown key" in text
    assert "measurements.length_scale: (5) must be a number in [0.1, 2]" in text
    assert "measurements.source: missing" in text
    p.write_text('schema_version = 1\nmodel = "deepseek-r1"\n[measurements]\n'
                 'file = "missing.csv"\nsource = "x"\n')
    with pytest.raises(ScenarioError, match=r"measurements\.file: missing\.csv: no such file"):
        read_scenario(p)


def _cli(args, cwd):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "probmodel", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow(seconds=90)  # three NUTS fits in CLI processes, each compiled
def test_calibrate_then_backtest_with_and_without_cv(tmp_path):
    """A small calibration on two accelerators, then both backtests, as a user runs them."""
    rows = _rows()
    keep = [r for hw in ("h200", "mi300x")
            for r in [r for r in rows if r["disagg"] == "False" and r["hardware"] == hw
                      and r["spec_method"] == "none" and r["isl"] == "1024"][::3][:20]]
    assert {r["hardware"] for r in keep} == {"h200", "mi300x"}
    csv_path = _write(tmp_path, keep, "small.csv")
    (tmp_path / "ev.toml").write_text(
        'schema_version = 1\ntitle = "small"\nmodel = "deepseek-r1"\n[measurements]\n'
        'file = "small.csv"\nlength_scale = 0.9\nsource = "a subset of InferenceX"\n')
    res = _cli(["calibrate", "ev.toml", "--chains", "2", "--warmup", "40", "--samples",
                "40", "--out", "cal", "--json", "--quiet"], tmp_path)
    # so few steps may fail the diagnostics (exit 3); the folder is written either way
    assert res.returncode in (0, 3), res.stderr
    summ = json.loads(res.stdout)
    assert summ["rows_fitted"] == len(keep)
    assert set(summ["levels"]["chip"]) == {"H200", "MI300X"}
    cal = tmp_path / "cal"
    for f in ("draws.nc", "measurements.csv", "efficiencies.csv", "predictions.csv",
              "scores.csv", "figures/predicted_vs_measured.png"):
        assert (cal / f).is_file(), f
    # predict the same rows, an H20 row (a chip with no measurements) and a bad row
    h20 = {**keep[0], "hardware": "h20", "decode_tp": "8", "prefill_tp": "8"}
    bad = {**keep[1], "hardware": "tpu"}
    test_csv = _write(tmp_path, [*keep, h20, bad], "test.csv")
    res = _cli(["backtest", str(test_csv), "--calibration", "cal", "--out", "bt", "--json",
                "--draws", "400"], tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["rows"] == len(keep) + 2
    assert out["predicted"] == len(keep) + 1
    import pandas as pd
    pred = pd.read_csv(tmp_path / "bt" / "predictions.csv")
    assert list(pred.columns[:len(keep[0])]) == list(keep[0])
    assert pred["status"].iloc[-1].startswith("unknown chip 'tpu'")
    assert np.isnan(pred["tput_per_gpu_q50"].iloc[-1])
    width = np.log(pred["tput_per_gpu_q95"] / pred["tput_per_gpu_q05"])
    # an unseen chip's interval is wider than the same deployment's on a chip measured
    assert width.iloc[-2] > width.iloc[0]
    assert (pred["tput_per_gpu_q05"] <= pred["tput_per_gpu_q50"]).iloc[:-1].all()
    res = _cli(["backtest", str(csv_path), "--calibration", "cal", "--cv", "chip",
                "--out", "cv", "--draws", "200"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Leave-one-accelerator-out backtest" in res.stdout
    assert "fit without H200" in res.stdout
    assert "fit without MI300X" in res.stdout
    cv = pd.read_csv(tmp_path / "cv" / "predictions.csv")
    assert set(cv["left_out"]) == {"H200", "MI300X"}
    sc = pd.read_csv(tmp_path / "cv" / "scores.csv")
    assert set(sc["group"]) == {"H200", "MI300X", "all"}
    # each folder is a function of its result tree (probmodel.tree)
    from probmodel import tree

    for name in ("cal", "bt", "cv"):
        assert tree.mismatches(tmp_path / name) == [], name
    man = json.loads((cal / "manifest.json").read_text())
    assert (man["kind"], man["calibration"]) == ("calibrate", "serving-calibration")
    assert man["copied"] == ["measurements.csv"]
    with xr.open_datatree(cal / "draws.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"posterior", "efficiencies", "scores", "predictions"}
    with xr.open_datatree(tmp_path / "cv" / "backtest.nc", engine="h5netcdf") as t:
        assert set(t.children) == {"predictions", "scores"}
    assert (tmp_path / "cv" / "cv_fits.json").is_file()
    assert not (tmp_path / "bt" / "cv_fits.json").exists()
    # errors: one line, exit 2
    res = _cli(["backtest", str(csv_path), "--calibration", "bt"], tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("error: --calibration: bt is a ")
    with (tmp_path / "cal" / "measurements.csv").open("a") as f:
        f.write("\n")            # a calibration folder changed after the run is refused
    res = _cli(["backtest", str(csv_path), "--calibration", "cal"], tmp_path)
    assert res.returncode != 0
    assert "measurements.csv does not match the SHA-256" in res.stderr.strip().splitlines()[-1]
    res = _cli(["backtest", str(csv_path), "--calibration", "cal", "--cv", "model"],
               tmp_path)
    assert res.returncode == 2
    assert "unknown cross-validation 'model'" in res.stderr
