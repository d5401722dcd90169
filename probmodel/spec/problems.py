"""What every part of the scenario parser shares: the problem list, "did you mean", number tests."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any


class Problems:
    """Every problem found in one file, as (file, path, message) triples.

    Parameters
    ----------
    label : str
        How the file is named in messages.
    """

    def __init__(self, label: str):
        self.label = label
        self.items: list[tuple[str, str, str]] = []

    def add(self, path: str, msg: str) -> None:
        """Record a problem at the dotted key ``path`` (empty for the whole file)."""
        self.items.append((self.label, path, msg))

    def __len__(self) -> int:
        return len(self.items)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string.

    The one suggestion helper of the parser and the CLI (unknown parameters, keys,
    curves, outputs, --set and --grid names).
    """
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_number(x: Any) -> bool:
    """True for an int or float TOML value (booleans are not numbers)."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def is_finite_number(x: Any) -> bool:
    """True for a finite int or float TOML value."""
    return is_number(x) and math.isfinite(x)


def unknown_keys(table: dict, known: Iterable[str], path: str, problems: Problems,
                 what: str = "") -> None:
    """Record each key of ``table`` not in ``known`` as an unknown key, with a suggestion."""
    known = tuple(known)
    for key in table:
        if key not in known:
            problems.add(f"{path}.{key}", f"unknown key{did_you_mean(key, known)} "
                                          f"({what or 'known: ' + ', '.join(known)})")
