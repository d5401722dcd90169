"""Each kind of report opened in headless Chromium, as a reader's browser would.

Skipped with a reason when Chromium is missing; PROBMODEL_REQUIRE_BROWSER=1 (set by
.ci/run) turns the skip into a failure.
"""

import io

import pytest
from PIL import Image

from probmodel.report import build_report
from probmodel.report.browser import Chromium


@pytest.fixture(scope="module")
def browser(chromium):
    with Chromium(chromium) as c:
        yield c


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def test_each_report_kind_renders_cleanly(any_run, browser, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(build_report([any_run]), encoding="utf-8")
    rep = browser.open(page, width=1200, height=900, pdf=True)
    assert rep.errors == []
    assert rep.outside_requests() == []
    lay = rep.layout
    assert lay["sections"] == 1
    assert lay["figures"] >= 1
    assert len(lay["images"]) == lay["figures"]
    for img in lay["images"]:
        assert img["complete"], img["alt"]
        assert img["naturalWidth"] > 0, img["alt"]
        assert img["naturalHeight"] > 0, img["alt"]
        assert img["width"] > 100, img["alt"]
        assert img["height"] > 50, img["alt"]
    # the screenshot: a real PNG of the first screen, saved beside the report
    assert _png_size(rep.screenshot) == (1200, 900)
    (tmp_path / "screenshot.png").write_bytes(rep.screenshot)
    # printing goes through the print stylesheet into a PDF
    assert rep.pdf.startswith(b"%PDF-")
    assert len(rep.pdf) > 10_000


def test_two_run_folders_render_as_two_sections(calibrate_dir, run_dir, browser, tmp_path):
    page = tmp_path / "both.html"
    page.write_text(build_report([calibrate_dir, run_dir]), encoding="utf-8")
    rep = browser.open(page, full_page=True)
    assert rep.errors == []
    assert rep.outside_requests() == []
    assert rep.layout["sections"] == 2
    w, h = _png_size(rep.screenshot)
    assert w == 1200
    assert h == rep.layout["height"] > 900


def test_the_harness_sees_errors_requests_and_empty_figures(browser, tmp_path):
    """Negative control: a page that misbehaves is caught on each count."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        "<figure><img src='http://127.0.0.1:9/x.png' alt='remote'></figure>"
        "<script>console.error('boom'); undefined_function();</script></body></html>")
    rep = browser.open(page)
    assert any("boom" in e for e in rep.errors)
    assert any("undefined_function" in e or "Uncaught" in e for e in rep.errors)
    assert "http://127.0.0.1:9/x.png" in rep.outside_requests()
    assert rep.layout["images"][0]["naturalWidth"] == 0
