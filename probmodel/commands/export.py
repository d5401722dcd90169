"""``probmodel export``: a run folder as an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probmodel.cli import app, out

RunDirArg = Annotated[Path, typer.Argument(help="A run folder (any kind).", show_default=False)]
XlsxOpt = Annotated[Path, typer.Option(
    "--xlsx", help="The workbook to write (.xlsx; must not exist).", show_default=False)]


DrawsSheetOpt = Annotated[bool, typer.Option(
    "--draws-sheet", help="Add a sheet of the kept draws, one row per draw (at most "
    "20,000 rows; the sheet says how many of the run's draws it holds).")]


@app.command()
def export(run_dir: RunDirArg, xlsx: XlsxOpt, draws_sheet: DrawsSheetOpt = False) -> None:
    """Write a run folder as an Excel workbook (summary with MCSE, inputs, provenance)."""
    from probmodel.runs import check_out_file, check_run_folder

    check_out_file(xlsx, "--xlsx", suffix=".xlsx")  # before the workbook's imports
    check_run_folder(run_dir)  # a deleted or truncated data file, too
    from probmodel.report.workbook import export_xlsx

    path = export_xlsx(run_dir, xlsx, draws_sheet=draws_sheet)
    out.print(f"workbook: {path}", markup=False)
