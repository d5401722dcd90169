"""A scenario's deployment as the serving physics takes it: names in, metrics out.

A serving scenario states its deployment as ordinary parameters (each a value or a
distribution, each settable with ``--set``): the chip and model (catalog picks), the
serving engine whose calibrated efficiencies it uses (``engine = "sglang"``, see
priors/serving-engines.toml), the precisions (``weight_bytes_per_param`` for the dense
weights, ``expert_bytes_per_param`` for the routed experts: 0.5625 FP4, 1 FP8, 2 BF16;
``kv_bytes_per_element``: 1 FP8, 2 BF16 KV cache; ``attention_bytes_per_element``: 1
runs attention on the FP8 peak, 2 on the BF16 peak), aggregated or disaggregated serving,
the decode and prefill workers (``decode_tp`` GPUs per worker, expert parallelism
spanning the worker, ``decode_dp_attention``), MTP draft tokens and their acceptance,
concurrency and the request lengths. :func:`serve` maps those names onto
:func:`probmodel.serving.physics.serve` (the physics ``backtest`` scores against measured
runs) and returns its metrics under the names the benchmark CSV uses.

Nothing here imports JAX at module level: the model graph (:mod:`probmodel.model`)
imports this module for its node list, and reading a scenario must stay fast.
"""

from __future__ import annotations

import threading

#: Scenario names of the deployment, the model and the chip that :func:`serve` reads.
INPUTS = (
    "input_length", "output_length", "concurrency", "decode_tp", "expert_bytes_per_param",
    "weight_bytes_per_param", "kv_bytes_per_token",
    # model
    "active_params", "total_params", "routed_expert_params", "experts_routed",
    "experts_active", "model_layers", "moe_layers", "hidden_size", "attention_params",
    "prefill_attention_flops", "decode_attention_flops",
    # chip
    "chip_peak_flops", "chip_fp8_flops", "chip_fp4_flops", "chip_hbm_bandwidth",
    "chip_hbm_capacity", "chip_link_bandwidth", "chip_scaleup_domain",
    "chip_scaleout_bandwidth",
    # efficiencies (priors/serving-engines.toml gives them per chip and engine)
    "serving_bw_efficiency", "serving_flops_efficiency", "serving_prefill_efficiency",
    "serving_comm_efficiency", "serving_step_overhead", "serving_collective_latency",
    "serving_ttft_fixed", "serving_queue_factor",
)
#: Optional inputs and the value each takes when a scenario leaves it out.
OPTIONAL = {
    "serving_disaggregated": 0.0,   # aggregated
    "decode_dp_attention": 0.0,     # tensor-parallel attention
    "decode_workers": 1.0,
    "prefill_tp": 1.0,              # used only when disaggregated
    "prefill_workers": 1.0,
    "mtp_draft_tokens": 0.0,
    "mtp_acceptance": 0.7,          # used only with draft tokens
    "mtp_draft_cost": 0.1,
    "kv_bytes_per_element": 2.0,    # the catalog's kv_bytes_per_token is BF16
    "attention_bytes_per_element": 2.0,  # BF16 attention, as the calibration's rows
    "cache_hit_rate": 0.0,          # share of each prompt served from a prefix cache
    "serving_model_error": 1.0,     # the physics' own answer
    "serving_ttft_error": 1.0,
}
#: Metrics of the deployment: scenario output name -> (unit, description); the costs
#: per token (:func:`cost_per_mtok`) are nodes of their own in the model graph.
OUTPUTS = {
    "tput_per_gpu": ("token/(GPU s)",
                     "input + output tokens per second per GPU of the deployment"),
    "output_tput_per_gpu": ("token/(GPU s)", "output tokens per second per decode GPU"),
    "median_tpot": ("s", "time per output token a request sees (the closed loop's)"),
    "median_ttft": ("s", "time to first token, prefill queue included"),
    "median_intvty": ("token/(user s)", "interactivity: output tokens per second per "
                                        "request, 1 / median_tpot"),
    "serving_batch": ("sequence", "sequences each decode worker runs per step"),
    "serving_gpus": ("GPU", "GPUs of the deployment (prefill + decode)"),
    "prefill_tput_per_gpu": ("token/(GPU s)",
                             "input tokens per second per prefill GPU, the prefill pool "
                             "busy (one prompt after another; the workers' own GPUs when "
                             "aggregated)"),
}


def gpus(decode_tp, decode_workers, prefill_tp, prefill_workers, disaggregated):
    """GPUs of the deployment: decode workers, plus prefill workers when disaggregated.

    Notes
    -----
    gpus = decode_tp x decode_workers + disaggregated x prefill_tp x prefill_workers  [GPU]
    """
    return decode_tp * decode_workers + disaggregated * prefill_tp * prefill_workers


def weight_bytes_per_gpu(v) -> object:
    """Bytes of weights each decode GPU holds.

    Notes
    -----
    routed experts x expert bytes / W + (other - attention) x weight bytes / W
    + attention x weight bytes x (1 under DP attention, else 1 / W)  [B], with
    ``W = decode_tp`` and ``other = total - routed`` (attention, shared experts, dense
    layers, embeddings).
    """
    w = v["decode_tp"]
    other = v["total_params"] - v["routed_expert_params"]
    attention = min_(v["attention_params"], other)
    dense = v["weight_bytes_per_param"]
    dp = v["decode_dp_attention"] > 0.5
    per_attention = where_(dp, attention, attention / w)
    return (v["routed_expert_params"] * expert_bytes(v) / w + (other - attention) * dense / w
            + per_attention * dense)


def expert_bytes(v):
    """Bytes per routed-expert weight (``expert_bytes_per_param``, else the dense bytes)."""
    e = v.get("expert_bytes_per_param", 0.0)
    return where_(e > 0, e, v["weight_bytes_per_param"])


def kv_bytes(v):
    """KV cache per token at the scenario's precision (the catalog's is BF16)."""
    return v["kv_bytes_per_token"] * v["kv_bytes_per_element"] / 2.0


def min_(a, b):
    """Elementwise minimum in NumPy or JAX, as the arguments are (checks run without JAX)."""
    import numpy as np
    return np.minimum(a, b) if _is_numpy(a, b) else _jnp().minimum(a, b)


def where_(c, a, b):
    """``where`` in NumPy or JAX, as the arguments are."""
    import numpy as np
    return np.where(c, a, b) if _is_numpy(c, a, b) else _jnp().where(c, a, b)


def _is_numpy(*xs) -> bool:
    import numpy as np
    return all(isinstance(x, np.ndarray | np.generic | float | int | bool) for x in xs)


def _jnp():
    import jax.numpy as jnp
    return jnp


def serve(**v) -> dict:
    """Every metric of the scenario's deployment (one element per draw).

    Parameters
    ----------
    **v
        The names in :data:`INPUTS` and :data:`OPTIONAL`, scalars or arrays of draws.

    Returns
    -------
    dict
        :data:`OUTPUTS` names -> arrays, plus ``fits`` (one full-length
        sequence fits in the HBM the weights leave).

    Notes
    -----
    The prefill pool is used only when ``serving_disaggregated`` is 1; aggregated
    workers prefill on their own GPUs. Expert parallelism spans each worker
    (EP = ``decode_tp``), as in every InferenceX recipe of DeepSeek-R1.
    """
    import jax.numpy as jnp

    from probmodel import _jax
    from probmodel.serving import hierarchy, physics

    _jax.configure()  # float64 in point mode, as every command has it
    v = {**OPTIONAL, **v}
    isl, osl = v["input_length"], v["output_length"]
    agg = v["serving_disaggregated"] < 0.5
    dp = v["decode_dp_attention"] > 0.5
    w = v["decode_tp"]
    eb = expert_bytes(v)
    # the matmul peak of the expert precision: FP4 below a byte, FP8 at one, else BF16
    peak = jnp.where(eb < 1.0, v["chip_fp4_flops"],
                     jnp.where(eb < 2.0, v["chip_fp8_flops"], v["chip_peak_flops"]))
    n_gpus = gpus(w, v["decode_workers"], v["prefill_tp"], v["prefill_workers"],
                  jnp.where(agg, 0.0, 1.0))
    rows = {
        "isl": isl, "osl": osl, "conc": v["concurrency"], "aggregated": agg,
        "decode_width": w, "prefill_width": jnp.where(agg, w, v["prefill_tp"]),
        "decode_workers": v["decode_workers"],
        "prefill_workers": jnp.where(agg, v["decode_workers"], v["prefill_workers"]),
        "decode_dp": dp, "n_draft": v["mtp_draft_tokens"], "gpus": n_gpus,
        "decode_gpus": w * v["decode_workers"], "expert_bytes": eb,
        "kv_bytes_per_token": kv_bytes(v), "matmul_peak": peak,
        "decode_weight_bytes": weight_bytes_per_gpu({**v, "decode_dp_attention": dp * 1.0}),
        "decode_context": isl + osl / 2.0,
        "prefix_hit": v["cache_hit_rate"],
        # FP8 attention (FlashMLA-FP8) runs on the FP8 peak
        "attention_peak": jnp.where(v["attention_bytes_per_element"] < 2.0,
                                    v["chip_fp8_flops"], v["chip_peak_flops"]),
    }
    m = {k: v[k] for k in ("active_params", "total_params", "routed_expert_params",
                           "experts_routed", "experts_active", "model_layers", "moe_layers",
                           "hidden_size", "attention_params", "prefill_attention_flops",
                           "decode_attention_flops")}
    c = {k: v[k] for k in ("chip_peak_flops", "chip_fp8_flops", "chip_fp4_flops",
                           "chip_hbm_bandwidth", "chip_hbm_capacity", "chip_link_bandwidth",
                           "chip_scaleup_domain", "chip_scaleout_bandwidth")}
    e = {"bw": v["serving_bw_efficiency"], "flops": v["serving_flops_efficiency"],
         "prefill": v["serving_prefill_efficiency"], "comm": v["serving_comm_efficiency"],
         "overhead": v["serving_step_overhead"], "latency": v["serving_collective_latency"],
         "accepted": hierarchy.accepted_length(jnp.asarray(v["mtp_acceptance"]),
                                               v["mtp_draft_tokens"]),
         "draft_cost": v["mtp_draft_cost"], "queue": v["serving_queue_factor"],
         "ttft_fixed": v["serving_ttft_fixed"]}
    o = physics.serve(rows, m, c, e)
    # computed prompt tokens per second per prefill GPU (the cached prefix is not work)
    prefill = physics.prefill_tokens(rows) / (physics.prefill_request_seconds(rows, m, c, e)
                                              * rows["prefill_width"])
    # the residual error of the calibration: a deployment runs faster or slower than
    # the physics says by this factor (throughput up, time per token down)
    err = v["serving_model_error"]
    return {"tput_per_gpu": o["tput_per_gpu"] * err,
            "output_tput_per_gpu": o["output_tput_per_gpu"] * err,
            "median_tpot": o["median_tpot"] / err,
            "median_ttft": o["median_ttft"] * v["serving_ttft_error"],
            "median_intvty": o["median_intvty"] * err, "serving_batch": o["batch"],
            "serving_gpus": n_gpus + 0.0 * o["tput_per_gpu"],
            "prefill_tput_per_gpu": prefill * err, "fits": o["fits"]}


def cost_per_mtok(tput_per_gpu, price, share, token_share=1.0):
    """GPU cost per 1M tokens of a class that carries the deployment's whole cost.

    Notes
    -----
    cost = gpu_price_per_hour / 3600 / gpu_cost_share / (tput_per_gpu x token_share)
    x 1e6  [USD/Mtoken]; ``token_share`` is output / (input + output) for output tokens.
    """
    return price / 3600.0 / share / (tput_per_gpu * token_share) * 1e6


#: The names :func:`metrics` takes, in the order the model graph passes them.
ARGUMENTS = (*INPUTS, *OPTIONAL)
_last = threading.local()  # per thread and function: the last call's arguments and result


def _once(key: str, args: tuple, compute) -> dict:
    """``compute()`` once per set of argument arrays (the last call's result is kept).

    The model graph has one node per metric and each calls with the same array objects;
    matching them by identity runs the physics once (a traced function traces it once,
    and a new evaluation with new arrays recomputes).
    """
    prev, result = getattr(_last, key, (None, None))
    if prev is not None and len(prev) == len(args) and all(
            a is b for a, b in zip(prev, args, strict=True)):
        return result
    result = compute()
    setattr(_last, key, (args, result))
    return result


def metrics(args: tuple) -> dict:
    """:func:`serve` on ``args`` (values of :data:`ARGUMENTS`), once per set of arrays."""
    return _once("metrics", args, lambda: serve(**dict(zip(ARGUMENTS, args, strict=True))))


#: Inputs of the operating point at a latency target (:func:`slo_metrics`): the
#: deployment without its concurrency (the target sets it), and the target.
SLO_ARGUMENTS = (*(k for k in ARGUMENTS if k != "concurrency"), "slo_interactivity",
                 "slo_ttft")
#: Optional inputs of the operating point (no TTFT target: any wait).
SLO_OPTIONAL = {**OPTIONAL, "slo_ttft": float("inf")}
#: The operating point's outputs: name -> (metric of the frontier, unit, description).
SLO_OUTPUTS = {
    "slo_concurrency": ("concurrency", "request",
                        "requests in flight per deployment at the latency target"),
    "slo_output_tput_per_gpu": ("output_tput_per_gpu", "token/(GPU s)",
                                "output tokens/s per decode GPU at the latency target"),
    "slo_prefill_tput_per_gpu": ("prefill_tput_per_gpu", "token/(GPU s)",
                                 "input tokens/s per prefill GPU, the pool busy"),
    "slo_intvty": ("median_intvty", "token/(user s)",
                   "interactivity at the operating point (the target where it binds)"),
    "slo_ttft_at": ("median_ttft", "s", "time to first token at the operating point"),
    "slo_met": ("met", "1", "1 where the deployment meets the latency target (at least "
                            "with one request in flight), else 0"),
}
#: Factor on a deployment's prefill workers at a latency target: enough that prefill
#: never paces decode (a fleet adds prefill GPUs for its demand apart).
PREFILL_HEADROOM = 1e4


def slo_metrics(args: tuple) -> dict:
    """The operating point at the latency target (values of :data:`SLO_ARGUMENTS`).

    :func:`probmodel.serving.frontier.slo_metrics`, computed once per set of arrays as
    :func:`metrics` is: the physics runs over the concurrency grid for every draw and the
    highest throughput meeting the target is taken.
    """
    def compute():
        from probmodel.serving import frontier

        v = dict(zip(SLO_ARGUMENTS, args, strict=True))
        a, t = v.pop("slo_interactivity"), v.pop("slo_ttft")
        # a fleet's decode GPUs at the target: the prefill pool sized not to bind (the
        # fleet counts its prefill GPUs apart, from the prefill rate), so only one
        # prompt's own prefill, not a queue, enters the time to first token
        v["prefill_workers"] = v["prefill_workers"] * PREFILL_HEADROOM
        return frontier.slo_metrics(v, a, t)

    return _once("slo", args, compute)
