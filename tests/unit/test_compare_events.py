"""compare --event: P(event) ± MCSE per scenario and its paired difference, in every table,
the JSON, the report and the workbook; and the compare report's and workbook's assumptions,
one column per scenario (the diff's code), each read from that scenario's own file."""

import json
import re

import numpy as np
import openpyxl
import pytest

import probmodel
from probmodel.analysis import compare as cmp
from probmodel.analysis import targets as tg
from probmodel.cli import main
from probmodel.report.workbook import export_xlsx

THEO, ADJ, OFF = ("deepseek-theoretical.toml", "deepseek-adjusted.toml",
                  "deepseek-offpeak-measured.toml")


def test_p_event_per_scenario_and_paired_difference(priors):
    scs = [probmodel.load_scenario(priors / f) for f in (ADJ, OFF)]
    events = tg.parse_events(["margin > 20%", "profit < -50k"], scs[0])
    res = cmp.compare(scs, "margin", 4096, 5, keep=4096, events=events)
    s = res.summary
    for i, sc in enumerate(scs):
        m = res.kept["margin"].values[0, :, i]
        pr = res.kept["profit"].values[0, :, i]
        want = [(m > np.float32(0.2)).mean(), (pr < -50_000).mean()]
        assert s["p_event"].sel(scenario=sc.name).values == pytest.approx(want, abs=1e-12)
    d = s["p_event_difference"].sel(scenario=scs[0].name, versus=scs[1].name).values
    p = s["p_event"].values
    assert d == pytest.approx(p[0] - p[1], abs=1e-12)
    # pairing: the MCSE of the paired difference is below the independent one
    se = s["p_event_difference_mcse"].sel(scenario=scs[0].name, versus=scs[1].name).values
    indep = np.sqrt((s["p_event_mcse"].values ** 2).sum(axis=0))
    assert np.all(se < indep)


@pytest.fixture(scope="module")
def folder(priors, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "c"
    rc = main(["compare", *(str(priors / f) for f in (THEO, ADJ, OFF)), "-n", "4096",
               "--event", "margin > 20%", "--out", str(out), "-q", "--report"])
    assert rc == 0
    return out


def test_compare_command_writes_events(folder):
    assert "deepseek-adjusted,margin,p_gt_0.2," in (folder / "summary.csv").read_text()
    head = (folder / "pairs.csv").read_text().splitlines()[0]
    assert "p_margin_gt_0.2_difference,p_margin_gt_0.2_difference_mcse" in head
    d = json.loads((folder / "summary.json").read_text())
    ev = d["scenarios"]["deepseek-theoretical"]["events"][0]
    assert (ev["event"], ev["p"], ev["mcse"]) == ("margin > 20%", 1.0, 0.0)
    html = (folder / "report.html").read_text()
    assert "P(margin &gt; 20%) ± MCSE</th>" in html


def test_compare_command_prints_events(priors, tmp_path, capsys):
    rc = main(["compare", str(priors / ADJ), str(priors / OFF), "-n", "4096", "--event",
               "margin > 20%", "--out", str(tmp_path / "c"), "-q"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "P(margin > 20%) ± MCSE" in text
    assert re.search(r"P\(margin > 20%\): deepseek-adjusted - deepseek-offpeak-measured = "
                     r"-0\.\d{4} ± 0\.\d{4} \(MCSE, paired draws\)", text), text


def _row(html: str, name: str) -> list[str]:
    """The cells of the assumptions table's row of ``name`` (tags stripped)."""
    sec = html[html.index("<h3>Assumptions"):]
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", sec, re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr,
                                                               re.S)]
        if cells and cells[0].replace("≠ ", "") == name:
            return cells
    raise AssertionError(f"no row for {name}")


def test_compare_report_one_assumptions_column_per_scenario(folder):
    html = (folder / "report.html").read_text()
    sec = html[html.index("<h3>Assumptions"):]
    head = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", sec[:sec.index("</thead>")])
    assert head[:4] == ["parameter", "deepseek-theoretical", "deepseek-adjusted",
                        "deepseek-offpeak-measured"]
    # gpu_cost_share: fixed 1.0 in theoretical, Beta(14, 6) in adjusted (and inherited
    # from it by offpeak-measured); marked as differing
    g = _row(html, "gpu_cost_share")
    assert g[0] == "≠ gpu_cost_share"
    assert g[1].startswith("fixed 100")
    assert g[2].startswith("Beta(14, 6)")
    assert g[3].startswith("Beta(14, 6)")
    assert "inherited: deepseek-adjusted.toml" in g[3]
    # offpeak_share: each scenario's own law, never another file's
    o = _row(html, "offpeak_share")
    assert o[1].startswith("fixed 0")
    assert o[2].startswith("Beta(11.24, 22.48)")
    assert o[3].startswith("Beta(6, 27)")
    # a parameter all three share unchanged is not marked
    assert _row(html, "gpus_per_node")[0] == "gpus_per_node"


def test_compare_workbook_one_inputs_column_per_scenario(folder, tmp_path):
    ws = openpyxl.load_workbook(export_xlsx(folder, tmp_path / "c.xlsx"))["Inputs"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = rows[0]
    by = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    g = by["gpu_cost_share"]
    assert g["differs"] == "≠"
    assert (g["deepseek-theoretical: law"], g["deepseek-theoretical: point"]) == ("fixed", 1)
    assert g["deepseek-adjusted: law"] == "Beta(14, 6)"
    assert 0.5 < g["deepseek-adjusted: median"] < 0.8
    assert by["offpeak_share"]["deepseek-offpeak-measured: law"].startswith("Beta(6, 27)")
    sc = openpyxl.load_workbook(tmp_path / "c.xlsx")["Scenarios"]
    assert [c.value for c in sc[1]][-2:] == ["P(margin > 20%)", "MCSE"]


def test_compare_event_output_missing_in_one_scenario(priors, tmp_path, capsys):
    rc = main(["compare", str(priors / ADJ), str(priors / "chatbot-h20.toml"), "-n", "4096",
               "--event", "margin > 20%", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: --event: 'margin' is not computed by scenario"), err
    assert len(err.strip().splitlines()) == 1


def test_compare_report_correlations_per_scenario(priors, tmp_path):
    out = tmp_path / "c"
    rc = main(["compare", str(priors / ADJ), str(priors / "deepseek-correlated.toml"),
               "-n", "4096", "--out", str(out), "-q", "--report"])
    assert rc == 0
    html = (out / "report.html").read_text()
    sec = html[html.index("Rank correlations (Spearman)"):]
    row = re.search(r"<tr[^>]*><td>≠ pay_rate ~ v3_share</td><td[^>]*>(.*?)</td><td[^>]*>"
                    r"(.*?)</td>", sec)
    assert row is not None
    assert row.groups() == ("none", "+0.30")
