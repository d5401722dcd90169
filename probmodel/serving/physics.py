"""Deployment physics of one serving configuration: step times, a closed loop, four metrics.

A *configuration* is what a benchmark row (or a scenario's deployment) states: the chip,
weight precision, aggregated or disaggregated serving, tensor/expert/data-parallel
attention layout and GPU counts of the prefill and decode pools, multi-token prediction
(MTP), input and output lengths and the number of concurrent requests. The physics turns
it, with a handful of efficiencies, into what a benchmark measures: throughput per GPU,
time per output token (TPOT), time to first token (TTFT) and interactivity.

Every function is branch-free ``jax.numpy`` code over arrays of configurations (one
element per row), so the same code serves NUTS (gradients), the posterior predictive and
a scenario's Monte Carlo draws.

The model, per decode step of one worker (``W`` GPUs holding one copy of the model):

- weights read per GPU: routed experts spread over the ``W`` GPUs, but only the experts
  some token of the step routes to are read (``1 - (1 - k/E)^T`` of them for ``T`` tokens
  and ``k`` of ``E`` experts active); attention and the other non-expert weights are
  replicated on every GPU under data-parallel (DP) attention and split ``W`` ways under
  tensor parallelism;
- KV cache read per GPU: every sequence's cache once per step; multi-head latent
  attention has one latent per token shared by all heads, so under tensor-parallel
  attention every GPU reads the whole batch's cache, under DP attention only its share;
- compute per GPU: ``2 x active params`` per token on the matmul peak of the weight
  precision, attention FLOPs over the context on the BF16 peak (FP8 where the
  deployment runs FP8 attention), split ``W`` ways;
- communication per GPU: DP attention + expert parallelism moves each token's hidden
  state to the GPUs of its experts and back (dispatch FP8, combine BF16) in every MoE
  layer; tensor-parallel attention all-reduces the hidden state twice per layer; over
  the scale-up link inside its domain and the scale-out network beyond, plus a latency
  per collective;
- ``step = smoothmax(memory, compute) + communication + overhead`` (overhead: kernel
  launches, scheduling and sampling, per framework);
- MTP: ``n_draft`` draft tokens per sequence are verified in the step (so the step
  processes ``1 + n_draft`` tokens per sequence) and the draft passes cost a share of a
  step each; ``accepted`` tokens per sequence come out of each step.

Prefill costs each input token its weight and attention FLOPs (and its expert-parallel
traffic) on the prefill GPUs. The benchmark is a closed loop of ``conc`` clients: each
sends its next request when the previous one ends, so by Little's law
``conc = rate x (TTFT + output tokens x TPOT)``. The model solves that equation for the
decode batch (a damped fixed-point iteration, differentiable end to end). Aggregated
serving shares the GPUs between prefill and decode (prefill time
stretches TPOT); disaggregated serving queues prefills on their own pool (an M/D/1 wait,
a stated approximation) and moves the KV cache to the decode pool over the network.
Requests beyond what fits in HBM wait for a slot, which lengthens TTFT only.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: Share of the HBM left after the weights that holds KV cache (TensorRT-LLM's
#: free_gpu_memory_fraction, 0.9 in InferenceX's recipes; SGLang's static fraction of
#: 0.9 of all HBM gives about the same on these chips). A share of what is left, not of
#: all HBM: DeepSeek-R1 FP8 on 4-GPU GB200 workers holds 179 GB of weights on 186 GB and
#: ran.
KV_FREE_FRACTION = 0.9
#: Bytes per hidden element moved by expert-parallel dispatch (FP8) plus combine (BF16),
#: as DeepEP does for DeepSeek-V3 (DeepSeek inference system overview, 2025-03-01).
EP_BYTES_PER_ELEMENT = 3.0
#: Collectives per layer in a decode step (EP: dispatch + combine; TP: two all-reduces).
COLLECTIVES_PER_LAYER = 2.0
#: Sharpness of the smooth maximum of memory and compute time (p-norm); 4 keeps the
#: roofline's corner within 19% and differentiable for NUTS.
SMOOTHMAX_P = 4.0
#: Damped fixed-point steps on log(decode batch) for the closed loop.
FIXED_POINT_STEPS = 4
#: Sharpness of the smooth minimum of the decode and prefill rates (p-norm).
RATE_P = 6.0
#: Largest prefill-server utilisation the M/D/1 wait is evaluated at; beyond it the
#: closed loop's own identity (TTFT = conc / rate - osl x TPOT) takes over.
RHO_MAX = 0.95
TINY = 1e-12


def smoothmax(a, b, p=SMOOTHMAX_P):
    """A differentiable maximum of two positive times: (a^p + b^p)^(1/p)."""
    m = jnp.maximum(a, b)
    return m * ((a / m) ** p + (b / m) ** p) ** (1.0 / p)


def experts_touched(tokens, experts_active, experts_routed):
    """Expected share of a layer's routed experts that some of ``tokens`` tokens use.

    Notes
    -----
    experts_touched = 1 - (1 - experts_active / experts_routed)^tokens  [1]

    Routing treated as uniform and independent per token (DeepSeek balances its experts'
    load); a dense model (``experts_routed`` 0) touches all its weights.
    """
    share = jnp.where(experts_routed > 0, experts_active / jnp.maximum(experts_routed, 1.0), 1.0)
    return 1.0 - (1.0 - jnp.minimum(share, 1.0)) ** jnp.maximum(tokens, 0.0)


def distinct_gpus(width, experts_active):
    """Expected number of other GPUs a token's ``experts_active`` experts live on.

    Notes
    -----
    distinct_gpus = (W - 1) x (1 - (1 - 1/W)^k)  [GPU], 0 for W = 1
    """
    w = jnp.maximum(width, 1.0)
    return (w - 1.0) * (1.0 - (1.0 - 1.0 / w) ** experts_active)


def link_seconds_per_byte(width, c):
    """Seconds per byte each GPU sends in a collective across ``width`` GPUs.

    Inside the scale-up domain a GPU sends at half its quoted (bidirectional) link
    bandwidth; beyond it, the share of peers outside the domain goes over the scale-out
    network (per direction).
    """
    w = jnp.maximum(width, 1.0)
    inside = jnp.minimum(w, c["chip_scaleup_domain"])
    share_out = jnp.clip((w - inside) / jnp.maximum(w - 1.0, 1.0), 0.0, 1.0)
    up = 2.0 / c["chip_link_bandwidth"]
    out = 1.0 / c["chip_scaleout_bandwidth"]
    return (1.0 - share_out) * up + share_out * out


def attention_peak(rows, c):
    """FLOP/s of attention: the row's ``attention_peak`` (FP8 attention), else the BF16 peak.

    The calibration's rows run attention in BF16 (InferenceX's recipes), so they carry
    none; a scenario with FP8 attention (FlashMLA-FP8) sets it to the FP8 peak.
    """
    return rows["attention_peak"] if "attention_peak" in rows else c["chip_peak_flops"]


def decode_step(rows, m, c, e, batch):
    """Seconds of one decode step of a worker running ``batch`` sequences.

    Parameters
    ----------
    rows : mapping of arrays
        The configurations (see :func:`probmodel.serving.measurements.arrays`).
    m, c : mapping of arrays
        Model and chip constants per row.
    e : mapping of arrays
        Efficiencies per row: ``bw`` (HBM), ``flops`` (matmul/attention), ``comm`` (links),
        ``overhead`` (s per step), ``latency`` (s per collective), ``draft_cost`` (share
        of a step per draft pass), ``accepted`` (tokens per sequence per step with MTP).

    Returns
    -------
    dict
        ``step`` (s per step including draft passes), ``memory``, ``compute``, ``comm``
        (s), ``tokens_per_seq_step`` (accepted tokens per sequence per step).
    """
    w = rows["decode_width"]
    dp = rows["decode_dp"]
    n_draft = rows["n_draft"]
    verified = 1.0 + n_draft
    tokens = batch * verified
    ctx = rows["decode_context"]
    # memory
    other = m["total_params"] - m["routed_expert_params"]
    attention = jnp.minimum(m["attention_params"], other)
    touched = experts_touched(tokens, m["experts_active"], m["experts_routed"])
    expert_read = m["routed_expert_params"] * rows["expert_bytes"] * touched / w
    other_read = (other - attention) / w + jnp.where(dp, attention, attention / w)
    kv = batch * ctx * rows["kv_bytes_per_token"] * jnp.where(dp, 1.0 / w, 1.0)
    memory = (expert_read + other_read + kv) / (c["chip_hbm_bandwidth"] * e["bw"])
    # compute
    matmul = 2.0 * m["active_params"] * tokens / w / rows["matmul_peak"]
    attn = tokens * ctx * m["decode_attention_flops"] / w / attention_peak(rows, c)
    compute = (matmul + attn) / e["flops"]
    # communication
    per_elem = tokens / w * m["hidden_size"]
    ep = (per_elem * m["moe_layers"] * EP_BYTES_PER_ELEMENT
          * distinct_gpus(w, m["experts_active"]) / jnp.maximum(w - 1.0, 1.0)
          * jnp.minimum(w - 1.0, m["experts_active"]))
    tp = m["model_layers"] * 2.0 * 2.0 * (w - 1.0) / jnp.maximum(w, 1.0) * tokens \
        * m["hidden_size"] * 2.0
    comm_bytes = jnp.where(dp, ep, tp)
    multi = w > 1.0
    comm = jnp.where(
        multi,
        comm_bytes * link_seconds_per_byte(w, c) / e["comm"]
        + m["model_layers"] * COLLECTIVES_PER_LAYER * e["latency"],
        0.0)
    core = smoothmax(memory, compute) + comm + e["overhead"]
    step = core * (1.0 + n_draft * e["draft_cost"])
    accepted = jnp.where(n_draft > 0, jnp.minimum(e["accepted"], verified), 1.0)
    return {"step": step, "memory": memory, "compute": compute, "comm": comm,
            "tokens_per_seq_step": accepted}


def prefill_request_seconds(rows, m, c, e):
    """Seconds one prefill worker needs for one request's prompt (all its GPUs).

    Notes
    -----
    per computed token per GPU: (2 x active / matmul_peak + prefill_attention_flops x
    position / bf16_peak) / prefill efficiency + EP traffic x link time / comm efficiency,
    with ``position`` the mean position of a computed token (isl / 2 without cached
    prefix, :func:`prefill_tokens`); request = computed tokens x that / W + a
    per-request overhead (layers x collective latency)  [s]
    """
    w = rows["prefill_width"]
    isl = rows["isl"]
    computed = prefill_tokens(rows)
    position = isl - computed / 2.0  # mean position of a computed token (isl / 2 at no hit)
    flops = (2.0 * m["active_params"] / rows["matmul_peak"]
             + m["prefill_attention_flops"] * position / attention_peak(rows, c)) / e["prefill"]
    traffic = (m["hidden_size"] * m["moe_layers"] * EP_BYTES_PER_ELEMENT
               * distinct_gpus(w, m["experts_active"]) * link_seconds_per_byte(w, c) / e["comm"])
    traffic = jnp.where(w > 1.0, traffic, 0.0)
    return computed * (flops + traffic) / w + m["model_layers"] * e["latency"] + e["overhead"]


def prefill_tokens(rows):
    """Prompt tokens a prefill computes: ``isl x (1 - prefix_hit)``.

    A prompt whose first ``prefix_hit`` share has its KV cache stored (a prefix cache:
    DeepSeek's on-disk cache, SGLang's radix cache) computes only its tail, each tail
    token attending to the whole prefix. The benchmark rows have no cache hits (random
    prompts) and carry no ``prefix_hit``; a scenario's deployment takes it from
    ``cache_hit_rate``.
    """
    hit = rows["prefix_hit"] if "prefix_hit" in rows else 0.0
    return rows["isl"] * (1.0 - hit)


def kv_capacity(rows, m, c):
    """Sequences one decode worker can hold in HBM at full length (isl + osl).

    Notes
    -----
    0.9 x (HBM - weights per GPU) x (W under DP attention, else 1)
    / ((isl + osl) x kv bytes per token)  [sequence]; <= 0 means the weights do not fit.
    """
    free = KV_FREE_FRACTION * (c["chip_hbm_capacity"] - rows["decode_weight_bytes"])
    per_seq = (rows["isl"] + rows["osl"]) * rows["kv_bytes_per_token"]
    return free * jnp.where(rows["decode_dp"], rows["decode_width"], 1.0) / per_seq


def _loop(rows, m, c, e, batch):
    """Rate, TPOT and TTFT of the deployment with ``batch`` sequences per decode worker."""
    d = decode_step(rows, m, c, e, batch)
    step = d["step"]
    acc = d["tokens_per_seq_step"]
    osl = rows["osl"]
    sp = prefill_request_seconds(rows, m, c, e)
    agg = rows["aggregated"]
    reps = rows["decode_workers"]
    # aggregated: the replica's time is shared, rate = B a / (osl t + B a s_p)
    rate_dec = reps * batch * acc / (osl * step + jnp.where(agg, batch * acc * sp, 0.0))
    # disaggregated: the prefill pool caps the rate (smooth minimum)
    servers = jnp.where(agg, reps, rows["prefill_workers"])
    rate_pre = servers / sp
    rate = jnp.where(agg, rate_dec,
                     (rate_dec ** -RATE_P + rate_pre ** -RATE_P) ** (-1.0 / RATE_P))
    busy_prefill = jnp.where(agg, rate * sp / reps, 0.0)
    tpot = step / acc / jnp.maximum(1.0 - busy_prefill, 1e-6)
    # prefill queue: an M/D/1 wait on the prefill servers (the replicas when aggregated)
    rho = jnp.clip(rate * sp / servers, 0.0, RHO_MAX)
    wait = sp * rho / (2.0 * (1.0 - rho)) * e["queue"]
    transfer = jnp.where(agg, 0.0, rows["isl"] * rows["kv_bytes_per_token"]
                         / c["chip_scaleout_bandwidth"])
    ttft = sp + wait + transfer + step + e["ttft_fixed"]
    return {"rate": rate, "tpot": tpot, "ttft": ttft, "rho": rho, "step": step,
            "memory": d["memory"], "compute": d["compute"], "comm": d["comm"]}


def serve(rows, m, c, e):
    """Throughput per GPU, TPOT, TTFT and interactivity of each configuration.

    Parameters
    ----------
    rows : mapping of arrays
        Configurations, one element per row (:func:`probmodel.serving.measurements.read`).
    m, c : mapping of arrays
        Model and chip constants per row.
    e : mapping of arrays
        Efficiencies per row (see :func:`decode_step`; also ``prefill``, ``queue`` and
        ``ttft_fixed``).

    Returns
    -------
    dict of arrays
        ``tput_per_gpu`` (input + output tokens/s per GPU of the whole deployment),
        ``output_tput_per_gpu`` (per decode GPU), ``median_tpot`` (s),
        ``median_ttft`` (s), ``median_intvty`` (tokens/s per user), ``batch`` (decode
        sequences per worker), ``fits`` (the weights fit in HBM) and the step parts.

    Notes
    -----
    The closed loop: ``conc`` requests are either decoding (``B`` per worker, by Little's
    law rate x osl x TPOT) or waiting for / in prefill (rate x TTFT), so
    B = conc / workers / (1 + TTFT / (osl x TPOT)), capped by the KV cache HBM holds.
    A damped fixed-point iteration on log B (differentiable, a fixed number of steps)
    solves it. When the decode batch is capped, or the prefill pool saturates, the
    requests that do not fit wait: TTFT = conc / rate - osl x TPOT.
    """
    cap = jnp.maximum(kv_capacity(rows, m, c), 1e-3)
    fits = kv_capacity(rows, m, c) >= 1.0
    per_worker = rows["conc"] / rows["decode_workers"]
    batch = jnp.minimum(per_worker, cap)
    for _ in range(FIXED_POINT_STEPS):
        # a barrier per step: without it XLA's CPU fusion duplicates each step's
        # producers into every consumer, and the gradient costs 40x the forward pass
        batch = jax.lax.optimization_barrier(batch)
        o = _loop(rows, m, c, e, batch)
        new = jnp.minimum(per_worker / (1.0 + o["ttft"] / (rows["osl"] * o["tpot"])), cap)
        batch = jnp.sqrt(batch * new)
    batch = jax.lax.optimization_barrier(batch)
    o = _loop(rows, m, c, e, batch)
    ttft = jnp.maximum(o["ttft"], rows["conc"] / o["rate"] - rows["osl"] * o["tpot"])
    isl, osl = rows["isl"], rows["osl"]
    tput = o["rate"] * (isl + osl) / rows["gpus"]
    out_tput = o["rate"] * osl / rows["decode_gpus"]
    return {"tput_per_gpu": tput, "output_tput_per_gpu": out_tput,
            "median_tpot": o["tpot"], "median_ttft": ttft,
            "median_intvty": 1.0 / o["tpot"], "batch": batch, "fits": fits,
            "memory": o["memory"], "compute": o["compute"], "comm": o["comm"],
            "step": o["step"], "prefill_busy": o["rho"]}
