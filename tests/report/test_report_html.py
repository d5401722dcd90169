"""The HTML report: valid, self-contained, escaped, the answer first, numbers from the files."""

import contextlib
import io as stdio
import json
import re
import shutil
from html.parser import HTMLParser

import html5lib
import pytest

from probmodel.cli import main
from probmodel.report import build_report, write_report
from probmodel.report import numbers as nb


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.ids, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if "id" in dict(attrs):
            self.ids.append(dict(attrs)["id"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Collect:
    # strict WHATWG parsing: any parse error (stray end tag, bad nesting, missing doctype)
    # raises html5lib.html5parser.ParseError
    html5lib.HTMLParser(strict=True).parse(text)
    c = _Collect()
    c.feed(text)
    return c


def test_report_of_each_kind_is_valid_and_self_contained(any_run):
    text = build_report([any_run])
    c = _parse(text)
    assert "script" not in c.tags  # nothing runs in the report
    assert len(c.ids) == len(set(c.ids))
    for tag, a in c.attrs:
        if tag == "img":
            assert a["src"].startswith(("data:image/svg+xml;base64,", "data:image/png;base64,"))
        if tag == "link" or (tag != "a" and "src" in a):
            assert not re.match(r"(https?:)?//", a.get("href", a.get("src", "")))
    assert 'http-equiv="Content-Security-Policy"' in text
    assert "default-src 'none'" in text
    assert "@media print" in text
    assert c.tags.count("section") == 1
    assert c.tags.count("figure") >= 1
    body = "".join(c.text)
    # the answer comes first, then figures, then assumptions and provenance
    order = [body.index(w) for w in ("Figures", "Assumptions", "Provenance")]
    assert order == sorted(order)
    man = json.loads((any_run / "manifest.json").read_text())
    assert man["command"] in body  # the command line that reproduces it
    for name, digest in man.get("scenario_files", {}).items():
        assert name in body
        assert digest in body
    assert "DIFFERS" not in body
    assert "MISSING" not in body


def test_run_report_answer_is_the_runs_probability(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    text = build_report([run_dir])
    head = text[text.index('class="answer"'):text.index("Key intervals")]
    want = nb.percent(s["p_profitable"], s["p_profitable_mcse"])
    assert want in head, (want, head)
    q = s["summary"]["margin"]
    assert f"median {nb.show('margin', '1', q['q50'])} %" in head
    # every uncertain parameter of the scenario is listed with its source
    assert "pay_rate" in text
    assert "Report §2.2 C" in text
    assert text.count("<figure>") >= 2  # distributions and exceedance, made from draws.nc


def test_sources_are_links_and_file_text_is_escaped(run_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    man = json.loads((bad / "manifest.json").read_text())
    man["scenario_title"] = '<script>alert("x")</script> & "quotes"'
    (bad / "manifest.json").write_text(json.dumps(man))
    toml = bad / "scenario" / "deepseek-adjusted.toml"
    toml.write_text(toml.read_text().replace(
        'source = "Report §2.2 C:',
        'source = "see https://example.org/a?b=1&c=<2> and <img src=x onerror=alert(1)> '
        'Report §2.2 C:',
        1))
    text = build_report([bad])
    _parse(text)
    assert "<script>" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in text
    # a URL ends where a character that cannot be in one starts (here "<")
    assert '<a href="https://example.org/a?b=1&amp;c=" rel="noreferrer">' in text
    # the copy no longer matches the manifest's hash: the report says so
    assert "DIFFERS" in text


def test_several_run_folders_make_one_report(calibrate_dir, run_dir, tmp_path):
    out = tmp_path / "both.html"
    buf = stdio.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["report", str(calibrate_dir), str(run_dir), "--out", str(out)]) == 0
    assert str(out) in buf.getvalue()
    c = _parse(out.read_text())
    assert c.tags.count("section") == 2
    assert c.tags.count("nav") == 1
    text = out.read_text()
    assert text.index("Calibration diagnostics") < text.index("Key intervals")
    assert "r-hat (split)" in text  # the diagnostics with labels, not column names
    assert "bulk ESS (draws)" in text


def test_report_refuses_bad_folders_and_existing_files(run_dir, tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "no such run folder" in err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "not a run folder (no manifest.json)" in capsys.readouterr().err
    out = tmp_path / "r.html"
    out.write_text("keep")
    assert main(["report", str(run_dir), "--out", str(out)]) == 2
    assert out.read_text() == "keep"
    assert "already exists" in capsys.readouterr().err


def test_write_report_hook_writes_into_the_run_folder(sweep_dir, tmp_path):
    d = tmp_path / "sweep"
    shutil.copytree(sweep_dir, d)
    (d / "report.html").unlink()  # the one the command's --report wrote
    path = write_report(d)
    assert path == d / "report.html"
    _parse(path.read_text())
    with pytest.raises(Exception, match="already exists"):
        write_report(d)
    assert not list(d.glob(".report.html.partial-*"))


@pytest.mark.parametrize(("p", "se", "want"), [
    (0.494, 0.0035, "49.4% ± 0.4%"), (0.5, 0.0005, "50.00% ± 0.05%"),
    (0.02, 0.00001, "2.000% ± 0.001%"), (1.0, 0.0, "100% (every draw)")])
def test_percent_shows_the_mcse_precision(p, se, want):
    assert nb.percent(p, se) == want


def test_value_rounded_to_its_mcse():
    assert nb.with_mcse("profit", "USD/day", -782.1, 478.3) == "-0.78 ± 0.48"
    assert nb.with_mcse("margin", "1", 0.4902, 0.00246) == "49.02 ± 0.25"
