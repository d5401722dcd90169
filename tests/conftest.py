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


def _cost(item) -> float:
    """Seconds a test is expected to take: ``slow(seconds=...)``, 10 if marked without."""
    mark = item.get_closest_marker("slow") or item.get_closest_marker("long")
    return 0.0 if mark is None else float(mark.kwargs.get("seconds", 10))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (or ``long``) first, the costliest first; the rest after.

    The two test workers then start on the tests that take tens of seconds and share out
    the short ones after, instead of one worker meeting a 90-second test near the end
    while the other sits idle. The order is the same in every worker, as xdist requires
    (a stable sort of the collection order).
    """
    items.sort(key=lambda it: -_cost(it))


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
