"""Validate the roofline model calibrated on DeepSeek's H800 fleet against H20 measurements.

Usage (after `probmodel calibrate priors/deepseek-roofline-evidence.toml --out RUN`)::

    python docs/throughput_validation.py RUN

Takes the calibration's joint posterior draws, evaluates the model at DeepSeek's H800
conditions and at the conditions of Ant Group + SGLang's H20 benchmark
(priors/h20-benchmark-roofline.toml) on the same draws, and prints the posterior
predictive of the H20 per-chip rates and of the H800:H20 ratios next to the measured ones.
The H20 numbers are never used to fit anything. Every number in docs/throughput.md's
validation section comes from this script's output.
"""

from __future__ import annotations

import sys

import numpy as np

import probmodel
from probmodel import model

#: Measured per GPU: DeepSeek's H800 fleet (73.7k input incl. 56.25% cache hits and 14.8k
#: output per 8-GPU node, 24 h averages) and Ant's H20 benchmark (16.5k and 5.7k per node).
MEASURED = {
    "h800_prefill_computed": 73.7e3 * (1 - 342 / 608) / 8,   # 4,030 computed tokens/s
    "h800_decode": 14.8e3 / 8,                                # 1,850
    "h20_prefill_computed": 16.5e3 / 8,                       # 2,063
    "h20_decode": 5.7e3 / 8,                                  # 712.5
}
KERNEL = ("prefill_flops_efficiency", "decode_bandwidth_efficiency", "decode_flops_efficiency",
          "decode_batch_per_chip")


def evaluate(scenario, draws: dict) -> dict:
    """Every output of ``scenario`` with some parameters replaced by per-draw arrays."""
    values = {k: np.asarray(v, dtype=np.float64) for k, v in scenario.point_values().items()}
    values.update({k: np.asarray(v, dtype=np.float64) for k, v in draws.items()})
    return {k: np.asarray(v) for k, v in model.evaluate(values).items()}


def summary(x) -> str:
    """Median and 90% interval of draws."""
    q = np.quantile(x, [0.5, 0.05, 0.95])
    f = "{:,.0f}" if abs(q[0]) >= 100 else "{:.3g}"
    return f"{f.format(q[0])} [{f.format(q[1])}, {f.format(q[2])}]"


def main(run_dir: str) -> None:
    """Print the validation table."""
    post = probmodel.load_posterior(run_dir)
    h800 = evaluate(probmodel.load_scenario("priors/deepseek-roofline-evidence.toml"), post)
    bench = probmodel.load_scenario("priors/h20-benchmark-roofline.toml")
    kernel = {k: post[k] for k in KERNEL}
    # (a) the benchmark's conditions: full load, the kernels' roofline (fleet_efficiency 1)
    h20_bench = evaluate(bench, kernel)
    # (b) like for like: the H800 itself at the benchmark's workload and deployment
    h800_bench = evaluate(probmodel.load_scenario("priors/h20-benchmark-roofline.toml",
                                                  {"chip": "H800"}), kernel)
    # DeepSeek's prefill rate counts cache hits; the ratios use computed tokens
    h800_pre = 1.0 / h800["prefill_seconds_per_token"]
    rows = [
        ("H800 computed prefill tokens/s per GPU (DeepSeek, fitted)", summary(h800_pre),
         f"{MEASURED['h800_prefill_computed']:,.0f}"),
        ("H800 decode tokens/s per GPU (DeepSeek, fitted)",
         summary(h800["decode_tokens_per_chip_second"]), f"{MEASURED['h800_decode']:,.0f}"),
        ("fleet_efficiency (DeepSeek posterior)", summary(post["fleet_efficiency"]), ""),
    ]
    pre = 1.0 / h20_bench["prefill_seconds_per_token"]
    dec = h20_bench["decode_tokens_per_chip_second"]
    rows += [
        ("H20 prefill tokens/s per GPU, benchmark conditions", summary(pre),
         f"{MEASURED['h20_prefill_computed']:,.0f}"),
        ("H20 decode tokens/s per GPU, benchmark conditions", summary(dec),
         f"{MEASURED['h20_decode']:,.0f}"),
        ("H800 (DeepSeek's day) : H20 (benchmark) prefill ratio", summary(h800_pre / pre),
         f"{MEASURED['h800_prefill_computed'] / MEASURED['h20_prefill_computed']:.2f}"),
        ("H800 (DeepSeek's day) : H20 (benchmark) decode ratio",
         summary(h800["decode_tokens_per_chip_second"] / dec),
         f"{MEASURED['h800_decode'] / MEASURED['h20_decode']:.2f}"),
        ("H800 : H20 prefill ratio, both at the benchmark",
         summary(h20_bench["prefill_seconds_per_token"] / h800_bench["prefill_seconds_per_token"]),
         ""),
        ("H800 : H20 decode ratio, both at the benchmark (EP16)",
         summary(h800_bench["decode_tokens_per_chip_second"] / dec), ""),
        ("H800 decode batch at the benchmark (EP16, HBM-capped)",
         summary(h800_bench["decode_batch"]), ""),
    ]
    compute_bound = _compute_bound_share(h20_bench)
    width = max(len(r[0]) for r in rows)
    print(f"{'quantity':<{width}}  {'model: median [90% interval]':>34}  measured")
    for name, model_text, measured in rows:
        print(f"{name:<{width}}  {model_text:>34}  {measured}")
    print(f"H20 decode steps compute-bound at the benchmark conditions: {compute_bound:.1%}")
    print(f"H800 decode steps compute-bound at the benchmark conditions: "
          f"{_compute_bound_share(h800_bench):.1%}")
    print(f"H800 decode steps compute-bound at DeepSeek's conditions: "
          f"{_compute_bound_share(h800):.1%}")
    print(f"posterior draws: {len(post['fleet_efficiency'])}")


def _compute_bound_share(v: dict) -> float:
    """Share of draws whose decode step is set by compute rather than memory."""
    b = v["decode_batch"]
    per_token = (2 * v["active_params"] / v["matmul_peak_flops"]
                 + v["decode_attention_flops"] * v["decode_context"] / v["chip_peak_flops"])
    compute = b * per_token / v["decode_flops_efficiency"]
    memory = ((v["decode_weight_bytes_per_chip"] + b * v["decode_context"]
               * v["kv_bytes_per_token"])
              / (v["chip_hbm_bandwidth"] * v["decode_bandwidth_efficiency"]))
    return float(np.mean(compute > memory))


if __name__ == "__main__":
    main(sys.argv[1])
