"""The model: the names it knows, their units and domains, and the graph of equations.

A scenario supplies some inputs (fixed or uncertain); :func:`evaluate` computes every
output whose inputs are available, in dependency order. The graph is resolved in Python
at trace time, so the array code stays branch-free and jits once per scenario shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from probmodel import equations as eq
from probmodel.equations import roofline as rl
from probmodel.equations import throughput as tp
from probmodel.serving import deployment as dep

INF = math.inf


@dataclass(frozen=True)
class Quantity:
    """A named quantity: its unit (CF ``units`` attribute) and allowed range."""

    name: str
    unit: str
    low: float = 0.0
    high: float = INF
    low_open: bool = True  # the lower bound itself is excluded
    description: str = ""

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the quantity's domain."""
        if not (self.low <= x <= self.high):
            return False
        return not (self.low_open and x == self.low)

    def domain_text(self) -> str:
        """The domain written as an interval, e.g. ``(0, 1]``."""
        lo = "(" if self.low_open else "["
        hi = ")" if self.high == INF else "]"
        fmt = lambda v: "inf" if v == INF else f"{v:g}"  # noqa: E731
        return f"{lo}{fmt(self.low)}, {fmt(self.high)}{hi}"


def _q(name, unit, low=0.0, high=INF, low_open=True, description=""):
    return Quantity(name, unit, low, high, low_open, description)


#: Inputs a scenario may define (spec §7), with their domains.
INPUTS: dict[str, Quantity] = {
    q.name: q
    for q in [
        _q("nodes_avg", "node", description="average nodes in use over 24 h"),
        _q("nodes_peak", "node", description="peak nodes in use"),
        _q("gpus_per_node", "GPU/node"),
        _q("gpu_price_per_hour", "USD/(GPU h)"),
        _q("gpu_cost_share", "1", 0.0, 1.0, description="GPU rental / total serving cost"),
        _q("input_tokens_per_day", "token/day"),
        _q("output_tokens_per_day", "token/day"),
        _q("cache_hit_rate", "1", 0.0, 1.0, low_open=False),
        _q("offpeak_share", "1", 0.0, 1.0, low_open=False),
        _q("v3_share", "1", 0.0, 1.0, low_open=False),
        _q("pay_rate", "1", 0.0, 1.0, description="share of tokens that are paid for"),
        _q("price_index", "1", description="multiplier on every price of the table"),
        _q("active_params", "parameter"),
        _q("chip_peak_flops", "FLOP/s"),
        _q("utilization", "1"),
        _q("peak_factor", "1", description="peak demand / mean demand"),
        _q("prefill_tokens_per_node_s", "token/(node s)",
           description="input tokens (cache hits included) a node prefills per second, "
                       "averaged over its busy hours"),
        _q("decode_tokens_per_node_s", "token/(node s)",
           description="output tokens a node decodes per second, averaged over its busy hours"),
        _q("h800_h20_ratio", "H20/H800",
           description="H20 chips doing the serving work of one H800 (per-GPU throughput "
                       "ratio, measured, not the spec-sheet FLOP ratio)"),
        _q("dau", "user"),
        _q("users", "user"),
        _q("requests_per_user_per_day", "request/(user day)"),
        _q("tokens_per_request", "token/request"),
        _q("output_token_share", "1", 0.0, 1.0, low_open=False,
           description="output tokens / all tokens (splits tokens_per_day into input/output)"),
        _q("idle_capacity_paid", "1", 0.0, 1.0, low_open=False,
           description="share of the peak headroom paid for while idle: 0 pays for the "
                       "average fleet (off-peak capacity reused), 1 for the provisioned peak"),
        # Roofline serving model (equations/roofline.py). Chip and model entries come
        # from the catalogs (priors/hardware.toml, priors/models.toml).
        _q("chip_fp8_flops", "FLOP/s", description="dense FP8 peak of one chip"),
        _q("chip_hbm_bandwidth", "B/s", description="peak HBM bandwidth of one chip"),
        _q("chip_hbm_capacity", "B", description="HBM capacity of one chip"),
        _q("chip_fp4_flops", "FLOP/s",
           description="dense FP4 peak of one chip (the FP8 peak where FP4 runs on FP8 units)"),
        _q("chip_link_bandwidth", "B/s",
           description="scale-up (NVLink, Infinity Fabric) bandwidth of one chip, both "
                       "directions added"),
        _q("chip_scaleup_domain", "GPU",
           description="chips one scale-up fabric joins (8 in a node, 72 in an NVL72 rack)"),
        _q("chip_scaleout_bandwidth", "B/s",
           description="scale-out network (NIC) bandwidth of one chip, per direction"),
        _q("chip_host_bandwidth", "B/s",
           description="host link (PCIe, NVLink-C2C) bandwidth of one chip, per direction: "
                       "cached KV loads use it"),
        _q("total_params", "parameter"),
        _q("routed_expert_params", "parameter", low_open=False,
           description="parameters of all routed experts (0 for a dense model)"),
        _q("experts_routed", "expert/layer"),
        _q("experts_active", "expert/layer"),
        _q("model_layers", "layer"),
        _q("moe_layers", "layer", low_open=False,
           description="layers with a mixture-of-experts block (0 for a dense model)"),
        _q("hidden_size", "1", description="model (residual stream) width"),
        _q("attention_params", "parameter",
           description="parameters that are neither routed experts nor embeddings: what "
                       "every data-parallel attention rank holds"),
        _q("mtp_module_params", "parameter", low_open=False,
           description="parameters of the multi-token-prediction module beyond those it "
                       "shares with the main model (0 without MTP)"),
        _q("mtp_active_params", "parameter", low_open=False,
           description="parameters one multi-token-prediction draft token runs through "
                       "(0 without MTP)"),
        _q("kv_bytes_per_token", "B/token", description="KV cache per token of context"),
        _q("weight_bytes_per_param", "B/parameter",
           description="bytes per weight as served (1 = FP8 matmuls on the FP8 peak)"),
        _q("prefill_attention_flops", "FLOP/token^2",
           description="prefill attention FLOPs per token per token attended to"),
        _q("decode_attention_flops", "FLOP/token^2",
           description="decode attention FLOPs per token per token attended to"),
        _q("prefill_context", "token",
           description="mean tokens a computed prefill token attends to (its position)"),
        _q("prefill_flops_efficiency", "1", 0.0, 1.0,
           description="achieved fraction of peak FLOP/s of the prefill kernels"),
        _q("decode_context", "token", description="mean KV-cache length per output token"),
        _q("decode_batch_per_chip", "sequence",
           description="target sequences per decode chip per step (capped by HBM)"),
        _q("decode_experts_per_chip", "expert/layer",
           description="routed experts each decode chip holds per layer (expert parallelism)"),
        _q("decode_bandwidth_efficiency", "1", 0.0, 1.0,
           description="achieved fraction of peak HBM bandwidth of the decode kernels"),
        _q("decode_flops_efficiency", "1", 0.0, 1.0,
           description="achieved fraction of peak FLOP/s of the decode kernels"),
        _q("fleet_efficiency", "1", 0.0, 1.0,
           description="share of the kernel roofline rate a serving fleet keeps over its busy "
                       "hours (communication, bubbles, batching gaps, load); 1 = benchmark"),
        # Deployment (probmodel/serving/deployment.py): the physics backtest scores
        # against measured runs, on a scenario's own chip, model and layout.
        _q("serving_disaggregated", "1", 0.0, 1.0, low_open=False,
           description="1: prefill and decode on separate GPU pools; 0: aggregated"),
        _q("decode_tp", "GPU", description="GPUs per decode worker (tensor- and "
                                           "expert-parallel width)"),
        _q("decode_dp_attention", "1", 0.0, 1.0, low_open=False,
           description="1: data-parallel attention (each GPU its own sequences); 0: "
                       "tensor-parallel attention"),
        _q("decode_workers", "worker", description="decode workers (model replicas)"),
        _q("prefill_tp", "GPU", description="GPUs per prefill worker (disaggregated)"),
        _q("prefill_workers", "worker", description="prefill workers (disaggregated)"),
        _q("mtp_draft_tokens", "token", 0.0, 4.0, low_open=False,
           description="multi-token-prediction draft tokens verified per decode step"),
        _q("mtp_acceptance", "1", 0.0, 1.0,
           description="probability a draft token is accepted (given the ones before it)"),
        _q("mtp_draft_cost", "1", 0.0, INF, low_open=False,
           description="cost of one draft pass as a share of a decode step"),
        _q("concurrency", "request", description="requests in flight (the benchmark's "
                                                 "closed-loop clients)"),
        _q("input_length", "token/request", description="prompt tokens per request"),
        _q("output_length", "token/request", description="output tokens per request"),
        _q("expert_bytes_per_param", "B/parameter",
           description="bytes per routed-expert weight: 0.5625 FP4 (with block scales), "
                       "1 FP8, 2 BF16"),
        _q("kv_bytes_per_element", "B", description="bytes per KV-cache element: 1 FP8, "
                                                    "2 BF16"),
        _q("attention_bytes_per_element", "B",
           description="attention precision: 1 runs attention on the FP8 peak "
                       "(FlashMLA-FP8), 2 on the BF16 peak"),
        _q("serving_bw_efficiency", "1", 0.0, 1.0,
           description="achieved share of HBM bandwidth in a decode step"),
        _q("serving_flops_efficiency", "1", 0.0, 1.0,
           description="achieved share of the matmul/attention peak in a decode step"),
        _q("serving_prefill_efficiency", "1", 0.0, 1.0,
           description="achieved share of the FLOP peak in prefill"),
        _q("serving_comm_efficiency", "1", 0.0, 1.0,
           description="achieved share of link bandwidth in expert-parallel and "
                       "tensor-parallel collectives"),
        _q("serving_step_overhead", "s", 0.0, INF, low_open=False,
           description="per decode step: launches, scheduling, sampling"),
        _q("serving_collective_latency", "s", 0.0, INF, low_open=False,
           description="latency of one collective (per layer and step)"),
        _q("serving_ttft_fixed", "s", 0.0, INF, low_open=False,
           description="per request before its first token: HTTP, tokenizer, scheduler"),
        _q("serving_queue_factor", "1", 0.0, INF, low_open=False,
           description="scale of the M/D/1 prefill wait (1 = M/D/1)"),
        _q("serving_model_error", "1",
           description="measured / physics throughput of a deployment: the calibration's "
                       "residual error (1 = the physics' answer)"),
        _q("serving_ttft_error", "1",
           description="measured / physics time to first token: the calibration's residual "
                       "error of TTFT (1 = the physics' answer)"),
        # Serving at a latency target (serving/frontier.py): the deployment's concurrency
        # follows from the target, the fleet from the throughput per GPU there.
        _q("slo_interactivity", "token/(user s)",
           description="latency target: output tokens/s each user gets at least"),
        _q("slo_ttft", "s", description="latency target: time to first token at most"),
        _q("production_derate", "1",
           description="production throughput per GPU over a benchmark's at the same "
                       "target (a day's load, mixed lengths, failures; 1 = benchmark)"),
    ]
}


@dataclass(frozen=True)
class Node:
    """One equation: ``name = fn(*inputs)``, computed when every input is available.

    ``optional`` inputs take their default when the scenario does not define them.
    Several nodes may define the same name; the first whose inputs are all available
    wins, and a name the scenario defines as a parameter is never recomputed.
    """

    name: str
    inputs: tuple[str, ...]
    fn: Callable
    unit: str
    description: str = ""
    optional: Mapping[str, float] = field(default_factory=dict)


def _revenue_before_pay_rate(inp, out, hit, off, v3, prices, price_index):
    return eq.revenue_before_pay_rate(inp, out, hit, off, v3, prices) * price_index


NODES: tuple[Node, ...] = (
    # The fleet from per-phase throughput (DeepSeek's disclosure; used when nodes_avg is
    # not given): node-hours = input / prefill rate + output / decode rate.
    Node("prefill_nodes", ("input_tokens_per_day", "prefill_tokens_per_node_s"),
         tp.phase_nodes, "node", "average nodes busy with prefill"),
    Node("decode_nodes", ("output_tokens_per_day", "decode_tokens_per_node_s"),
         tp.phase_nodes, "node", "average nodes busy with decode"),
    Node("nodes_avg", ("prefill_nodes", "decode_nodes"), lambda p, d: p + d, "node",
         "average nodes needed: prefill_nodes + decode_nodes"),
    Node("gpus", ("nodes_avg", "gpus_per_node"), eq.gpus, "GPU", "GPUs in use on average"),
    Node("nodes_peak", ("nodes_avg", "peak_factor"), lambda a, pf: a * pf, "node",
         "nodes needed in the peak hour at the average per-node throughput"),
    # A provisioned-fleet option for a fleet given in nodes (DeepSeek): pay for the
    # average nodes (idle_capacity_paid = 0, the report's choice) or the peak (1).
    Node("paid_gpus", ("nodes_avg", "nodes_peak", "gpus_per_node", "idle_capacity_paid"),
         lambda a, p, g, i: (a + i * (p - a)) * g, "GPU",
         "GPUs paid for: (nodes_avg + idle_capacity_paid x (nodes_peak - nodes_avg)) x 8"),
    Node("gpu_cost", ("paid_gpus", "gpu_price_per_hour"), eq.gpu_cost, "USD/day",
         "GPU rental cost of the paid fleet"),
    Node("gpu_cost", ("gpus", "gpu_price_per_hour"), eq.gpu_cost, "USD/day", "GPU rental cost"),
    Node("total_cost", ("gpu_cost", "gpu_cost_share"), eq.total_cost, "USD/day",
         "total serving cost"),
    Node("peak_factor", ("nodes_peak", "nodes_avg"), lambda p, a: p / a, "1",
         "peak nodes / average nodes"),
    Node("tokens_per_day", ("input_tokens_per_day", "output_tokens_per_day"),
         lambda i, o: i + o, "token/day", "input + output tokens"),
    Node("tokens_per_day", ("users", "requests_per_user_per_day", "tokens_per_request"),
         eq.tokens_per_day_from_usage, "token/day", "users x requests x tokens per request"),
    Node("input_tokens_per_day", ("tokens_per_day", "output_token_share"),
         lambda t, s: t * (1.0 - s), "token/day", "tokens_per_day x (1 - output_token_share)"),
    Node("output_tokens_per_day", ("tokens_per_day", "output_token_share"),
         lambda t, s: t * s, "token/day", "tokens_per_day x output_token_share"),
    Node("revenue_before_pay_rate",
         ("input_tokens_per_day", "output_tokens_per_day", "cache_hit_rate", "offpeak_share",
          "v3_share", "prices", "price_index"),
         _revenue_before_pay_rate, "USD/day", "revenue if every token were paid for",
         optional={"price_index": 1.0}),
    Node("revenue", ("revenue_before_pay_rate", "pay_rate"), eq.revenue, "USD/day",
         "revenue actually paid"),
    Node("profit", ("revenue", "total_cost"), eq.profit, "USD/day", "revenue - total cost"),
    Node("margin", ("profit", "revenue"), eq.margin, "1", "profit / revenue"),
    Node("cost_profit_ratio", ("profit", "total_cost"), eq.cost_profit_ratio, "1",
         "profit / total cost"),
    # Revenue is linear in pay_rate, so margin = 0 exactly at this pay rate (per draw).
    Node("break_even_pay_rate", ("total_cost", "revenue_before_pay_rate"),
         lambda c, r: c / r, "1", "pay rate at which profit is 0: total_cost / "
         "revenue_before_pay_rate"),
    Node("tokens_per_user_per_day", ("requests_per_user_per_day", "tokens_per_request"),
         lambda r, t: r * t, "token/(user day)",
         "requests_per_user_per_day x tokens_per_request (what token counts identify)"),
    # DAU use the free web and app; paid (API) tokens come on top of theirs.
    Node("usage_tokens_per_day",
         ("dau", "requests_per_user_per_day", "tokens_per_request", "pay_rate"),
         tp.usage_tokens_per_day, "token/day",
         "dau x requests x tokens per request / (1 - pay_rate)"),
    Node("tokens_per_second", ("tokens_per_day",), eq.tokens_per_second, "token/s"),
    Node("h800_gpus_required",
         ("tokens_per_second", "output_token_share", "prefill_tokens_per_node_s",
          "decode_tokens_per_node_s", "peak_factor", "gpus_per_node"),
         tp.h800_gpus_required, "GPU", "H800 GPUs at the per-phase throughputs, peak hour"),
    Node("chips_required", ("h800_gpus_required", "h800_h20_ratio"), lambda g, r: g * r,
         "chip", "H20 chips needed at the peak: h800_gpus_required x h800_h20_ratio"),
    Node("flops_required", ("active_params", "tokens_per_second", "peak_factor"),
         eq.flops_required, "FLOP/s", "compute needed at the peak"),
    Node("chips_required", ("flops_required", "chip_peak_flops", "utilization"),
         eq.chips_required, "chip", "chips needed at the peak"),
    # Roofline serving model (equations/roofline.py): per-phase throughput per chip,
    # disaggregated prefill + decode fleets at the provisioned peak, costs by token class.
    Node("matmul_peak_flops", ("weight_bytes_per_param", "chip_fp8_flops", "chip_peak_flops"),
         rl.matmul_peak_flops, "FLOP/s", "peak of the weight matmuls (FP8 for 1-byte weights)"),
    Node("prefill_seconds_per_token",
         ("active_params", "prefill_attention_flops", "prefill_context", "matmul_peak_flops",
          "chip_peak_flops", "prefill_flops_efficiency", "fleet_efficiency"),
         rl.prefill_seconds_per_token, "chip s/token",
         "chip-seconds to prefill one cache-miss token", optional={"fleet_efficiency": 1.0}),
    Node("cached_seconds_per_token", ("kv_bytes_per_token", "chip_host_bandwidth"),
         rl.cached_seconds_per_token, "chip s/token",
         "chip-seconds to load one cache-hit token's KV cache"),
    Node("prefill_tokens_per_chip_second",
         ("prefill_seconds_per_token", "cached_seconds_per_token", "cache_hit_rate"),
         rl.prefill_tokens_per_chip_second, "token/(chip s)",
         "input tokens (cache hits included) per prefill chip per second"),
    Node("decode_weight_bytes_per_chip",
         ("total_params", "routed_expert_params", "experts_routed", "decode_experts_per_chip",
          "weight_bytes_per_param"),
         rl.decode_weight_bytes_per_chip, "B", "weights each decode chip reads per step"),
    Node("decode_batch",
         ("decode_batch_per_chip", "chip_hbm_capacity", "decode_weight_bytes_per_chip",
          "decode_context", "kv_bytes_per_token"),
         rl.decode_batch, "sequence", "sequences per decode chip per step (HBM-capped)"),
    Node("decode_step_seconds",
         ("decode_batch", "decode_weight_bytes_per_chip", "decode_context",
          "kv_bytes_per_token", "chip_hbm_bandwidth", "decode_bandwidth_efficiency",
          "active_params", "decode_attention_flops", "matmul_peak_flops", "chip_peak_flops",
          "decode_flops_efficiency", "fleet_efficiency"),
         rl.decode_step_seconds, "s",
         "one decode step: max(memory time, compute time) / fleet_efficiency",
         optional={"fleet_efficiency": 1.0}),
    Node("decode_tokens_per_chip_second", ("decode_batch", "decode_step_seconds"),
         rl.decode_tokens_per_chip_second, "token/(chip s)",
         "output tokens per decode chip per second"),
    Node("decode_tokens_per_sequence_second", ("decode_step_seconds",), lambda t: 1.0 / t,
         "token/(sequence s)",
         "output speed seen by one sequence (user): 1 / decode_step_seconds"),
    Node("prefill_chips", ("input_tokens_per_day", "peak_factor",
                           "prefill_tokens_per_chip_second"),
         rl.phase_chips, "chip", "prefill chips at the provisioned peak"),
    Node("decode_chips", ("output_tokens_per_day", "peak_factor",
                          "decode_tokens_per_chip_second"),
         rl.phase_chips, "chip", "decode chips at the provisioned peak"),
    Node("chips_required_roofline", ("prefill_chips", "decode_chips"), lambda p, d: p + d,
         "chip", "chips at the provisioned peak, roofline: prefill_chips + decode_chips"),
    Node("paid_fleet_factor", ("peak_factor", "idle_capacity_paid"), rl.paid_fleet_factor,
         "1", "chip-hours paid per chip-hour of work: 1 + idle_capacity_paid x (peak - 1)"),
    Node("paid_chips", ("chips_required_roofline", "peak_factor", "paid_fleet_factor"),
         lambda c, pf, f: c / pf * f, "chip",
         "chips paid for around the clock: chips_required_roofline / peak x paid_fleet_factor"),
    Node("cost_per_mtok_input",
         ("prefill_seconds_per_token", "gpu_price_per_hour", "paid_fleet_factor",
          "gpu_cost_share"),
         rl.cost_per_mtok, "USD/Mtoken", "serving cost per 1M cache-miss input tokens",
         optional={"gpu_cost_share": 1.0}),
    Node("cost_per_mtok_cached",
         ("cached_seconds_per_token", "gpu_price_per_hour", "paid_fleet_factor",
          "gpu_cost_share"),
         rl.cost_per_mtok, "USD/Mtoken", "serving cost per 1M cache-hit input tokens",
         optional={"gpu_cost_share": 1.0}),
    Node("cost_per_mtok_output",
         ("decode_tokens_per_chip_second", "gpu_price_per_hour", "paid_fleet_factor",
          "gpu_cost_share"),
         lambda r, p, f, s: rl.cost_per_mtok(1.0 / r, p, f, s), "USD/Mtoken",
         "serving cost per 1M output tokens", optional={"gpu_cost_share": 1.0}),
    Node("compute_utilization",
         ("active_params", "input_tokens_per_day", "cache_hit_rate", "output_tokens_per_day",
          "chip_peak_flops", "chips_required_roofline", "peak_factor"),
         lambda a, i, h, o, c, n, pf: rl.compute_utilization(a, i, h, o, c, n / pf), "1",
         "weight FLOPs of cache-miss and output tokens / (chip peak x average busy chips)"),
    Node("compute_utilization",
         ("active_params", "input_tokens_per_day", "cache_hit_rate", "output_tokens_per_day",
          "chip_peak_flops", "gpus"),
         rl.compute_utilization, "1",
         "weight FLOPs of cache-miss and output tokens / (chip peak x GPUs in use)"),
    # The operating point at a latency target, and a fleet for a day's demand built of
    # such deployments: decode GPUs at the target's output rate per GPU (derated for
    # production), prefill GPUs at the prefill rate for the cache-miss tokens and the host
    # link for the cache hits, both provisioned for the peak.
    *(Node(name, dep.SLO_ARGUMENTS, (lambda key: lambda *a: dep.slo_metrics(a)[key])(metric),
           unit, text, optional=dep.SLO_OPTIONAL)
      for name, (metric, unit, text) in dep.SLO_OUTPUTS.items()),
    Node("serving_decode_gpus", ("output_tokens_per_day", "peak_factor",
                                 "slo_output_tput_per_gpu", "production_derate"),
         lambda o, pf, r, d: rl.phase_chips(o, pf, r * d), "GPU",
         "decode GPUs at the provisioned peak: output tokens/s x peak / (rate at the "
         "target x production_derate)"),
    # no production derate on prefill: the physics' prefill is already below every
    # measured prefill rate (Ant's H20 1.6x, DeepSeek's wide-EP H800 7x; docs/validation.md)
    Node("serving_prefill_gpus", ("input_tokens_per_day", "cache_hit_rate", "peak_factor",
                                  "slo_prefill_tput_per_gpu", "cached_seconds_per_token"),
         lambda i, h, pf, r, c: rl.phase_chips(i * (1.0 - h), pf, r)
         + i * h / rl.SECONDS_PER_DAY * pf * c, "GPU",
         "prefill GPUs at the provisioned peak: cache-miss tokens at the prefill rate, "
         "cache hits loaded over the host link"),
    Node("chips_required_serving", ("serving_prefill_gpus", "serving_decode_gpus"),
         lambda p, d: p + d, "chip",
         "chips at the provisioned peak on the checked serving physics at the latency "
         "target: serving_prefill_gpus + serving_decode_gpus"),
    Node("paid_chips", ("chips_required_serving", "peak_factor", "paid_fleet_factor"),
         lambda c, pf, f: c / pf * f, "chip",
         "chips paid for around the clock: chips_required_serving / peak x "
         "paid_fleet_factor"),
    Node("cost_per_mtok_output",
         ("slo_output_tput_per_gpu", "production_derate", "gpu_price_per_hour",
          "paid_fleet_factor", "gpu_cost_share"),
         lambda r, d, p, f, s: rl.cost_per_mtok(1.0 / (r * d), p, f, s), "USD/Mtoken",
         "serving cost per 1M output tokens on decode GPUs at the latency target",
         optional={"gpu_cost_share": 1.0}),
    Node("cost_per_mtok_input",
         ("slo_prefill_tput_per_gpu", "gpu_price_per_hour", "paid_fleet_factor",
          "gpu_cost_share"),
         lambda r, p, f, s: rl.cost_per_mtok(1.0 / r, p, f, s), "USD/Mtoken",
         "serving cost per 1M cache-miss input tokens on prefill GPUs",
         optional={"gpu_cost_share": 1.0}),
    # A fleet sized from demand (H20 scenarios): pay for the average fleet, chips / peak
    # factor, plus the paid share of the headroom kept for the peak.
    Node("paid_chips", ("chips_required", "peak_factor", "idle_capacity_paid"),
         lambda c, pf, idle: c * (1.0 / pf + idle * (1.0 - 1.0 / pf)), "chip",
         "chips paid for around the clock"),
    Node("gpu_cost", ("paid_chips", "gpu_price_per_hour"), eq.gpu_cost, "USD/day",
         "GPU rental cost of the paid fleet"),
    Node("implied_utilization", ("flops_required", "chip_peak_flops", "gpus"),
         eq.implied_utilization, "1", "utilization the fleet in use would need"),
    Node("mean_utilization", ("active_params", "tokens_per_second", "chip_peak_flops", "gpus"),
         lambda a, t, c, g: eq.implied_utilization(eq.flops_required(a, t, 1.0), c, g), "1",
         "average demand on the average fleet, report's FLOP basis (peak_factor = 1)"),
    Node("theoretical_revenue",
         ("input_tokens_per_day", "output_tokens_per_day", "cache_hit_rate", "prices"),
         tp.theoretical_revenue, "USD/day",
         "every token billed at R1's standard price (DeepSeek's headline revenue)"),
    Node("requests_per_dau", ("tokens_per_day", "dau", "tokens_per_request"),
         eq.requests_per_dau, "request/(user day)", "requests per daily active user"),
    # A deployment's serving metrics (serving/deployment.py: the physics `backtest`
    # scores against measured runs); one physics evaluation feeds every metric.
    *(Node(name, dep.ARGUMENTS, (lambda key: lambda *a: dep.metrics(a)[key])(name), unit,
           text, optional=dep.OPTIONAL)
      for name, (unit, text) in dep.OUTPUTS.items()),
    Node("serving_cost_per_mtok", ("tput_per_gpu", "gpu_price_per_hour", "gpu_cost_share"),
         dep.cost_per_mtok, "USD/Mtoken",
         "GPU cost per 1M tokens served (input + output) at gpu_price_per_hour",
         optional={"gpu_cost_share": 1.0}),
    Node("serving_cost_per_mtok_output",
         ("tput_per_gpu", "gpu_price_per_hour", "gpu_cost_share", "input_length",
          "output_length"),
         lambda t, p, s, i, o: dep.cost_per_mtok(t, p, s, o / (i + o)), "USD/Mtoken",
         "GPU cost of the whole deployment per 1M output tokens",
         optional={"gpu_cost_share": 1.0}),
    # Revenue and cost per token: what a margin path is made of (projections per year).
    # Written as x * (1e6 / tokens): with fixed token counts the factor is one constant in
    # every compiled graph, so sharded and single-device runs agree bit for bit (x / t * 1e6
    # was rewritten differently by the two graphs, 1 ulp apart).
    Node("revenue_per_mtok", ("revenue", "tokens_per_day"), lambda r, t: r * (1e6 / t),
         "USD/Mtoken", "revenue per 1M tokens served (all classes): revenue / tokens x 1e6"),
    Node("cost_per_mtok", ("total_cost", "tokens_per_day"), lambda c, t: c * (1e6 / t),
         "USD/Mtoken", "total cost per 1M tokens served (all classes): total_cost / tokens x 1e6"),
)

#: Every output name with its unit (first definition wins).
OUTPUTS: dict[str, Quantity] = {}
for _n in NODES:
    OUTPUTS.setdefault(_n.name, Quantity(_n.name, _n.unit, -INF, INF, False, _n.description))


def unit_of(name: str) -> str:
    """The unit of a known input or output name ('' when unknown)."""
    if name in INPUTS:
        return INPUTS[name].unit
    if name in OUTPUTS:
        return OUTPUTS[name].unit
    return ""


def plan(available: set[str]) -> list[Node]:
    """The nodes to evaluate, in order, given the names a scenario defines."""
    have = set(available)
    chosen: list[Node] = []
    # Passes in list order until nothing new is computable: a fleet derived from demand
    # (paid_chips, late in the list) feeds the cost nodes listed before it.
    changed = True
    while changed:
        changed = False
        for node in NODES:
            if node.name in have:
                continue
            if all(i in have or i in node.optional for i in node.inputs):
                chosen.append(node)
                have.add(node.name)
                changed = True
    return chosen


def evaluate(values: Mapping[str, object]) -> dict[str, object]:
    """Compute every output the given inputs allow.

    Parameters
    ----------
    values : mapping of name to array
        Inputs (any broadcastable shapes; ``prices`` has trailing shape (2, 2, 3)).

    Returns
    -------
    dict
        The inputs and every computable output.
    """
    out = dict(values)
    for node in plan(set(out)):
        args = [out[i] if i in out else node.optional[i] for i in node.inputs]
        out[node.name] = node.fn(*args)
    return out


def evaluate_point(values: Mapping[str, object]) -> dict[str, float]:
    """Every input and output at point values, in float64 NumPy (no JAX).

    Parameters
    ----------
    values : mapping of name to number
        Inputs at their point values (``prices`` an array of shape (2, 2, 3)).

    Returns
    -------
    dict of str to float
        Inputs and outputs, ``prices`` left out. The equations are plain arithmetic, each
        operation rounded once in float64, so the numbers equal a float64 JAX evaluation.
    """
    import numpy as np

    # IEEE results as in the Monte Carlo (JAX): a division by zero gives inf, not a
    # warning; a run reports non-finite outputs where they arise.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = evaluate({k: np.asarray(v, dtype=np.float64) for k, v in values.items()})
    return {k: float(v) for k, v in out.items() if k != "prices"}


def output_names(available: set[str]) -> list[str]:
    """Names of the outputs computed from ``available`` inputs, in evaluation order."""
    return [n.name for n in plan(available)]
