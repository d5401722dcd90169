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


def check_flags(coordinator: str | None, num_processes: int | None,
                process_id: int | None) -> bool:
    """Validate the three flags together; whether this is a multi-process run."""
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if not any(given):
        return False
    if not all(given):
        raise UsageError("--coordinator, --num-processes and --process-id go together "
                         "(the same coordinator and count on every process)")
    if not re.fullmatch(r"[\w.\-]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}", coordinator):
        raise UsageError(f"--coordinator: expected HOST:PORT, not {coordinator!r}")
    if num_processes < 1:
        raise UsageError(f"--num-processes: must be at least 1, not {num_processes}")
    if not 0 <= process_id < num_processes:
        raise UsageError(f"--process-id: must be in [0, {num_processes}), not {process_id}")
    return True


def initialize(coordinator: str, num_processes: int, process_id: int,
               timeout_s: int = 120) -> None:
    """Join the run (blocks until every process has joined, at most ``timeout_s``)."""
    import jax

    if _STATE["initialized"]:
        return
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(coordinator, num_processes=num_processes,
                                   process_id=process_id,
                                   initialization_timeout=timeout_s)
    except Exception as e:
        raise UsageError(f"--coordinator {coordinator}: could not join the run as process "
                         f"{process_id} of {num_processes} ({type(e).__name__}: "
                         f"{str(e).splitlines()[0] if str(e) else 'no detail'})") from None
    _STATE["initialized"] = True
    _keep_stdout_clean()


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
