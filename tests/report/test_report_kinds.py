"""What each kind of section says: headlines, labels, units, captions (from the HTML)."""

import html as htmllib
import json
import re
import shutil

import pytest

from probmodel.report import build_report

from .conftest import PRIORS


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


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


@pytest.fixture(scope="module")
def sweep_one(tmp_path_factory):
    """A sweep over one input (its tables have a single quantity column)."""
    out = tmp_path_factory.mktemp("sweep1") / "run"
    from probmodel.cli import main

    assert main(["sweep", str(PRIORS / "deepseek-adjusted.toml"), "--grid",
                 "pay_rate=0.2,0.3,0.4,0.5", "--draws", "2000", "-q", "--out",
                 str(out)]) == 0
    return out


def test_sweep_tables_are_headed_by_their_quantity(sweep_one):
    html = build_report([sweep_one])
    p = _rows(html, "P(profit &gt; 0) ± MCSE in each cell")
    assert p[0] == ["pay_rate", "P(profit > 0) ± MCSE"]
    assert [r[0] for r in p[1:]] == ["20.00%", "30.00%", "40.00%", "50.00%"]
    m = _rows(html, "<h3>Median margin")
    assert m[0] == ["pay_rate", "median margin (%) ± MCSE"]
    # the headline's probabilities are the table's, digit for digit
    head = _answer(html)
    cells = [r[1] for r in p[1:]]
    assert f"ranges from {min(cells, key=lambda c: float(c.split('%')[0]))}" in head


def test_sweep_break_even_in_a_table_and_in_the_headline(sweep_one):
    html = build_report([sweep_one])
    s = json.loads((sweep_one / "summary.json").read_text())
    be = s["break_even_pay_rate"]["cells"][0]
    rows = _rows(html, "<h3>Break-even pay_rate")
    assert rows[0] == ["where", "median ± MCSE", "90% interval [5%, 95%]", "mean ± MCSE"]
    med = rows[1][1]
    assert med == f"{100 * be['q50']:.2f} ± {100 * be['mcse_q50']:.2f}%"
    assert f"break-even pay_rate: median {med}" in _answer(html)


def test_sweep_shows_swept_inputs_as_swept_not_as_their_priors(sweep_one, sweep_dir):
    html = build_report([sweep_one])
    rows = _rows(html, "<h3>Assumptions")
    pay = next(r for r in rows if r[0] == "pay_rate")
    assert pay[1] == "swept: 20.00, 30.00, 40.00, 50.00 %"
    assert pay[2:5] == ["", "", ""]  # no interval, median or point from the prior
    assert "1 swept" in _text(html)
    two = _rows(build_report([sweep_dir]), "<h3>Assumptions")
    swept = [r[0] for r in two if len(r) > 1 and r[1].startswith("swept:")]
    assert sorted(swept) == ["gpu_cost_share", "pay_rate"]


def test_sensitivity_tables_have_labels_units_and_percentage_points(sensitivity_dir):
    html = build_report([sensitivity_dir])
    body = _text(html)
    for raw in ("median_event_mcse", "shift_of_90pct_width", "ks_distance", "margin_at_p05",
                "rank_corr_with_output", "S1_lower"):
        assert raw not in body, raw  # column names never reach the reader
    tor = _rows(html, "<h3>Tornado")
    pay = next(r for r in tor if r[0] == "pay_rate")
    assert pay[1].endswith("%")  # the input's quantile in %
    assert pay[5].endswith(" pp")  # a margin's swing in percentage points
    assert re.search(r"pay_rate \(swing [\d.]+ pp\)", _answer(html))
    ranks = [r[0] for r in _rows(html, "<h3>Drivers")[1:] if r[0] != "rank"]
    assert ranks[:3] == ["1", "2", "3"]


def test_calibration_tables_say_passes_or_fails_never_ok_true(calibrate_dir):
    html = build_report([calibrate_dir])
    rows = _rows(html, "<h3>Calibration diagnostics")
    assert rows[0] == ["parameter", "r-hat (split)", "bulk ESS (draws)", "tail ESS (draws)",
                       "divergent transitions", "verdict"]
    assert {r[-1] for r in rows[1:]} <= {"passes", "FAILS"}
    assert all(re.fullmatch(r"[\d,]+", r[2]) for r in rows[1:])  # ESS as whole draws
    body = _text(html)
    assert " True" not in body
    assert "ess_bulk" not in body


def test_calibration_headline_answers_the_business_question_first(calibrate_dir, tmp_path):
    # the fixture's scenario has no prices: give its result tree a prior and posterior
    # P(profit > 0), write the folder from that tree, and report on it
    import xarray as xr

    from probmodel import runs, tree

    man = json.loads((calibrate_dir / "manifest.json").read_text())
    t = tree.read(calibrate_dir, man)
    pp = t["prior_posterior"].to_dataset()
    pp["p_profitable_prior"] = ((), 0.49)
    pp["p_profitable"] = ((), 0.62)
    pp["p_profitable_mcse"] = ((), 0.012)
    t["prior_posterior"] = xr.DataTree(pp)
    d = runs.write(t, out=tmp_path / "cal")
    s = json.loads((d / "summary.json").read_text())
    assert s["p_profitable"] == {"prior": 0.49, "posterior": 0.62, "posterior_mcse": 0.012}
    head = _answer(build_report([d]))
    assert head.index("P(profit > 0): prior 49.0% → posterior 62.0% ± 1.2%") < head.index(
        "diagnostics")


def test_combined_report_opens_with_an_executive_summary(calibrate_dir, run_dir, sweep_dir):
    html = build_report([calibrate_dir, run_dir, sweep_dir])
    i = html.index('<div class="summary"')
    assert i < html.index('<section class="run"')
    items = re.findall(r"<li>(.*?)</li>", html[i:html.index("</ol>", i)], re.S)
    assert len(items) == 3
    run = json.loads((run_dir / "summary.json").read_text())
    from probmodel.report import numbers as nb

    assert nb.percent(run["p_profitable"], run["p_profitable_mcse"]) in items[1]
    assert "diagnostics" in _text(items[0])
    assert "break-even pay_rate: median" in _text(items[2])
    assert '<div class="summary"' not in build_report([run_dir])  # one section: no summary


def test_figure_captions_say_what_the_figure_shows(any_run):
    html = build_report([any_run])
    caps = [_text(c).strip() for c in re.findall(r"<figcaption>(.*?)</figcaption>", html,
                                                 re.S)]
    assert caps
    for c in caps:
        assert "figures/" not in c, c  # never a file name
        assert len(c.split()) >= 6, c  # a sentence, not a label


def test_project_paths_in_readable_tables_with_their_units(project_dir):
    html = build_report([project_dir])
    s = json.loads((project_dir / "summary.json").read_text())
    rows = _rows(html, "<h3>Growth, adoption and price paths")
    assert rows[0][:2] == ["input", "unit"]
    assert rows[0][2:] == [str(y) for y in s["years"]]
    by: dict[str, list[str]] = {}
    for r in rows[1:]:  # the paths table comes before the laws table
        by.setdefault(r[0], r)
    assert by["utilization"][1] == "%"  # a share of the chip's peak, explained above
    assert by["price_index"][1] == "x"
    assert {"users", "tokens_per_request", "price_index"} <= set(by)
    assert "utilization 86% is 86% of the chip's peak FLOP/s" in _text(html)
    laws = _rows(html, "The laws of the paths")
    assert any(r[:2] == ["users", "exponential"] for r in laws)


def test_sensitivity_report_flags_imprecise_sobol_indices(sensitivity_dir):
    # the fixture's --sobol-n 64 is too few evaluations: the report says which and why
    html = build_report([sensitivity_dir])
    notes = re.findall(r'<p class="note warn">(.*?)</p>', html, re.S)
    assert len(notes) == 1
    assert htmllib.unescape(notes[0]).startswith("imprecise at --sobol-n 64: ")
    assert "use a larger --sobol-n" in notes[0]
