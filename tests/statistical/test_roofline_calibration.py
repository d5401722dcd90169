"""The roofline calibration recovers known efficiencies from data simulated by the model."""

import numpy as np
import pytest

from probmodel import api, calibration

TRUTH = {"prefill_flops_efficiency": 0.5, "decode_bandwidth_efficiency": 0.7,
         "decode_batch_per_chip": 64.0}

FIXED = """schema_version = 1
title = "simulated H800 fleet"
chip = "H800"
model = "deepseek-v3"
[parameters.gpu_price_per_hour]
value = 2.0
unit = "USD/(GPU h)"
source = "test"
[parameters.input_tokens_per_day]
value = 608e9
unit = "token/day"
source = "test"
[parameters.output_tokens_per_day]
value = 168e9
unit = "token/day"
source = "test"
[parameters.cache_hit_rate]
value = 0.5625
unit = "1"
source = "test"
[parameters.peak_factor]
value = 1.0
unit = "1"
source = "test"
[parameters.prefill_context]
value = 4000
unit = "token"
source = "test"
[parameters.decode_context]
value = 4989
unit = "token"
source = "test"
[parameters.decode_experts_per_chip]
value = 2
unit = "expert/layer"
source = "test"
[parameters.decode_flops_efficiency]
value = 0.9
unit = "1"
source = "test: high, so decode is bandwidth-bound and the bandwidth efficiency identified"
"""

UNCERTAIN = """[parameters.prefill_flops_efficiency]
dist = "Beta"
p05 = 0.1
p95 = 0.9
point = 0.4
unit = "1"
source = "test"
[parameters.decode_bandwidth_efficiency]
dist = "Beta"
p05 = 0.1
p95 = 0.95
point = 0.5
unit = "1"
source = "test"
[parameters.decode_batch_per_chip]
dist = "LogNormal"
p05 = 16
p95 = 256
point = 50
unit = "sequence"
source = "test"
"""

OBSERVED = ("prefill_tokens_per_chip_second", "decode_tokens_per_chip_second",
            "decode_tokens_per_sequence_second")


@pytest.mark.slow
def test_calibration_recovers_simulated_efficiencies(tmp_path):
    # Simulate: the model's outputs at the true efficiencies, observed with 0.5% noise.
    truth_file = tmp_path / "truth.toml"
    truth_file.write_text(FIXED + "".join(
        f'[parameters.{k}]\nvalue = {v!r}\nunit = "{u}"\nsource = "truth"\n'
        for (k, v), u in zip(TRUTH.items(), ("1", "1", "sequence"), strict=True)))
    sim = api.point(api.load_scenario(truth_file))
    # decode is bandwidth-bound at the truth (else its efficiency would not be identified)
    compute_seconds = 64 * (2 * 37e9 / 1979e12 + 16_990_208 * 4989 / 989e12) / 0.9  # 8.75 ms
    assert sim["decode_step_seconds"] > 2 * compute_seconds  # memory: 19.0 ms
    obs = "".join(
        f'[observations.{k}]\nvalue = {sim[k]!r}\nkind = "lognormal"\nrel_sd = 0.005\n'
        f'source = "simulated at the true efficiencies"\n' for k in OBSERVED)
    f = tmp_path / "simulated.toml"
    f.write_text(FIXED + UNCERTAIN + obs)
    cal = calibration.calibrate(api.load_scenario(f), chains=2, warmup=300, samples=500,
                                seed=1)
    assert cal.diagnostics.ok
    post = {k: np.asarray(v).ravel() for k, v in cal.posterior.items()}
    for name, truth in TRUTH.items():
        x = post[name]
        # tight (the priors' 90% intervals span 9-16x) and centred on the truth within
        # 3 posterior sd (the observation noise, 0.5%, makes the sd ~0.5-1% of the value)
        assert x.std() < 0.03 * truth, (name, x.std())
        assert abs(np.median(x) - truth) < 3 * x.std(), (name, np.median(x), x.std())
