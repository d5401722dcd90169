"""Saving figures to PNG and SVG, with a second process drawing some of them.

Drawing a figure into its files holds the GIL (two threads took as long as one,
measured), and once sampling is done it is a large part of a command's time: the
run's two figures take ~1 s, calibrate's three ~4.5 s on the project's 2-core machine.
So a command that will write figures calls :func:`start` while it samples: a helper
process (``python -m probmodel.plots.render``, started from scratch, never forked from
a process running JAX's threads, and never importing the caller's own script) imports
matplotlib meanwhile. :func:`submit` then hands it every figure but the last, pickled,
in one message; the caller writes its data files and saves the last figure, and
:meth:`Pending.wait` collects the rest.

Anything the helper cannot do (a figure that does not pickle, a helper that died or
failed) is saved in this process instead: the files are the same either way.
``PROBMODEL_FIGURE_PROCESS=0`` turns the helper off.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: savefig arguments per format. zlib level 1: PNG encoding took a quarter of a PNG's
#: save time at the default level 6, for files only ~20% larger.
FORMATS = {"png": {"dpi": 150, "pil_kwargs": {"compress_level": 1}}, "svg": {"dpi": 150}}

_WORKER: subprocess.Popen | None = None
_AT_EXIT = False


def save(fig, folder: Path, name: str) -> list[str]:
    """Save ``fig`` as ``folder/name.png`` and ``.svg``; close it; return the file names."""
    import matplotlib.pyplot as plt

    from probmodel.plots.style import freeze_layout

    box = freeze_layout(fig)
    files = []
    for ext, kw in FORMATS.items():
        fig.savefig(folder / f"{name}.{ext}", **box, **kw)
        files.append(f"{name}.{ext}")
    plt.close(fig)
    return files


# --------------------------------------------------------------------------- protocol
# One message each way: an 8-byte length, then a pickle. Request: (folder, [(name,
# pickled figure), ...]); reply: {name: list of files | "error: ..."}.


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("figure process closed its pipe")
    (n,) = struct.unpack("<Q", head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError("figure process closed its pipe")
    return pickle.loads(data)


def _serve() -> None:
    """The helper's loop: save the figures of each request until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    import probmodel.plots.style  # noqa: F401  (matplotlib, Agg)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            folder, jobs = _receive(stdin)
        except EOFError:
            return
        done = {}
        for name, data in jobs:
            try:
                done[name] = save(pickle.loads(data), Path(folder), name)
            except Exception as e:  # reported; the caller saves this one itself
                done[name] = f"error: {type(e).__name__}: {e}"
        _send(stdout, done)


# --------------------------------------------------------------------------- caller


def _stop() -> None:
    global _WORKER
    w, _WORKER = _WORKER, None
    if w is None:
        return
    try:
        w.stdin.close()  # the helper ends at the end of its input
    except OSError:  # it is gone already (a broken pipe)
        pass
    try:
        w.wait(timeout=2)
    except subprocess.TimeoutExpired:  # stuck: end it
        w.kill()
        w.wait()
    w.stdout.close()


def stop() -> None:
    """Stop the helper process (it ends at the end of its input); no-op if none."""
    _stop()


def kill() -> None:
    """End the helper process at once (an interrupted command); no-op if none."""
    w = _WORKER
    if w is not None and w.poll() is None:
        try:
            w.kill()
            w.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
    _stop()


def start() -> None:
    """Start the helper process (no-op if running, on one core, or turned off)."""
    global _WORKER
    if _WORKER is not None and _WORKER.poll() is None:
        return
    if (os.cpu_count() or 1) < 2 or os.environ.get("PROBMODEL_FIGURE_PROCESS", "1") == "0":
        return
    try:
        _WORKER = subprocess.Popen(
            [sys.executable, "-m", "probmodel.plots.render"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        _WORKER = None
        return
    global _AT_EXIT
    if not _AT_EXIT:
        atexit.register(_stop)
        _AT_EXIT = True


class Pending:
    """Figures being saved: :meth:`wait` returns every file name, in figure order."""

    def __init__(self, figures: Mapping[str, object], folder: Path, remote: list[str]):
        self.figures = dict(figures)
        self.folder = folder
        self.remote = remote  # names handed to the helper

    def wait(self) -> list[str]:
        """Save this process's share, collect the helper's; the file names in order."""
        files: dict[str, list[str]] = {}
        try:
            for name, fig in self.figures.items():
                if name not in self.remote:
                    files[name] = save(fig, self.folder, name)
            if self.remote:
                reply = {}
                try:
                    reply = _receive(_WORKER.stdout)
                except Exception:  # the helper died: its figures are saved here
                    _stop()
                for name in self.remote:
                    got = reply.get(name)
                    files[name] = (got if isinstance(got, list)
                                   else save(self.figures[name], self.folder, name))
                self.remote = []
        except BaseException:
            if self.remote:  # interrupted while the helper writes: stop it first
                kill()
            raise
        import matplotlib.pyplot as plt

        for fig in self.figures.values():
            plt.close(fig)
        return [f for name in self.figures for f in files[name]]


def submit(figures: Mapping[str, object], folder: Path) -> Pending:
    """Start saving ``figures`` into ``folder``: all but the last go to the helper."""
    folder.mkdir(exist_ok=True)
    names = list(figures)
    jobs = []
    if _WORKER is not None and _WORKER.poll() is None and len(names) > 1:
        for name in names[:-1]:
            try:
                jobs.append((name, pickle.dumps(figures[name],
                                                protocol=pickle.HIGHEST_PROTOCOL)))
            except Exception:  # e.g. a figure holding a lambda: saved here instead
                continue
    if jobs:
        try:
            _send(_WORKER.stdin, (str(folder), jobs))
        except OSError:  # the helper is gone
            _stop()
            jobs = []
    return Pending(figures, folder, [name for name, _ in jobs])


if __name__ == "__main__":
    _serve()
