"""probmodel export: the workbook read back with openpyxl against the run's summary.json."""

import itertools
import json
from pathlib import Path

import openpyxl
import pytest

from probmodel.cli import main


def _export(run, tmp_path, name="out.xlsx"):
    path = tmp_path / name
    assert main(["export", str(run), "--xlsx", str(path)]) == 0
    return openpyxl.load_workbook(path)


def _rows(ws):
    return [[c.value for c in r] for r in ws.iter_rows()]


def _cell(ws, row_key, header):
    """The cell in the row whose leading values are ``row_key``, column ``header``."""
    head = [c.value for c in ws[1]]
    j = head.index(header)
    for r in ws.iter_rows(min_row=2):
        if tuple(c.value for c in r[:len(row_key)]) == tuple(row_key):
            return r[j]
    raise KeyError(row_key)


def test_every_kind_exports_with_frozen_headers_and_provenance(any_run, tmp_path):
    wb = _export(any_run, tmp_path)
    assert "Inputs" in wb.sheetnames
    assert "Provenance" in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None
        assert ws.freeze_panes.endswith("2")  # the header row stays in view
        assert all(c.font.bold for c in ws[1] if c.value is not None)
    prov = {r[0]: r[1] for r in _rows(wb["Provenance"])[1:]}
    man = json.loads((any_run / "manifest.json").read_text())
    assert prov["command"] == man["command"]
    assert prov["kind"] == man["kind"]
    checks = [r[2] for r in _rows(wb["Provenance"]) if str(r[0]).startswith("SHA-256")]
    assert checks
    assert set(checks) == {"matches"}


def test_run_summary_sheet_matches_summary_json(run_dir, tmp_path):
    s = json.loads((run_dir / "summary.json").read_text())
    ws = _export(run_dir, tmp_path)["Summary"]
    for var in ("margin", "profit", "revenue"):
        for stat in ("mean", "q05", "q50", "q95"):
            c = _cell(ws, (var,), stat)
            assert c.value == pytest.approx(s["summary"][var][stat], rel=1e-12, abs=0)
        m = _cell(ws, (var,), "q50 MCSE")
        assert m.value > 0
    assert _cell(ws, ("margin",), "q50").number_format == "0.0%"
    assert _cell(ws, ("profit",), "q50").number_format == '"$"#,##0'
    p = _cell(ws, ("profit",), "p_gt_0")
    assert p.value == pytest.approx(s["p_profitable"], rel=1e-12)
    assert p.number_format == "0.0%"
    assert _cell(ws, ("profit",), "p_gt_0 MCSE").value == pytest.approx(
        s["p_profitable_mcse"], rel=1e-12)
    inputs = {r[0]: r for r in _rows(_export(run_dir, tmp_path, "b.xlsx")["Inputs"])[1:]}
    assert inputs["pay_rate"][1] == "Beta(mean=0.35, sd=0.13)"
    assert inputs["pay_rate"][7].startswith("Report §2.2 C")


def test_sweep_grid_is_a_matrix_like_the_heatmap(sweep_dir, tmp_path):
    s = json.loads((sweep_dir / "summary.json").read_text())
    ws = _export(sweep_dir, tmp_path)["Grid P(profit>0)"]
    rows, cols = s["grid"]["pay_rate"], s["grid"]["gpu_cost_share"]
    head = [c.value for c in ws[1]]
    assert head[1:1 + len(cols)] == cols
    for i, a in enumerate(rows):
        assert ws.cell(row=i + 2, column=1).value == a
        for j, b in enumerate(cols):
            cell = next(c for c in s["cells"] if c["pay_rate"] == a and c["gpu_cost_share"] == b)
            got = ws.cell(row=i + 2, column=j + 2)
            assert got.value == pytest.approx(cell["p_profitable"], rel=1e-12)
            assert got.number_format == "0.0%"
            mc = ws.cell(row=i + 2, column=len(cols) + 4 + j)
            assert mc.value == pytest.approx(cell["p_profitable_mcse"], rel=1e-12)


def test_compare_pairs_and_scenarios(compare_dir, tmp_path):
    s = json.loads((compare_dir / "summary.json").read_text())
    wb = _export(compare_dir, tmp_path)
    for name, st in s["scenarios"].items():
        assert _cell(wb["Scenarios"], (name,), "P(profit > 0)").value == pytest.approx(
            st["p_profitable"], rel=1e-12)
    for pair in s["pairs"]:
        c = _cell(wb["Pairs"], (pair["scenario"], pair["versus"]), "p_greater")
        assert c.value == pytest.approx(pair["p_greater"], rel=1e-12, abs=1e-15)


def test_projection_years_are_columns(project_dir, tmp_path):
    s = json.loads((project_dir / "summary.json").read_text())
    ws = _export(project_dir, tmp_path)["By year"]
    head = [c.value for c in ws[1]]
    assert head[3:] == s["years"]
    for y in s["years"]:
        c = _cell(ws, ("P(profit > 0)", None), y)
        assert c.value == pytest.approx(s["p_profitable"][str(y)], rel=1e-12, abs=1e-15)
        q50 = _cell(ws, ("margin", "q50"), y)
        assert q50.value == pytest.approx(s["summary"]["margin"][str(y)]["q50"], rel=1e-12)
        assert q50.number_format == "0.0%"


def test_calibration_diagnostics_sheet(calibrate_dir, tmp_path):
    wb = _export(calibrate_dir, tmp_path)
    diag = _rows(wb["diagnostics"])
    assert diag[0][:2] == ["parameter", "r_hat"]
    assert all(isinstance(r[5], bool) for r in diag[1:])


def test_export_refuses_bad_targets(run_dir, tmp_path, capsys):
    (tmp_path / "x.xlsx").write_text("keep")
    assert main(["export", str(run_dir), "--xlsx", str(tmp_path / "x.xlsx")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["export", str(run_dir), "--xlsx", str(tmp_path / "x.csv")]) == 2
    assert "must end in .xlsx" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--xlsx", str(tmp_path / "y.xlsx")]) == 2
    assert not (tmp_path / "y.xlsx").exists()


def _numeric_cells(ws):
    for r in ws.iter_rows(min_row=2):
        for c in r:
            if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                yield c


def test_every_numeric_cell_has_a_number_format_and_every_sheet_filters(any_run, tmp_path):
    wb = _export(any_run, tmp_path)
    for ws in wb.worksheets:
        general = [c.coordinate for c in _numeric_cells(ws) if c.number_format == "General"]
        assert not general, f"{ws.title}: {general[:5]}"
        assert ws.tables or ws.auto_filter.ref, ws.title  # sortable, filterable


def test_run_workbook_has_native_charts_beside_their_data(run_dir, tmp_path):
    wb = _export(run_dir, tmp_path)
    for title in ("Profit distribution", "Profit exceedance"):
        assert wb[title].tables  # the data as an Excel table
    import zipfile  # openpyxl does not read charts back: the file itself is read

    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        xml = "".join(z.read(n).decode() for n in charts)
    assert "barChart>" in xml
    assert "scatterChart>" in xml
    assert "'Profit distribution'!$E$2:$E$61" in xml  # drawn from the cells beside it
    exc = _rows(wb["Profit exceedance"])[1:]
    assert all(a[0] <= b[0] and a[1] >= b[1] for a, b in itertools.pairwise(exc))


def test_sensitivity_tornado_chart_and_formats(sensitivity_dir, tmp_path):
    import zipfile

    wb = _export(sensitivity_dir, tmp_path)
    ws = wb["tornado"]
    head = [c.value for c in ws[1]]
    assert "margin_change_at_p05" in head
    assert _cell(ws, ("pay_rate",), "input_p05").number_format == "0.0%"
    assert _cell(ws, ("pay_rate",), "margin_at_p05").number_format == "0.0%"
    assert _cell(ws, ("gpu_price_per_hour",), "input_p05").number_format == '"$"#,##0.00'
    lo = _cell(ws, ("pay_rate",), "margin_change_at_p05").value
    assert lo == pytest.approx(_cell(ws, ("pay_rate",), "margin_at_p05").value
                               - _cell(ws, ("pay_rate",), "margin_point").value)
    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        xml = "".join(z.read(n).decode() for n in z.namelist()
                      if n.startswith("xl/charts/chart"))
    assert 'barDir val="bar"' in xml  # horizontal bars: a tornado
    assert "'tornado'!$A$2:" in xml  # the inputs as categories


def test_one_parameter_sweep_has_a_fan_sheet_with_its_chart(tmp_path):
    folder = tmp_path / "s1"
    priors = Path(__file__).resolve().parents[2] / "priors"
    assert main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
                "pay_rate=0.25,0.35,0.45", "--draws", "2000", "-q", "--out",
                str(folder)]) == 0
    s = json.loads((folder / "summary.json").read_text())
    wb = _export(folder, tmp_path)
    ws = wb["Fan margin"]
    assert [c.value for c in ws[1]] == ["pay_rate", "margin q05", "margin q25", "margin q50",
                                        "margin q75", "margin q95"]
    for i, cell in enumerate(s["cells"]):
        assert ws.cell(row=i + 2, column=4).value == pytest.approx(cell["margin"]["q50"])
        assert ws.cell(row=i + 2, column=4).number_format == "0.0%"
    import zipfile  # openpyxl does not read charts back: the file itself is read

    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        assert any("lineChart" in z.read(n).decode() for n in z.namelist()
                   if n.startswith("xl/charts/chart"))


def test_compare_profit_rows_are_filled_from_every_draw(compare_dir, tmp_path):
    ws = _export(compare_dir, tmp_path)["Summary"]
    s = json.loads((compare_dir / "summary.json").read_text())
    for name, st in s["scenarios"].items():
        for stat in ("mean", "q05", "q50", "q95"):
            c = _cell(ws, (name, "profit"), stat)
            assert c.value is not None
            assert c.number_format == '"$"#,##0'
            assert _cell(ws, (name, "profit"), f"{stat} MCSE").value > 0
        assert _cell(ws, (name, "profit"), "p_gt_0").value == pytest.approx(
            st["p_profitable"], rel=1e-12)


def test_stress_summary_is_one_row_per_case_and_quantity(stress_dir, tmp_path):
    ws = _export(stress_dir, tmp_path)["Summary"]
    head = [c.value for c in ws[1]]
    assert head[:3] == ["case", "quantity", "unit"]
    assert {"q50", "q50 MCSE", "q50 diff", "q50 diff MCSE"} <= set(head)
    keys = [tuple(r[:2]) for r in _rows(ws)[1:]]
    assert len(keys) == len(set(keys))
    base = _cell(ws, ("base", "margin"), "q50")
    case = next(k for k in keys if k[0] != "base" and k[1] == "margin")
    diff = _cell(ws, case, "q50 diff").value
    assert diff == pytest.approx(_cell(ws, case, "q50").value - base.value, abs=1e-9)


def test_sweep_swept_values_are_formatted(sweep_dir, tmp_path):
    ws = _export(sweep_dir, tmp_path)["Summary"]
    assert all(ws.cell(row=r, column=c).number_format == "0.0%"
               for r in range(2, ws.max_row + 1) for c in (1, 2))


def test_draws_sheet_is_opt_in_capped_and_says_so(run_dir, tmp_path, monkeypatch):
    from probmodel.report import workbook_charts

    assert "Draws" not in _export(run_dir, tmp_path).sheetnames
    monkeypatch.setattr(workbook_charts, "DRAWS_SHEET_ROWS", 1000)
    path = tmp_path / "d.xlsx"
    assert main(["export", str(run_dir), "--xlsx", str(path), "--draws-sheet"]) == 0
    ws = openpyxl.load_workbook(path)["Draws"]
    head = [c.value for c in ws[1]]
    assert "profit" in head
    assert ws.max_row == 1001
    note = next(v for v in head if isinstance(v, str) and "rows" in v)
    assert "1,000 of 4,000 rows" in note
    assert "at most 1,000" in note
    assert ws.cell(row=2, column=head.index("profit") + 1).number_format == '"$"#,##0'
