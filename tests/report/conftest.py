"""Small run folders of every kind, made with the CLI, for the report and export tests.

Each kind is its own lazily built session fixture (only the kinds a worker's tests need
are run), at draw counts that keep each command to a few seconds.
"""

import contextlib
import io as stdio
import os
import shutil
from pathlib import Path

import pytest

from probmodel.cli import main

ROOT = Path(__file__).resolve().parents[2]
PRIORS = ROOT / "priors"
FLEET = ROOT / "tests" / "fixtures" / "calibration" / "fleet.toml"

COMMANDS = {
    "run": ["run", str(PRIORS / "deepseek-adjusted.toml"), "--draws", "4000"],
    "sweep": ["sweep", str(PRIORS / "deepseek-adjusted.toml"), "--grid",
              "pay_rate=0.25,0.45", "--grid", "gpu_cost_share=0.6,0.8", "--draws", "2000"],
    "compare": ["compare", str(PRIORS / "deepseek-adjusted.toml"),
                str(PRIORS / "deepseek-pay45.toml"), "--draws", "2000"],
    "sensitivity": ["sensitivity", str(PRIORS / "deepseek-adjusted.toml"), "--draws", "2000",
                    "--sobol-n", "64"],
    "project": ["project", str(PRIORS / "agents-h20-2025-2030.toml"), "--draws", "1000"],
    "calibrate": ["calibrate", str(FLEET), "--chains", "2", "--warmup", "100", "--samples",
                  "200", "--seed", "3"],
    "stress": ["stress", str(PRIORS / "deepseek-adjusted.toml"), "--band", "pay_rate=0:10",
               "--band", "gpu_price_per_hour=90:100", "--draws", "4000"],
    "frontier": ["frontier", str(PRIORS / "chatbot-h20-roofline.toml"), "--chips",
                 "H20,H800", "--draws", "1000"],
}


#: What each command printed (stdout) when its session fixture made the folder.
PRINTED: dict[str, str] = {}


def make_run(kind: str, out: Path, extra: list[str] | None = None) -> Path:
    """Run one command into ``out`` with ``--report -q``; a failed calibration keeps its folder.

    Every folder therefore also holds the report.html the command's ``--report`` wrote.
    """
    buf = stdio.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(stdio.StringIO()):
        code = main([*COMMANDS[kind], *(extra or []), "--report", "-q", "--out", str(out)])
    PRINTED[kind] = buf.getvalue()
    assert out.is_dir(), f"{kind} wrote no run folder (exit {code}): {buf.getvalue()[-500:]}"
    return out


def _fixture(kind: str):
    @pytest.fixture(scope="session")
    def _run(tmp_path_factory) -> Path:
        return make_run(kind, tmp_path_factory.mktemp(f"runs-{kind}") / kind)

    return _run


run_dir = _fixture("run")
sweep_dir = _fixture("sweep")
compare_dir = _fixture("compare")
sensitivity_dir = _fixture("sensitivity")
project_dir = _fixture("project")
calibrate_dir = _fixture("calibrate")
stress_dir = _fixture("stress")
frontier_dir = _fixture("frontier")

KINDS = tuple(COMMANDS)


@pytest.fixture(params=KINDS)
def any_run(request) -> Path:
    """Each kind of run folder in turn."""
    return request.getfixturevalue(f"{request.param}_dir")


# ----------------------------------------------------------------------- the browser

def chromium_path() -> str | None:
    """The system Chromium (Debian's ``chromium`` package), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if p := shutil.which(name):
            return p
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Chromium; skips (or fails when PROBMODEL_REQUIRE_BROWSER=1) without it."""
    p = chromium_path()
    if p is None:
        reason = ("Chromium not found on PATH: browser tests of the HTML report skipped "
                  "(install it: apt-get install chromium; CI sets PROBMODEL_REQUIRE_BROWSER=1)")
        if os.environ.get("PROBMODEL_REQUIRE_BROWSER") == "1":
            pytest.fail(reason.replace("skipped", "REQUIRED by PROBMODEL_REQUIRE_BROWSER=1"))
        pytest.skip(reason)
    return p


