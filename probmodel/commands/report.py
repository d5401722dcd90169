"""``probmodel report``: one self-contained HTML report over one or more run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probmodel.cli import app, out

RunDirsArg = Annotated[list[Path], typer.Argument(
    help="Run folders (any kind); several make one report with a section each.",
    show_default=False)]
ReportOutOpt = Annotated[Path | None, typer.Option(
    "--out", help="The HTML file to write (must not exist; default: report.html in the "
    "first run folder).", show_default=False)]


@app.command()
def report(run_dirs: RunDirsArg, out_file: ReportOutOpt = None) -> None:
    """Write an HTML report (figures, tables with MCSE, assumptions, provenance)."""
    from probmodel.runs import check_out_file, check_run_folder

    if out_file is not None:  # before the report's imports (pandas): one line at once
        check_out_file(out_file, "--out")
    for d in run_dirs:  # a deleted or truncated data file, too
        check_run_folder(d)
    from probmodel.report import write_report

    path = write_report(run_dirs[0], out_file, extra=run_dirs[1:])
    out.print(f"report: {path}", markup=False)
