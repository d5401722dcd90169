"""One run across several processes or hosts, on jax.distributed.

Every process runs the same command with the same flags; JAX joins their devices into
one global mesh, so the streaming engine's sharded chunk axis simply spans more
devices. What this module adds is the little that differs from one process:
- chunk ids are handed to the mesh as each process's own block
  (``jax.make_array_from_process_local_data``);
- results sharded over the processes are gathered to every process
  (``multihost_utils.process_allgather``), so each holds the whole, identical result;
- where the processes must agree on a number computed on the host (the histogram
  ranges of the pilot), process 0 decides and the others receive it
  (``broadcast_one_to_all``): identical code on identical data would agree anyway, but
  the broadcast makes that a fact instead of an assumption about float arithmetic;
- only process 0 writes the run folder and prints.

On the CPU the processes talk through gloo (JAX's CPU collectives); on GPUs through
NCCL, as JAX chooses. Single-process runs never touch any of this.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np

from probmodel.errors import UsageError

_STATE = {"initialized": False}


#: Seconds to wait for every process to join (``--coordinator-timeout``).
DEFAULT_TIMEOUT_S = 60.0

#: Seconds XLA's coordination client adds to its initialization timeout before it
#: reports a failure (measured: a timeout of t gives up after about t + 5 s).
_CLIENT_EXTRA_S = 5


def _shown(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def parse_address(coordinator: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[IPv6]:PORT``) as (host, port), the port in 1-65535."""
    m = re.fullmatch(r"([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", coordinator)
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise UsageError(f"--coordinator: expected HOST:PORT with a port from 1 to 65535, "
                         f"not {_shown(coordinator)}")
    return m.group(1).strip("[]"), int(m.group(2))


def check_flags(coordinator: str | None, num_processes: int | None,
                process_id: int | None, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Validate the flags together; whether this is a multi-process run."""
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if not any(given):
        return False
    if not all(given):
        raise UsageError("--coordinator, --num-processes and --process-id go together "
                         "(the same coordinator and count on every process)")
    parse_address(coordinator)
    if num_processes < 1:
        raise UsageError(f"--num-processes: must be at least 1, not {num_processes}")
    if not 0 <= process_id < num_processes:
        raise UsageError(f"--process-id: must be in [0, {num_processes}), not {process_id}")
    if not (timeout_s > 0 and timeout_s <= 86_400):
        raise UsageError(f"--coordinator-timeout: must be a number of seconds in (0, 86400], "
                         f"not {timeout_s!r}")
    return True


def _wait_for_coordinator(coordinator: str, deadline: float, timeout_s: float) -> None:
    """Wait until something listens at ``coordinator`` (process 0's service), or refuse.

    Plain sockets, before JAX: XLA's client retries a refused connection until its own
    timeout and then aborts the process natively.
    """
    import socket
    import time

    host, port = parse_address(coordinator)
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except socket.gaierror as e:
            raise UsageError(f"--coordinator {coordinator}: unknown host {host!r} "
                             f"({e.strerror or e})") from None
        except OSError:
            if time.monotonic() >= deadline:
                raise UsageError(f"--coordinator {coordinator}: nobody is listening (is "
                                 f"process 0 running?); gave up after {timeout_s:g} s "
                                 "(--coordinator-timeout)") from None
            time.sleep(0.2)


def _check_port_free(coordinator: str) -> None:
    """Process 0 serves on the coordinator's port: refuse one that is taken."""
    import socket

    _, port = parse_address(coordinator)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as a server binds: a port left in TIME_WAIT by an earlier run is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError as e:
            raise UsageError(f"--coordinator {coordinator}: process 0 cannot serve on port "
                             f"{port} ({e.strerror or e})") from None


class _RaisingClient:
    """``jax._src.distributed._jax`` with a client whose failures raise, not abort.

    Without a ``missed_heartbeat_callback`` XLA's coordination client ends the process
    with a native abort (a C++ stack on stderr) when it cannot join; with one, its
    ``connect`` raises a RuntimeError instead.
    """

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def get_distributed_runtime_client(self, *args, **kwargs):
        kwargs.setdefault("missed_heartbeat_callback", lambda *a: None)
        return self._real.get_distributed_runtime_client(*args, **kwargs)


def initialize(coordinator: str, num_processes: int, process_id: int,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Join the run; every process must join within ``timeout_s`` or this one refuses.

    Raises
    ------
    UsageError
        One line naming the address: nobody listening, a port taken, or processes that
        did not all join in time (the run never started).
    """
    import time

    if _STATE["initialized"]:
        return
    start = time.monotonic()
    deadline = start + timeout_s
    if process_id == 0:
        _check_port_free(coordinator)
    else:
        _wait_for_coordinator(coordinator, deadline, timeout_s)
    import jax
    from jax._src import distributed as jd

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    remaining = max(1, round(deadline - time.monotonic()) - _CLIENT_EXTRA_S)
    saved, quiet = _native_stderr_off()
    real = getattr(jd, "_jax", None)
    if real is not None:  # (a JAX without it aborts natively, as before)
        jd._jax = _RaisingClient(real)
    try:
        jax.distributed.initialize(coordinator, num_processes=num_processes,
                                   process_id=process_id, initialization_timeout=remaining)
    except Exception as e:
        _give_up(jd)
        sys.stderr = os.fdopen(saved, "w", encoding="utf-8", errors="replace", buffering=1)
        # the native log of the failed join stays off stderr (fd 2) until exit
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        why = ("not every process joined" if "bad_cast" in detail or "DEADLINE" in detail
               else detail[:200])
        raise UsageError(f"--coordinator {coordinator}: could not join the run as process "
                         f"{process_id} of {num_processes} ({why}); gave up after "
                         f"{time.monotonic() - start:.0f} s (--coordinator-timeout "
                         f"{timeout_s:g})") from None
    finally:
        if real is not None:
            jd._jax = real
    os.dup2(saved, 2)
    os.close(saved)
    os.close(quiet)
    _STATE["initialized"] = True
    _keep_stdout_clean()


def _native_stderr_off() -> tuple[int, int]:
    """Point file descriptor 2 at /dev/null (XLA's C++ logs); return (saved fd 2, null fd)."""
    sys.stderr.flush()
    saved = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    return saved, quiet


def _give_up(jd) -> None:
    """Drop a half-made client and service, so nothing waits for them at exit."""
    state = jd.global_state
    client, state.client = state.client, None
    service, state.service = state.service, None
    del client
    if service is not None:
        try:
            service.shutdown()
        except Exception:
            pass


def _keep_stdout_clean() -> None:
    """Point file descriptor 1 at stderr, and Python's stdout at the real stdout.

    Gloo's C++ side writes connection notes ("[Gloo] Rank 0 is connected to ...") to
    descriptor 1 when the first collective runs; they would corrupt ``--json`` output.
    """
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(real, "w", encoding=sys.stdout.encoding or "utf-8",
                           errors="replace", buffering=1)


def is_multiprocess() -> bool:
    """Whether this process is one of several in a jax.distributed run."""
    import jax

    return _STATE["initialized"] and jax.process_count() > 1


def is_leader() -> bool:
    """Process 0 (the one that writes and prints), or the only process."""
    if not _STATE["initialized"]:
        return True
    import jax

    return jax.process_index() == 0


def put_ids(ids: np.ndarray, sharding):
    """The global array of chunk ids, sharded over the (possibly multi-process) mesh."""
    import jax

    if not is_multiprocess():
        return jax.device_put(ids, sharding)
    # Each process supplies the contiguous block of ids its own devices hold (the mesh
    # lists devices process by process, as jax.devices() does).
    mine = [i for i, d in enumerate(sharding.mesh.devices.flat)
            if d.process_index == jax.process_index()]
    if mine != list(range(mine[0], mine[0] + len(mine))):
        raise RuntimeError("this process's devices are not contiguous in the mesh")
    per_dev = len(ids) // sharding.mesh.devices.size
    local = ids[mine[0] * per_dev:(mine[-1] + 1) * per_dev]
    return jax.make_array_from_process_local_data(sharding, local, (len(ids),))


def to_host(tree):
    """Every leaf of ``tree`` as a whole NumPy array on this process."""
    import jax

    if not is_multiprocess():
        return jax.tree.map(np.asarray, tree)
    from jax.experimental import multihost_utils

    return jax.tree.map(np.asarray, multihost_utils.process_allgather(tree, tiled=True))


def agree(tree):
    """Process 0's value of ``tree`` on every process (identity in a single process)."""
    if not is_multiprocess():
        return tree
    import jax
    from jax.experimental import multihost_utils

    # bool leaves travel as int8 (the broadcast is a sum over processes)
    flags = jax.tree.map(lambda x: np.asarray(x).dtype == np.bool_, tree)
    sent = jax.tree.map(lambda x: np.asarray(x).astype(np.int8)
                        if np.asarray(x).dtype == np.bool_ else np.asarray(x), tree)
    got = multihost_utils.broadcast_one_to_all(sent)
    return jax.tree.map(lambda x, f: np.asarray(x).astype(bool) if f else np.asarray(x),
                        got, flags)
