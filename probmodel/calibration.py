"""Bayesian calibration: condition a scenario's priors on its observations with NUTS.

The numpyro model is built from the scenario, never written by hand:

- every uncertain parameter is a sample site with its prior
  (:func:`probmodel.distributions.to_numpyro`);
- fixed parameters and prices are constants;
- every model output follows from :func:`probmodel.model.evaluate` (the same equations as
  the forward Monte Carlo);
- every ``[observations.NAME]`` table adds its log-likelihood
  (:func:`probmodel.observations.log_likelihood`) as a factor.

NUTS (numpyro) samples the posterior; r-hat and bulk/tail ESS follow arviz-stats'
formulas (computed here in NumPy: :func:`rhat`, :func:`ess`), and divergences come from
the sampler. :func:`calibrate` returns everything as arrays and an ArviZ
DataTree (groups prior, prior_predictive, posterior, posterior_predictive, observed_data,
sample_stats); io/commands write it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from probmodel import _jax, checks, sampling
from probmodel import distributions as dists
from probmodel import observations as obsmod
from probmodel.checks import check_chain_method, check_nuts_settings
from probmodel.model import evaluate, plan
from probmodel.observations import Observation
from probmodel.progress import NutsProgress
from probmodel.spec import Scenario

_jax.configure()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpyro  # noqa: E402  (before arviz: its lazy loader breaks numpyro.infer otherwise)
from numpyro.infer import MCMC, NUTS  # noqa: E402

#: Diagnostic thresholds (Vehtari et al. 2021: rank-normalised split r-hat < 1.01 and
#: ESS > 400 for reliable quantiles of 90% intervals; any divergence means the sampler
#: missed part of the posterior).
RHAT_MAX = 1.01
ESS_MIN = 400
DEFAULTS = {"chains": 4, "warmup": 500, "samples": 1000, "seed": 0}


@dataclass(frozen=True)
class CalibrationModel:
    """Static structure of a scenario's calibration model (hashable)."""

    latent: tuple[tuple[str, str], ...]  # (name, family) of each sample site
    fixed: tuple[str, ...]
    has_prices: bool
    observations: tuple[Observation, ...]
    outputs: tuple[str, ...]

    @property
    def latent_names(self) -> tuple[str, ...]:
        """Names of the sample sites, in scenario order."""
        return tuple(n for n, _ in self.latent)


@dataclass
class Diagnostics:
    """Convergence diagnostics of one NUTS run."""

    table: list[dict]  # per latent parameter: r_hat, ess_bulk, ess_tail, divergences
    divergences: int
    failures: list[str] = field(default_factory=list)  # one line per failing parameter

    @property
    def ok(self) -> bool:
        """True when every parameter passes r-hat, ESS and there are no divergences."""
        return not self.failures


@dataclass
class Calibration:
    """Result of :func:`calibrate`: draws, tables and the ArviZ DataTree."""

    scenario: Scenario
    model: CalibrationModel
    posterior: dict[str, np.ndarray]  # name -> (chain, draw), latent and outputs
    prior: dict[str, np.ndarray]  # name -> (draw,)
    posterior_predictive: dict[str, np.ndarray]
    prior_predictive: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    diagnostics: Diagnostics
    settings: dict
    seconds: dict

    @property
    def latent_draws(self) -> dict[str, np.ndarray]:
        """Posterior draws of the calibrated parameters, flattened over chains."""
        return {k: self.posterior[k].reshape(-1) for k in self.model.latent_names}


# --------------------------------------------------------------------------- model


def build(scenario: Scenario) -> CalibrationModel:
    """Check that ``scenario`` can be calibrated and return the model structure.

    Raises
    ------
    ScenarioError
        Located at ``observations.NAME`` for an observation the scenario cannot
        compute or that observes a fixed parameter, and for a scenario without
        observations or without uncertain parameters.
    """
    checks.check_calibratable(scenario)  # also run by the command before JAX is imported
    obs = dict(scenario.observations)
    available = set(scenario.parameters) | ({"prices"} if scenario.prices is not None else set())
    outputs = tuple(n.name for n in plan(available))
    latent = tuple((k, p.dist) for k, p in scenario.uncertain.items())
    fixed = tuple(scenario.fixed)
    return CalibrationModel(latent, fixed, scenario.prices is not None,
                            tuple(obs.values()), outputs)


def _evaluate_only(values: Mapping, names) -> dict:
    """Like :func:`probmodel.model.evaluate`, but only the nodes ``names`` depend on.

    XLA would drop the rest too, but tracing and differentiating fewer nodes keeps the
    compiled NUTS step smaller.
    """
    chosen = plan(set(values))
    need = set(names)
    keep = []
    for node in reversed(chosen):
        if node.name in need:
            keep.append(node)
            need.update(node.inputs)
    out = dict(values)
    for node in reversed(keep):
        out[node.name] = node.fn(*[out[i] if i in out else node.optional[i]
                                   for i in node.inputs])
    return out


def model_args(cm: CalibrationModel, scenario: Scenario) -> dict:
    """The numbers of the model as a pytree of float64 arrays."""
    f64 = lambda v: jnp.asarray(v, jnp.float64)  # noqa: E731
    return {
        "dist": {k: {pk: f64(pv) for pk, pv in scenario.parameters[k].params.items()}
                 for k, _ in cm.latent},
        "fixed": {k: f64(scenario.parameters[k].point) for k in cm.fixed},
        "prices": f64(scenario.prices) if cm.has_prices else None,
        "obs": {o.name: f64(o.value) for o in cm.observations},
    }


def numpyro_model(cm: CalibrationModel, args: Mapping, n_rep: int | None = None) -> None:
    """The numpyro model: priors, equations, and one likelihood factor per observation.

    Parameters
    ----------
    cm : CalibrationModel
        Structure from :func:`build`.
    args : dict
        Numbers from :func:`model_args`.
    n_rep : int, optional
        Fit ``n_rep`` independent copies at once (a ``replicate`` plate): every
        parameter gets shape (n_rep,) and ``args["obs"]`` values may be (n_rep,) arrays.
        The joint posterior factorises, so one NUTS run fits every copy (used by the
        simulation-based calibration test).
    """
    values = dict(args["fixed"])
    if cm.has_prices:
        values["prices"] = args["prices"]
    if n_rep is None:
        for name, fam in cm.latent:
            values[name] = numpyro.sample(name, dists.to_numpyro(fam, args["dist"][name]))
    else:
        with numpyro.plate("replicate", n_rep):
            for name, fam in cm.latent:
                values[name] = numpyro.sample(name, dists.to_numpyro(fam, args["dist"][name]))
    out = _evaluate_only(values, [o.name for o in cm.observations])
    for o in cm.observations:
        ll = obsmod.log_likelihood(o, out[o.name], args["obs"][o.name])
        numpyro.factor(f"obs_{o.name}", jnp.sum(ll))


# --------------------------------------------------------------------------- sampling


def resolve_chain_method(method: str, chains: int) -> str:
    """``auto``: one XLA host device per chain when available, else vectorized.

    Measured on 2 CPU cores (docs/calibration.md): parallel < vectorized < sequential
    in wall time, because numpyro 0.22 recompiles per run (and per chain when
    sequential) with the progress bar off.
    """
    check_chain_method(method)
    if method != "auto":
        return method
    if chains > 1 and jax.local_device_count() >= chains:
        return "parallel"
    return "vectorized" if chains > 1 else "sequential"


def run_nuts(cm: CalibrationModel, args: Mapping, *, chains: int, warmup: int, samples: int,
             seed: int, chain_method: str = "auto", n_rep: int | None = None,
             target_accept: float = 0.9, dense_mass: bool | None = None,
             max_tree_depth: int = 10,
             progress: Callable[[str, int, int | None], None] | None = None,
             chain_progress: bool = False) -> tuple[dict, dict, str]:
    """Run NUTS; return (draws name -> (chain, draw, ...), sample stats, chain method).

    A dense mass matrix is adapted for small models (<= 50 parameters): it absorbs the
    correlations that ridges such as requests x tokens-per-request create.
    ``progress(phase, done, total)``: with ``chain_progress`` and parallel chains,
    "warm-up" then "sampling" with the iterations summed over the chains, from inside
    numpyro's loop (:class:`probmodel.progress.NutsProgress`); otherwise one phase
    "warm-up and sampling" of unknown length (total None), then its end. The in-loop
    reports cost a compilation per run, because JAX's persistent cache does not keep
    programs with host callbacks (measured in docs/calibration.md); the draws are the
    same bits either way.
    """
    method = resolve_chain_method(chain_method, chains)
    n_dim = len(cm.latent) * (n_rep or 1)
    kernel = NUTS(partial(numpyro_model, cm, n_rep=n_rep), target_accept_prob=target_accept,
                  dense_mass=(n_dim <= 50) if dense_mass is None else dense_mass,
                  max_tree_depth=max_tree_depth)
    # Parallel chains: numpyro's progress path, its bar replaced by our callback (one
    # compiled loop, whether or not anything is shown).
    in_loop = chain_progress and method == "parallel" and chains > 1
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=chains,
                chain_method=method, progress_bar=in_loop)
    # numpyro turns its bar off when CI or pytest-xdist is in the environment; ours
    # prints no tqdm bar, and the compiled loop must not depend on the environment
    mcmc.progress_bar = in_loop
    if progress is not None and not in_loop:  # the steps are known, counted at the end
        progress("warm-up and sampling", 0, chains * (warmup + samples))
    with NutsProgress(progress if in_loop else None, warmup, samples, chains):
        mcmc.run(jax.random.PRNGKey(seed), args,
                 extra_fields=("diverging", "num_steps", "potential_energy", "energy",
                               "adapt_state.step_size"))
    if progress is not None and not in_loop:
        progress("warm-up and sampling", chains * (warmup + samples),
                 chains * (warmup + samples))
    draws = {k: np.asarray(v, np.float64) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    ex = mcmc.get_extra_fields(group_by_chain=True)
    stats = {
        "diverging": np.asarray(ex["diverging"], bool),
        "n_steps": np.asarray(ex["num_steps"], np.int64),
        "tree_depth": np.floor(np.log2(np.asarray(ex["num_steps"], np.float64))).astype(np.int64)
        + 1,
        "lp": -np.asarray(ex["potential_energy"], np.float64),
        "energy": np.asarray(ex["energy"], np.float64),
        "step_size": np.asarray(ex["adapt_state.step_size"], np.float64),
    }
    return draws, stats, method


def _evaluate_draws(cm: CalibrationModel, args: Mapping, latent: Mapping) -> dict:
    """Every model output at each draw of the latent parameters (float64).

    Evaluated in NumPy (the equations take either array namespace): a few dozen vectorised
    operations on a few thousand draws. Eager JAX took 0.15-0.2 s on the first call of a
    process, each operation fetching its own small executable from the compilation cache;
    NumPy takes ~1 ms and agrees to ~1e-13 (rounding of exp/log differs in the last bit).
    """
    f64 = lambda v: np.asarray(v, np.float64)  # noqa: E731
    values = {k: f64(v) for k, v in args["fixed"].items()}
    if args["prices"] is not None:
        values["prices"] = f64(args["prices"])
    values.update({k: f64(latent[k]) for k in cm.latent_names})
    shape = np.shape(latent[cm.latent[0][0]])
    # IEEE results as in JAX: a division by zero gives inf, not a warning
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = evaluate(values)
    return {k: np.broadcast_to(f64(out[k]), shape).copy() for k in cm.outputs}


def outputs_of(cm: CalibrationModel, args: Mapping, draws: Mapping[str, np.ndarray]) -> dict:
    """Every model output at each draw of the latent parameters (float64)."""
    return _evaluate_draws(cm, args, draws)


# --------------------------------------------------------------------------- diagnostics
#
# Rank-normalised split r-hat and bulk/tail/mean ESS (Vehtari et al. 2021), the same
# arithmetic as arviz-stats 0.x's ``array_stats.rhat(method="rank")`` and
# ``array_stats.ess(method="bulk" | "tail" | "mean")`` (tests/unit/test_calibration.py
# checks agreement to 1e-12). Why not call arviz-stats: importing it imports scipy.stats
# (through its loo module), 0.7 s of a 2-core CLI run that needs none of it; scipy.special
# and scipy.fftpack are already loaded by numpyro.


def _valid(x: np.ndarray, min_chains: int) -> bool:
    """arviz-stats' shape and NaN checks: no NaN, >= min_chains chains, >= 4 draws."""
    return not np.isnan(x).any() and x.shape[0] >= min_chains and x.shape[1] >= 4


def _split(x: np.ndarray) -> np.ndarray:
    half = x.shape[1] // 2
    return np.vstack((x[:, :half], x[:, -half:]))


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled average ranks, (rank - 3/8) / (n + 1/4) (Blom 1958)."""
    from scipy.special import ndtri

    flat = x.ravel()
    order = np.argsort(flat, kind="mergesort")
    s = flat[order]
    new = np.r_[True, s[1:] != s[:-1]]
    starts = np.nonzero(np.r_[new, True])[0]
    group = np.cumsum(new) - 1
    ranks = np.empty(flat.size)
    ranks[order] = 0.5 * (starts[:-1] + starts[1:] - 1)[group] + 1.0  # ties: average rank
    return ndtri((ranks - 3 / 8) / (flat.size + 1 / 4)).reshape(x.shape)


def _rhat_2d(x: np.ndarray) -> float:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _ess_2d(x: np.ndarray) -> float:
    """ESS of (chain, draw) draws: FFT autocovariance, Geyer's initial monotone sequence."""
    from scipy.fftpack import next_fast_len

    x = np.asarray(x, np.float64)
    if np.max(x) - np.min(x) < np.finfo(float).resolution:
        return float(x.size)
    n_chain, n_draw = x.shape
    m = next_fast_len(2 * n_draw)
    c = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(c, n=m, axis=1)
    f *= np.conjugate(f)
    acov = np.fft.irfft(f, n=m, axis=1)[:, :n_draw] / n_draw
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(x.mean(axis=1), ddof=1)
    rho = np.zeros(n_draw)
    rho_even, rho_odd = 1.0, 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho[0], rho[1] = rho_even, rho_odd
    t = 1  # Geyer's initial positive sequence
    while t < n_draw - 3 and rho_even + rho_odd > 0.0:
        rho_even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        rho_odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if rho_even + rho_odd >= 0:
            rho[t + 1], rho[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1  # Geyer's initial monotone sequence
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    n = n_chain * n_draw
    tau = -1.0 + 2.0 * np.sum(rho[:max_t + 1]) + np.sum(rho[max_t + 1:max_t + 2])
    tau = max(tau, 1 / np.log10(n))
    return float("nan") if np.isnan(rho).any() else float(n / tau)


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split r-hat of (chain, draw) draws: max of bulk and folded.

    NaN with fewer than 2 chains or 4 draws, or any NaN draw (as arviz-stats).
    """
    x = np.asarray(x, np.float64)
    if not _valid(x, 2):
        return float("nan")
    sp = _split(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return max(_rhat_2d(_z_scale(sp)), _rhat_2d(_z_scale(np.abs(sp - np.median(sp)))))


def ess(x: np.ndarray, method: str = "bulk", prob: tuple[float, float] = (0.05, 0.95)
        ) -> float:
    """Effective sample size of (chain, draw) draws.

    ``bulk``: rank-normalised split chains; ``tail``: the smaller quantile ESS at
    ``prob``; ``mean``: split chains. NaN with fewer than 4 draws or any NaN draw.
    """
    x = np.asarray(x, np.float64)
    if not _valid(x, 1):
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "bulk":
            return _ess_2d(_z_scale(_split(x)))
        if method == "mean":
            return _ess_2d(_split(x))
        if method == "tail":
            return min(_ess_2d(_split((x <= np.quantile(x, p)).astype(np.float64)))
                       for p in prob)
    raise ValueError(f"ess: method must be bulk, tail or mean, not {method!r}")


def diagnose(draws: Mapping[str, np.ndarray], names, diverging: np.ndarray,
             rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN) -> Diagnostics:
    """r-hat (rank-normalised split), bulk and tail ESS per parameter; divergences.

    ``draws[name]`` has shape (chain, draw). r-hat needs at least two chains (NaN, hence
    a failure, with one).
    """
    n_div = int(np.asarray(diverging).sum())
    table, failures = [], []
    for name in names:
        x = np.asarray(draws[name], np.float64)
        rhat_v = rhat(x)
        ess_b = ess(x, "bulk")
        ess_t = ess(x, "tail")
        row = {"parameter": name, "r_hat": rhat_v, "ess_bulk": ess_b, "ess_tail": ess_t,
               "divergences": n_div, "ok": True}
        why = []
        if not math.isfinite(rhat_v) or rhat_v > rhat_max:
            why.append(f"r-hat {rhat_v:.3f} > {rhat_max}")
        if not math.isfinite(ess_b) or ess_b < ess_min:
            why.append(f"bulk ESS {ess_b:.0f} < {ess_min}")
        if not math.isfinite(ess_t) or ess_t < ess_min:
            why.append(f"tail ESS {ess_t:.0f} < {ess_min}")
        if n_div:
            why.append(f"{n_div} divergent transitions")
        if why:
            row["ok"] = False
            failures.append(f"{name}: " + ", ".join(why))
        table.append(row)
    return Diagnostics(table, n_div, failures)


def _prior_draws(scenario: Scenario, cm: CalibrationModel, args: Mapping, n: int,
                 seed: int) -> dict[str, np.ndarray]:
    """``n`` iid draws of every calibrated parameter from its prior, and the outputs.

    The parameters come from the forward engine (the draws ``probmodel run`` makes with
    this seed); the outputs are evaluated in float64 like the posterior's.
    """
    drawn = sampling.sample_arrays(scenario, n, seed, names=cm.latent_names)
    latent = {name: drawn[name].astype(np.float64) for name in cm.latent_names}
    return {**latent, **_evaluate_draws(cm, args, latent)}


def _predictive(cm: CalibrationModel, values: Mapping[str, np.ndarray], seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for o in cm.observations:
        q = np.asarray(values[o.name], np.float64)
        out[o.name] = obsmod.replicate(o, q, rng.standard_normal(q.shape))
    return out


def calibrate(scenario: Scenario, chains: int = DEFAULTS["chains"],
              warmup: int = DEFAULTS["warmup"], samples: int = DEFAULTS["samples"],
              seed: int = DEFAULTS["seed"], chain_method: str = "auto",
              target_accept: float = 0.9, max_tree_depth: int = 10,
              prior_draws: int | None = None,
              progress: Callable[[str, int, int | None], None] | None = None,
              chain_progress: bool = False) -> Calibration:
    """Condition ``scenario``'s priors on its observations with NUTS.

    Parameters
    ----------
    scenario : Scenario
        A scenario with uncertain parameters and an ``[observations]`` table.
    chains, warmup, samples, seed : int
        NUTS settings; draws kept = chains x samples.
    chain_method : {"auto", "parallel", "vectorized", "sequential"}
        How chains run (``auto``: parallel when one XLA device per chain exists).
    target_accept : float
        NUTS target acceptance probability (0.9: smaller steps, fewer divergences).
    max_tree_depth : int
        NUTS tree depth limit.
    prior_draws : int, optional
        Draws kept in the prior group (default chains x samples).
    progress : callable, optional
        ``progress(phase, done, total)`` while NUTS runs (see :func:`run_nuts`).
    chain_progress : bool
        Report warm-up and sampling from inside the sampler (parallel chains only).

    Returns
    -------
    Calibration
        Draws of every group, diagnostics, settings and timings.
    """
    check_nuts_settings(chains, warmup, samples, seed)
    t0 = time.perf_counter()
    cm = build(scenario)
    args = model_args(cm, scenario)
    draws, stats, method = run_nuts(cm, args, chains=chains, warmup=warmup, samples=samples,
                                    seed=seed, chain_method=chain_method,
                                    target_accept=target_accept,
                                    max_tree_depth=max_tree_depth, progress=progress,
                                    chain_progress=chain_progress)
    t_nuts = time.perf_counter() - t0
    outs = outputs_of(cm, args, draws)
    posterior = {**{k: draws[k] for k in cm.latent_names}, **outs}
    diag = diagnose(posterior, cm.latent_names, stats["diverging"])
    n_prior = prior_draws or chains * samples
    prior = _prior_draws(scenario, cm, args, n_prior, seed)
    post_pred = _predictive(cm, posterior, seed + 1)
    prior_pred = _predictive(cm, prior, seed + 2)
    seconds = {"nuts": round(t_nuts, 3), "total": round(time.perf_counter() - t0, 3)}
    settings = {"chains": chains, "warmup": warmup, "samples": samples, "seed": seed,
                "chain_method": method, "target_accept": target_accept,
                "max_tree_depth": max_tree_depth, "dense_mass": len(cm.latent) <= 50,
                "rhat_max": RHAT_MAX, "ess_min": ESS_MIN}
    return Calibration(scenario, cm, posterior, prior, post_pred, prior_pred, stats, diag,
                       settings, seconds)
