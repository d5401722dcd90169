"""probmodel export: the workbook read back with openpyxl against the run's summary.json."""

import json

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
