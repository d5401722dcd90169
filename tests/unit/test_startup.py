"""Start-up: the command line and validation import nothing heavy (issue 12).

Each check runs in a fresh interpreter (the test process itself has JAX loaded) and
lists the heavy modules present in ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("jax", "jaxlib", "xarray", "pandas", "scipy.stats", "scipy.special", "scipy.optimize",
         "numpyro", "arviz", "matplotlib", "pydantic")


def loaded_after(code: str) -> list[str]:
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_importing_the_cli_imports_nothing_heavy():
    assert loaded_after("import probmodel.cli") == []


def test_importing_the_package_and_spec_imports_nothing_heavy():
    assert loaded_after("import probmodel, probmodel.spec, probmodel.distributions, "
                        "probmodel.model, probmodel.observations") == []


@pytest.mark.parametrize("args", [
    ["--help"], ["--version"], ["check", "priors/deepseek-adjusted.toml"],
    ["point", "priors/deepseek-adjusted.toml"], ["check", "priors/deepseek-evidence.toml"],
    ["check", "priors/agents-h20-2025-2030.toml"],
    ["point", "priors/deepseek-theoretical.toml", "--set", "pay_rate=0.5", "--json"],
    ["run", "no/such/file.toml"], ["check", "priors/deepseek-adjusted.toml", "--nope"],
    # errors about a flag's value or an --out folder that exists: before the engine loads
    ["run", "priors/deepseek-adjusted.toml", "--draws", "1"],
    ["run", "priors/deepseek-adjusted.toml", "--seed", "-1"],
    ["run", "priors/deepseek-adjusted.toml", "--precision", "2"],
    ["run", "priors/deepseek-adjusted.toml", "--out", "priors"],
    ["sweep", "priors/deepseek-adjusted.toml", "--grid", "pay_rate=0.1,0.2", "--draws", "1"],
    ["compare", "priors/deepseek-adjusted.toml", "priors/deepseek-pay45.toml", "--out",
     "priors"],
    ["project", "priors/agents-h20-2025-2030.toml", "--draws", "0"],
    ["sensitivity", "priors/deepseek-adjusted.toml", "--out", "priors"],
    ["stress", "priors/deepseek-adjusted.toml", "--band", "profit=0:5", "--seed", "-2"],
    ["calibrate", "priors/deepseek-evidence.toml", "--chains", "0"],
    ["calibrate", "priors/deepseek-evidence.toml", "--chain-method", "fastest"],
    ["calibrate", "priors/deepseek-evidence.toml", "--out", "priors"],
    # errors found from the scenario and arguments alone (issue 21): no engine either
    ["sweep", "priors/deepseek-adjusted.toml", "--grid", "pay_rat=0.1,0.2"],
    ["sweep", "priors/deepseek-adjusted.toml", "--grid", "pay_rate=abc"],
    ["sweep", "priors/deepseek-adjusted.toml", "--grid", "pay_rate=0.1,0.2", "--output",
     "nope"],
    ["sweep", "priors/deepseek-adjusted.toml", "--grid", "pay_rate=0.1,0.2", "--scheduler",
     "http://127.0.0.1:8787"],
    ["compare", "priors/deepseek-adjusted.toml"],
    ["compare", "priors/deepseek-adjusted.toml", "priors/deepseek-adjusted.toml"],
    ["run", "priors/deepseek-adjusted.toml", "--posterior", "no/such/folder"],
    ["run", "priors/deepseek-adjusted.toml", "--posterior", "priors"],
    ["run", "priors/deepseek-adjusted.toml", "--coordinator", "localhost:99999",
     "--num-processes", "2", "--process-id", "1"],
    ["run", "priors/chatbot-h20-fleet-roofline.toml", "--set", "model=llama-3.1-70b"],
    ["sensitivity", "priors/deepseek-adjusted.toml", "--sobol-n", "3"],
    ["project", "priors/deepseek-adjusted.toml"],
    ["calibrate", "priors/deepseek-adjusted.toml"],
    ["report", "priors", "--out", "/proc/x.html"],
    ["export", "priors", "--xlsx", "/proc/x.xlsx"],
    ["report", "tests/fixtures/no-such-run-folder"],
])
def test_fast_commands_do_not_import_jax_or_scipy(args):
    code = ("import contextlib, io\nfrom probmodel.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.redirect_stderr(io.StringIO()):\n"
            f"    main({args!r})")
    assert loaded_after(code) == []
