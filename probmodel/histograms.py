"""Quantiles, MCSEs and expected shortfalls of a stream from fixed-bin histograms.

The host side of :mod:`probmodel.streaming`'s histogram path (NumPy only): the bin
ranges chosen from a pilot block, and the summary of every variable from its counts
and the device's exact tail sums.

Quantiles from histograms: bins are laid on a range found from a pilot block (its
0.1%-99.9% span, widened by half of it on each side; in log space for variables that
are positive in the pilot), with underflow/overflow bins whose outer edges are the exact
running min and max. A quantile is read off the cumulative counts with linear
interpolation inside its bin; bins are 6e-5 of the central span wide, and the
interpolation error is well inside the MCSE (tested at 1e6 draws: below 0.25 MCSE).
MCSEs use the same order-statistic window as
:func:`probmodel.results.quantiles_with_mcse`, applied to the histogram CDF.

Expected shortfall: the device also sums (float64 accumulation) the draws in the bins at
or below the bin of the pilot's q05 estimate and at or above that of its q95; their
counts are the histogram's. The exact tail sums are then moved from the pilot's bin to
the final quantile by the histogram bins in between (bin midpoints; a few thousandths of
the draws, each off by at most half a bin), so es05/es95 are exact up to that sliver
(tested against numpy within MCSE). Their MCSE needs the tail's variance, taken from the
histogram (bin midpoints).
"""

from __future__ import annotations

import math

import numpy as np

from probmodel import results

#: Histogram bins per variable (plus underflow, overflow and non-finite bins).
BINS = 1 << 15


def bin_edges(logs, lo: np.ndarray, inv_w: np.ndarray, vmin, vmax, j: int) -> np.ndarray:
    """Edges of variable j's BINS + 2 finite bins, in data units.

    The underflow and overflow bins use the exact running min and max as outer edges.
    """
    inner = lo[j] + np.arange(BINS + 1) / inv_w[j]
    if logs[j]:
        inner = np.exp(inner)
    first = min(vmin, inner[0])
    last = max(vmax, inner[-1])
    return np.concatenate([[first], inner, [last]])


def hist_quantiles(counts: np.ndarray, edges: np.ndarray, probs) -> np.ndarray:
    """Quantiles from bin counts (finite bins only) by linear interpolation in a bin.

    The q-quantile is the point where the cumulative count reaches q (N - 1) + 1/2
    (the midpoint convention; within a bin the draws are taken as evenly spread).
    """
    counts = counts.astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    n = cum[-1]
    target = np.clip(np.asarray(probs, np.float64) * n, 0, n)
    k = np.clip(np.searchsorted(cum, target, side="right") - 1, 0, len(counts) - 1)
    inside = np.where(counts[k] > 0, (target - cum[k]) / np.where(counts[k] > 0,
                                                                 counts[k], 1), 0.5)
    return edges[k] + inside * (edges[k + 1] - edges[k])


def tail_sums(counts, edges, q, probs_n, exact_sum, k_thr, lower: bool):
    """Count, sum and sum of squares of the draws at or below (above) ``q``.

    ``exact_sum`` is the device's exact sum of the draws in the bins at or below (at or
    above) the pilot's threshold bin ``k_thr``; whole bins between that bin and the one
    holding ``q`` are added or removed at their midpoints, and the part of ``q``'s bin
    beyond ``q`` likewise. The sum of squares (for the MCSE only) uses bin midpoints,
    with the outer (underflow or overflow) bin at the mean its exact sum implies.
    """
    c = counts.astype(np.float64)
    mid = (edges[:-1] + edges[1:]) / 2
    cum = [np.concatenate([[0.0], np.cumsum(c * mid**j)]) for j in range(3)]
    kq = int(np.clip(np.searchsorted(cum[0], probs_n, side="right") - 1, 0, len(c) - 1))
    below = probs_n - cum[0][kq]  # draws of q's bin at or below q
    w = edges[kq + 1] - edges[kq]
    last = len(c)
    if lower:
        inner = (1, k_thr + 1)  # base bins [0, k_thr]: the outer bin 0, inner [1, k_thr]
        outer = 0
        span = (k_thr + 1, kq)  # full bins [0, kq) = base + bins [k_thr + 1, kq)
        part, at = below, edges[kq] + below / max(c[kq], 1) * w / 2
    else:
        inner = (k_thr, last - 1)  # base bins [k_thr, last): inner, then the outer bin
        outer = last - 1
        span = (kq + 1, k_thr)  # full bins (kq, end] = base + bins [kq + 1, k_thr)
        part = c[kq] - below
        at = edges[kq + 1] - part / max(c[kq], 1) * w / 2
    in_s = [cum[j][inner[1]] - cum[j][inner[0]] if inner[1] > inner[0] else 0.0
            for j in range(3)]
    m_out = (exact_sum - in_s[1]) / c[outer] if c[outer] > 0 else 0.0
    base = (in_s[0] + c[outer], exact_sum, in_s[2] + c[outer] * m_out**2)
    return [base[j] + cum[j][span[1]] - cum[j][span[0]] + part * at**j for j in range(3)]


def summary(names, hist, lo, inv_w, logs, n, mean, sd, vmin, vmax, thresholds, tails):
    """Per-variable (values, mcse) of results.STATS from the histograms and tail sums.

    ``hist`` holds the variables' BINS + 3 counts one after another (as the device
    accumulates them); returns also each variable's share of draws outside the bins.
    """
    probs = np.asarray(results.QUANTILES)
    lo_p, hi_p = results.quantile_window(probs, n)
    nb = BINS + 3
    values, outside = {}, {}
    for j, name in enumerate(names):
        h = hist[j * nb:(j + 1) * nb]
        finite = h[:BINS + 2]
        e_j = bin_edges(logs, lo, inv_w, vmin[j], vmax[j], j)
        allq = hist_quantiles(finite, e_j, np.concatenate([probs, lo_p, hi_p]))
        qs, qse = results.mcse_from_window(allq, len(probs))
        es, es_se = [], []
        for side, (p, q) in enumerate(((probs[0], qs[0]), (probs[-1], qs[-1]))):
            cnt, s1, s2 = tail_sums(finite, e_j, q, p * finite.sum(), tails[j, side],
                                int(thresholds[side][j]), side == 0)
            cnt = max(cnt, 1.0)
            e = s1 / cnt
            es.append(e)
            es_se.append(float(results.tail_mean_mcse(max(s2 / cnt - e * e, 0.0), e - q,
                                                      cnt / max(n, 1), n)))
        sd_se = float(results.sd_mcse(sd[j], n))
        val = np.array([mean[j], sd[j], *qs, *es])
        se = np.array([sd[j] / math.sqrt(max(n, 1)), sd_se, *qse, *es_se])
        values[name] = (val, se)
        outside[name] = float((h[0] + h[BINS + 1]) / max(n, 1))
    return values, outside


def ranges(pilot: np.ndarray):
    """Histogram ranges from pilot draws (V, n) and the pilot's q05 / q95 bins.

    Returns lo and 1/width in (log) bin space, the log flags, and the bin indices
    (as the device numbers them) of the pilot's q05 and q95.
    """
    logs, lo, inv_w, k_lo, k_hi = [], [], [], [], []
    for x in pilot:
        x = x[np.isfinite(x)].astype(np.float64)
        if x.size == 0:
            x = np.zeros(1)
        use_log = bool(x.min() > 0)
        t = np.log(x) if use_log else x
        a, b = np.quantile(t, [0.001, 0.999])
        span = max(b - a, 1e-6 * max(abs(a), abs(b), 1e-30), 1e-30)
        logs.append(use_log)
        lo.append(a - span / 2)
        inv_w.append(BINS / (2 * span))
        for k, p in ((k_lo, results.QUANTILES[0]), (k_hi, results.QUANTILES[-1])):
            pos = np.floor((np.quantile(t, p) - lo[-1]) * inv_w[-1])
            k.append(int(np.clip(pos, -1, BINS)) + 1)
    return (np.asarray(lo), np.asarray(inv_w), np.asarray(logs, bool),
            np.asarray(k_lo, np.int32), np.asarray(k_hi, np.int32))
