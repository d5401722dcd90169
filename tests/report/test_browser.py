"""Each kind of report opened in headless Chromium, as a reader's browser would.

Skipped with a reason when Chromium is missing; PROBMODEL_REQUIRE_BROWSER=1 (set by
.ci/run) turns the skip into a failure.
"""

import io

import pytest
from PIL import Image

from probmodel.report import build_report
from probmodel.report.browser import PRINT_WIDTHS, Chromium


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


def _too_wide(rep) -> list[str]:
    return [f"{t['head']!r}: {t['width']:.0f} px in {t['container']} px, "
            f"{t['clipped']} cells cut" for t in rep.wide_tables()]


def test_every_table_fits_the_screen_and_the_printed_page(any_run, browser, tmp_path):
    """No table wider than its container at 1280 px, nor on A4 or Letter paper."""
    page = tmp_path / "report.html"
    page.write_text(build_report([any_run]), encoding="utf-8")
    rep = browser.open(page, width=1280, height=900)
    assert len(rep.layout["tables"]) >= 3
    assert _too_wide(rep) == []
    assert rep.layout["pageWidth"] <= 1280
    for paper, width in PRINT_WIDTHS.items():
        rep = browser.open(page, width=width, height=900, media="print")
        assert _too_wide(rep) == [], paper
        assert rep.layout["pageWidth"] <= width, paper  # nothing else sticks out either


def test_the_table_probe_sees_a_table_too_wide(browser, tmp_path):
    """Negative control: a fourteen-column table of long numbers is caught."""
    page = tmp_path / "wide.html"
    cells = "".join(f"<td class='num'>{i * 1234567.891:,.3f} ± 0.001</td>" for i in range(14))
    page.write_text("<!DOCTYPE html><html><head><title>wide</title></head><body><main>"
                    f"<div class='scroll' style='overflow-x:auto'><table><tr>{cells}</tr>"
                    "</table></div></main></body></html>")
    for media, width in (("", 1280), ("print", PRINT_WIDTHS["A4"])):
        rep = browser.open(page, width=width, media=media)
        assert len(_too_wide(rep)) == 1, media


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
