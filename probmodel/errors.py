"""Error types. Every message a user sees names the file, the parameter path and the problem."""

from __future__ import annotations

from pathlib import Path


def file_label(path: str | Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symbolic link loop
        return str(path)


#: Longest piece of user text a message echoes whole (a name, a list, a quoted value);
#: longer ones keep their first :data:`CLIP_KEEP` characters and "…".
CLIP_LIMIT = 200
CLIP_KEEP = 60


def clip(text: str) -> str:
    """``text`` with every overlong echoed piece cut (a 100,000-character name, a list).

    A piece is a run without spaces, a bracketed list or a quoted string longer than
    :data:`CLIP_LIMIT` characters; it becomes its first :data:`CLIP_KEEP` characters and
    "…", so one mistake stays one readable line.
    """
    import re

    if len(text) <= CLIP_LIMIT:
        return text
    n = CLIP_LIMIT
    pattern = (rf"\[[^\[\]\n]{{{n},}}\]|'[^'\n]{{{n},}}'|\"[^\"\n]{{{n},}}\"|"
               rf"\([^()\n]{{{n},}}\)|\S{{{n},}}")
    return re.sub(pattern, lambda m: m.group(0)[:CLIP_KEEP] + "…", text)


class ProbmodelError(Exception):
    """Base class for every error probmodel reports to a user (the CLI prints it, exit 2)."""

    exit_code = 2


class ScenarioError(ProbmodelError):
    """One or more problems in a scenario file, all reported together.

    Parameters
    ----------
    problems : list of (file, path, message)
        ``file`` is the scenario file as the user named it, ``path`` the dotted key
        path inside it (``parameters.pay_rate.p95``; empty for file-level problems).
    """

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One self-contained line per problem: ``file: path: message``."""
        out = []
        for file, path, msg in self.problems:
            out.append(f"{file}: {path}: {msg}" if path else f"{file}: {msg}")
        return out


class ParameterError(ValueError):
    """A problem with one distribution's keys, raised by probmodel.distributions.

    ``key`` is the key inside the parameter table that is wrong (``p95``, ``alpha``,
    ``dist``...), or empty for the table as a whole. spec.py adds the file and the
    parameter name in front.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


class RunError(ProbmodelError):
    """A run that cannot go ahead or failed (bad option, existing output folder, ...)."""


class UsageError(ProbmodelError):
    """A bad command-line value (unknown name in --set, non-positive --draws, ...)."""


class NonFiniteError(RunError):
    """A run whose output draws include NaN or infinities: no summary is an answer.

    Exit status 4 (distinct from 2, a bad input or option): the inputs were valid, but
    the model produced values that cannot be summarised (overflow or underflow in
    float32, 0/0). ``counts`` maps each variable to its number of non-finite draws.
    """

    exit_code = 4

    def __init__(self, counts: dict[str, int], draws: int):
        self.counts = dict(counts)
        self.draws = draws
        parts = ", ".join(f"{k} ({n:,} of {draws:,} draws)" for k, n in self.counts.items())
        super().__init__(f"non-finite draws (NaN or infinite) in {parts}; no summary was "
                         "written: check the inputs' ranges (float32 holds about 1e-38 "
                         "to 3e38)")


class InputWarning(UserWarning):
    """Input that is valid but probably not what was meant; the CLI prints it in one line."""


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler, so that a terminated run cleans up like Ctrl-C."""
