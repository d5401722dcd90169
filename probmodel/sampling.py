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
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from probmodel import _jax
from probmodel import distributions as dists
from probmodel.errors import UsageError
from probmodel.model import evaluate, plan
from probmodel.spec import Scenario

_jax.configure()

#: Draws per compiled chunk. ~1e5 keeps the working set in cache on CPU (measured:
#: chunks of 1e5 ran 8.3 M draws/s, 1e6 6.4 M/s, 1e7 3.3 M/s). Fixed, so that draw j
#: does not depend on the total number of draws.
CHUNK = 1 << 17
DTYPE = jnp.float32


def name_id(name: str) -> int:
    """A stable 31-bit id of a parameter name, folded into the rng key."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@dataclass(frozen=True)
class ForwardModel:
    """The static structure of a scenario's Monte Carlo (hashable; jit keys on it)."""

    uncertain: tuple[tuple[str, str], ...]  # (name, family)
    fixed: tuple[str, ...]
    has_prices: bool
    outputs: tuple[str, ...]
    posterior: tuple[str, ...] = ()  # inputs drawn jointly from a table of posterior draws

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
        return cls(unc, fixed, scenario.prices is not None, outs, post)

    @property
    def names(self) -> tuple[str, ...]:
        """Variables each draw carries: uncertain inputs, posterior inputs, then outputs."""
        return tuple(n for n, _ in self.uncertain) + self.posterior + self.outputs

    def args(self, scenario: Scenario, posterior: Mapping[str, np.ndarray] | None = None) -> dict:
        """The numbers of ``scenario`` (and a posterior table) as a pytree of float32 arrays."""
        f32 = lambda v: jnp.asarray(v, DTYPE)  # noqa: E731
        return {
            "dist": {k: {pk: f32(pv) for pk, pv in scenario.parameters[k].params.items()}
                     for k, _ in self.uncertain},
            "fixed": {k: f32(scenario.parameters[k].point) for k in self.fixed},
            "prices": f32(scenario.prices) if self.has_prices else None,
            "posterior": {k: f32(np.asarray(posterior[k]).ravel()) for k in self.posterior},
        }

    def draw_inputs(self, key, args: Mapping, n: int) -> dict[str, jax.Array]:
        """Draw ``n`` values of every uncertain input.

        Posterior inputs are drawn jointly: one random row of the posterior table per
        draw, so their correlations survive.
        """
        out = {
            name: dists.sample(jax.random.fold_in(key, name_id(name)), fam,
                               args["dist"][name], (n,), DTYPE)
            for name, fam in self.uncertain
        }
        if self.posterior:
            table = args["posterior"]
            m = table[self.posterior[0]].shape[0]
            idx = jax.random.randint(jax.random.fold_in(key, name_id("<posterior row>")),
                                     (n,), 0, m)
            out.update({name: table[name][idx] for name in self.posterior})
        return out

    def evaluate(self, inputs: Mapping, args: Mapping, n: int) -> dict[str, jax.Array]:
        """Evaluate every output from drawn ``inputs`` and the fixed values."""
        values = dict(args["fixed"])
        values.update(inputs)
        if self.has_prices:
            values["prices"] = args["prices"]
        out = evaluate(values)
        return {k: jnp.broadcast_to(jnp.asarray(out[k], DTYPE), (n,)) for k in self.names
                if k in out}

    def chunk(self, key, args: Mapping, n: int = CHUNK) -> dict[str, jax.Array]:
        """One chunk: draws of every uncertain input and every output, shape (n,)."""
        inputs = self.draw_inputs(key, args, n)
        return self.evaluate(inputs, args, n)


@partial(jax.jit, static_argnums=(0, 3))
def _chunk_jit(model: ForwardModel, key, args, n):
    return model.chunk(key, args, n)


def chunk_keys(seed: int, start: int, stop: int) -> Iterator[jax.Array]:
    """The rng key of each chunk index in [start, stop)."""
    root = jax.random.PRNGKey(seed)
    for i in range(start, stop):
        yield jax.random.fold_in(root, i)


def check_draws_seed(draws: int, seed: int) -> None:
    """Refuse non-positive draw counts and negative or oversized seeds."""
    if not isinstance(draws, int) or draws <= 0:
        raise UsageError(f"--draws: must be a positive whole number, not {draws!r}")
    if not isinstance(seed, int) or not (0 <= seed < 2**63):
        raise UsageError(f"--seed: must be a whole number in [0, 2^63), not {seed!r}")


def iter_chunks(
    model: ForwardModel, args, draws: int, seed: int, start_draw: int = 0,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Yield (offset, host arrays) for consecutive chunks covering draws [start, draws).

    The next chunk is dispatched before the current one is copied to the host, so the
    device (or XLA's CPU threads) keeps working while Python handles results.
    """
    first = start_draw // CHUNK
    last = math.ceil(draws / CHUNK)
    if start_draw % CHUNK:
        raise ValueError("start_draw must be a multiple of CHUNK")
    pending = None
    for i, key in zip(range(first, last), chunk_keys(seed, first, last), strict=True):
        res = _chunk_jit(model, key, args, CHUNK)
        if pending is not None:
            yield pending[0], _host(pending[1], draws - pending[0])
        pending = (i * CHUNK, res)
    if pending is not None:
        yield pending[0], _host(pending[1], draws - pending[0])


def _host(res: Mapping, remaining: int) -> dict[str, np.ndarray]:
    take = min(CHUNK, remaining)
    return {k: np.asarray(v)[:take] for k, v in res.items()}


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
) -> dict[str, np.ndarray]:
    """Every uncertain input and output for ``draws`` draws, as float32 host arrays.

    ``posterior`` maps input names to equally long arrays of posterior draws (e.g. from
    a calibration run); those inputs are resampled jointly instead of drawn from the
    scenario's priors.
    """
    check_draws_seed(draws, seed)
    posterior = dict(posterior or {})
    if posterior:
        check_posterior(posterior)
    model = ForwardModel.from_scenario(scenario, tuple(posterior))
    args = model.args(scenario, posterior)
    out = {k: np.empty(draws, np.float32) for k in model.names}
    for offset, chunk in iter_chunks(model, args, draws, seed):
        n = len(next(iter(chunk.values()))) if chunk else 0
        for k, v in chunk.items():
            out[k][offset:offset + n] = v
        if progress is not None:
            progress(offset + n)
    return out


def point(scenario: Scenario) -> dict[str, float]:
    """Every input and output at the point values, in float64 (the report's arithmetic)."""
    vals = {k: np.float64(v) if k != "prices" else np.asarray(v, np.float64)
            for k, v in scenario.point_values().items()}
    out = evaluate({k: jnp.asarray(v, jnp.float64) for k, v in vals.items()})
    return {k: float(v) for k, v in out.items() if k != "prices"}
