"""Monte Carlo standard errors beyond iid draws: dependent blocks and posterior tables.

Two ways a run's draws are not the iid sample the textbook MCSE assumes, and what the
engine (:mod:`probmodel.streaming`) does about each from the sums it accumulates:

- correlated inputs are reordered jointly within blocks of
  :data:`probmodel.correlation.BLOCK` draws (and the partners of a held input read back
  from their block's draws): draws of a block are dependent, blocks independent, so
  batch means over the blocks give the variance (:func:`batch_ratio`,
  :func:`block_factors`);
- a ``--posterior`` run draws its calibrated parameters from a finite MCMC sample: its
  estimates also err by that sample's error, Var_post(g) / ESS for a mean of g
  (:func:`posterior_part` for P(profit > 0), :func:`posterior_parts` and
  :func:`posterior_inflation` for every variable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from probmodel import results

#: Fewest independent blocks batch means are computed from (fewer: iid MCSEs, flagged).
MIN_BLOCKS = 16


def batch_ratio(sums: np.ndarray, counts: np.ndarray, var1: np.ndarray) -> np.ndarray:
    """Variance of a mean by batch means over independent blocks, over its iid value.

    Parameters
    ----------
    sums : array (..., B)
        Per block, the sum of the quantity (a variable's draws, or an indicator's).
    counts : array (B,)
        Draws per block (blocks without draws are left out).
    var1 : array (...)
        Variance of one draw of the quantity (sd^2, or p (1 - p)).

    Returns
    -------
    array (...)
        ``Var_bm(mean) / (var1 / N)`` with ``Var_bm = B / (B - 1) x sum_j (S_j - mean
        c_j)^2 / N^2`` (the ratio estimator's variance over blocks of unequal size);
        NaN where it cannot be formed.

    Notes
    -----
    Iman-Conover reorders the draws of a block jointly, so they are not independent and
    an iid MCSE is too small (by 20-35% for the shipped correlated scenario); blocks are
    independent, so batch means over them are consistent (Flegal & Jones 2010 for the
    batch-means estimator).
    """
    keep = counts > 0
    c = counts[keep].astype(np.float64)
    S = np.asarray(sums, np.float64)[..., keep]
    B = c.size
    N = c.sum()
    if B < 2 or N <= 0:
        return np.full(np.shape(var1), np.nan)
    mu = S.sum(axis=-1) / N
    var_bm = B / (B - 1) * ((S - mu[..., None] * c) ** 2).sum(axis=-1) / N**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return var_bm / (np.asarray(var1, np.float64) / N)


def block_factors(cat: Mapping[str, np.ndarray], sd: np.ndarray,
                  p: float | None, events_p: Sequence[float]) -> dict | None:
    """MCSE factors of a correlated run: sqrt(batch-means variance / iid variance), >= 1.

    ``None`` for a run without correlated inputs. With fewer than :data:`MIN_BLOCKS`
    blocks the factors are 1 and ``blocks`` says how few there were. A factor is never
    below 1: a batch-means estimate under the iid value is within its noise of it.
    """
    if "bsum" not in cat:
        return None
    bsum = np.moveaxis(cat["bsum"], 0, -2)  # (chunks, V, nb) -> (V, chunks, nb)
    bsum = bsum.reshape(*bsum.shape[:-2], -1)
    counts = cat["bcnt"].ravel()  # (chunks, nb), chunk-major as bsum's last axis
    blocks = int((counts > 0).sum())

    def factor(r):
        r = np.asarray(r, np.float64)
        ok = np.isfinite(r) & (blocks >= MIN_BLOCKS)
        return np.where(ok, np.sqrt(np.maximum(np.where(ok, r, 1.0), 1.0)), 1.0)

    out = {"blocks": blocks, "variables": factor(batch_ratio(bsum, counts, sd ** 2))}
    if p is not None and "bprof" in cat:
        out["p_profitable"] = float(factor(batch_ratio(cat["bprof"].ravel(), counts,
                                                       p * (1 - p))))
    if events_p and "bev" in cat:
        bev = np.moveaxis(cat["bev"], 0, -2)
        bev = bev.reshape(*bev.shape[:-2], -1)
        out["events"] = [float(f) for f in factor(batch_ratio(
            bev, counts, np.asarray([q * (1 - q) for q in events_p])))]
    return out


def posterior_part(post: Mapping[str, np.ndarray], ess: float | None,
                   ) -> tuple[float, float, float | None]:
    """The posterior sample's share of the variance of P(profit > 0), Var_post(g), its ESS.

    A posterior run draws row R of an M-row posterior table at random, then the priors'
    inputs. Its estimate p^ of P(profit > 0) errs against the posterior predictive
    probability p* = E_post[g(theta)], g(theta) = P(profit > 0 | theta), in two
    independent parts: p^ - p* = (p^ - pbar) + (pbar - p*), pbar = mean over the rows of
    g(theta_r). Given the table the draws are iid Bernoulli(pbar): Var = p(1-p)/N (the
    usual MCSE). pbar is an MCMC average of g: Var = Var_post(g) tau / M, tau the
    integrated autocorrelation time of g along the table (M / tau is g's own ESS).

    Both are estimated from the run itself, by grouping its draws by row: the share g_r
    of profitable draws among the n_r draws of row r is g(theta_r) plus binomial noise,
    independent between rows. So the rows' lag-k autocovariances (k >= 1) estimate g's;
    at lag 0 the noise's variance, estimated without bias by g_r(1 - g_r)/(n_r - 1), is
    subtracted (rows with n_r >= 2). tau follows Geyer's initial monotone sequence
    estimator (as arviz-stats' ESS does), on the table in row order (chains one after
    the other: a boundary adds O(chains / M)). g's ESS is at most M. With fewer than
    :data:`MIN_ROWS` usable rows ``ess`` (the calibration's smallest bulk ESS, a
    conservative stand-in) is used instead.

    Returns
    -------
    (extra variance, Var_post(g) estimate, g's ESS or None when ``ess`` was used)
    """
    if not post or not ess:
        return 0.0, 0.0, None
    n = post["post_n"].astype(np.float64)
    use = n >= 2
    if use.sum() < 2:
        return 0.0, 0.0, None
    g = post["post_hits"][use] / n[use]
    noise = float(np.mean(g * (1 - g) / (n[use] - 1)))
    vg = max(float(np.var(g, ddof=1) - noise), 0.0)
    if use.sum() < MIN_ROWS or vg <= 0:
        return vg / float(ess), vg, None
    ess_g = own_ess(g, vg)
    return vg / ess_g, vg, ess_g


#: Usable posterior rows below which g's own ESS is not estimated (its autocovariances
#: would be mostly noise): the calibration's smallest bulk ESS is used instead.
MIN_ROWS = 100


def own_ess(g: np.ndarray, var0: float) -> float:
    """ESS of a series whose lag-0 variance is ``var0`` (noise removed) and lags are g's.

    Geyer's initial monotone sequence: autocorrelations rho_k = gamma_k / var0 summed in
    pairs (rho_2m + rho_2m+1) while positive and non-increasing; ESS = M / tau,
    tau = -1 + 2 sum of the pairs, at most M. The autocovariances by FFT (NumPy's rfft;
    M is a posterior table's rows, at most a few 10^5).
    """
    m = g.size
    x = g - g.mean()
    f = np.fft.rfft(x, 2 * m)
    acov = np.fft.irfft(f * np.conj(f))[:m] / m
    rho = acov / var0
    rho[0] = 1.0
    tau, prev = -1.0, math.inf
    for k in range(0, m - 1, 2):
        pair = rho[k] + rho[k + 1]
        if pair <= 0:
            break
        pair = min(pair, prev)
        tau += 2 * pair
        prev = pair
    return float(m / max(tau, 1.0))


def posterior_parts(post: Mapping[str, np.ndarray], ess: float | None) -> np.ndarray | None:
    """The posterior sample's share of the variance of every variable's mean, (V,).

    As :func:`posterior_part` for P(profit > 0), with g(theta) = E[x | theta]: the draws'
    mean over the rows of the posterior table errs against the posterior predictive mean
    by Var_post(g) / ESS, where Var_post(g) is estimated from the run by grouping its
    draws by row: the row means vary by Var_post(g) plus their own noise s_r^2 / n_r,
    whose estimate is subtracted (rows with n_r >= 2; clipped at 0). None without a
    posterior table or an ESS.
    """
    if not post or not ess or "post_sum" not in post:
        return None
    n = post["post_rows"].astype(np.float64)
    use = n >= 2
    if use.sum() < 2:
        return None
    nr = n[use][:, None]
    mean_r = post["post_sum"][use] / nr
    var_r = np.maximum(post["post_sq"][use] - nr * mean_r**2, 0.0) / (nr - 1)
    vg = np.maximum(np.var(mean_r, axis=0, ddof=1) - np.mean(var_r / nr, axis=0), 0.0)
    return vg / float(ess)


def posterior_inflation(values: dict, varying: Sequence[str], extra: np.ndarray | None,
                        ) -> np.ndarray | None:
    """Scale every MCSE of each variable by sqrt(1 + posterior part / forward Var(mean)).

    The mean's MCSE gains the posterior term exactly; the other statistics (sd,
    quantiles, expected shortfalls) by the same factor, an approximation that holds
    where the posterior's parameters move the whole distribution, as they do for the
    outputs a calibration informs. Returns the factors (V,), or None.
    """
    if extra is None:
        return None
    im = results.STATS.index("mean")
    factors = np.ones(len(varying))
    for j, k in enumerate(varying):
        val, se = values[k]
        fwd = float(np.asarray(se)[im]) ** 2
        f = math.sqrt(1.0 + extra[j] / fwd) if fwd > 0 else 1.0
        factors[j] = f if math.isfinite(f) else 1.0
        values[k] = (val, np.asarray(se) * factors[j])
    return factors


def draw_factors(x: np.ndarray) -> np.ndarray:
    """MCSE factors of draws in engine order (last axis): batch means over their blocks.

    ``x`` (..., N) holds the draws of a correlated scenario as the engine made them
    (draw j of every chunk at position j, so consecutive runs of BLOCK draws are the
    reordering's blocks). Returns sqrt(max(batch-means variance / iid variance, 1)) of
    the mean per leading index, 1 with fewer than :data:`MIN_BLOCKS` blocks; booleans
    (an event's indicator) work alike.
    """
    from probmodel.correlation import BLOCK

    x = np.asarray(x, np.float64)
    n = x.shape[-1]
    nb = -(-n // BLOCK)
    if nb < MIN_BLOCKS:
        return np.ones(x.shape[:-1])
    pad = nb * BLOCK - n
    xp = np.concatenate([x, np.zeros((*x.shape[:-1], pad))], axis=-1) if pad else x
    sums = xp.reshape(*x.shape[:-1], nb, BLOCK).sum(axis=-1)
    counts = np.full(nb, BLOCK)
    counts[-1] = BLOCK - pad
    r = batch_ratio(sums, counts, np.var(x, axis=-1, ddof=1))
    r = np.where(np.isfinite(r), r, 1.0)
    return np.sqrt(np.maximum(r, 1.0))
