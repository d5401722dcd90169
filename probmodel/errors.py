"""Error types. Every message a user sees names the file, the parameter path and the problem."""

from __future__ import annotations

from pathlib import Path


def file_label(path: str | Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


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
