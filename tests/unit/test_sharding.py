"""The draw (chunk) axis is sharded over every device JAX sees.

Run in a subprocess with two forced host devices (the flag must be set before JAX
starts): the same seed on one device and on two gives the same summary and the same
kept draws, bit for bit (each chunk is drawn from its own key on one device, and the
host combines chunk statistics in chunk order).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, numpy as np, jax
import probmodel
from probmodel import sampling, streaming
assert len(jax.devices()) == 2, jax.devices()
sc = probmodel.load_scenario("priors/deepseek-adjusted.toml")
model = sampling.ForwardModel.from_scenario(sc)
args = model.args(sc)
# a partial last chunk; 11 chunks: one call of 8 chunks on one device, of 12 on two
n = 10 * sampling.CHUNK + 1234
one = streaming.run_stream(model, args, n, 3, devices=1, keep_all=True, exact_when_kept=False)
two = streaming.run_stream(model, args, n, 3, keep_all=True, exact_when_kept=False)
same_kept = all(np.array_equal(one.kept[k], two.kept[k]) for k in one.kept)
print(json.dumps({"same_summary": one.summary.identical(two.summary), "same_kept": same_kept,
                  "draws": [one.draws, two.draws], "n_kept": len(two.kept["margin"]),
                  "p": [float(one.summary["p_profitable"]), float(two.summary["p_profitable"])]}))
"""


@pytest.mark.slow
def test_two_devices_give_the_single_device_result_bit_for_bit():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    n = 10 * 131072 + 1234
    assert res["draws"] == [n, n]
    assert res["n_kept"] == n
    assert res["same_kept"]
    assert res["same_summary"], res["p"]
