"""Docs that are generated from the code must match it."""

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_priors_page_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_priors", ROOT / "docs/make_priors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs/priors.md").read_text() == mod.render(), (
        "docs/priors.md is stale: run `python docs/make_priors.py`")


def _make_docs():
    if "make_docs" in sys.modules:
        return sys.modules["make_docs"]
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "docs/make_docs.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_docs"] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


_NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")
#: A number followed by a unit of time is a timing: it differs from run to run.
_TIMING = re.compile(r"\s?(?:s|ms|min)\b")


def _units_in_last_place(a: str, b: str) -> float:
    """|a - b| in units of the last printed digit (inf when the layouts differ)."""
    da = len(a.split(".")[1]) if "." in a and "e" not in a else 0
    db = len(b.split(".")[1]) if "." in b and "e" not in b else 0
    if da != db:
        return math.inf
    x, y = float(a.replace(",", "")), float(b.replace(",", ""))
    return abs(x - y) * 10**da


def assert_same_output(doc: str, fresh: str, where: str) -> None:
    """Equal text; numbers equal or one unit apart in their last digit; timings ignored.

    One unit in the last printed place allows a quantile that sits on a rounding
    boundary to print differently on another CPU (float32 draws can differ in their last
    bit between CPU vendors); anything larger is a stale page.
    """
    da, fa = _NUM.split(doc), _NUM.split(fresh)
    nd, nf = _NUM.findall(doc), _NUM.findall(fresh)
    assert da == fa, f"{where}: the text changed:\n--- page\n{doc}\n--- fresh run\n{fresh}"
    for i, (x, y) in enumerate(zip(nd, nf, strict=True)):
        if _TIMING.match(da[i + 1]):
            continue
        assert _units_in_last_place(x, y) <= 1, (
            f"{where}: the page shows {x}, a fresh run prints {y} (near: "
            f"{da[i][-60:]!r}); run `python docs/make_docs.py`")


def _cheap_blocks():
    mod = _make_docs()
    for page in sorted((ROOT / "docs").glob("*.md")):
        for m in mod.blocks(page.read_text()):
            if m["cheap"]:
                yield pytest.param(page.name, m["id"], id=f"{page.stem}:{m['id']}")


@pytest.mark.parametrize(("page", "ident"), list(_cheap_blocks()))
def test_quoted_output_and_numbers_match_a_fresh_run(page, ident, tmp_path):
    mod = _make_docs()
    path = ROOT / "docs" / page
    new, results = mod.run_page(path, only={ident}, tmp=tmp_path)
    assert results[ident].data["exit_status"] in (0, 2, 3), results[ident].text
    assert_same_output(path.read_text(), new, f"docs/{page} ({ident})")


def test_every_quoted_value_names_a_block_on_its_page():
    mod = _make_docs()
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        ids = {m["id"] for m in mod.blocks(text)}
        for v in mod.VALUE.finditer(text):
            assert v["id"] in ids, f"docs/{page.name}: value {v['id']} has no docrun block"


def test_number_comparison_allows_one_last_digit_and_nothing_more():
    assert_same_output("p = 0.4889 in 3.1 s", "p = 0.4890 in 9.9 s", "x")
    with pytest.raises(AssertionError):
        assert_same_output("p = 0.4889", "p = 0.4891", "x")
    with pytest.raises(AssertionError):
        assert_same_output("p = 0.489", "p = 0.4890", "x")
    with pytest.raises(AssertionError):
        assert_same_output("margin 4.3%", "profit 4.3%", "x")
