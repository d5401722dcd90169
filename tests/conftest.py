import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRIORS = ROOT / "priors"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Shared test helpers (tests/f32.py) import as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests share one compilation cache folder per session (faster, and never the user's).
os.environ.setdefault("PROBMODEL_JAX_CACHE", str(ROOT / ".pytest_jax_cache"))


@pytest.fixture(scope="session")
def priors() -> Path:
    return PRIORS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES

# Property tests run the same examples every time (a failure reproduces; CI is not a
# lottery). Run with HYPOTHESIS_PROFILE=explore to search fresh random examples.
from hypothesis import settings  # noqa: E402

settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
