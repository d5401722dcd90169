"""Progress of long commands: a bar with an ETA on a terminal, a plain line in a log.

On a terminal (stderr is a tty) a rich progress bar with the count and the time left;
when stderr is a pipe or a file (CI logs, ``nohup``, ``2> log``), one plain line about
every 10 seconds, e.g. ``sampling: 300,000/1,000,000 draws (30%), 12 s elapsed, ETA 28 s``,
so a long job is visibly alive without filling the log with bar redraws. ``quiet``
turns both off. The engine reports the cumulative count done through a callback; it
never prints.

Call pattern in a command (the ``progress=`` callback the library functions take)::

    from probmodel.progress import progress

    @app.command()
    def run(..., quiet: QuietOpt = False):
        with progress(draws, "sampling", unit="draws", quiet=quiet or json_) as update:
            res = api.run(sc, draws=draws, seed=seed, progress=update)   # update(done)

    # unknown total (--precision): progress(None, "sampling until precise")
    # phases (calibrate: warm-up then sampling, per chain):
    with progress(warmup, "chain 1 warm-up", unit="steps", quiet=quiet) as update:
        update.phase("chain 1 sampling", samples)    # restarts the count and the ETA
        ...

``QuietOpt`` is ``Annotated[bool, typer.Option("--quiet", "-q", help="No progress
output.")]``; a command with ``--json`` passes ``quiet=quiet or json_`` so that stdout
stays clean (progress goes to stderr in any case).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

#: Seconds between two plain progress lines when stderr is not a terminal (the
#: environment variable PROBMODEL_PROGRESS_INTERVAL overrides it, e.g. 60 for a quieter
#: log).
LOG_INTERVAL = 10.0

#: After the first update, an estimate of the time left is printed once when it is at
#: least this many seconds (in both modes, and even when ``quiet``: a long job is never
#: silent).
ESTIMATE_AFTER = 60.0


def log_interval() -> float:
    """Seconds between plain lines: PROBMODEL_PROGRESS_INTERVAL if set, else LOG_INTERVAL."""
    v = os.environ.get("PROBMODEL_PROGRESS_INTERVAL", "")
    try:
        return float(v) if v and float(v) >= 0 else LOG_INTERVAL
    except ValueError:
        return LOG_INTERVAL


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    if s >= 2 * 86400:
        return f"{s / 86400:,.0f} days"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


class Progress:
    """A progress reporter; call it with the cumulative count done.

    Parameters
    ----------
    total : int or None
        The count at completion (None: unknown, the count alone is shown).
    what : str
        What is being done ("sampling", "chain 1 warm-up").
    unit : str
        What is counted ("draws", "paths", "steps").
    quiet : bool
        Show nothing.
    stream : text stream, optional
        Where to write (default: stderr).
    terminal : bool, optional
        Force the terminal (bar) or log (lines) mode; default: whether ``stream`` is a
        terminal.
    clock : callable
        Seconds, monotonic (tests pass a fake clock).
    interval : float, optional
        Seconds between two plain lines in log mode (default: :func:`log_interval`).
    """

    def __init__(self, total: int | None, what: str = "working", unit: str = "",
                 quiet: bool = False, stream: TextIO | None = None,
                 terminal: bool | None = None, clock: Callable[[], float] = time.monotonic,
                 interval: float | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.terminal = (terminal if terminal is not None
                         else bool(getattr(self.stream, "isatty", lambda: False)()))
        self.clock = clock
        self.interval = log_interval() if interval is None else interval
        self.unit = unit
        self._bar = None
        self._task = None
        self._lines = 0
        self._beat = None  # log mode: the thread that writes a line when updates pause
        self._stop = None
        self._lock = threading.Lock()
        self._note = ""
        self.phase(what, total)

    # ------------------------------------------------------------------ public
    def note(self, text: str) -> None:
        """A short status shown after the count (``MCSE 0.0031, target 0.002``)."""
        self._note = text
        if self._bar is not None:
            self._bar.update(self._task, description=f"{self.what} ({text})")
        elif not self.quiet and not self.terminal:
            self._maybe_line()  # a log shows the new status when a line is due

    def phase(self, what: str, total: int | None) -> None:
        """Start a new phase: its own description, total, count and ETA."""
        self._note = ""
        self.what, self.total, self.done = what, total, 0
        self._first: tuple[float, int] | None = None
        self._estimated = False
        self._start = self.clock()
        self._last_line = self._start
        if self._bar is not None:
            self._bar.reset(self._task, total=total, description=what)

    def __call__(self, done: int) -> None:
        """Record the cumulative count ``done`` (the engine's ``progress`` callback)."""
        prev, self.done = self.done, int(done)
        if self.total and 0 < self.done < self.total and self._first is None:
            self._first = (self.clock(), self.done)  # its time includes compiling
        elif self.total and self._first and not self._estimated and self.done < self.total:
            self._estimated = True
            self._estimate(prev)
        if self.quiet:
            return
        if self.terminal:
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done)
            return
        self._maybe_line()

    def _maybe_line(self) -> None:
        with self._lock:
            now = self.clock()
            if now - self._last_line >= self.interval:
                self._last_line = now
                self._write(self.line(now))

    def _estimate(self, prev: int) -> None:
        """Print the time left, at the rate between the first and second updates.

        The first update's time includes compiling (and the histogram's pilot), which
        would overstate a long run many times over; the second is at running speed.
        """
        t1, d1 = self._first
        dt = max(self.clock() - t1, 1e-9)
        left = dt * (self.total - self.done) / max(self.done - d1, 1)
        if left < ESTIMATE_AFTER:
            return
        unit = f" {self.unit}" if self.unit else ""
        text = (f"{self.what}: {self.total:,}{unit} will take about {_duration(left)} more "
                f"(at the rate of the last {self.done - d1:,}{unit}: {_duration(dt)})")
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
            self._lines += 1
        else:
            self._write(text)

    def line(self, now: float | None = None) -> str:
        """The plain progress line: done/total (share), elapsed, ETA."""
        now = self.clock() if now is None else now
        elapsed = max(now - self._start, 0.0)
        unit = f" {self.unit}" if self.unit else ""
        note = f", {self._note}" if self._note else ""
        if self.total:
            share = self.done / self.total
            eta = (f", ETA {_duration(elapsed * (self.total - self.done) / self.done)}"
                   if 0 < self.done < self.total else "")
            return (f"{self.what}: {self.done:,}/{self.total:,}{unit} ({share:.0%}), "
                    f"{_duration(elapsed)} elapsed{eta}{note}")
        return f"{self.what}: {self.done:,}{unit}, {_duration(elapsed)} elapsed{note}"

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Progress:
        if not self.quiet and self.terminal:
            from rich import progress as rp
            from rich.console import Console

            console = Console(file=self.stream, stderr=self.stream is sys.stderr)
            self._bar = rp.Progress(rp.TextColumn("{task.description}"), rp.BarColumn(),
                                    rp.MofNCompleteColumn(), rp.TextColumn(self.unit),
                                    rp.TimeElapsedColumn(), rp.TextColumn("ETA"),
                                    rp.TimeRemainingColumn(), console=console,
                                    transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total)
        elif not self.quiet and self.clock is time.monotonic:
            # A step without updates (compiling, a phase the engine does not count) would
            # leave a log silent: a heartbeat writes the line when one is due anyway.
            self._stop = threading.Event()

            def beat() -> None:
                while not self._stop.wait(max(self.interval, 1.0)):
                    self._maybe_line()

            self._beat = threading.Thread(target=beat, name="progress", daemon=True)
            self._beat.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._beat is not None:
            self._stop.set()
            self._beat.join()
            self._beat = None
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif not self.quiet and exc_type is None and self._lines:
            # a log that showed progress lines also shows the end
            count = (f", {self.done:,}{' ' + self.unit if self.unit else ''}"
                     if self.total or self.done else "")  # a phase without a count
            self._write(f"{self.what}: done{count} in "
                        f"{_duration(self.clock() - self._start)}")
        return False

    def _write(self, text: str) -> None:
        self._lines += 1
        print(text, file=self.stream, flush=True)


def progress(total: int | None, what: str = "working", unit: str = "", quiet: bool = False,
             **kw) -> Progress:
    """A :class:`Progress` to use as ``with progress(...) as update: f(progress=update)``."""
    return Progress(total, what, unit, quiet, **kw)


class NutsProgress:
    """numpyro's NUTS loop reporting to a progress callback instead of drawing tqdm bars.

    numpyro 0.22 reports the progress of parallel chains through io_callbacks from
    inside its jitted sampling loop, created by ``numpyro.util.progress_bar_factory``;
    it offers no other hook, so this class stands in for that factory (same
    signature and contract: a decorator for the ``fori_loop`` body carrying a chain id)
    while ``MCMC.run`` runs. The loop stays one compiled function: running with the
    progress bar on avoids numpyro 0.22's recompilation of the fused loop on every
    ``run`` (stack notes: 4 of 4.3 s were compilation), and the callbacks are rare
    (``rate`` iterations apart).

    ``report(phase, done, total)`` receives ``"warm-up"`` until every chain has
    finished its warm-up, then ``"sampling"``, with the iterations done summed over
    the chains; ``chains_done()`` gives each chain's own count.

    Parameters
    ----------
    report : callable or None
        ``report(phase, done, total)``; None reports nothing (the compiled loop is the
        same, so draws do not depend on whether progress is shown).
    warmup, samples, chains : int
        The NUTS settings.
    """

    def __init__(self, report: Callable[[str, int, int], None] | None, warmup: int,
                 samples: int, chains: int):
        self.report, self.warmup, self.samples, self.chains = report, warmup, samples, chains
        self._lock = threading.Lock()
        self._done: dict[int, int] = {}
        self._next = 0
        self._dtype = None  # the chain id's integer type (int64 when JAX runs with x64)
        self.rate = max(1, (warmup + samples) // 20)  # numpyro's own rate: 20 per chain

    def chains_done(self) -> list[int]:
        """Iterations done (warm-up included) per chain, in the order chains started."""
        with self._lock:
            return [self._done.get(c, 0) for c in range(self.chains)]

    def _assign(self, _):
        import numpy as np

        with self._lock:
            c = self._next
            self._next += 1
            self._done[c] = 0
        if self.report is not None and c == 0:  # the loop runs: compiling is over
            self.report("warm-up", 0, self.warmup * self.chains)
        return np.asarray(c, dtype=self._dtype)

    def _update(self, it, chain) -> None:
        with self._lock:
            self._done[int(chain)] = int(it)
            its = [self._done.get(c, 0) for c in range(self.chains)]
        if self.report is None:
            return
        w = self.warmup
        if min(its) < w:
            self.report("warm-up", sum(min(i, w) for i in its), w * self.chains)
        else:
            self.report("sampling", sum(i - w for i in its), self.samples * self.chains)

    def factory(self, num_samples: int, num_chains: int, progress_rate: int) -> Callable:
        """Stand-in for ``numpyro.util.progress_bar_factory`` (numpyro 0.22)."""
        import jax.numpy as jnp
        from jax import lax
        from jax.experimental import io_callback

        rate = self.rate
        chain_id = jnp.array(0)  # numpyro's own type for the chain id in the loop carry
        self._dtype = chain_id.dtype

        def tick(i, chain):
            chain = lax.cond(i == 1, lambda _: io_callback(self._assign, chain_id, 0),
                             lambda _: chain, operand=None)
            lax.cond((i % rate == 0) | (i == num_samples),
                     lambda _: io_callback(self._update, None, i, chain),
                     lambda _: None, operand=None)
            return chain

        def decorate(func: Callable) -> Callable:
            def body(i, vals):
                subvals, chain = vals
                result = func(i, subvals)
                return result, tick(i + 1, chain)

            return body

        return decorate

    def __enter__(self) -> NutsProgress:
        import numpyro.util

        self._saved = numpyro.util.progress_bar_factory
        numpyro.util.progress_bar_factory = self.factory
        return self

    def __exit__(self, *exc) -> bool:
        import numpyro.util

        numpyro.util.progress_bar_factory = self._saved
        return False
