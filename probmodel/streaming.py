"""Streaming Monte Carlo: summaries computed while scanning over chunks, in bounded memory.

A reducer over the engine's chunks: one compiled function runs a ``lax.scan`` over a
block of chunks, each produced by the engine's per-chunk function
(:meth:`probmodel.sampling.ForwardModel.chunk`, keyed by
:func:`probmodel.sampling.chunk_key`, so draws equal the host loop's), and returns, per
chunk, the count and the number of profitable draws; an evenly thinned set of kept
draws (inputs and outputs of the same draws); and, on the histogram path (runs that do
not keep every draw, or --precision), per chunk the float64 mean and centred sum of
squares, min and max of the histogrammed variables (the key outputs, profit and the
events' outputs) and every variable's count of non-finite draws, per block fine
fixed-bin histograms of the histogrammed variables and exact tail sums. The other
variables are summarised from the kept draws. The host combines chunks in chunk order (Chan's
parallel formula), so the result does not depend on how chunks were spread over
devices: the chunk axis is
sharded over every device JAX sees (``shard_map``), and one device or eight give the
same summary bit for bit.

Quantiles, their MCSEs and expected shortfalls come from those histograms and tail
sums (:mod:`probmodel.histograms`). When every draw is kept, summaries are exact
statistics of the kept draws instead (:func:`probmodel.results.stats_kernel`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax import lax
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from probmodel import distributed, histograms, results
from probmodel.correlation import BLOCK
from probmodel.histograms import BINS
from probmodel.mcse import (
    MIN_BLOCKS,
    block_factors,
    posterior_inflation,
    posterior_part,
    posterior_parts,
)
from probmodel.precision import check_reachable, moments, precision_status, status_note
from probmodel.sampling import (
    CHUNK,
    DTYPE,
    ForwardModel,
    chunk_key,
    posterior_rows,
    root_key,
)

#: Draws kept by default (all of them up to this many; an evenly thinned subset beyond).
KEEP_CAP = 1 << 20
#: Chunks per compiled call per device (about 1e6 draws: progress and precision checks
#: happen between calls).
CHUNKS_PER_CALL = 8
#: Device-side thinning used once a run holds more than KEEP_CAP draws.
THIN_STRIDE = 128


@dataclass(frozen=True)
class Plan:
    """Static shape of one compiled streaming block (hashable: jit keys on it)."""

    model: ForwardModel
    varying: tuple[str, ...]  # variables that vary between draws
    constant: tuple[str, ...]  # variables equal in every draw
    hist: bool  # accumulate histograms
    stride: int  # device-side thinning of kept draws (0: keep none)
    chunks: int  # chunks per call per device
    n_dev: int
    events: tuple[tuple[str, str], ...] = ()  # (output, op); thresholds in args["event_x"]
    # the variables histogrammed (with hist): the key outputs, profit and the events'
    # outputs; the others are summarised from the kept draws (_finish)
    hist_vars: tuple[str, ...] = ()


def _split(model: ForwardModel, args) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which variables vary between draws (traced shape (n,)) and which are constant."""
    # Only the equations are traced (inputs stand in as (8,) arrays), not the samplers.
    def outs(a):
        inputs = {k: jnp.zeros(8, DTYPE) for k in model.names
                  if k in dict(model.uncertain) or k in model.posterior}
        return model.evaluate(inputs, a, 8, broadcast=False)

    shapes = jax.eval_shape(outs, args)
    varying = tuple(k for k in model.names if k in shapes and shapes[k].shape != ())
    constant = tuple(k for k in model.names if k in shapes and shapes[k].shape == ())
    return varying, constant


def _block(plan: Plan, args, root, chunk_ids, total, lo, inv_w, logv, k_lo, k_hi):
    """Scan over this device's chunks: per-chunk statistics, histograms, kept draws.

    ``lo``, ``inv_w`` and ``logv`` (per varying variable: bin origin, 1 / bin width,
    bins in log space) and ``k_lo``, ``k_hi`` (the tail bins whose draws are summed
    exactly) are traced, so the pilot call and the run share one compile.
    """
    model = plan.model
    nv = len(plan.varying)
    hidx = np.asarray([plan.varying.index(k) for k in plan.hist_vars], np.int32)
    nh = len(hidx)
    nb = BINS + 3  # 0 underflow, 1..BINS, BINS+1 overflow, BINS+2 non-finite
    logv = logv[:, None]
    offsets = (jnp.arange(nh, dtype=jnp.int32) * nb)[:, None]

    def body(hist, i):
        out = model.chunk(chunk_key(root, i), args, CHUNK, broadcast=False)
        cols = [out[k] for k in plan.varying]
        # (V, CHUNK), for the paths that need every variable at once (kept draws at
        # stride 1, posterior rows, correlated blocks); XLA drops it where none does.
        # The histogram path stacks only what it uses.
        x = jnp.stack(cols) if nv else jnp.zeros((0, CHUNK), DTYPE)
        index = i.astype(jnp.int64) * CHUNK + jnp.arange(CHUNK, dtype=jnp.int64)
        valid = index < total
        cnt = jnp.sum(valid, dtype=jnp.int64)
        c = jnp.maximum(cnt, 1).astype(jnp.float64)

        stats = {"count": cnt}
        if plan.hist:  # (H, CHUNK): the histogrammed variables, stacked once
            xh = (x if nh == nv else jnp.stack([cols[j] for j in hidx]) if nh
                  else jnp.zeros((0, CHUNK), DTYPE))
            # Moments of the histogrammed variables (float64 sums of the draws shifted
            # by the chunk's first draw, so the centred sum of squares does not cancel),
            # and every variable's count of non-finite draws. The other variables'
            # means and sds come from the kept draws, as their quantiles do (_finish).
            # Without histograms every draw is kept and summarised exactly on the host,
            # so the block computes no moments (a smaller program: it loads faster
            # from the compilation cache).
            stats.update(_moments(xh, hidx, cols, valid, c,
                                  (i.astype(jnp.int64) + 1) * CHUNK <= total))
        if plan.constant:
            stats["const"] = jnp.stack([out[k] for k in plan.constant])
        if "profit" in out:
            stats["profitable"] = jnp.sum((out["profit"] > 0) & valid, dtype=jnp.int64)
            if model.posterior:  # draws and profitable draws per posterior row
                m = args["posterior"][model.posterior[0]].shape[0]
                rows = posterior_rows(chunk_key(root, i), m, CHUNK)
                stats["post_n"] = jnp.zeros(m, jnp.int32).at[rows].add(valid.astype(jnp.int32))
                stats["post_hits"] = jnp.zeros(m, jnp.int32).at[rows].add(
                    ((out["profit"] > 0) & valid).astype(jnp.int32))
        if model.posterior and nv:
            # per posterior row: draws, and sums and squares of every variable (the
            # posterior sample's share of each estimate's error: posterior_parts)
            m = args["posterior"][model.posterior[0]].shape[0]
            rows = posterior_rows(chunk_key(root, i), m, CHUNK)
            xv = jnp.where(valid & jnp.isfinite(x), x.astype(jnp.float64), 0.0).T  # (n, V)
            stats["post_rows"] = jnp.zeros(m, jnp.int32).at[rows].add(valid.astype(jnp.int32))
            stats["post_sum"] = jnp.zeros((m, nv), jnp.float64).at[rows].add(xv)
            stats["post_sq"] = jnp.zeros((m, nv), jnp.float64).at[rows].add(xv * xv)
        if plan.events:  # draws in which each event holds
            stats["events"] = jnp.stack([
                jnp.sum(_OPS[op](out[k], args["event_x"][j]) & valid, dtype=jnp.int64)
                for j, (k, op) in enumerate(plan.events)])
        if model.correlated or model.given:  # draws dependent within a block
            # per Iman-Conover block: sums of every variable and counts of the indicators
            # (batch means: the blocks are independent, the draws within one are not)
            nbk = CHUNK // BLOCK

            def per_block(v):
                return v.reshape(*v.shape[:-1], nbk, BLOCK).sum(axis=-1)

            fin = valid & jnp.isfinite(x)
            stats["bsum"] = per_block(jnp.where(fin, x.astype(jnp.float64), 0.0))
            stats["bcnt"] = per_block(valid.astype(jnp.int32))
            if "profit" in out:
                stats["bprof"] = per_block(((out["profit"] > 0) & valid).astype(jnp.int32))
            if plan.events:
                stats["bev"] = jnp.stack([
                    per_block((_OPS[op](out[k], args["event_x"][j]) & valid)
                              .astype(jnp.int32))
                    for j, (k, op) in enumerate(plan.events)])
        if plan.stride:
            stats["kept"] = (x if plan.stride == 1 else
                             jnp.stack([v[::plan.stride] for v in cols]))
        if plan.hist:
            t = jnp.where(logv, jnp.log(jnp.where(xh > 0, xh, jnp.inf)), xh)
            t = jnp.where(logv & (xh <= 0), -jnp.inf, t)
            pos = jnp.floor((t - lo[:, None]) * inv_w[:, None])
            b = jnp.clip(pos, -1, BINS).astype(jnp.int32) + 1
            b = jnp.where(jnp.isnan(t) | ~jnp.isfinite(xh), BINS + 2, b)  # NaN and +-inf
            # exact sums of the tail bins' draws (float64 accumulation of float32 draws;
            # their counts are the histogram's)
            stats["tails"] = jnp.stack([
                jnp.sum(jnp.where(m, xh, 0.0), axis=1, dtype=jnp.float64)
                for m in (valid & (b <= k_lo[:, None]),
                          valid & (b >= k_hi[:, None]) & (b <= BINS + 1))], axis=1)  # (H, 2)
            hist = hist.at[(b + offsets).ravel()].add(jnp.broadcast_to(valid, xh.shape).ravel()
                                                      .astype(jnp.int32), mode="drop")
        return hist, stats

    hist0 = jnp.zeros(nh * nb if plan.hist else 0, jnp.int32)
    hist, stats = jax.lax.scan(body, hist0, chunk_ids)
    return hist[None], stats


def _moments(xh, hidx, cols, valid, c, full):
    """Mean, M2, min and max of each row of ``xh``; every variable's non-finite count.

    ``xh`` (H, CHUNK) holds the draws of the variables ``hidx`` of ``cols`` (each
    variable's (CHUNK,) draws).

    A chunk whose draws are all valid and finite (every chunk but a run's last, unless
    a variable is NaN or infinite) takes the unmasked path: XLA's CPU backend writes
    every masked operand (``where(valid, ...)``, the int64 count) to memory before
    reducing it, which made the masked form cost as much as drawing the chunk (50 CPU-ms
    per 2^17 draws of 21 variables, against 12). Both paths reduce the same float64
    array, so they give the same numbers bit for bit. Finiteness is read from sums: the
    float64 sums of the moments, and a float32 sum of each other row (a NaN or
    infinite draw makes a sum non-finite; a float32 sum that merely overflows sends the
    chunk to the masked path, which counts exactly).
    """
    nv = len(cols)
    others = [cols[j] for j in np.setdiff1d(np.arange(nv), hidx)]
    x0 = xh[:, :1].astype(jnp.float64)

    def nonfinite():
        return jnp.stack([jnp.sum(valid & ~jnp.isfinite(v), dtype=jnp.int64) for v in cols])

    def masked():
        d = jnp.where(valid, xh.astype(jnp.float64) - x0, 0.0)
        s1, s2 = jnp.sum(d, axis=1), jnp.sum(d * d, axis=1)
        ok = valid & jnp.isfinite(xh)
        return dict(mean=x0[:, 0] + s1 / c, m2=jnp.maximum(s2 - s1 * s1 / c, 0.0),
                    min=jnp.min(jnp.where(ok, xh, jnp.inf), axis=1),
                    max=jnp.max(jnp.where(ok, xh, -jnp.inf), axis=1),
                    nonfinite=nonfinite())

    def unmasked():
        d = xh.astype(jnp.float64) - x0
        s1, s2 = jnp.sum(d, axis=1), jnp.sum(d * d, axis=1)
        r = dict(mean=x0[:, 0] + s1 / c, m2=jnp.maximum(s2 - s1 * s1 / c, 0.0),
                 min=jnp.min(xh, axis=1), max=jnp.max(xh, axis=1),
                 nonfinite=jnp.zeros(nv, jnp.int64))
        finite = jnp.all(jnp.isfinite(s1) & jnp.isfinite(s2))
        if others:
            finite &= jnp.all(jnp.isfinite(jnp.stack([jnp.sum(v) for v in others])))
        return lax.cond(finite, lambda: r, masked)

    return lax.cond(full, unmasked, masked)


_OPS = {">": jnp.greater, ">=": jnp.greater_equal, "<": jnp.less, "<=": jnp.less_equal}
_COMPILED: dict[Plan, Callable] = {}


def _compiled(plan: Plan) -> Callable:
    """The jitted, device-sharded block function of ``plan`` (cached)."""
    if plan not in _COMPILED:
        mesh = Mesh(np.asarray(jax.devices()[:plan.n_dev]), ("draws",))
        f = jax.shard_map(partial(_block, plan), mesh=mesh,
                          in_specs=(P(), P(), P("draws"), P(), P(), P(), P(), P(), P()),
                          out_specs=(P("draws"), P("draws")), check_vma=False)
        _COMPILED[plan] = jax.jit(f)
    return _COMPILED[plan]


@dataclass
class StreamResult:
    """What a streaming run produced."""

    draws: int
    summary: xr.Dataset  # the result contract (probmodel.results), attrs["draws"]
    kept: dict[str, np.ndarray]  # thinned (or all) draws of every variable
    stride: int  # kept draw j is draw j * stride
    quantile_method: str
    precision: dict | None = None
    out_of_range: dict[str, float] = field(default_factory=dict)


class _Acc:
    """Host-side accumulation of block results, in chunk order."""

    def __init__(self, plan: Plan, keep_stride: int, draws_cap: int | None):
        self.plan = plan
        self.stats: list[dict[str, np.ndarray]] = []
        self.hist = None
        self.kept: list[np.ndarray] = []
        self.keep_stride = keep_stride  # host stride (a multiple of the device stride)
        self.kept_count = 0
        self.draws_cap = draws_cap
        self.post: dict[str, np.ndarray] = {}  # per posterior row: draws, profitable draws

    def add(self, plan: Plan, result) -> None:
        hist, stats = distributed.to_host(result)  # gathered from every process
        stats = {k: np.asarray(v) for k, v in stats.items()}
        kept = stats.pop("kept", None)
        for k in ("post_n", "post_hits", "post_rows"):  # summed here: (rows,) per call
            if k in stats:
                v = stats.pop(k).astype(np.int64)
                v = v.reshape(-1, v.shape[-1]).sum(axis=0)
                self.post[k] = v if k not in self.post else self.post[k] + v
        for k in ("post_sum", "post_sq"):  # (chunks, rows, V) -> (rows, V)
            if k in stats:
                v = stats.pop(k).astype(np.float64)
                v = v.reshape(-1, *v.shape[-2:]).sum(axis=0)
                self.post[k] = v if k not in self.post else self.post[k] + v
        self.stats.append(stats)
        if plan.hist:
            h = np.asarray(hist).astype(np.int64).sum(axis=0)
            self.hist = h if self.hist is None else self.hist + h
        if kept is not None:
            # (chunks, V, CHUNK / stride) -> (V, draws / stride), then host thinning
            k = np.moveaxis(kept, 1, 0).reshape(kept.shape[1], kept.shape[0] * kept.shape[2])
            step = self.keep_stride // plan.stride
            self.kept.append(k[:, ::step])

    def rethin(self, factor: int) -> None:
        """Keep every ``factor``-th of the kept draws (stride multiplies by ``factor``)."""
        self.kept = [np.concatenate(self.kept, axis=1)[:, ::factor]] if self.kept else []
        self.keep_stride *= factor

    def kept_len(self) -> int:
        return sum(k.shape[1] for k in self.kept)

    def totals(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([s[k] for s in self.stats]) for k in self.stats[0]}


def _n_devices(devices: int | None) -> int:
    n = len(jax.devices())
    return n if devices is None else max(1, min(devices, n))


def run_stream(
    model: ForwardModel, args, draws: int, seed: int, *,
    precision: float | None = None, max_draws: int = 10**9, keep_all: bool = False,
    keep_cap: float | None = None, progress: Callable[[int], None] | None = None,
    devices: int | None = None, key_outputs: tuple[str, ...] = results.KEY_OUTPUTS,
    exact_when_kept: bool = True, posterior_ess: float | None = None,
    events: Sequence = (),
) -> StreamResult:
    """Stream ``draws`` draws (or, with ``precision``, as many as needed) through ``model``.

    Parameters
    ----------
    model, args
        The forward model and its numbers (:meth:`ForwardModel.args`).
    draws : int
        Draws to run; with ``precision``, the minimum (at least one call's worth).
    seed : int
        The seed: chunk ``i`` uses ``fold_in(PRNGKey(seed), i)``.
    precision : float, optional
        Keep drawing until the MCSE of P(profit > 0) is at most ``precision`` and the
        MCSE of every reported quantile of the key outputs, relative to the quantile's
        magnitude (or to half its 90% interval where that is larger, so a quantile
        near zero does not demand unbounded draws), is at most ``precision``.
    max_draws : int
        Stop there even if the precision is not reached (reported).
    keep_all : bool
        Keep every draw (memory grows with the draws) instead of at most ``keep_cap``
        (default :data:`KEEP_CAP`), evenly thinned by a power-of-two stride.
    progress : callable, optional
        Called with the number of draws done after each call.
    devices : int, optional
        Use the first ``devices`` devices (default: all of them).
    exact_when_kept : bool
        When every draw is kept, summarise with exact quantiles of the draws.
    posterior_ess : float, optional
        ESS of the posterior table the model draws from (a calibration's): the MCSE
        of P(profit > 0) then includes the posterior sample's error
        (:func:`posterior_part`).
    events : sequence of Event, optional
        Events (:class:`probmodel.analysis.targets.Event`) whose draws are counted while
        streaming: P(event) and its MCSE go into the summary (``p_event``).

    Returns
    -------
    StreamResult
    """
    n_dev = _n_devices(devices)
    keep_cap = KEEP_CAP if keep_cap is None else keep_cap
    varying, constant = _split(model, args)
    per_call = CHUNKS_PER_CALL * n_dev
    need_chunks = math.ceil(draws / CHUNK)
    cpd = min(CHUNKS_PER_CALL, math.ceil(need_chunks / n_dev))  # chunks per device per call
    per_call = cpd * n_dev
    target = draws if precision is None else max(draws, per_call * CHUNK)
    limit = target if precision is None else max(max_draws, target)
    all_kept = keep_all or limit <= keep_cap
    want_hist = precision is not None or not (all_kept and exact_when_kept)
    if not want_hist:
        # Every draw kept and summarised exactly: the answer does not depend on how the
        # chunks are grouped into calls, so a call draws at most 2 chunks per device and
        # progress is reported after every 2^18 draws; the host's summing of one call
        # overlaps the next. Not 1: XLA compiles a loop of one step differently, and
        # float32 results would then differ in the last bit between device counts.
        cpd = min(2, cpd)
        per_call = cpd * n_dev
    if all_kept:
        host_stride = dev_stride = 1
    else:
        host_stride = 1 << max(0, math.ceil(math.log2(limit / keep_cap)))
        dev_stride = min(host_stride, THIN_STRIDE) if precision is None else 1
        if precision is not None:
            host_stride = 1
    root = root_key(seed)
    mesh = Mesh(np.asarray(jax.devices()[:n_dev]), ("draws",))
    total = np.int64(limit if precision is not None else target)

    events = tuple(events)
    if events:  # thresholds are numbers of the call, not of the compiled program
        args = {**args, "event_x": jnp.asarray([e.x for e in events], DTYPE)}

    wanted = {*key_outputs, "profit", *(e.output for e in events)}
    hist_vars = tuple(k for k in varying if k in wanted) if want_hist else ()
    hidx = [varying.index(k) for k in hist_vars]

    def plan_for(stride):
        return Plan(model, varying, constant, want_hist, stride, cpd, n_dev,
                    tuple((e.output, e.op) for e in events), hist_vars)

    def call(plan, start, ranges):
        ids = distributed.put_ids(np.arange(start, start + per_call, dtype=np.int32),
                                  jax.sharding.NamedSharding(mesh, P("draws")))
        return plan, _compiled(plan)(args, root, ids, total, *ranges)

    nv = len(varying)
    # Histogram ranges come from a pilot: the first call, with every draw in one bin
    # (1 / width = 0), is run again with the ranges its kept draws give. Same compiled
    # function, so the pilot costs one call, not a compile.
    nh = len(hist_vars)
    ranges = (np.zeros(nh), np.zeros(nh), np.zeros(nh, bool), np.zeros(nh, np.int32),
              np.zeros(nh, np.int32))
    plan = plan_for(dev_stride)
    pending = call(plan, 0, ranges)
    if want_hist:
        st = pending[1][1]
        kept0 = distributed.to_host(st["kept"])  # (chunks, V, draws kept per chunk)
        pilot = np.moveaxis(kept0, 1, 0).reshape(nv, kept0.shape[0] * kept0.shape[2])[hidx]
        # the first min(CHUNKS_PER_CALL, chunks needed) chunks: the same draws whatever
        # the number of devices (every device count's first call holds at least these)
        first = min(CHUNKS_PER_CALL, need_chunks) * CHUNK
        pilot = pilot[:, :max(1, math.ceil(min(total, first) / plan.stride))]
        ranges = distributed.agree(histograms.ranges(pilot))  # process 0 decides
        pending = call(plan, 0, ranges)
    acc = _Acc(plan, host_stride, None)
    start = 0
    status = None
    while True:
        start += per_call
        more = start * CHUNK < (limit if precision is not None else target)
        nxt = call(plan, start, ranges) if more else None  # dispatched before waiting
        acc.add(*pending)
        done = min(start * CHUNK, total)
        if progress is not None:
            progress(int(done))
        while not keep_all and math.ceil(done / acc.keep_stride) > keep_cap:
            acc.rethin(2)
            if plan.stride < THIN_STRIDE <= acc.keep_stride:
                plan = plan_for(THIN_STRIDE)  # thin on the device too (one more compile)
        if precision is not None and done >= draws:
            first_check = status is None
            status = precision_status(acc, ranges, key_outputs, precision, varying,
                                       posterior_ess)
            if first_check:  # the pilot's MCSE says whether any draw count can reach it
                check_reachable(status, precision)
            if progress is not None and hasattr(progress, "note"):  # shown, not used
                progress.note(status_note(status))
            for k in ("met", "posterior_limited"):  # process 0 decides for every process
                status[k] = bool(distributed.agree(np.int32(status[k])))
            if status["met"] or status["posterior_limited"]:
                break  # a speculative next call is dropped: the count stays clean
        if nxt is None:
            break
        pending = nxt
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        # non-finite draws are counted and refused by the caller, not warned about
        return _finish(model, plan, acc, ranges, varying, constant, want_hist, status,
                       posterior_ess, events)


def _finish(model, plan, acc, ranges, varying, constant, want_hist, status,
            posterior_ess, events=()) -> StreamResult:
    """Summaries of an accumulated stream (the tail of :func:`run_stream`)."""
    nv = len(varying)
    cat = acc.totals()
    n = int(cat["count"].sum())
    if want_hist:  # the exact path has no per-chunk moments (every draw is kept)
        # of the histogrammed variables, in plan.hist_vars' order
        n, mean, sd = moments(cat)
        nh = len(plan.hist_vars)
        vmin = cat["min"].min(axis=0) if n else np.full(nh, np.nan)
        vmax = cat["max"].max(axis=0) if n else np.full(nh, np.nan)
    const_vals = {k: float(cat["const"][0, j]) for j, k in enumerate(constant)}
    kept_arr = np.concatenate(acc.kept, axis=1) if acc.kept else np.zeros((nv, 0), DTYPE)
    n_kept = math.ceil(n / acc.keep_stride)
    # non-finite draws per variable: counted on the device in every chunk, or on the
    # kept draws (every draw) on the exact path
    bad = (cat["nonfinite"].sum(axis=0) if want_hist
           else (~np.isfinite(kept_arr[:, :n_kept])).sum(axis=1))
    kept = {k: kept_arr[j, :n_kept] for j, k in enumerate(varying)}
    kept.update({k: np.full(n_kept, v, np.float32) for k, v in const_vals.items()})
    kept = {k: kept[k] for k in model.names if k in kept}
    p_prof = None
    extra = vg = 0.0
    ess_g = None
    if "profitable" in cat:
        p = float(cat["profitable"].sum()) / max(n, 1)
        extra, vg, ess_g = posterior_part(acc.post, posterior_ess)
        p_prof = (p, math.sqrt(max(p * (1 - p), 0.0) / max(n, 1) + extra))
    if want_hist:
        hv = plan.hist_vars
        values, outside = histograms.summary(hv, acc.hist, *ranges[:3], n, mean, sd,
                                             vmin, vmax, ranges[3:],
                                             cat["tails"].sum(axis=0))
        # the other variables from the kept draws (all of them, or an evenly thinned
        # sample of up to keep_cap), with MCSEs for their count: summarising every
        # variable at full resolution cost as much as drawing them (their float64
        # moments alone were a quarter of a chunk's time)
        values.update(results.stats_many({k: kept[k] for k in varying if k not in values}))
        method = (f"histogram ({BINS} bins per variable, linear within a bin) of "
                  f"{', '.join(hv) or 'no variable'}, with their means and sds from "
                  f"every draw; the other variables' statistics from the {n_kept:,} kept "
                  "draws (their MCSEs from that count)")
    else:
        values = results.stats_many({k: kept[k] for k in varying})
        outside = {}
        method = "exact (sample quantiles of every draw)"
    ev_p = []
    if events:
        hits = cat["events"].reshape(-1, len(events)).sum(axis=0)
        ev_p = [float(h) / max(n, 1) for h in hits]
    isd = results.STATS.index("sd")
    factors = block_factors(cat, np.asarray([values[k][0][isd] for k in varying]),
                            p_prof[0] if p_prof is not None else None, ev_p)
    if factors is not None:  # correlated inputs: batch means over independent blocks
        for j, k in enumerate(varying):
            val, se = values[k]
            values[k] = (val, np.asarray(se) * factors["variables"][j])
        if p_prof is not None:
            fwd = p * (1 - p) / max(n, 1) * factors.get("p_profitable", 1.0) ** 2
            p_prof = (p, math.sqrt(max(fwd, 0.0) + extra))
    post_f = posterior_inflation(values, varying, posterior_parts(acc.post, posterior_ess))
    values.update(results.constant(const_vals))
    ev = []
    for j, (e, pe) in enumerate(zip(events, ev_p, strict=True)):
        f = factors["events"][j] if factors is not None and "events" in factors else 1.0
        ev.append((e.label, e.output, e.statistic, pe,
                   math.sqrt(max(pe * (1 - pe), 0.0) / max(n, 1)) * f))
    summary = results.build({k: values[k] for k in model.names if k in values},
                            p_profitable=p_prof, attrs={"draws": int(n)}, events=ev)
    for j, k in enumerate(varying):
        if bad[j]:
            summary[k].attrs["non_finite"] = int(bad[j])
        if factors is not None:
            summary[k].attrs["mcse_factor"] = float(factors["variables"][j])
        if post_f is not None:
            summary[k].attrs["mcse_posterior_factor"] = float(post_f[j])
    if factors is not None:
        summary.attrs["mcse_method"] = (
            f"batch means over {factors['blocks']:,} independent blocks of {BLOCK:,} draws "
            "(correlated inputs are reordered within each block)"
            if factors["blocks"] >= MIN_BLOCKS else
            f"iid (only {factors['blocks']} blocks of {BLOCK:,} draws: too few for batch "
            "means; correlated draws make these MCSEs too small)")
        if "p_profitable" in factors:
            summary.attrs["p_profitable_mcse_factor"] = factors["p_profitable"]
    if p_prof is not None and acc.post and posterior_ess:
        summary.attrs.update({
            "p_profitable_mcse_forward": math.sqrt(max(p * (1 - p), 0.0) / max(n, 1)),
            "p_profitable_mcse_posterior": math.sqrt(extra),
            "posterior_ess": float(posterior_ess), "posterior_var_g": vg,
            "posterior_ess_p_profitable": (float(ess_g) if ess_g is not None else
                                           float(posterior_ess))})
    for k, v in const_vals.items():
        if not math.isfinite(v):
            summary[k].attrs["non_finite"] = int(n)
    return StreamResult(n, summary, kept, acc.keep_stride, method,
                        precision=status, out_of_range=outside)
