"""Serving throughput per chip and phase from first principles (a roofline with efficiencies).

The report sizes a fleet by FLOPs alone: every token, cached or not, input or output,
costs 2 x active parameters FLOPs at one utilization. An inference engineer splits the
work by phase, as DeepSeek serves it (prefill and decode on separate chips):

- **prefill** is compute-bound: a token that misses the KV cache costs its weight FLOPs
  (2 x active parameters, on the chip's matmul peak) plus attention FLOPs over the
  context it attends to (on the BF16 peak); a cache hit costs only loading its KV cache
  into HBM over the host link;
- **decode** runs a batch of sequences one token each per step; a step takes the larger
  of its memory time (the chip's weights plus every sequence's KV cache, read once, over
  HBM bandwidth) and its compute time (the batch's FLOPs over peak), so it is
  bandwidth-bound at small batches and long contexts and compute-bound at large ones;
  the batch is capped by what fits in HBM next to the weights.

Achieved rates are fractions of the spec, in two layers: kernel efficiencies
(``prefill_flops_efficiency``, ``decode_bandwidth_efficiency``,
``decode_flops_efficiency``: what the matmul and attention kernels reach, transferable
between chips of one generation) and ``fleet_efficiency``, the share of that roofline
rate a serving fleet keeps over its busy hours (expert-parallel communication that is not
overlapped, pipeline bubbles, batching gaps, uneven load). A benchmark at full load has
``fleet_efficiency`` near 1; DeepSeek's 24-hour production averages do not.

All functions are branch-free array code in the units of their Notes; the few that need
a function (``where``, ``minimum``) take it from their inputs' array namespace, so point
mode evaluates them with NumPy without importing JAX.
"""

from __future__ import annotations

import numpy as np

from probmodel.equations.compute import FLOPS_PER_ACTIVE_PARAM_PER_TOKEN, SECONDS_PER_DAY


def _xp(*xs):
    """The array namespace of the inputs: jax.numpy inside the Monte Carlo, else NumPy."""
    spaces = {x.__array_namespace__() for x in xs if hasattr(x, "__array_namespace__")}
    spaces.discard(np)
    return spaces.pop() if spaces else np


#: Share of HBM a serving engine gives to weights and KV cache; the rest holds
#: activations and workspace (SGLang's --mem-fraction-static default for large models,
#: 0.9 in Ant Group's H20 deployment of DeepSeek-R1, lmsys.org 2025-09-26).
HBM_USABLE_FRACTION = 0.9
SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MTOK = 1e6


def matmul_peak_flops(weight_bytes_per_param, chip_fp8_flops, chip_peak_flops):
    """Peak FLOP/s of the weight matmuls: FP8 for 1-byte weights, else the BF16 peak.

    Notes
    -----
    matmul_peak_flops = chip_fp8_flops if weight_bytes_per_param <= 1
    else chip_peak_flops  [FLOP/s]
    """
    xp = _xp(weight_bytes_per_param, chip_fp8_flops, chip_peak_flops)
    return xp.where(xp.asarray(weight_bytes_per_param) <= 1.0, chip_fp8_flops,
                     chip_peak_flops)


def prefill_seconds_per_token(active_params, prefill_attention_flops, prefill_context,
                              matmul_peak_flops, chip_peak_flops, prefill_flops_efficiency,
                              fleet_efficiency=1.0):
    """Chip-seconds to prefill one token that misses the KV cache.

    Notes
    -----
    prefill_seconds_per_token = (2 x active_params / matmul_peak_flops
    + prefill_attention_flops x prefill_context / chip_peak_flops)
    / (prefill_flops_efficiency x fleet_efficiency)  [chip s/token]

    ``prefill_context`` is the mean number of tokens a computed token attends to (its
    position, cached prefix included); attention runs in BF16 (``chip_peak_flops``).

    References
    ----------
    DeepSeek-V3 on H800 (989 / 1,979 TFLOP/s) at context 2,048 and efficiency 1:
    74e9 / 1979e12 + 4,997,120 x 2048 / 989e12 = 37.39 + 10.35 = 47.74 us.
    """
    weights = FLOPS_PER_ACTIVE_PARAM_PER_TOKEN * active_params / matmul_peak_flops
    attention = prefill_attention_flops * prefill_context / chip_peak_flops
    return (weights + attention) / (prefill_flops_efficiency * fleet_efficiency)


def cached_seconds_per_token(kv_bytes_per_token, chip_host_bandwidth):
    """Chip-seconds to load one cache-hit token's KV cache into HBM over the host link.

    Notes
    -----
    cached_seconds_per_token = kv_bytes_per_token / chip_host_bandwidth  [chip s/token]

    A cache hit needs no prefill FLOPs; its KV (70,272 B for DeepSeek-V3) comes from
    host memory or SSD (DeepSeek's on-disk cache) over PCIe: 70,272 / 64e9 = 1.1 us.
    """
    return kv_bytes_per_token / chip_host_bandwidth


def prefill_tokens_per_chip_second(prefill_seconds_per_token, cached_seconds_per_token,
                                   cache_hit_rate):
    """Input tokens (cache hits included) one prefill chip serves per second.

    Notes
    -----
    prefill_tokens_per_chip_second = 1 / ((1 - cache_hit_rate) x prefill_seconds_per_token
    + cache_hit_rate x cached_seconds_per_token)  [token/(chip s)]

    The same basis as DeepSeek's ~73.7k input tokens/s per 8-GPU prefill node
    "including cache hits".
    """
    return 1.0 / ((1.0 - cache_hit_rate) * prefill_seconds_per_token
                  + cache_hit_rate * cached_seconds_per_token)


def decode_weight_bytes_per_chip(total_params, routed_expert_params, experts_routed,
                                 decode_experts_per_chip, weight_bytes_per_param):
    """Weight bytes each decode chip holds and reads once per step.

    Notes
    -----
    decode_weight_bytes_per_chip = weight_bytes_per_param x (total_params
    - routed_expert_params + routed_expert_params x min(decode_experts_per_chip,
    experts_routed) / experts_routed)  [B]

    Expert parallelism spreads the routed experts over the decode chips; attention,
    shared experts, dense layers and embeddings are replicated (data-parallel attention).
    A dense model has ``routed_expert_params = 0``: every chip holds all its weights.

    References
    ----------
    DeepSeek's decode unit (EP144, 2 routed experts per GPU per layer), FP8:
    671e9 - 653.9e9 + 653.9e9 x 2 / 256 = 17.09e9 + 5.11e9 = 22.2 GB per GPU.
    """
    xp = _xp(routed_expert_params, decode_experts_per_chip, experts_routed)
    routed_here = routed_expert_params * xp.minimum(decode_experts_per_chip,
                                                    experts_routed) / experts_routed
    return weight_bytes_per_param * (total_params - routed_expert_params + routed_here)


def decode_batch(decode_batch_per_chip, chip_hbm_capacity, decode_weight_bytes_per_chip,
                 decode_context, kv_bytes_per_token):
    """Sequences a decode chip runs per step: the target batch, capped by HBM.

    Notes
    -----
    decode_batch = min(decode_batch_per_chip, max(0, (0.9 x chip_hbm_capacity
    - decode_weight_bytes_per_chip) / (decode_context x kv_bytes_per_token)))  [sequence]

    0.9 of HBM holds weights and KV cache (:data:`HBM_USABLE_FRACTION`). A batch of 0
    means the weights do not fit: throughput 0, chips needed infinite.
    """
    xp = _xp(decode_batch_per_chip, chip_hbm_capacity, decode_weight_bytes_per_chip,
             decode_context, kv_bytes_per_token)
    free = HBM_USABLE_FRACTION * chip_hbm_capacity - decode_weight_bytes_per_chip
    fits = xp.maximum(free, 0.0) / (decode_context * kv_bytes_per_token)
    return xp.minimum(decode_batch_per_chip, fits)


def decode_step_seconds(decode_batch, decode_weight_bytes_per_chip, decode_context,
                        kv_bytes_per_token, chip_hbm_bandwidth, decode_bandwidth_efficiency,
                        active_params, decode_attention_flops, matmul_peak_flops,
                        chip_peak_flops, decode_flops_efficiency, fleet_efficiency=1.0):
    """Seconds per decode step: the larger of memory time and compute time.

    Notes
    -----
    memory = (decode_weight_bytes_per_chip + decode_batch x decode_context
    x kv_bytes_per_token) / (chip_hbm_bandwidth x decode_bandwidth_efficiency)  [s]

    compute = decode_batch x (2 x active_params / matmul_peak_flops
    + decode_attention_flops x decode_context / chip_peak_flops)
    / decode_flops_efficiency  [s]

    decode_step_seconds = max(memory, compute) / fleet_efficiency  [s]

    References
    ----------
    H20, DeepSeek-V3, batch 64 at context 4,096, 58.0 GB of weights (EP16), efficiencies 1:
    memory (58.0e9 + 64 x 4096 x 70,272) / 4e12 = 19.1 ms; compute 64 x (74e9 / 296e12
    + 16,990,208 x 4096 / 148e12) = 46.1 ms: compute-bound.
    """
    kv = decode_batch * decode_context * kv_bytes_per_token
    memory = (decode_weight_bytes_per_chip + kv) / (chip_hbm_bandwidth
                                                    * decode_bandwidth_efficiency)
    per_token = (FLOPS_PER_ACTIVE_PARAM_PER_TOKEN * active_params / matmul_peak_flops
                 + decode_attention_flops * decode_context / chip_peak_flops)
    compute = decode_batch * per_token / decode_flops_efficiency
    return _xp(memory, compute).maximum(memory, compute) / fleet_efficiency


def decode_tokens_per_chip_second(decode_batch, decode_step_seconds):
    """Output tokens one decode chip serves per second.

    Notes
    -----
    decode_tokens_per_chip_second = decode_batch / decode_step_seconds  [token/(chip s)]

    The basis of DeepSeek's ~14.8k output tokens/s per 8-GPU decode node.
    """
    return decode_batch / decode_step_seconds


def phase_chips(tokens_per_day, peak_factor, tokens_per_chip_second):
    """Chips one phase needs at the provisioned peak.

    Notes
    -----
    phase_chips = tokens_per_day / 86400 x peak_factor / tokens_per_chip_second  [chip]

    Used for prefill (input tokens, prefill rate) and decode (output tokens, decode rate).
    """
    return tokens_per_day / SECONDS_PER_DAY * peak_factor / tokens_per_chip_second


def paid_fleet_factor(peak_factor, idle_capacity_paid):
    """Chip-hours paid per chip-hour of work.

    Notes
    -----
    paid_fleet_factor = 1 + idle_capacity_paid x (peak_factor - 1)  [1]

    A fleet provisioned for the peak is busy 1 / peak_factor of the time on average;
    paying for the average fleet (0, off-peak capacity reused, as DeepSeek does at
    night) costs only the work, paying for the provisioned peak (1) costs the idle
    headroom too.
    """
    return 1.0 + idle_capacity_paid * (peak_factor - 1.0)


def cost_per_mtok(seconds_per_token, gpu_price_per_hour, paid_fleet_factor, gpu_cost_share):
    """Serving cost of a million tokens of one class (cache-miss input, cache hit, output).

    Notes
    -----
    cost_per_mtok = 1e6 x seconds_per_token x gpu_price_per_hour / 3600
    x paid_fleet_factor / gpu_cost_share  [USD per 1M tokens]

    With ``gpu_cost_share`` (GPU rental / total cost) the cost is the total serving
    cost; tokens x cost summed over the three classes equals ``total_cost``.
    """
    return (TOKENS_PER_MTOK * seconds_per_token * gpu_price_per_hour / SECONDS_PER_HOUR
            * paid_fleet_factor / gpu_cost_share)


def compute_utilization(active_params, input_tokens_per_day, cache_hit_rate,
                        output_tokens_per_day, chip_peak_flops, busy_chips):
    """Weight FLOPs of the tokens that need compute over the busy fleet's peak.

    Notes
    -----
    compute_utilization = 2 x active_params x (input_tokens_per_day x (1 - cache_hit_rate)
    + output_tokens_per_day) / 86400 / (chip_peak_flops x busy_chips)  [1]

    The report's FLOP basis without the cache hits, which need no prefill compute.

    References
    ----------
    DeepSeek 2025-02-27/28: 2 x 37e9 x (266e9 + 168e9) / 86400 / (580e12 x 1,814)
    = 35.3% (the report's 77%, or 63% done consistently, counts cached tokens).
    """
    needs_compute = input_tokens_per_day * (1.0 - cache_hit_rate) + output_tokens_per_day
    flops = FLOPS_PER_ACTIVE_PARAM_PER_TOKEN * active_params * needs_compute / SECONDS_PER_DAY
    return flops / (chip_peak_flops * busy_chips)
