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

#: Schemes of a Dask scheduler address probmodel connects to (none means tcp).
SCHEMES = ("tcp",)

#: Seconds to wait for the scheduler to answer (a socket first, then Dask's handshake).
CONNECT_TIMEOUT_S = 10.0


def _shown(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def parse_address(address: str) -> tuple[str, str, int]:
    """A scheduler address as (scheme, host, port); UsageError (exit 2) if malformed.

    Checked before any import of Dask or JAX: ``tcp://HOST:PORT`` (or ``tls://``, or
    bare ``HOST:PORT``), the port in 1-65535. An ``http://`` address is the dashboard's.
    """
    import re

    if not address.strip():
        raise UsageError("--scheduler: empty address; expected tcp://HOST:PORT (a Dask "
                         "scheduler, port 8786 by default)")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme in ("http", "https"):
        raise UsageError(f"--scheduler: {_shown(address)} is a web address (the Dask "
                         "dashboard's?); the scheduler's is tcp://HOST:PORT (port 8786 by "
                         "default)")
    if scheme not in SCHEMES:
        raise UsageError(f"--scheduler: scheme {_shown(scheme)} is not one of "
                         f"{', '.join(SCHEMES)} (expected tcp://HOST:PORT)")
    m = re.fullmatch(r"([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", rest)
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise UsageError(f"--scheduler: expected tcp://HOST:PORT with a port from 1 to "
                         f"65535, not {_shown(address)}")
    return scheme, m.group(1).strip("[]"), int(m.group(2))


def check_reachable(address: str, timeout_s: float | None = None) -> None:
    """Refuse an address where no Dask scheduler answers, with plain sockets (no Dask).

    Dask's client retries a refused port until its timeout, and waits without end for a
    listener that is not a scheduler (an HTTP server); a Dask TCP peer sends its
    handshake as soon as it accepts, so a socket that gets no byte within
    ``timeout_s`` is no scheduler.
    """
    import socket

    scheme, host, port = parse_address(address)
    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            if scheme != "tcp":  # a TLS server waits for the client's hello
                return
            sock.settimeout(timeout_s)
            if not sock.recv(1):
                raise UsageError(f"--scheduler {address}: closed the connection without "
                                 "a Dask handshake (not a Dask scheduler?)")
    except socket.gaierror as e:
        raise UsageError(f"--scheduler {address}: unknown host {host!r} "
                         f"({e.strerror or e})") from None
    except TimeoutError:
        raise UsageError(f"--scheduler {address}: no Dask scheduler answered within "
                         f"{timeout_s:g} s") from None
    except OSError as e:
        raise UsageError(f"--scheduler {address}: could not connect "
                         f"({e.strerror or e}; is the scheduler running?)") from None


def check(address: str, timeout_s: float | None = None) -> None:
    """Everything about ``--scheduler`` that needs no Dask import (UsageError, exit 2).

    The address's form, that dask[distributed] is installed, and that a scheduler
    answers there; commands call it before importing the engine.
    """
    import importlib.util

    parse_address(address)
    try:
        installed = importlib.util.find_spec("dask.distributed") is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        raise _missing()
    check_reachable(address, timeout_s)


def _missing() -> UsageError:
    return UsageError(f"--scheduler: needs dask[distributed], which is not installed "
                      f"(install it with: {INSTALL})")


def connect(address: str, timeout_s: float | None = None):
    """A Dask client of the scheduler at ``address`` (UsageError, exit 2, if impossible)."""
    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    check(address, timeout_s)  # before Dask's import (~1.4 s)
    try:
        from dask.distributed import Client
    except ImportError:
        raise _missing() from None

    class _Client(Client):
        """A client whose finaliser never blocks (a failed one waited 60 s, then raised)."""

        def __del__(self):
            pass

    try:
        return _Client(address, timeout=timeout_s, set_as_default=False)
    except Exception as e:
        raise UsageError(f"--scheduler {address}: could not connect ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200] if str(e) else 'no detail'})") from None


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
