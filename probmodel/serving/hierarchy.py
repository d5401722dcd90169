"""Efficiencies partially pooled over vendor, generation, chip and serving engine.

Each efficiency of the physics (HBM bandwidth, matmul/attention FLOPs, prefill FLOPs,
link bandwidth) is a share of the chip's specification, on the logit scale::

    chip[k, c] ~ Normal(mu[k] + vendor[k, v(c)] + generation[k, g(c)], sigma_chip)
    z[k, row] = chip[k, c(row)] + stack[k, s(row)]
    efficiency[k, row] = sigmoid(z)

with vendor, generation and stack effects ~ Normal(0, sigma_level) (non-centred: the
data say little about them apart) and the chips centred (the data fix each chip's total
tightly); ``stack`` is the serving engine on a vendor (sglang-nvidia, trt-nvidia,
sglang-amd, atom-amd...). Per
stack also: the overhead per decode step (lognormal around 3 ms), the accepted tokens
per step with MTP (1 + p + ... + p^drafts, p a sigmoid), per vendor the latency of one
collective. A chip
with no measured rows keeps its specification and draws its chip effect (and its
generation's, vendor's or stack's when those are unseen too) from the level's spread
around the posterior of the levels above: its prediction is the pooled one, honestly
wider.

The likelihood: log(measured) = log(physics) + noise, Student-t with 5 degrees of
freedom and a scale per metric learned from the data but never below the floor the
benchmark itself shows (the same configuration measured on different dates differs by a
median 0.04 in |log| of throughput: a normal with that median absolute deviation has
sd 0.04 / 0.674 = 0.06).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from probmodel.serving import physics
from probmodel.serving.measurements import FITTED

#: Efficiency kinds on the logit scale and their prior centres (logit of the share of
#: the spec a tuned kernel reaches): HBM 0.75 (FlashMLA 3,000 of 3,350 GB/s at best,
#: less in a serving step), FLOPs 0.5 (DeepGEMM 1,350 of 1,979 FP8 TFLOP/s at best, MoE
#: grouped GEMMs at serving batch sizes far less), prefill 0.45, links 0.5 (DeepEP
#: ~150 of ~450 GB/s per direction inside a node for dispatch).
KINDS = ("bw", "flops", "prefill", "comm")
#: Kinds that vary by chip and engine; the others vary by vendor only. Prefill FLOPs
#: show only through TTFT (noisy: sd ~0.5 in log) and link efficiency only through the
#: multi-GPU share of a step, so per chip they trade off against the step overhead and
#: each other: a posterior with several modes that no chain mixes between.
CHIP_KINDS = 2
PRIOR_CENTRE = {"bw": 0.75, "flops": 0.5, "prefill": 0.45, "comm": 0.5}
LEVELS = ("vendor", "generation", "chip", "stack")
#: Spreads of each level on the logit scale, stated rather than learned: the data hold
#: two vendors, four generations and five chips, too few groups to learn a spread (a
#: learned scale from so few groups is a funnel NUTS cannot explore, and its posterior
#: would be its prior). 0.5 moves an efficiency of 0.5 to [0.3, 0.7] at 90%; a chip
#: within its generation 0.25, to [0.4, 0.6] (same kernels and compilers, different
#: memory, clocks and power). Leaving each accelerator out (``backtest --cv chip``)
#: is the check that these spreads cover what an unseen chip does.
SIGMA = {"vendor": 0.5, "generation": 0.5, "chip": 0.25, "stack": 0.5}
#: Noise floor (sd of log) of a measured metric: the benchmark's date-to-date spread.
NOISE_FLOOR = 0.06
STUDENT_DF = 5.0
#: Priors of the per-stack and per-vendor constants (medians).
OVERHEAD_PRIOR_S = 3e-3     # per decode step: launch, scheduling, sampling with graphs
LATENCY_PRIOR_S = 10e-6     # per collective inside a node (NCCL/RCCL small messages)
TTFT_PRIOR_S = 0.05         # per request before its first token: HTTP, tokenizer, scheduler


@dataclass(frozen=True)
class Index:
    """The levels a calibration saw, and each row's position in them (-1: unseen)."""

    names: Mapping[str, tuple[str, ...]]     # level -> names seen
    rows: Mapping[str, np.ndarray]           # level -> index per row
    chip_parent: Mapping[str, np.ndarray]    # vendor / generation index of each seen chip

    @classmethod
    def build(cls, labels: Mapping[str, Sequence[str]]) -> Index:
        """Index rows' labels (level -> label per row), levels in order of appearance."""
        seen = {lv: tuple(dict.fromkeys(labels[lv])) for lv in labels}
        rows = {lv: np.array([seen[lv].index(x) if x in seen[lv] else -1
                              for x in labels[lv]], dtype=np.int32) for lv in labels}
        parent = {lv: np.zeros(len(seen["chip"]), dtype=np.int32)
                  for lv in ("vendor", "generation")}
        for i, chip in enumerate(labels["chip"]):
            j = seen["chip"].index(chip) if chip in seen["chip"] else -1
            if j >= 0:
                for lv in parent:
                    parent[lv][j] = max(rows[lv][i], 0)
        return cls(seen, rows, parent)


def labels(meas, rows_mask=None) -> dict[str, list[str]]:
    """Vendor, generation, chip and stack of each row of a Measurements."""
    from probmodel.serving.measurements import chip_constants
    cache = {}
    out = {lv: [] for lv in LEVELS}
    for chip, stack in zip(meas.chip, meas.stack, strict=True):
        c = cache.setdefault(chip, chip_constants(chip))
        out["vendor"].append(c["vendor"])
        out["generation"].append(f"{c['vendor']}-{c['generation']}")
        out["chip"].append(chip)
        out["stack"].append(stack)
    if rows_mask is not None:
        out = {k: [x for x, keep in zip(v, rows_mask, strict=True) if keep]
               for k, v in out.items()}
    return out


def model(config: Mapping, index: Index, measured: Mapping | None = None,
          weights: Mapping | None = None, row_of: np.ndarray | None = None) -> None:
    """The numpyro model: hierarchy -> per-configuration efficiencies -> physics -> likelihood.

    ``config`` and ``index`` describe distinct configurations; ``row_of`` maps each
    measured row to its configuration (the same deployment measured on several dates is
    evaluated once), None when rows and configurations are one to one.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from probmodel.serving.measurements import split

    centre = jnp.log(jnp.array([PRIOR_CENTRE[k] / (1 - PRIOR_CENTRE[k]) for k in KINDS]))
    nk, nc = len(KINDS), CHIP_KINDS
    mu = numpyro.sample("mu", dist.Normal(centre, 1.0).to_event(1))
    vendor = numpyro.sample("vendor_raw", dist.Normal(0.0, 1.0).expand(
        [nk, len(index.names["vendor"])]).to_event(2)) * SIGMA["vendor"]
    gen = numpyro.sample("generation_raw", dist.Normal(0.0, 1.0).expand(
        [nc, len(index.names["generation"])]).to_event(2)) * SIGMA["generation"]
    # chips centred on their vendor + generation: the data fix each chip's total, so
    # the sampler sees one well-scaled parameter per chip, not a ridge of four sums
    vi, gi = (np.asarray(index.chip_parent[k]) for k in ("vendor", "generation"))
    loc = mu[:nc, None] + vendor[:nc, vi] + gen[:, gi]
    chip = numpyro.sample("chip_z", dist.Normal(loc, SIGMA["chip"]).to_event(2))
    stack = numpyro.sample("stack_raw", dist.Normal(0.0, 1.0).expand(
        [nc, len(index.names["stack"])]).to_event(2)) * SIGMA["stack"]
    # one vector per kind: slicing a stacked (kinds, rows) array makes XLA's CPU
    # gradient 25x slower than separate vectors
    ci = np.asarray(index.rows["chip"])
    si = np.asarray(index.rows["stack"])
    vr = np.asarray(index.rows["vendor"])
    z = [chip[j][ci] + stack[j][si] for j in range(nc)]
    z += [mu[j] + vendor[j][vr] for j in range(nc, nk)]
    share = [1.0 / (1.0 + jnp.exp(-zj)) for zj in z]
    nst, nv = len(index.names["stack"]), len(index.names["vendor"])
    log_over = numpyro.sample("log_overhead", dist.Normal(jnp.log(OVERHEAD_PRIOR_S), 0.7)
                              .expand([nst]).to_event(1))
    acc_logit = numpyro.sample("accept_logit", dist.Normal(0.0, 1.0).expand([nst]).to_event(1))
    log_lat = numpyro.sample("log_latency", dist.Normal(jnp.log(LATENCY_PRIOR_S), 0.7)
                             .expand([nv]).to_event(1))
    log_ttft = numpyro.sample("log_ttft_fixed", dist.Normal(jnp.log(TTFT_PRIOR_S), 1.0)
                              .expand([nst]).to_event(1))
    draft = numpyro.sample("draft_cost", dist.LogNormal(jnp.log(0.1), 0.5))
    queue = numpyro.sample("queue", dist.LogNormal(0.0, 0.5))
    s_idx = jnp.asarray(np.clip(index.rows["stack"], 0, None))
    v_idx = jnp.asarray(np.clip(index.rows["vendor"], 0, None))
    e = {"bw": share[0], "flops": share[1], "prefill": share[2], "comm": share[3],
         "overhead": jnp.exp(log_over)[s_idx], "latency": jnp.exp(log_lat)[v_idx],
         "accepted": accepted_length(_sigmoid(acc_logit)[s_idx], config["n_draft"]),
         "draft_cost": draft, "queue": queue, "ttft_fixed": jnp.exp(log_ttft)[s_idx]}
    rows, c, m = split({k: jnp.asarray(v) for k, v in config.items()})
    out = physics.serve(rows, m, c, e)
    if measured is None:
        for k in FITTED:
            numpyro.deterministic(k, out[k])
        return
    if row_of is not None:
        out = {k: out[k][jnp.asarray(row_of)] for k in FITTED}
    for k in FITTED:
        extra = numpyro.sample(f"noise_{k}", dist.HalfNormal(0.3))
        scale = NOISE_FLOOR + extra
        y = jnp.asarray(measured[k])
        ok = jnp.asarray(weights[k]) if weights is not None else jnp.isfinite(y)
        resid = jnp.where(ok, jnp.log(jnp.where(ok, y, 1.0)) - jnp.log(out[k]), 0.0)
        lp = dist.StudentT(STUDENT_DF, 0.0, scale).log_prob(resid)
        numpyro.factor(f"ll_{k}", jnp.sum(jnp.where(ok, lp, 0.0)))


def _sigmoid(x):
    import jax.numpy as jnp
    return 1.0 / (1.0 + jnp.exp(-x))


def accepted_length(p, n_draft):
    """Tokens per sequence per step with ``n_draft`` draft tokens accepted each with ``p``.

    Notes
    -----
    accepted = 1 + p + p^2 + ... + p^n_draft  [token/step] (a draft token counts only if
    every one before it was accepted; each with probability ``p``)
    """
    import jax.numpy as jnp
    n = jnp.asarray(n_draft)
    out = jnp.ones_like(p * n)
    for i in range(1, 5):
        out = out + jnp.where(n >= i, p ** i, 0.0)
    return out


#: The latent sites of :func:`model`, in the order posterior files store them.
