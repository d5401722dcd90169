"""A planner served on a free localhost port for the module's tests, and the CLI's answers."""

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from probmodel.cli import main

ROOT = Path(__file__).resolve().parents[2]
PRIORS = ROOT / "priors"
FILES = [PRIORS / "deepseek-adjusted.toml", PRIORS / "deepseek-correlated.toml",
         PRIORS / "chatbot-h20-roofline.toml"]


@pytest.fixture(scope="module")
def planner_url(tmp_path_factory):
    from probmodel.planner.server import running

    base = tmp_path_factory.mktemp("planner")
    with running(FILES, save_dir=base / "saved", runs_dir=base / "runs") as url:
        yield url


def cli_json(args: list[str]) -> dict:
    """What ``probmodel ARGS --json`` prints, run in this process."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main([*args, "--json"])
    assert code == 0, buf.getvalue()[-400:]
    return json.loads(buf.getvalue())


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Chromium; skips (or fails when PROBMODEL_REQUIRE_BROWSER=1) without it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if p := shutil.which(name):
            return p
    reason = "Chromium not found on PATH: the planner's browser tests skipped"
    if os.environ.get("PROBMODEL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (REQUIRED by PROBMODEL_REQUIRE_BROWSER=1)")
    pytest.skip(reason)
