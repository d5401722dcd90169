"""Throughput at a latency target: a deployment's frontier over concurrency.

A deployment's throughput per GPU only means something at a latency target. Raising the
concurrency (requests in flight) fills the decode batch: throughput per GPU rises while
each user's speed (interactivity, tokens/s per user) and, past the HBM or prefill limit,
the time to first token (TTFT) get worse. The frontier is throughput per GPU against
interactivity over concurrency, the chart InferenceX publishes for measured chips; here
it is drawn from the calibrated physics (:mod:`probmodel.serving.deployment`) for every
draw of a scenario, so chips never benchmarked get one with its uncertainty.

For each draw the physics runs on a fixed grid of concurrencies (:data:`GRID`, a
quarter octave apart from 1 to 32,768 requests); interactivity falls and TTFT and
throughput rise along it (checked by tests on every shipped scenario). A service-level
objective (SLO) "interactivity >= a and TTFT <= t" holds from concurrency 1 up to the
first grid point where either fails, or where throughput stops rising (past the knee
the decode batch is capped by HBM or the prefill pool is saturated, and more requests
in flight only wait); the operating point is where the first of them
crosses its limit, interpolated in log-log between the last grid point that meets both
and the first that does not. That gives, per draw, the highest throughput per GPU the
deployment reaches while meeting the SLO (the same numbers a search over concurrency
would find to within the interpolation, <1% between quarter-octave points). A draw whose
deployment misses the SLO even with one request in flight is flagged (``met`` 0): where
it misses the TTFT limit (one prompt's prefill alone takes longer) it runs at the
interactivity target without it; where it misses the interactivity target its operating
point is concurrency 1.

Array code only (NumPy or JAX, as the arguments are): the same functions serve the
``frontier`` command (NumPy, on draws already made) and the model graph's ``slo_*``
nodes (JAX, inside the Monte Carlo).
"""

from __future__ import annotations

import math

#: Concurrencies at which the physics is evaluated: 2^(k/4), k = 0..60 (1 to 32,768).
GRID_STEPS_PER_OCTAVE = 4
GRID_OCTAVES = 15
GRID = tuple(2.0 ** (k / GRID_STEPS_PER_OCTAVE)
             for k in range(GRID_OCTAVES * GRID_STEPS_PER_OCTAVE + 1))
#: Throughput's elasticity to concurrency (d log tput / d log concurrency) below which
#: the deployment counts as past its knee (its decode batch capped by HBM, or its
#: prefill pool saturated): twice the requests in flight then bring under 0.7% more
#: throughput and only wait. Near-flat but still rising throughput (decode approaching
#: its bandwidth limit) is not the knee: a provider pushes to the target there.
KNEE_ELASTICITY = 0.01
#: Points across the bracketing grid step at which the operating point is refined.
REFINE = 9
#: Metrics of the deployment the frontier keeps per grid point.
METRICS = ("tput_per_gpu", "output_tput_per_gpu", "median_intvty", "median_ttft",
           "prefill_tput_per_gpu")


def _xp(*xs):
    """NumPy when every argument is NumPy (or a number), else jax.numpy."""
    import numpy as np

    from probmodel.serving import deployment as dep

    return np if dep._is_numpy(*xs) else dep._jnp()


def curves(v: dict, grid=GRID) -> dict:
    """The deployment's metrics at every concurrency of ``grid``, per draw.

    Parameters
    ----------
    v : dict
        The deployment's names (:data:`probmodel.serving.deployment.ARGUMENTS` without
        ``concurrency``), each a scalar or an array of draws of shape (n,).
    grid : sequence of float
        Concurrencies, increasing.

    Returns
    -------
    dict
        :data:`METRICS` -> arrays of shape (n, len(grid)) (or (len(grid),) for scalars).
    """
    import jax.numpy as jnp

    from probmodel.serving import deployment as dep

    vals = {k: x[..., None] if getattr(x, "ndim", 0) else x for k, x in v.items()}
    vals["concurrency"] = jnp.asarray(grid, dtype=jnp.result_type(float))
    out = dep.serve(**vals)
    shape = jnp.broadcast_shapes(*(jnp.shape(out[k]) for k in METRICS))
    return {k: jnp.broadcast_to(out[k], shape) for k in METRICS}


def at_target(c: dict, grid, intvty_min, ttft_max=math.inf) -> dict:
    """The operating point of each draw at an SLO: the most throughput that meets it.

    Parameters
    ----------
    c : dict
        :func:`curves` output: arrays (..., G) over the concurrency grid.
    grid : sequence of float
        The concurrencies of ``c`` (increasing).
    intvty_min, ttft_max : float or array
        The SLO: interactivity at least ``intvty_min`` tokens/s per user and TTFT at most
        ``ttft_max`` s; arrays broadcast against the draws (shape (...)).

    Returns
    -------
    dict
        ``concurrency``, each of :data:`METRICS` at the operating point, and ``met``
        (1.0 where concurrency 1 meets the SLO, else 0.0: the operating point then
        meets the interactivity target alone, or is concurrency 1 where even that is out
        of reach), each of shape (...).

    Notes
    -----
    With ``ok_j`` the grid points that meet the SLO and ``j`` the last of the leading run
    of them, the crossing lies between ``j`` and ``j + 1`` at the fraction
    ``f = min over the failing constraints of (log limit - log x_j) / (log x_{j+1} - log x_j)``
    of the way in log concurrency; every metric is interpolated log-linearly there.
    """
    iv, tt = c["median_intvty"], c["median_ttft"]
    xp = _xp(iv, tt, intvty_min, ttft_max)
    g = xp.asarray(grid, dtype=iv.dtype)
    a = xp.asarray(intvty_min, dtype=iv.dtype)[..., None]
    t = xp.asarray(ttft_max, dtype=iv.dtype)[..., None]
    # a TTFT the deployment misses even with one request in flight (one prompt's own
    # prefill is too slow) cannot be met by any concurrency: that draw runs at the
    # interactivity target alone and is flagged (``met`` 0)
    ttft_reachable = tt[..., :1] <= t
    ok = (iv >= a) & ((tt <= t) | ~ttft_reachable)
    # past the knee (the decode batch capped by HBM or the prefill pool saturated) more
    # requests in flight only wait: throughput stops rising and TTFT grows without bound
    tp = c["tput_per_gpu"]
    gb = xp.broadcast_to(g, tp.shape)
    rising = (xp.log(tp[..., 1:] / tp[..., :-1])
              > KNEE_ELASTICITY * xp.log(gb[..., 1:] / gb[..., :-1]))
    rising = xp.concatenate([xp.ones_like(rising[..., :1]), rising], axis=-1)
    ok = ok & rising
    # the leading run of grid points that meet the SLO (monotone metrics: all of them)
    run = xp.cumprod(ok.astype(iv.dtype), axis=-1)
    n_ok = xp.sum(run, axis=-1).astype(int)
    last = g.shape[-1] - 1
    j = xp.clip(n_ok - 1, 0, last)
    k = xp.clip(j + 1, 0, last)

    def take(x, i):
        return xp.take_along_axis(xp.broadcast_to(x, ok.shape), i[..., None], axis=-1)[..., 0]

    tiny = xp.asarray(1e-30, dtype=iv.dtype)
    liv_j, liv_k = xp.log(take(iv, j) + tiny), xp.log(take(iv, k) + tiny)
    ltt_j, ltt_k = xp.log(take(tt, j) + tiny), xp.log(take(tt, k) + tiny)
    la, lt = xp.log(xp.maximum(a[..., 0], tiny)), xp.log(t[..., 0])
    # fraction of the step where each constraint reaches its limit (1 if it never does)
    f_iv = xp.where(liv_k < la, (liv_j - la) / xp.maximum(liv_j - liv_k, 1e-12), 1.0)
    f_tt = xp.where((ltt_k > lt) & ttft_reachable[..., 0],
                    (lt - ltt_j) / xp.maximum(ltt_k - ltt_j, 1e-12), 1.0)
    interior = (n_ok >= 1) & (n_ok <= last)
    # past the knee the operating point is the knee itself (no interpolation into it)
    f = xp.where(interior & take(rising, k), xp.clip(xp.minimum(f_iv, f_tt), 0.0, 1.0), 0.0)
    out = {"concurrency": xp.exp(xp.log(take(xp.broadcast_to(g, iv.shape), j)) * (1 - f)
                                 + xp.log(take(xp.broadcast_to(g, iv.shape), k)) * f)}
    for name in METRICS:
        x = c[name]
        lj, lk = xp.log(take(x, j) + tiny), xp.log(take(x, k) + tiny)
        out[name] = xp.exp(lj + f * (lk - lj))
    out["met"] = ((n_ok >= 1) & ttft_reachable[..., 0]).astype(iv.dtype)
    # the grid step holding the operating point (equal ends where none is interpolated)
    out["lower"] = take(gb, j)
    out["upper"] = xp.where(f > 0, take(gb, k), out["lower"])
    return out


def slo_metrics(v: dict, intvty_min, ttft_max=math.inf) -> dict:
    """A deployment's operating point at an SLO: the grid search, then a finer one.

    :func:`at_target` on :data:`GRID` brackets the operating point within a quarter
    octave; the physics then runs at :data:`REFINE` points across that step and
    :func:`at_target` interpolates again there (interactivity at the operating point
    within ~0.5% of the target where it binds, against ~8% from the coarse grid alone).
    ``met`` is the coarse search's.
    """
    c = curves(v)
    at = at_target(c, GRID, intvty_min, ttft_max)
    xp = _xp(at["lower"])
    steps = xp.linspace(0.0, 1.0, REFINE)
    lo, hi = at["lower"][..., None], at["upper"][..., None]
    sub = lo * (hi / lo) ** steps
    fine = at_target(curves(v, sub), sub, intvty_min, ttft_max)
    out = {k: xp.where(at["upper"] > at["lower"], fine[k], at[k]) for k in at if k != "met"}
    out["met"] = at["met"]
    return out

