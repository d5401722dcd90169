"""Calibrate the serving hierarchy on measured rows (NUTS) and predict rows with intervals.

:func:`calibrate` conditions :func:`probmodel.serving.hierarchy.model` on a benchmark
file's rows; :func:`predict` draws the posterior predictive of any rows, including rows
on chips, generations, vendors or serving engines the calibration never saw: their
effects are drawn from the fitted spreads of their level (the prior for a stack or
vendor constant never seen), so the interval of an unseen chip is the pooled one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from probmodel.serving import hierarchy as H
from probmodel.serving.measurements import FITTED, METRICS, Measurements, split, subset

#: NUTS settings that pass the diagnostics on the 1,395 InferenceX rows in ~1-2 min.
DEFAULTS = {"chains": 4, "warmup": 300, "samples": 700, "seed": 0}
QUANTILES = (0.05, 0.5, 0.95)


@dataclass
class Posterior:
    """A serving calibration: latent draws (chain, draw, ...), the levels it saw, diagnostics."""

    draws: dict[str, np.ndarray]
    names: dict[str, tuple[str, ...]]
    settings: dict
    diagnostics: dict = field(default_factory=dict)
    rows_used: int = 0
    seconds: float = 0.0

    def flat(self) -> dict[str, np.ndarray]:
        """Draws with chains stacked: name -> (draws, ...)."""
        return {k: v.reshape(-1, *v.shape[2:]) for k, v in self.draws.items()}


def _fitted_data(meas: Measurements, mask: np.ndarray):
    """Distinct configurations of the rows in ``mask``, their levels, the measurements.

    Returns (config, index, measured, weights, row_of): the same deployment measured on
    several dates (1,387 rows, 460 configurations) is one configuration for the physics.
    """
    cfg = subset(meas.config, mask)
    lab = H.labels(meas, mask)
    keys = sorted(cfg)
    mat = np.stack([np.asarray(cfg[k], np.float64) for k in keys], axis=1)
    tags = [f"{c}|{s}" for c, s in zip(lab["chip"], lab["stack"], strict=True)]
    first: dict = {}      # configuration -> (its number, the first row with it)
    row_of = np.array([first.setdefault((t, *r), (len(first), i))[0]
                       for i, (t, r) in enumerate(zip(tags, map(tuple, mat), strict=True))],
                      dtype=np.int32)
    pick = np.array([i for _, i in first.values()])
    ucfg = {k: v[pick] for k, v in cfg.items()}
    idx = H.Index.build({lv: [v[i] for i in pick] for lv, v in lab.items()})
    y = {k: meas.measured.get(k, np.full(len(meas), np.nan))[mask] for k in FITTED}
    w = {k: np.isfinite(y[k]) & (y[k] > 0) for k in FITTED}
    return ucfg, idx, y, w, row_of


def calibrate(meas: Measurements, mask: np.ndarray | None = None, *,
              chains: int = DEFAULTS["chains"], warmup: int = DEFAULTS["warmup"],
              samples: int = DEFAULTS["samples"], seed: int = DEFAULTS["seed"],
              chain_method: str = "parallel",
              progress: Callable[[str, int, int | None], None] | None = None) -> Posterior:
    """NUTS on the predicted rows of ``meas`` (those in ``mask`` too, when given).

    Returns
    -------
    Posterior
        With r-hat and bulk/tail ESS per latent (arviz-stats' formulas, as
        :func:`probmodel.calibration.rhat` and :func:`probmodel.calibration.ess`
        compute them) and the divergences.
    """
    import jax
    from numpyro.infer import MCMC, NUTS


    use = meas.ok if mask is None else (meas.ok & mask)
    cfg, idx, y, w, row_of = _fitted_data(meas, use)
    # everything bound as constants: parallel chains map the model's arguments over
    # devices, and the index is no array
    model = partial(H.model, cfg, idx, y, w, row_of)
    t0 = time.perf_counter()
    kernel = NUTS(model, target_accept_prob=0.85, max_tree_depth=7)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=chains,
                chain_method=chain_method, progress_bar=False)
    if progress is not None:
        progress("warm-up and sampling", 0, None)
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging", "num_steps"))
    # parallel chains return before they finish (asynchronous dispatch): wait, so the
    # progress line says 100% when the draws exist
    jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
    if progress is not None:
        progress("warm-up and sampling", chains * (warmup + samples),
                 chains * (warmup + samples))
    draws = {k: np.asarray(v, np.float64)
             for k, v in mcmc.get_samples(group_by_chain=True).items()
             if k not in FITTED}
    div = int(np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum())
    diag = diagnose(draws, div)
    return Posterior(draws=draws, names={k: tuple(v) for k, v in idx.names.items()},
                     settings={"chains": chains, "warmup": warmup, "samples": samples,
                               "seed": seed, "chain_method": chain_method},
                     diagnostics=diag, rows_used=int(use.sum()),
                     seconds=time.perf_counter() - t0)


def diagnose(draws: Mapping[str, np.ndarray], divergences: int) -> dict:
    """Max r-hat, min bulk and tail ESS over every scalar of every latent; divergences."""
    from probmodel import calibration

    rh, eb, et = [], [], []
    for v in draws.values():
        flat = v.reshape(v.shape[0], v.shape[1], -1)
        for j in range(flat.shape[2]):
            x = flat[:, :, j]
            rh.append(calibration.rhat(x))
            eb.append(calibration.ess(x, "bulk"))
            et.append(calibration.ess(x, "tail"))
    rhat = float(np.nanmax(rh)) if rh else float("nan")
    out = {"max_r_hat": rhat, "min_ess_bulk": float(np.nanmin(eb)),
           "min_ess_tail": float(np.nanmin(et)), "divergences": divergences}
    out["ok"] = bool(rhat <= calibration.RHAT_MAX and out["min_ess_bulk"] >= calibration.ESS_MIN
                     and out["min_ess_tail"] >= calibration.ESS_MIN and divergences == 0)
    return out


def _level_effects(post: Posterior, labels: Mapping[str, list[str]], rng, n_draws: int,
                   take: np.ndarray) -> list[np.ndarray]:
    """Per kind, z (draws, rows) = chip + stack, fresh draws for names the fit never saw.

    An unseen chip is drawn around mu + its vendor + its generation (each of those the
    posterior's when seen, else fresh from its level's spread) with the chip spread; an
    unseen serving engine's shift is drawn from the stack spread. One draw per unseen
    name and posterior draw, shared by all its rows.
    """
    d = post.flat()
    nk, nc = len(H.KINDS), H.CHIP_KINDS
    fresh_cache: dict[tuple[str, str], np.ndarray] = {}

    def fresh(level: str, name: str) -> np.ndarray:
        key = (level, name)
        if key not in fresh_cache:
            fresh_cache[key] = rng.standard_normal((n_draws, nk))
        return fresh_cache[key]

    def effect(level: str, name: str) -> np.ndarray:       # (S, K or nc), scaled
        seen = post.names[level]
        k = d[f"{level}_raw"].shape[1]
        raw = (d[f"{level}_raw"][take][:, :, seen.index(name)] if name in seen
               else fresh(level, name)[:, :k])
        return raw * H.SIGMA[level]

    chips = {}
    for chip, vendor, gen in zip(labels["chip"], labels["vendor"], labels["generation"],
                                 strict=True):
        if chip in chips:
            continue
        if chip in post.names["chip"]:
            chips[chip] = d["chip_z"][take][:, :, post.names["chip"].index(chip)]
        else:
            chips[chip] = (d["mu"][take][:, :nc] + effect("vendor", vendor)[:, :nc]
                           + effect("generation", gen)
                           + fresh("chip", chip)[:, :nc] * H.SIGMA["chip"])
    stacks = {s: effect("stack", s) for s in dict.fromkeys(labels["stack"])}
    z = np.stack([chips[c] + stacks[s] for c, s in zip(labels["chip"], labels["stack"],
                                                         strict=True)], axis=2)
    vendors = {v: d["mu"][take] + effect("vendor", v) for v in dict.fromkeys(labels["vendor"])}
    rest = np.stack([vendors[v] for v in labels["vendor"]], axis=2)
    return [z[:, j, :] for j in range(nc)] + [rest[:, j, :] for j in range(nc, nk)]


def _per_stack(post: Posterior, name: str, labels: list[str], seen: tuple[str, ...],
               take, rng, prior_mean: float, prior_sd: float) -> np.ndarray:
    d = post.flat()[name][take]                         # (S, n_seen)
    cols = []
    fresh = {}
    for x in labels:
        if x in seen:
            cols.append(d[:, seen.index(x)])
        else:
            if x not in fresh:
                fresh[x] = prior_mean + prior_sd * rng.standard_normal(d.shape[0])
            cols.append(fresh[x])
    return np.stack(cols, axis=1)


def predict(post: Posterior, meas: Measurements, mask: np.ndarray | None = None,
            seed: int = 0, n_draws: int = 1000, noise: bool = True) -> dict[str, np.ndarray]:
    """Posterior-predictive draws of every metric for the rows in ``mask`` (default all ok).

    Returns
    -------
    dict
        metric -> array (n_draws, rows); with ``noise`` the measurement noise
        (Student-t, the fitted scale) is included, so intervals are for a new
        measurement, not only for the model's mean.
    """
    import jax.numpy as jnp

    from probmodel.serving import physics

    use = meas.ok if mask is None else (meas.ok & mask)
    rng = np.random.default_rng(seed)
    total = next(iter(post.flat().values())).shape[0]
    take = rng.choice(total, size=n_draws, replace=n_draws > total)
    lab = H.labels(meas, use)
    z = _level_effects(post, lab, rng, n_draws, take)
    share = [1.0 / (1.0 + np.exp(-zj)) for zj in z]
    cfg = subset(meas.config, use)
    log_over = _per_stack(post, "log_overhead", lab["stack"], post.names["stack"], take, rng,
                          np.log(H.OVERHEAD_PRIOR_S), 0.7)
    acc = _per_stack(post, "accept_logit", lab["stack"], post.names["stack"], take, rng,
                     0.0, 1.0)
    log_ttft = _per_stack(post, "log_ttft_fixed", lab["stack"], post.names["stack"], take,
                          rng, np.log(H.TTFT_PRIOR_S), 1.0)
    log_lat = _per_stack(post, "log_latency", lab["vendor"], post.names["vendor"], take, rng,
                         np.log(H.LATENCY_PRIOR_S), 0.7)
    d = post.flat()
    drafts = np.asarray(cfg["n_draft"])[None, :]
    e = {"bw": share[0], "flops": share[1], "prefill": share[2], "comm": share[3],
         "overhead": np.exp(log_over), "latency": np.exp(log_lat),
         "accepted": np.asarray(H.accepted_length(jnp.asarray(1.0 / (1.0 + np.exp(-acc))),
                                                  jnp.asarray(drafts))),
         "draft_cost": d["draft_cost"][take][:, None], "queue": d["queue"][take][:, None],
         "ttft_fixed": np.exp(log_ttft)}
    rows, c, m = split(cfg)
    out = physics.serve({k: jnp.asarray(v) for k, v in rows.items()},
                        {k: jnp.asarray(v) for k, v in m.items()},
                        {k: jnp.asarray(v) for k, v in c.items()},
                        {k: jnp.asarray(v, jnp.float32) for k, v in e.items()})
    res = {k: np.asarray(out[k], np.float64) for k in ("tput_per_gpu", "median_tpot",
                                                       "median_ttft")}
    if noise:
        for k in FITTED:
            scale = H.NOISE_FLOOR + d[f"noise_{k}"][take][:, None]
            res[k] = res[k] * np.exp(scale * rng.standard_t(H.STUDENT_DF, res[k].shape))
    res["median_intvty"] = 1.0 / res["median_tpot"]
    return {k: res[k] for k in METRICS}


def quantiles(draws: Mapping[str, np.ndarray], qs=QUANTILES) -> dict[str, np.ndarray]:
    """``<metric>_q05``, ``_q50``, ``_q95`` per row from predictive draws."""
    out = {}
    for k, v in draws.items():
        q = np.quantile(v, qs, axis=0)
        for p, row in zip(qs, q, strict=True):
            out[f"{k}_q{round(p * 100):02d}"] = row
    return out
