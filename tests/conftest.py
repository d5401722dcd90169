import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRIORS = ROOT / "priors"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests share one compilation cache folder per session (faster, and never the user's).
os.environ.setdefault("PROBMODEL_JAX_CACHE", str(ROOT / ".pytest_jax_cache"))


@pytest.fixture(scope="session")
def priors() -> Path:
    return PRIORS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
