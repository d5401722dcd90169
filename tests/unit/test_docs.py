"""Docs that are generated from the code must match it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_priors_page_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_priors", ROOT / "docs/make_priors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs/priors.md").read_text() == mod.render(), (
        "docs/priors.md is stale: run `python docs/make_priors.py`")
