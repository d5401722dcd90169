"""Sweep grids on a Dask distributed cluster (``--scheduler ADDRESS``).

A sweep is cut into equal blocks of cells (:class:`probmodel.analysis.sweep.BlockPlan`);
each block is one task that runs every chunk of draws through the same compiled
functions the local sweep uses, so a remote block equals the local one bit for bit.
Tasks call one module-level function, so each worker process keeps its jit caches warm
from one block to the next. Dask (``dask[distributed]``) is an optional extra: only
``--scheduler`` needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from probmodel.errors import UsageError

INSTALL = "pip install -e '.[cluster]'"


def connect(address: str, timeout_s: float = 30):
    """A Dask client of the scheduler at ``address`` (UsageError, exit 2, if impossible)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError(f"--scheduler: needs dask[distributed], which is not installed "
                         f"(install it with: {INSTALL})") from None
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except Exception as e:
        raise UsageError(f"--scheduler {address}: could not connect ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'no detail'})") from None


def map_blocks(scheduler, fn: Callable, plan, draws: int, seed: int,
               blocks: Iterable[int]):
    """``(b, fn(plan, draws, seed, b))`` for every block ``b``, computed on the cluster.

    ``scheduler``: an address, or a connected ``dask.distributed.Client``. Results come
    back in block order.
    """
    client = scheduler if not isinstance(scheduler, str) else connect(scheduler)
    try:
        blocks = list(blocks)
        plan_f = client.scatter(plan, broadcast=True)  # sent once, not once per task
        futures = [client.submit(fn, plan_f, draws, seed, b, pure=False) for b in blocks]
        return list(zip(blocks, client.gather(futures), strict=True))
    finally:
        if isinstance(scheduler, str):
            client.close()
