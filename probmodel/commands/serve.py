"""``probmodel serve``: the planner in a browser (every assumption a control)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probmodel.cli import app, load, out

FilesArg = Annotated[list[Path] | None, typer.Argument(
    help="Scenario files to offer (default: every scenario in ./priors).",
    show_default=False)]
HostOpt = Annotated[str, typer.Option(
    "--host", help="Address to listen on; anything but localhost lets other machines in.")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")]
SaveDirOpt = Annotated[Path | None, typer.Option(
    "--save-dir", help="Folder for 'save as scenario' (default: beside each scenario's file).",
    show_default=False)]


def default_files() -> list[Path]:
    """Every scenario in ./priors (or the installed priors), catalogs left out."""
    from probmodel import catalog

    folder = Path("priors") if Path("priors").is_dir() else catalog.CATALOG_DIR
    return sorted(p for p in folder.glob("*.toml") if p.name not in catalog.CATALOG_FILES)


@app.command()
def serve(files: FilesArg = None, host: HostOpt = "127.0.0.1", port: PortOpt = 8050,
          save_dir: SaveDirOpt = None) -> None:
    """The planner: a local web page where every assumption is a control (Ctrl-C stops)."""
    from probmodel.errors import UsageError

    paths = list(files or default_files())
    if not paths:
        raise UsageError("serve: no scenario files given and none in ./priors")
    for p in paths:
        load(p, None)  # a bad file is one line before the server starts
    if save_dir is not None and save_dir.exists() and not save_dir.is_dir():
        raise UsageError(f"--save-dir: {save_dir} is not a folder")
    from probmodel.planner.server import serve as run_server

    run_server(paths, host, port, save_dir, say=lambda s: out.print(s, markup=False))
