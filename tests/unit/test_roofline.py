"""Roofline serving model: each equation against hand arithmetic, the catalogs, the fleet option."""

import json

import numpy as np
import pytest

from probmodel import api, catalog, model
from probmodel.cli import main
from probmodel.equations import roofline as rl
from probmodel.errors import UsageError

# DeepSeek-V3 (models.toml) and two chips (hardware.toml), written out so the arithmetic
# below does not depend on the catalog files.
ACTIVE, TOTAL, ROUTED = 37e9, 671e9, 653_908_770_816
KV = 70_272
ATT_P, ATT_D = 4_997_120, 16_990_208
H800 = {"bf16": 989e12, "fp8": 1979e12, "bw": 3.35e12, "hbm": 80e9}
H20 = {"bf16": 148e12, "fp8": 296e12, "bw": 4.0e12, "hbm": 96e9}


def test_prefill_seconds_per_token_by_hand():
    # 74e9 / 1979e12 = 37.3926 us (weights, FP8); 4,997,120 x 2048 / 989e12 = 10.3479 us
    # (attention, BF16); / 0.5 efficiency = 95.481 us.
    t = rl.prefill_seconds_per_token(ACTIVE, ATT_P, 2048.0, H800["fp8"], H800["bf16"], 0.5)
    assert float(t) == pytest.approx((74e9 / 1979e12 + ATT_P * 2048 / 989e12) / 0.5, rel=1e-12)
    assert float(t) == pytest.approx(95.481e-6, rel=1e-4)
    # a fleet keeping 40% of the roofline rate: 95.481 / 0.4 = 238.70 us
    t_fleet = rl.prefill_seconds_per_token(ACTIVE, ATT_P, 2048.0, H800["fp8"], H800["bf16"],
                                           0.5, 0.4)
    assert float(t_fleet) == pytest.approx(float(t) / 0.4, rel=1e-12)


def test_prefill_rate_charges_cache_hits_only_their_kv_load():
    tc = 100e-6                                     # s per computed token
    th = float(rl.cached_seconds_per_token(KV, 64e9))
    assert th == pytest.approx(70_272 / 64e9, rel=1e-12)  # 1.098 us
    # 56.25% hits: 1 / (0.4375 x 100 us + 0.5625 x 1.098 us) = 1 / 44.368 us = 22,539 tok/s
    r = float(rl.prefill_tokens_per_chip_second(tc, th, 0.5625))
    assert r == pytest.approx(1 / (0.4375 * 100e-6 + 0.5625 * 70_272 / 64e9), rel=1e-12)
    assert r == pytest.approx(22_539, rel=1e-3)
    assert float(rl.prefill_tokens_per_chip_second(tc, th, 0.0)) == pytest.approx(1e4)


def test_decode_weights_per_chip_by_hand():
    # DeepSeek decode, EP144 with 2 routed experts per GPU per layer, FP8:
    # 671e9 - 653.909e9 + 653.909e9 x 2 / 256 = 17.091e9 + 5.109e9 = 22.200e9 B
    w = float(rl.decode_weight_bytes_per_chip(TOTAL, ROUTED, 256, 2, 1.0))
    assert w == pytest.approx(TOTAL - ROUTED + ROUTED * 2 / 256, rel=1e-12)
    assert w == pytest.approx(22.200e9, rel=1e-4)
    # more experts per chip than exist: every chip holds them all
    assert float(rl.decode_weight_bytes_per_chip(TOTAL, ROUTED, 256, 999, 1.0)) == TOTAL
    # dense model in BF16: all weights, 2 bytes each
    assert float(rl.decode_weight_bytes_per_chip(70.6e9, 0.0, 1, 1, 2.0)) == 141.2e9


def test_decode_bandwidth_bound_case_by_hand():
    # H800, batch 8, context 4,096, 22.2 GB weights, efficiencies 1:
    # memory  = (22.200e9 + 8 x 4096 x 70,272) / 3.35e12 = (22.200e9 + 2.3027e9) / 3.35e12
    #         = 7.3142 ms
    # compute = 8 x (74e9 / 1979e12 + 16,990,208 x 4096 / 989e12) = 8 x (37.39 + 70.37) us
    #         = 0.862 ms  -> bandwidth-bound: 8 / 7.3142 ms = 1,093.8 tokens/s
    w = TOTAL - ROUTED + ROUTED * 2 / 256
    t = rl.decode_step_seconds(8.0, w, 4096.0, KV, H800["bw"], 1.0, ACTIVE, ATT_D,
                               H800["fp8"], H800["bf16"], 1.0)
    memory = (w + 8 * 4096 * KV) / 3.35e12
    assert float(t) == pytest.approx(memory, rel=1e-12)
    assert float(t) == pytest.approx(7.3142e-3, rel=1e-4)
    assert float(rl.decode_tokens_per_chip_second(8.0, t)) == pytest.approx(1093.8, rel=1e-3)
    # halving the bandwidth efficiency doubles the step; the FLOP efficiency does nothing
    t_half = rl.decode_step_seconds(8.0, w, 4096.0, KV, H800["bw"], 0.5, ACTIVE, ATT_D,
                                    H800["fp8"], H800["bf16"], 0.5)
    assert float(t_half) == pytest.approx(2 * memory, rel=1e-12)


def test_decode_compute_bound_case_by_hand():
    # H20, batch 64, context 4,096, EP16 (16 routed experts per chip): weights
    # 17.091e9 + 653.909e9 x 16 / 256 = 57.960e9 B.
    # memory  = (57.960e9 + 64 x 4096 x 70,272) / 4e12 = 76.382e9 / 4e12 = 19.10 ms
    # compute = 64 x (74e9 / 296e12 + 16,990,208 x 4096 / 148e12) = 64 x (250 + 470.2) us
    #         = 46.09 ms -> compute-bound: 64 / 46.09 ms = 1,388.5 tokens/s
    w = float(rl.decode_weight_bytes_per_chip(TOTAL, ROUTED, 256, 16, 1.0))
    assert w == pytest.approx(57.960e9, rel=1e-4)
    t = rl.decode_step_seconds(64.0, w, 4096.0, KV, H20["bw"], 1.0, ACTIVE, ATT_D,
                               H20["fp8"], H20["bf16"], 1.0)
    compute = 64 * (74e9 / 296e12 + ATT_D * 4096 / 148e12)
    assert float(t) == pytest.approx(compute, rel=1e-12)
    assert float(t) == pytest.approx(46.09e-3, rel=1e-3)
    assert float(rl.decode_tokens_per_chip_second(64.0, t)) == pytest.approx(1388.5, rel=1e-3)
    # at 0.5 FLOP efficiency the step doubles; the bandwidth efficiency does nothing
    t2 = rl.decode_step_seconds(64.0, w, 4096.0, KV, H20["bw"], 0.5, ACTIVE, ATT_D,
                                H20["fp8"], H20["bf16"], 0.5)
    assert float(t2) == pytest.approx(2 * compute, rel=1e-12)
    # the fleet efficiency stretches whichever roof binds
    t3 = rl.decode_step_seconds(64.0, w, 4096.0, KV, H20["bw"], 1.0, ACTIVE, ATT_D,
                                H20["fp8"], H20["bf16"], 1.0, 0.25)
    assert float(t3) == pytest.approx(4 * compute, rel=1e-12)


def test_decode_batch_capped_by_hbm():
    # H20, EP16 weights 57.960e9: 0.9 x 96e9 - 57.960e9 = 28.440e9 B free;
    # at 20,000 tokens of context a sequence holds 20,000 x 70,272 = 1.40544e9 B -> 20.24
    w = TOTAL - ROUTED + ROUTED * 16 / 256
    b = float(rl.decode_batch(128.0, 96e9, w, 20_000.0, KV))
    assert b == pytest.approx((0.9 * 96e9 - w) / (20_000 * KV), rel=1e-12)
    assert b == pytest.approx(20.236, rel=1e-3)
    assert float(rl.decode_batch(16.0, 96e9, w, 20_000.0, KV)) == 16.0  # the target fits
    assert float(rl.decode_batch(16.0, 40e9, w, 20_000.0, KV)) == 0.0   # weights do not fit


def test_matmul_peak_follows_weight_precision():
    assert float(rl.matmul_peak_flops(1.0, 296e12, 148e12)) == 296e12
    assert float(rl.matmul_peak_flops(2.0, 296e12, 148e12)) == 148e12


def test_compute_utilization_deepseek_by_hand():
    # 2 x 37e9 x (266e9 + 168e9) / 86400 / (580e12 x 1,814) = 3.7169e17 / 1.05212e18 = 35.33%
    u = float(rl.compute_utilization(37e9, 608e9, 342 / 608, 168e9, 580e12, 1814.0))
    assert u == pytest.approx(2 * 37e9 * (266e9 + 168e9) / 86400 / (580e12 * 1814), rel=1e-12)
    assert u == pytest.approx(0.3533, abs=5e-5)


def test_phase_chips_and_paid_fleet_by_hand():
    # 2e13 tokens/day x 0.216 output = 4.32e12 / 86400 = 5.0e7 tokens/s x peak 4 / 500 = 4e5
    assert float(rl.phase_chips(4.32e12, 4.0, 500.0)) == pytest.approx(4e5, rel=1e-12)
    assert float(rl.paid_fleet_factor(4.0, 0.0)) == 1.0
    assert float(rl.paid_fleet_factor(4.0, 1.0)) == 4.0
    assert float(rl.paid_fleet_factor(4.0, 0.5)) == 2.5
    # $1/h for 360 us per token: 1e6 x 360e-6 x 1 / 3600 = $0.10 per 1M tokens, x 4 / 0.8
    assert float(rl.cost_per_mtok(360e-6, 1.0, 4.0, 0.8)) == pytest.approx(0.5, rel=1e-12)


def _point(path, sets=None):
    sc = api.load_scenario(path, sets)
    return sc, api.point(sc)


def test_costs_by_class_add_up_to_the_fleet_cost(priors):
    # Tokens x cost per token, summed over the three classes, is the paid fleet's cost.
    for idle in (0.0, 1.0):
        _sc, v = _point(priors / "chatbot-h20-fleet-roofline.toml", {"idle_capacity_paid": idle})
        hit = v["input_tokens_per_day"] * v["cache_hit_rate"]
        miss = v["input_tokens_per_day"] - hit
        by_class = (miss * v["cost_per_mtok_input"] + hit * v["cost_per_mtok_cached"]
                    + v["output_tokens_per_day"] * v["cost_per_mtok_output"]) / 1e6
        assert by_class == pytest.approx(v["gpu_cost"], rel=1e-9)
        assert v["paid_chips"] == pytest.approx(
            v["chips_required_roofline"] / v["peak_factor"]
            * (1 + idle * (v["peak_factor"] - 1)), rel=1e-12)


def test_chatbot_roofline_point_shows_every_output(priors, capsys):
    assert main(["point", str(priors / "chatbot-h20-fleet-roofline.toml"), "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    for name in ("prefill_tokens_per_chip_second", "decode_tokens_per_chip_second",
                 "prefill_chips", "decode_chips", "chips_required_roofline",
                 "cost_per_mtok_input", "cost_per_mtok_cached", "cost_per_mtok_output",
                 "compute_utilization", "chips_required"):
        assert name in values, name
        assert np.isfinite(values[name]), name
        assert values[name] > 0, name
    # the report's FLOP method is unchanged: 661k H20 (table 20)
    assert values["chips_required"] == pytest.approx(2 * 37e9 * 2e13 / 86400 * 4
                                                     / (148e12 * 0.70), rel=1e-9)
    assert values["chips_required"] == pytest.approx(661e3, rel=1e-3)
    assert values["chips_required_roofline"] == pytest.approx(
        values["prefill_chips"] + values["decode_chips"], rel=1e-12)


def test_catalog_pick_fills_parameters_and_set_switches_it(priors):
    _sc, v = _point(priors / "chatbot-h20-fleet-roofline.toml")
    assert v["chip_hbm_bandwidth"] == 4.0e12
    assert v["chip_fp8_flops"] == 296e12
    assert v["kv_bytes_per_token"] == 70_272
    sc2, v2 = _point(priors / "chatbot-h20-fleet-roofline.toml", {"chip": "H200"})
    assert v2["chip_hbm_bandwidth"] == 4.8e12
    assert v2["chip_fp8_flops"] == 1979e12
    assert v2["gpu_price_per_hour"] == 2.5
    assert "chip=H200" in sc2.parameters["chip_hbm_bandwidth"].source
    # the chip's BF16 peak switches too, and with it the report's FLOP method
    assert v2["chip_peak_flops"] == 989e12
    assert v2["chips_required"] == pytest.approx(v["chips_required"] * 148 / 989, rel=1e-9)
    assert v2["decode_tokens_per_chip_second"] > v["decode_tokens_per_chip_second"]
    _, v3 = _point(priors / "chatbot-h20-fleet-roofline.toml", {"model": "llama-3.1-70b"})
    assert v3["kv_bytes_per_token"] == 327_680
    assert v3["routed_expert_params"] == 0


def test_scenario_parameters_win_over_the_catalog(priors, tmp_path):
    from probmodel.errors import InputWarning

    f = tmp_path / "s.toml"
    f.write_text(f'schema_version = 1\nextends = "{priors / "chatbot-h20-fleet-roofline.toml"}"\n'
                 'chip = "H20"\n[parameters.chip_hbm_bandwidth]\n'
                 'value = 4.8e12\nunit = "B/s"\nsource = "H20 141 GB variant"\n')
    assert api.load_scenario(f).parameters["chip_hbm_bandwidth"].point == 4.8e12
    # the file's own value stays, and the pick says so (the rest of the chip switches)
    with pytest.warns(InputWarning, match="keeps its own chip_hbm_bandwidth"):
        sc = api.load_scenario(f, {"chip": "B200"})
    assert sc.parameters["chip_hbm_bandwidth"].point == 4.8e12
    assert sc.parameters["chip_fp8_flops"].point == 4500e12


def test_unknown_catalog_names_exit_2_listing_known(priors, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["point", str(priors / "chatbot-h20-fleet-roofline.toml"), "--set",
                 "chip=H2O"]) == 2
    chips = "H800, H20, H100, H200, B200, B300, GB200, GB300, MI300X, MI325X, MI355X"
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --set: unknown chip 'H2O' (known: {chips})"]
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nmodel = "deepseek-v4"\nchip = 3\n')
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(f"chip: unknown chip int 3 (known: {chips})" in e for e in err), err
    assert any("model: unknown model 'deepseek-v4' (known: deepseek-v3, deepseek-r1, "
               "llama-3.1-70b, qwen3-235b-a22b)" in e for e in err), err
    assert "Traceback" not in "".join(err)
    with pytest.raises(UsageError, match="unknown model 'gpt'"):
        catalog.split_override("model", "gpt")


def test_every_catalog_entry_has_units_and_sources():
    for kind in catalog.SELECTORS:
        entries = catalog.entries(kind)
        first = set(next(iter(entries.values())))
        for name, tables in entries.items():
            assert set(tables) == first, (kind, name)   # every entry states every parameter
            for pname, t in tables.items():
                assert pname in model.INPUTS, (kind, name, pname)
                assert t["unit"] == model.INPUTS[pname].unit, (kind, name, pname)
                assert len(t["source"]) > 20, (kind, name, pname)


def test_chip_entries_metadata_and_interconnects():
    generations = {"nvidia": {"hopper", "blackwell", "blackwell-ultra"},
                   "amd": {"cdna3", "cdna4"}}
    for name, tables in catalog.entries("chip").items():
        meta = catalog.entry_meta("chip", name)
        assert set(meta) == {"description", "vendor", "generation"}, name
        assert meta["generation"] in generations[meta["vendor"]], name
        value = {k: t.get("value") for k, t in tables.items()}
        # FP8 is twice BF16 on every chip, up to datasheet rounding (1,979 / 989).
        assert value["chip_fp8_flops"] == pytest.approx(2 * value["chip_peak_flops"], rel=1e-3)
        # Chips without FP4 units run FP4 weights on the FP8 matmul units.
        native_fp4 = meta["generation"] not in ("hopper", "cdna3")
        assert (value["chip_fp4_flops"] > value["chip_fp8_flops"]) == native_fp4, name
        assert value["chip_scaleup_domain"] == (72 if name.startswith("GB") else 8), name
    assert catalog.entry_meta("chip", "GB300")["generation"] == "blackwell-ultra"
    assert catalog.entries("chip")["B200"]["chip_hbm_bandwidth"]["value"] == 7.7e12
    with pytest.raises(KeyError):
        catalog.entry_meta("chip", "H2O")


def test_model_entries_add_up_to_their_totals():
    # Vocabulary matrices (embedding + output head): 2 x vocab x hidden from each config.
    vocab = {"deepseek-v3": 129_280, "llama-3.1-70b": 128_256, "qwen3-235b-a22b": 151_936}
    totals = {"deepseek-v3": 671_026_419_200, "llama-3.1-70b": 70_553_706_496,
              "qwen3-235b-a22b": 235_093_634_560}
    for name, n in vocab.items():
        v = {k: t["value"] for k, t in catalog.entries("model")[name].items()}
        params = v["attention_params"] + v["routed_expert_params"] + 2 * n * v["hidden_size"]
        assert params == totals[name], name
        assert abs(params / v["total_params"] - 1) < 0.001, name
    qwen = {k: t["value"] for k, t in catalog.entries("model")["qwen3-235b-a22b"].items()}
    assert qwen["kv_bytes_per_token"] == 2 * 94 * 4 * 128 * 2
    # DeepSeek's MTP module: 11.61B own weights; its checkpoint adds copies of the two
    # vocabulary matrices: 671.03B + 11.61B + 2 x 0.927B = 684.5B (DeepSeek's "685B").
    v3 = {k: t["value"] for k, t in catalog.entries("model")["deepseek-v3"].items()}
    assert round((totals["deepseek-v3"] + v3["mtp_module_params"]
                  + 2 * 129_280 * 7168) / 1e9) == 684


def test_provisioned_fleet_option_for_deepseek(priors):
    # The report's choice pays for the average fleet: 226.75 x 8 x $2 x 24 = $87,072/day.
    # Paying for the 278-node peak: 278 x 8 x 2 x 24 = $106,752/day.
    _, avg = _point(priors / "deepseek-adjusted.toml")
    _, peak = _point(priors / "deepseek-adjusted-peak-fleet.toml")
    assert avg["gpu_cost"] == pytest.approx(87_072, rel=1e-12)
    assert peak["gpu_cost"] == pytest.approx(106_752, rel=1e-12)
    assert peak["implied_utilization"] == avg["implied_utilization"]  # definition kept
    assert peak["revenue"] == avg["revenue"]
    assert peak["profit"] == pytest.approx(avg["profit"] - (106_752 - 87_072) / 0.70, rel=1e-9)


def test_projection_never_runs_a_chip_above_its_peak(priors):
    # The roofline projection's efficiency gains follow logistic paths to targets below 1:
    # in every draw and year, each phase's rate stays at or under the chip's roofline rate
    # at efficiency 1, and the per-token revenue and cost are reported per year.
    from probmodel.analysis import projection

    sc = api.load_scenario(priors / "agents-h20-2025-2030-roofline.toml")
    ds = projection.simulate(sc, draws=2000, seed=0)
    v = {k: ds[k].values for k in ds.data_vars}
    v.update({k: p.point for k, p in sc.fixed.items() if k not in v})
    for name in ("fleet_efficiency", "decode_flops_efficiency", "prefill_flops_efficiency",
                 "decode_bandwidth_efficiency"):
        assert np.all((v[name] > 0) & (v[name] <= 1)), name
    peak_prefill = rl.prefill_seconds_per_token(
        v["active_params"], v["prefill_attention_flops"], v["prefill_context"],
        v["matmul_peak_flops"], v["chip_peak_flops"], 1.0)
    assert np.all(v["prefill_seconds_per_token"] >= np.asarray(peak_prefill) * (1 - 1e-6))
    peak_step = rl.decode_step_seconds(
        v["decode_batch"], v["decode_weight_bytes_per_chip"], v["decode_context"],
        v["kv_bytes_per_token"], v["chip_hbm_bandwidth"], 1.0, v["active_params"],
        v["decode_attention_flops"], v["matmul_peak_flops"], v["chip_peak_flops"], 1.0)
    assert np.all(v["decode_step_seconds"] >= np.asarray(peak_step) * (1 - 1e-6))
    assert np.all(v["compute_utilization"] < 1)
    assert ds["revenue_per_mtok"].dims[-1] == "year"
    assert ds["cost_per_mtok"].sizes["year"] == 6
