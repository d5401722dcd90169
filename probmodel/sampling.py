"""Forward Monte Carlo: rng key in, arrays out.

The scenario becomes a :class:`ForwardModel`: a static structure (which names are
uncertain, their families, which outputs follow) plus an argument pytree of numbers
(native parameters, fixed values, prices). One jit-compiled function draws a chunk of
``CHUNK`` draws and evaluates every equation on it; changing numbers (a sweep cell, a
--set) reuses the compiled function.

Randomness: draw chunk ``i`` uses ``fold_in(PRNGKey(seed), i)`` and each parameter
folds in a stable id of its *name*. So (a) draw ``j`` is the same whatever the total
number of draws (runs can be extended, precision control can stop anywhere), and
(b) two scenarios that share a parameter draw it from the same random numbers
(common random numbers for comparisons and sweeps).

This module is the one engine: :meth:`ForwardModel.chunk` is the per-chunk function
(draw the inputs, apply the scenario's rank correlations, evaluate the equations) and
:func:`chunks` the one source of chunk keys and offsets. The plain host loop
(:func:`iter_chunks`, :func:`sample_arrays`), the streaming scan over blocks of chunks
(:mod:`probmodel.streaming`), the sweep's vmap over cells and the projection's paths all
call them; run, simulate, sweep, compare, sensitivity, project and the calibration's
prior draws consume them.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from probmodel import _jax
from probmodel import distributions as dists
from probmodel.checks import CHUNK, check_draws_seed
from probmodel.correlation import condition, rank_correlate
from probmodel.distributions import threefry
from probmodel.errors import UsageError
from probmodel.model import evaluate, plan
from probmodel.spec import Scenario

_jax.configure()

DTYPE = jnp.float32


def name_id(name: str) -> int:
    """A stable 31-bit id of a parameter name, folded into the rng key."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


#: The key label of the within-chunk rank correlation (folded into the chunk key).
CORRELATION_LABEL = "<correlation>"


# --------------------------------------------------------------------------- fast samplers
#
# Betas dominate the forward model's cost. They are drawn together, as one (m, n) batch
# of m parameters, by an exact rejection sampler whose retries touch only the rejected
# slots: round 0 proposes for every slot; each later round compacts (per row) the slots
# still rejected into a short buffer, proposes only for those and scatters
# the accepted values back. A row's values depend only on its own key and parameters,
# so common random numbers and prefix stability hold as before. Random bits come from
# threefry in its sequential form (~3x faster on CPU than the partitionable form; the
# chunks are sharded, never a single chunk).
#
# Sampler (both shapes > 1, every shipped scenario): Cheng's algorithm BB, two uniforms
# per proposal, acceptance >= 0.75 (>= 0.9 for the shipped shapes). Otherwise (a shape
# <= 1): G1 / (G1 + G2) of two Marsaglia-Tsang gammas, G(a) = G(a + 1) U^(1/a) for
# a < 1, formed in log space. Both are exact. The path is chosen per parameter, from its
# own shapes (ForwardModel.beta_boost), so a parameter's draws never depend on which
# other Betas a scenario has: common random numbers hold across scenarios.

_LN4 = float(np.log(4.0))


def _uniform_bits(keys, i, shape):
    """Open-interval uniforms (0, 1), 24-bit, one (2, *shape) block per row key."""
    with jax.threefry_partitionable(False):
        folded = jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)
    bits = threefry.bits(folded, (2, *shape))  # jax.random.bits' numbers, fused
    return ((bits >> 8).astype(DTYPE) + 0.5) * DTYPE(2.0**-24)


def _row_cumsum(mask):
    """Inclusive cumulative count of ``mask`` along the rows of an (m, n) array.

    A blocked triangular matmul: XLA's CPU cumsum is several times slower.
    """
    m, n = mask.shape
    w = 128 if n % 128 == 0 else 1
    r = mask.astype(DTYPE).reshape(m, n // w, w)
    inner = r @ jnp.triu(jnp.ones((w, w), DTYPE))  # exact: counts <= 128
    tot = inner[..., -1]
    off = jnp.cumsum(tot, axis=1) - tot
    return (inner + off[..., None]).astype(jnp.int32).reshape(m, n)


def _reject_rows(keys, propose, n: int, done0=None):
    """Exact vectorised rejection sampling of an (m, n) batch with compacted retries.

    ``propose(u1, u2)`` maps uniforms of shape (m, k) to (value, accepted), with the
    row's parameters as (m, 1) columns. ``done0`` marks slots that need no sample.

    Round 0 proposes for every slot. The slots it rejected (per row, in order, up to
    n/8 of them) are gathered once into a buffer, and rounds over the buffer alone
    repeat until each has accepted; its values are scattered back. Should a row reject
    more than n/8 slots (shapes near 1), rounds over the whole row finish the rest.
    Every proposal is fresh, so each slot ends with an independent accepted proposal.
    """
    m = keys.shape[0]
    u = _uniform_bits(keys, 0, (n,))
    x, ok = propose(u[:, 0], u[:, 1])
    if done0 is not None:
        ok = ok | done0
    rows = jnp.arange(m)[:, None]
    size = max(n // 8, 1)
    pos = _row_cumsum(~ok) - 1
    in_buf = ~ok & (pos < size)
    slot = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32), (m, n))
    buf = jnp.full((m, size), n, jnp.int32).at[rows, jnp.where(in_buf, pos, size)].set(
        slot, mode="drop")

    def buf_body(state):
        i, xb, okb = state
        u = _uniform_bits(keys, i, (size,))
        xn, okn = propose(u[:, 0], u[:, 1])
        return i + 1, jnp.where(okb, xb, xn), okb | okn

    xb0 = jnp.zeros((m, size), x.dtype)
    _, xb, _ = lax.while_loop(lambda s: ~jnp.all(s[2]), buf_body,
                              (jnp.int32(1), xb0, buf >= n))
    x = x.at[rows, buf].set(xb, mode="drop")
    ok = ok | in_buf

    def full_body(state):
        i, x, ok = state
        u = _uniform_bits(keys, i, (n,))
        xn, okn = propose(u[:, 0], u[:, 1])
        return i + 1, jnp.where(ok, x, xn), ok | okn

    # overflow rounds: normally zero iterations
    _, x, _ = lax.while_loop(lambda s: ~jnp.all(s[2]), full_body,
                             (jnp.int32(1 << 30), x, ok))
    return x


def _cheng_bb(a0, b0):
    """Cheng (1978) algorithm BB for Beta(a0, b0), min(a0, b0) > 1: a proposal function.

    Parameters are (m, 1) columns; returns propose(u1, u2) -> (x, accepted).
    """
    a, b = jnp.minimum(a0, b0), jnp.maximum(a0, b0)
    alpha = a + b
    beta = jnp.sqrt((alpha - 2.0) / (2.0 * a * b - alpha))
    gamma = a + 1.0 / beta
    swap = a0 != a

    def propose(u1, u2):
        lu1 = jnp.log(u1)
        v = beta * (lu1 - jnp.log1p(-u1))
        w = a * jnp.exp(v)
        bw = b + w
        # accept iff r + alpha log(alpha / (b + w)) >= log z, r = gamma v - log 4, z = u1^2 u2
        ok = (gamma * v - _LN4 + alpha * jnp.log(alpha / bw)) >= (2.0 * lu1 + jnp.log(u2))
        x = jnp.where(swap, b / bw, w / bw)
        return x, ok

    return propose


def _mt_log_gamma(s):
    """Marsaglia-Tsang for Gamma(s), s >= 1, as a proposal giving log G; (m, 1) shapes."""
    d = s - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)

    def propose(u1, u2):
        x = jnp.sqrt(DTYPE(2.0)) * lax.erf_inv(2.0 * u1 - 1.0)  # standard normal
        w = c * x
        pos = w > -1.0
        w = jnp.where(pos, w, 0.0)
        ok = pos & (jnp.log(u2) < 3.0 * d * dists.log1p_tail(w, DTYPE))
        return jnp.log(d) + 3.0 * jnp.log1p(w), ok

    return propose


def beta_batch(keys, a, b, n: int, fast: bool):
    """Exact Beta(a_i, b_i) draws, shape (m, n), for m row keys and (m,) shapes.

    ``fast=True``: Cheng's BB (every shape must exceed 1, as the caller has checked);
    ``fast=False``: a ratio of Marsaglia-Tsang gammas (log space, boosted below 1),
    valid for any shapes.
    """
    a = jnp.asarray(a, DTYPE)[:, None]
    b = jnp.asarray(b, DTYPE)[:, None]
    bad = ~((a > 0) & (b > 0))  # NaN or non-positive: NaN draws, never an endless loop

    def bb():
        a1, b1 = jnp.where(bad, 2.0, a), jnp.where(bad, 2.0, b)
        return _reject_rows(keys, _cheng_bb(a1, b1), n)

    def gamma_ratio():
        s = jnp.concatenate([a, b])
        s1 = jnp.where(jnp.concatenate([bad, bad]), 2.0, s)
        boost = s1 < 1.0
        k2 = jnp.concatenate([jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys),
                              jax.vmap(lambda k: jax.random.fold_in(k, 2))(keys)])
        lg = _reject_rows(k2, _mt_log_gamma(jnp.where(boost, s1 + 1.0, s1)), n)
        u = _uniform_bits(k2, 0x7FFFFFFF, (n,))[:, 0]
        lg = jnp.where(boost, lg + jnp.log(u) / s1, lg)
        m = a.shape[0]
        return jax.nn.sigmoid(lg[:m] - lg[m:])

    x = bb() if fast else gamma_ratio()
    return jnp.where(bad, jnp.nan, x)


@dataclass(frozen=True)
class ForwardModel:
    """The static structure of a scenario's Monte Carlo (hashable; jit keys on it)."""

    uncertain: tuple[tuple[str, str], ...]  # (name, family)
    fixed: tuple[str, ...]
    has_prices: bool
    outputs: tuple[str, ...]
    posterior: tuple[str, ...] = ()  # inputs drawn jointly from a table of posterior draws
    beta_boost: tuple[str, ...] = ()  # Betas with a shape <= 1 (gamma-ratio path)
    correlated: tuple[str, ...] = ()  # inputs rank-correlated within each chunk
    # The rng label of each uncertain input (default its name). Not part of the
    # structure: the labels' ids are numbers of the call (args["labels"]), so picking
    # another chip (whose own numbers draw from their own streams) reuses the program.
    labels: tuple[str, ...] = field(default=(), compare=False)
    held: tuple[str, ...] = ()  # correlated inputs held at a value (--set, a sweep cell)
    given: tuple[str, ...] = ()  # their partners, drawn given the held values

    @classmethod
    def from_scenario(cls, scenario: Scenario,
                      posterior_names: tuple[str, ...] = ()) -> ForwardModel:
        """Structure of ``scenario``; ``posterior_names`` come from a posterior table."""
        post = tuple(posterior_names)
        unc = tuple((k, p.dist) for k, p in scenario.uncertain.items() if k not in post)
        fixed = tuple(k for k in scenario.fixed if k not in post)
        available = set(scenario.parameters) | set(post) | (
            {"prices"} if scenario.prices is not None else set())
        outs = tuple(n.name for n in plan(available))
        boost = tuple(k for k, fam in unc if fam == "Beta"
                      and min(scenario.parameters[k].params.values()) <= 1.0)
        held, given = held_and_given(scenario, tuple(k for k, _ in unc))
        corr = tuple(k for k in correlation_target(scenario)[0]
                     if k in dict(unc) and k not in given)
        if len(corr) == 1:
            corr = ()  # its partners come from a posterior table: nothing left to pair
        labels = tuple(rng_label(scenario, k) for k, _ in unc)
        return cls(unc, fixed, scenario.prices is not None, outs, post, boost, corr, labels,
                   held, given)

    @property
    def names(self) -> tuple[str, ...]:
        """Variables each draw carries: uncertain inputs, posterior inputs, then outputs."""
        return tuple(n for n, _ in self.uncertain) + self.posterior + self.outputs

    def args(self, scenario: Scenario, posterior: Mapping[str, np.ndarray] | None = None) -> dict:
        """The numbers of ``scenario`` (and a posterior table) as a pytree of float32 arrays.

        NumPy arrays: a jitted call takes them as they are, where making each a JAX
        array first costs a small compiled conversion per dtype and shape (8 of the 10
        executables a run loaded).
        """
        f32 = lambda v: np.asarray(v, np.float32)  # noqa: E731
        return {
            "dist": {k: {pk: f32(pv) for pk, pv in scenario.parameters[k].params.items()}
                     for k, _ in self.uncertain},
            "fixed": {k: f32(scenario.parameters[k].point) for k in self.fixed},
            "prices": f32(scenario.prices) if self.has_prices else None,
            "posterior": {k: f32(np.asarray(posterior[k]).ravel()) for k in self.posterior},
            "correlation": f32(correlation_target(scenario, self.correlated)[1]),
            "labels": {k: np.asarray(name_id(label), np.uint32) for (k, _), label in zip(
                self.uncertain, self.labels or (k for k, _ in self.uncertain), strict=True)},
            "cond": conditioning(scenario, self.held, self.given),
        }

    def draw_inputs(self, key, args: Mapping, n: int) -> dict[str, jax.Array]:
        """Draw ``n`` values of every uncertain input.

        Betas are drawn in two batches (:func:`beta_batch`): Cheng's BB for those with
        both shapes > 1, the gamma ratio for those in ``beta_boost``. Normal and
        LogNormal inputs come from one batch of normals,
        other families by :func:`probmodel.distributions.sample`; each from the key
        ``fold_in(key, name_id(label))``, the ids passed in ``args["labels"]``
        (:func:`rng_label`: the name, with the catalog entry for a chip's or an
        engine's own numbers). Posterior inputs are drawn
        jointly: one random row of the posterior table per draw, so their correlations
        survive.
        """
        pkey = {name: jax.random.fold_in(key, args["labels"][name])
                for name, _ in self.uncertain}
        normals = [name for name, fam in self.uncertain if fam in ("Normal", "LogNormal")]
        fams = dict(self.uncertain)
        out = {}
        for fast in (True, False):
            betas = [name for name, fam in self.uncertain
                     if fam == "Beta" and (name in self.beta_boost) != fast]
            if betas:
                x = beta_batch(jnp.stack([pkey[k] for k in betas]),
                               jnp.stack([args["dist"][k]["alpha"] for k in betas]),
                               jnp.stack([args["dist"][k]["beta"] for k in betas]), n, fast)
                out.update({k: x[i] for i, k in enumerate(betas)})
        with jax.threefry_partitionable(False):
            if normals:
                z = jax.vmap(lambda k: threefry.normal(k, (n,), DTYPE))(
                    jnp.stack([pkey[k] for k in normals]))
                for i, k in enumerate(normals):
                    p = args["dist"][k]
                    y = p["loc"] + p["scale"] * z[i]
                    out[k] = jnp.exp(y) if fams[k] == "LogNormal" else y
            for name, fam in self.uncertain:
                if name not in out:
                    out[name] = dists.sample(pkey[name], fam, args["dist"][name], (n,), DTYPE)
        out = {name: out[name] for name, _ in self.uncertain}
        if self.correlated:
            out = rank_correlate(jax.random.fold_in(key, name_id(CORRELATION_LABEL)), out,
                                    self.correlated, args["correlation"])
        if self.posterior:
            table = args["posterior"]
            idx = posterior_rows(key, table[self.posterior[0]].shape[0], n)
            out.update({name: table[name][idx] for name in self.posterior})
        return out

    def condition(self, inputs: Mapping, args: Mapping) -> dict[str, jax.Array]:
        """The partners of held correlated inputs, drawn given the held values.

        :func:`probmodel.correlation.condition` on :meth:`draw_inputs`' independent draws
        of :attr:`given`, with ``args["cond"]`` (a sweep passes each cell's scores).
        """
        if not self.given:
            return dict(inputs)
        c = args["cond"]
        return condition(inputs, self.given, c["coef"], c["chol"], c["z"])

    def evaluate(self, inputs: Mapping, args: Mapping, n: int,
                 broadcast: bool = True) -> dict[str, jax.Array]:
        """Evaluate every output from drawn ``inputs`` and the fixed values.

        ``broadcast=False`` leaves variables that do not vary between draws as scalars.
        """
        values = dict(args["fixed"])
        values.update(inputs)
        if self.has_prices:
            values["prices"] = args["prices"]
        out = evaluate(values)
        out = {k: jnp.asarray(out[k], DTYPE) for k in self.names if k in out}
        return {k: jnp.broadcast_to(v, (n,)) for k, v in out.items()} if broadcast else out

    def chunk(self, key, args: Mapping, n: int = CHUNK,
              broadcast: bool = True) -> dict[str, jax.Array]:
        """One chunk: draws of every uncertain input and every output, shape (n,).

        The per-chunk function of every engine path (host loop, streaming scan, sweep).
        """
        inputs = self.condition(self.draw_inputs(key, args, n), args)
        return self.evaluate(inputs, args, n, broadcast)


def held_and_given(scenario: Scenario, uncertain: Sequence[str],
                   ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Correlated inputs held at a value, and the uncertain inputs linked to them.

    The partners are every uncertain input tied to a held one through the scenario's
    correlations (directly or in a chain); they are drawn given the held values.
    """
    if not getattr(scenario, "conditioning", ()):
        return (), ()
    pairs = (*scenario.correlations, *scenario.conditioning)
    held = tuple(k for k in scenario.conditioned if k not in uncertain)
    linked: dict[str, set[str]] = {}
    for c in pairs:
        linked.setdefault(c.a, set()).add(c.b)
        linked.setdefault(c.b, set()).add(c.a)
    seen, todo = set(held), list(held)
    while todo:
        for nb in linked.get(todo.pop(), ()):
            if nb not in seen:
                seen.add(nb)
                todo.append(nb)
    given = tuple(k for k in uncertain if k in seen)
    return (held, given) if given else ((), ())


def conditioning(scenario: Scenario, held: Sequence[str], given: Sequence[str],
                 values: Mapping[str, float] | None = None) -> dict:
    """The numbers of :func:`probmodel.correlation.condition`: coef, chol and z.

    ``values`` (default: the held inputs' values in ``scenario``) are scored under each
    held input's own law: z = Phi^-1(F(value)).
    """
    if not given:
        return {"coef": np.zeros((0, 0)), "chol": np.zeros((0, 0)), "z": np.zeros(0)}
    from probmodel.spec.correlations import pearson_for_spearman, spearman_matrix

    order = (*held, *given)
    pairs = tuple(c for c in (*scenario.correlations, *scenario.conditioning)
                  if c.a in order and c.b in order)
    names, spear = spearman_matrix(pairs, order)
    idx = [names.index(k) for k in order]
    p = np.asarray(pearson_for_spearman(np.asarray(spear, np.float64)))[np.ix_(idx, idx)]
    f, r = slice(0, len(held)), slice(len(held), len(order))
    coef = p[r, f] @ np.linalg.inv(p[f, f])
    cov = p[r, r] - coef @ p[f, r]
    chol = np.linalg.cholesky(cov)
    z = held_scores(scenario, held, values)
    return {"coef": np.asarray(coef), "chol": np.asarray(chol), "z": np.asarray(z)}


def held_scores(scenario: Scenario, held: Sequence[str],
                values: Mapping[str, float] | None = None) -> np.ndarray:
    """Normal scores Phi^-1(F(value)) of held inputs under their own laws (float64)."""
    from scipy.special import ndtri

    from probmodel.distributions.reference import scipy_dist

    z = []
    for k in held:
        law = scenario.conditioned[k]
        v = float((values or {}).get(k, scenario.parameters[k].point))
        u = float(scipy_dist(law.dist, law.params).cdf(v))
        z.append(float(ndtri(min(max(u, 1e-12), 1.0 - 1e-12))))
    return np.asarray(z, np.float64)


def rng_label(scenario: Scenario, name: str) -> str:
    """The label whose hash keys an input's draws: its name, or ``name@entry``.

    An input a chip's or a serving engine's catalog entry supplies (its efficiencies,
    residual errors, rental price) is that chip's own number: scenarios on different
    chips draw it independently (``gpu_price_per_hour@H20`` and ``@H800``), so
    comparing chips never treats two chips' uncertainties as one. Every other input,
    and the same chip in two scenarios, keeps common random numbers.
    """
    from probmodel import catalog

    desc = scenario.parameters[name].description or ""
    for kind in ("chip", "engine"):
        if catalog.is_from_catalog(desc, kind):
            return f"{name}@{catalog.current_pick_of(desc, kind)}"
    return name


def posterior_rows(key, m: int, n: int) -> jax.Array:
    """The posterior-table row of each of the ``n`` draws of the chunk with ``key``."""
    return jax.random.randint(jax.random.fold_in(key, name_id("<posterior row>")), (n,), 0, m)


def correlation_target(scenario: Scenario, names: Sequence[str] | None = None,
                       ) -> tuple[tuple[str, ...], np.ndarray]:
    """The scenario's correlated names and target Spearman matrix (restricted to ``names``).

    Scenarios without ``[[correlations]]`` give ``((), 0 x 0 matrix)``.
    """
    if not getattr(scenario, "correlations", ()):
        return (), np.zeros((0, 0))
    all_names, matrix = scenario.correlation_matrix()
    keep = [i for i, k in enumerate(all_names) if names is None or k in names]
    return tuple(all_names[i] for i in keep), np.asarray(matrix)[np.ix_(keep, keep)]


@partial(jax.jit, static_argnums=(0, 3))
def chunk_jit(model: ForwardModel, key, args, n):
    """One compiled chunk: every uncertain input and output, shape (n,)."""
    return model.chunk(key, args, n)


@partial(jax.jit, static_argnums=(0, 3))
def inputs_jit(model: ForwardModel, key, args, n):
    """The compiled input stage of a chunk (draws and rank correlation), shape (n,)."""
    return model.draw_inputs(key, args, n)


def root_key(seed: int) -> jax.Array:
    """The root rng key of a run with ``seed``: every engine path makes it here."""
    return jax.random.PRNGKey(seed)


def chunk_key(root, i):
    """The rng key of chunk ``i`` under the root key :func:`root_key` (traceable)."""
    return jax.random.fold_in(root, i)


@dataclass(frozen=True)
class Chunk:
    """Chunk ``index``: its key, and the draws [offset, offset + take) it supplies."""

    index: int
    key: jax.Array
    offset: int
    take: int


def chunks(seed: int, draws: int, start: int = 0) -> Iterator[Chunk]:
    """The chunks covering draws [0, draws), from chunk ``start`` on."""
    root = root_key(seed)
    for i in range(start, math.ceil(draws / CHUNK)):
        yield Chunk(i, chunk_key(root, i), i * CHUNK, min(CHUNK, draws - i * CHUNK))


def iter_chunks(
    model: ForwardModel, args, draws: int, seed: int, names: Sequence[str] | None = None,
    host: bool = True,
) -> Iterator[tuple[Chunk, dict]]:
    """Yield (chunk, arrays) for consecutive chunks covering draws [0, draws).

    ``host=True``: NumPy arrays of ``names`` (default every variable), cut to the
    chunk's ``take``; ``host=False``: the full device arrays of the chunk. The next
    chunk is dispatched before the current one is handed over, so the device (or XLA's
    CPU threads) keeps working while Python handles results.
    """
    pending = None
    for c in chunks(seed, draws):
        res = chunk_jit(model, c.key, args, CHUNK)
        if pending is not None:
            yield pending[0], _hand_over(pending, names, host)
        pending = (c, res)
    if pending is not None:
        yield pending[0], _hand_over(pending, names, host)


def _hand_over(pending, names, host: bool) -> dict:
    c, res = pending
    if not host:
        return res
    return {k: np.asarray(res[k])[:c.take] for k in (names or res)}


def check_posterior(posterior: Mapping[str, np.ndarray]) -> None:
    """Refuse a posterior table with unknown names or columns of different lengths."""
    from probmodel.model import INPUTS

    lengths = {k: np.asarray(v).size for k, v in posterior.items()}
    for k in posterior:
        if k not in INPUTS:
            raise UsageError(f"--posterior: '{k}' is not a model input")
    if len(set(lengths.values())) > 1 or 0 in lengths.values():
        raise UsageError(f"--posterior: columns must have one common, non-zero length "
                         f"({lengths})")


def sample_arrays(
    scenario: Scenario, draws: int, seed: int,
    progress: Callable[[int], None] | None = None,
    posterior: Mapping[str, np.ndarray] | None = None,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Every uncertain input and output for ``draws`` draws, as float32 host arrays.

    ``posterior`` maps input names to equally long arrays of posterior draws (e.g. from
    a calibration run); those inputs are resampled jointly instead of drawn from the
    scenario's priors. ``names`` keeps only those variables.
    """
    check_draws_seed(draws, seed)
    posterior = dict(posterior or {})
    if posterior:
        check_posterior(posterior)
    model = ForwardModel.from_scenario(scenario, tuple(posterior))
    args = model.args(scenario, posterior)
    names = tuple(model.names if names is None else names)
    out = {k: np.empty(draws, np.float32) for k in names}
    for c, chunk in iter_chunks(model, args, draws, seed, names):
        for k, v in chunk.items():
            out[k][c.offset:c.offset + c.take] = v
        if progress is not None:
            progress(c.offset + c.take)
    return out
