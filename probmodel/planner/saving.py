"""The planner's "save as scenario": a view written as a scenario file that extends its own.

The file states every parameter whose table differs from the file it extends (a
``--set`` value, a law moved by its handles, a catalog pick's numbers), each with its
unit and a source that says where the value came from. It is validated by reading it
back with :func:`probmodel.spec.read_scenario`, as ``probmodel check`` does, and the
read-back laws and values must equal the view's; only then is it moved to its name,
which must not exist (a file is never overwritten).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from probmodel.errors import ProbmodelError, file_label
from probmodel.spec import Scenario, read_scenario
from probmodel.spec.parameters import Parameter

#: Keys of a parameter table that the writer sets itself.
_META = ("unit", "source", "description")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v} cannot be written to a scenario file")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    raise TypeError(f"cannot write {type(v).__name__} to a scenario file")


def _same(a: Parameter, b: Parameter) -> bool:
    if a.dist != b.dist or a.point != b.point:
        return False
    return a.is_fixed or all(math.isclose(float(a.params[k]), float(b.params[k]),
                                          rel_tol=1e-6) for k in a.params)


def _table(p: Parameter) -> dict[str, Any]:
    if p.is_fixed:
        table: dict[str, Any] = {"value": float(p.point)}
    else:
        table = {k: v for k, v in p.spec.items() if k not in _META}
        table.setdefault("dist", p.dist)
        table["point"] = float(p.point)
    table["unit"] = p.unit
    table["source"] = p.source.replace("set on the command line (--set ", "set in the planner (")
    if p.description:
        table["description"] = p.description
    return table


def render(sc: Scenario, base: Scenario, base_path: Path, target: Path,
           sets: Sequence[str]) -> str:
    """The text of the file: header, ``extends`` and each changed parameter's table."""
    changed = [k for k, p in sc.parameters.items()
               if k not in base.parameters or not _same(p, base.parameters[k])
               or p.source != base.parameters[k].source]
    rel = os.path.relpath(base_path.resolve(), target.parent.resolve())
    lines = [f"# Saved from the probmodel planner on {date.today().isoformat()}: "
             f"{base_path.name} with",
             *(f"#   --set {s}" for s in sets),
             "schema_version = 1",
             f"title = {_toml_value(sc.title + ' (planner view)')}",
             f"extends = {_toml_value(Path(rel).as_posix())}", ""]
    for k in changed:
        lines.append(f"[parameters.{k}]")
        lines += [f"{key} = {_toml_value(v)}" for key, v in _table(sc.parameters[k]).items()]
        lines.append("")
    return "\n".join(lines)


def write_scenario(sc: Scenario, base_path: Path, target: Path,
                   sets: Sequence[str]) -> dict[str, Any]:
    """Write ``sc`` (the base file with ``sets`` applied) to the new file ``target``.

    Returns ``{"file": ..., "parameters": [changed names]}``.

    Raises
    ------
    ProbmodelError
        When the file exists, cannot be written, a held correlated input cannot be
        stated in a file, or the written file does not read back as the view.
    """
    from probmodel.planner.engine import PlannerError

    if sc.conditioned:
        held = ", ".join(sc.conditioned)
        raise PlannerError(f"save: {held} is correlated and held at a value; a scenario "
                           "file cannot state that (a fixed value there drops its "
                           "correlations): give it a narrow law instead", "name")
    if target.exists():
        raise PlannerError(f"save: {file_label(target)} already exists; probmodel never "
                           "overwrites a file (choose a new name)", "name")
    base = read_scenario(base_path)
    text = render(sc, base, base_path, target, sets)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".planner-", suffix=".toml", dir=target.parent)
    except OSError as e:
        raise PlannerError(f"save: {file_label(target.parent)}: cannot write: "
                           f"{e.strerror or e}", "name") from None
    tmp_path = Path(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            back = read_scenario(tmp_path)
        except ProbmodelError as e:
            raise PlannerError(f"save: the file would not validate: {e}", "name") from None
        bad = [k for k, p in sc.parameters.items()
               if k not in back.parameters or not _same(p, back.parameters[k])]
        if bad:
            raise PlannerError(f"save: the file would not read back as this view "
                               f"({', '.join(bad)})", "name")
        try:
            os.link(tmp_path, target)  # fails if the name exists: never overwrites
        except FileExistsError:
            raise PlannerError(f"save: {file_label(target)} already exists; probmodel "
                               "never overwrites a file (choose a new name)", "name") from None
    finally:
        tmp_path.unlink(missing_ok=True)
    changed = [k for k, p in sc.parameters.items()
               if k not in base.parameters or not _same(p, base.parameters[k])]
    return {"file": file_label(target), "parameters": changed}
