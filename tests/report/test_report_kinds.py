"""What each kind of section says: headlines, labels, units, captions (from the HTML)."""

import re
import shutil

import pytest

from probmodel.report import build_report

from .conftest import PRIORS


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _answer(html: str) -> str:
    i = html.index('class="answer"')
    return _text(html[i:html.index("</div>", i)])


def _rows(html: str, heading: str) -> list[list[str]]:
    """The rows (tags stripped) of every table part after ``heading``, before the next h3."""
    i = html.index(heading)
    j = html.find("<h3>", i + len(heading))
    sec = html[i:j if j > 0 else None]
    return [[_text(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", sec, re.S)]


@pytest.fixture(scope="module")
def same_names(tmp_path_factory):
    """A comparison of two files named alike in two folders, and a fixed reference view."""
    root = tmp_path_factory.mktemp("alike")
    for sub in ("a", "b"):
        (root / sub).mkdir()
        for name in ("deepseek-theoretical.toml", "deepseek-adjusted.toml"):
            shutil.copy(PRIORS / name, root / sub / name)
    theo = root / "b" / "deepseek-theoretical.toml"
    theo.write_text(theo.read_text().replace("value = 226.75", "value = 250", 1))
    from probmodel.cli import main

    out = root / "run"
    assert main(["compare", str(PRIORS / "deepseek-theoretical.toml"),
                 str(root / "a" / "deepseek-adjusted.toml"),
                 str(root / "b" / "deepseek-adjusted.toml"), "--draws", "2000", "-q",
                 "--out", str(out)]) == 0
    return out


def test_compare_one_column_per_scenario_even_for_files_named_alike(same_names):
    html = build_report([same_names])
    rows = _rows(html, "<h3>Assumptions")
    assert rows[0][:4] == ["parameter", "deepseek-theoretical", "a/deepseek-adjusted",
                           "b/deepseek-adjusted"]
    by: dict[str, list[str]] = {}
    for r in rows[1:]:  # the first part of a split table holds the scenarios' columns
        by.setdefault(r[0].replace("≠ ", ""), r)
    # each column is its own scenario's value: b's copy of the base file says 250 nodes
    nodes = by["nodes_avg"]
    assert nodes[0] == "≠ nodes_avg"
    assert nodes[1].startswith("fixed 226.8")
    assert nodes[2].startswith("fixed 226.8")
    assert nodes[3].startswith("fixed 250.0")
    assert by["pay_rate"][1].startswith("fixed 100")
    assert by["pay_rate"][2].startswith("Beta(")
    assert by["gpus_per_node"][0] == "gpus_per_node"  # the same everywhere: not marked
    assert "could not be read back" not in html
    body = _text(html)
    assert "MISSING" not in body
    assert "DIFFERS" not in body


def test_compare_headline_names_the_reference_and_never_ranks_a_fixed_view(same_names):
    html = build_report([same_names])
    head = _answer(html)
    assert "Most likely profitable: deepseek-theoretical" not in head
    assert "Most likely profitable of the 2 uncertain scenarios: " in head
    assert "Reference scenario: deepseek-theoretical (the first named)" in head
    assert ("deepseek-theoretical is profitable on every draw: a fixed reference view "
            "(only gpu_price_per_hour is uncertain)") in head
    per = _rows(html, "<h3>Per scenario")
    assert per[1][0] == "deepseek-theoretical (reference)"
