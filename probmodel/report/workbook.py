"""An Excel workbook of a run folder, for analysts who paste numbers rather than read netCDF.

Sheets: Summary (outputs x statistics, the MCSE beside each value), Inputs (every
assumption with its law, quantiles and source), the run kind's own views (sweep grids
as matrices laid out like the heatmap, comparison pairs, projection years as columns,
sensitivity and calibration tables), and Provenance. Values are stored as numbers in
the run's own units with real number formats (a share as a percentage, money in USD,
chips as counts), so formulas work on them; header rows are frozen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from probmodel.report import assumptions as asm
from probmodel.report import workbook_charts as charts
from probmodel.report.common import tidy
from probmodel.report.folder import RunFolder, finite, read_run

_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDE6EF")
_TIDY = ("variable", "statistic", "value", "mcse", "units")

#: Excel number formats per recorded unit: (value, MCSE).
FORMATS: dict[str, tuple[str, str]] = {
    "1": ("0.0%", "0.00%"),
    "USD/day": ('"$"#,##0', '"$"#,##0.0'),
    "USD": ('"$"#,##0', '"$"#,##0.0'),
    "USD/(GPU h)": ('"$"#,##0.00', '"$"#,##0.000'),
    "chip": ("#,##0", "#,##0.0"),
    "GPU": ("#,##0", "#,##0.0"),
    "user": ("#,##0", "#,##0"),
    "token/day": ("#,##0", "#,##0"),
}
GENERAL = ("#,##0.####", "0.00E+00")


def formats(unit: Any) -> tuple[str, str]:
    """(value format, MCSE format) for a unit; a general number format otherwise."""
    return FORMATS.get(str(unit), GENERAL) if isinstance(unit, str) else GENERAL


def _num(x: Any) -> Any:
    """Numbers as float (None when missing or not finite); text and booleans as they are."""
    if isinstance(x, str | bool):
        return x
    if hasattr(x, "item") and isinstance(x.item(), bool):  # numpy.bool_
        return bool(x.item())
    return finite(x)


def _unit(run: RunFolder, df: pd.DataFrame | None, name: str) -> str | None:
    """The unit of ``name``: the run's CSV, else the scenario file, else the model's table."""
    if df is not None and "units" in df.columns:
        u = df.loc[df["variable"] == name, "units"]
        if len(u) and isinstance(u.iloc[0], str):
            return u.iloc[0]
    params = asm.merged_parameters(run)
    if name in params and isinstance(params[name][1].get("unit"), str):
        return params[name][1]["unit"]
    from probmodel.model import unit_of

    return unit_of(name)


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list[Any]],
           fmts: list[list[str | None]] | None = None, freeze_cols: int = 1):
    """A sheet with a bold, filled, frozen header row and per-cell number formats."""
    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for c in ws[1]:
        c.font, c.fill = _HEAD, _FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for i, r in enumerate(rows):
        ws.append([_num(v) for v in r])
        if fmts:
            for j, f in enumerate(fmts[i]):
                if f:
                    ws.cell(row=i + 2, column=j + 1).number_format = f
    ws.freeze_panes = ws.cell(row=2, column=freeze_cols + 1)
    _filter(ws, headers, len(rows))
    for j, h in enumerate(headers, 1):
        width = max([len(str(h))] + [len(str(r[j - 1])) for r in rows[:200] if j <= len(r)
                                     and isinstance(r[j - 1], str)])
        ws.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
    return ws


def _filter(ws, headers: list[Any], n_rows: int) -> None:
    """An Excel table (sortable, filterable) over the sheet's data.

    An autofilter instead where the header cannot head a table (numbers or blanks in
    it: a grid's column values).
    """
    if not headers or n_rows == 0:
        return
    ref = f"A1:{get_column_letter(len(headers))}{n_rows + 1}"
    names = [h for h in headers if isinstance(h, str) and h]
    if len(names) < len(headers) or len({h.lower() for h in names}) < len(names):
        ws.auto_filter.ref = ref
        return
    name = "T_" + re.sub(r"\W", "_", ws.title)
    ws.add_table(Table(displayName=name, ref=ref, tableStyleInfo=TableStyleInfo(
        name="TableStyleLight9", showRowStripes=True)))


#: Columns of a summary.csv that hold numbers per statistic beside value and mcse (a
#: stress case's difference to the base): one column each per statistic, not a row key.
_PER_STAT = ("diff", "diff_mcse")


def _summary(wb: Workbook, run: RunFolder) -> None:
    """Outputs x statistics; each statistic's MCSE in the column beside it.

    One row per (extra dims, quantity): a stress case's row holds every statistic with
    its MCSE and its difference to the base (with that difference's MCSE).
    """
    df = tidy(run.tables.get("summary"))
    if df is None:
        return
    extra = [c for c in _PER_STAT if c in df.columns]
    dims = [c for c in df.columns if c not in _TIDY and c not in extra]
    stats = list(dict.fromkeys(df["statistic"]))
    headers = [*dims, "quantity", "unit"]
    for s in stats:
        headers += [s, f"{s} MCSE"]
        headers += [f"{s} {e.replace('_mcse', ' MCSE')}" for e in extra]
    dim_f = [formats(_unit(run, None, d))[0] if pd.api.types.is_numeric_dtype(df[d])
             else None for d in dims]
    filled = _from_draws(run, df, dims)
    rows, fmts = [], []
    for key, g in df.groupby([*dims, "variable"], sort=False):
        key = key if isinstance(key, tuple) else (key,)
        unit = _unit(run, g, str(key[-1]))
        by = {r["statistic"]: (r["value"], r.get("mcse"), *(r[e] for e in extra))
              for _, r in g.iterrows()}
        for st, v in filled.get(key, {}).items():
            by.setdefault(st, (*v, *[None] * len(extra)))
        row: list[Any] = [*key, unit if isinstance(unit, str) else ""]
        f: list[str | None] = [*dim_f, None, None]
        for s in stats:
            row += list(by.get(s, (None,) * (2 + len(extra))))
            # a probability (p_gt_0 of profit) is a share whatever the variable's unit
            fv, fe = ("0.0%", "0.00%") if s.startswith("p_") else formats(unit)
            f += [fv, fe, *(fe if e.endswith("mcse") else fv for e in extra)]
        rows.append(row)
        fmts.append(f)
    _sheet(wb, "Summary", headers, rows, fmts, freeze_cols=len(dims) + 1)


def _from_draws(run: RunFolder, df: pd.DataFrame, dims: list[str]) -> dict:
    """Statistics missing from summary.csv that draws.nc gives, per row key.

    A comparison or sweep records only P(profit > 0) of profit; when draws.nc holds
    every draw, the profit row gets its statistics from them, with the result
    contract's own kernel and MCSEs (batch means, never below iid).
    """
    recorded = set(df.loc[~df["statistic"].str.startswith("p_"), "variable"])
    missing = [v for v in ("profit",) if v in set(df["variable"]) and v not in recorded]
    ds = run.draws_dataset() if missing else None
    if ds is None or run.draws is None:
        return {}
    from probmodel.results import summarize_arrays

    out: dict = {}
    for v in missing:
        if v not in ds or ds[v].sizes.get("draw", 0) * ds[v].sizes.get("chain", 1) != run.draws:
            continue  # thinned draws would give other numbers than the run's
        da = ds[v].stack(sample=[d for d in ("chain", "draw") if d in ds[v].dims])
        other = [d for d in da.dims if d != "sample"]
        if any(d not in dims for d in other):
            continue
        da = da.transpose(*other, "sample")
        summ = summarize_arrays({v: np.asarray(da.values, np.float64)}, other,
                                {d: da[d].values for d in other}, blocks=True)
        for idx in np.ndindex(*da.shape[:-1]):
            sel = {d: summ[d].values[i] for d, i in zip(other, idx, strict=True)}
            key = (*(_as_key(sel[d]) if d in sel else None for d in dims), v)
            one = summ.isel({d: i for d, i in zip(other, idx, strict=True)})
            out[key] = {str(st): (float(one[v].sel(stat=st)), float(one[f"{v}_mcse"].sel(
                stat=st))) for st in one["stat"].values}
    return out


def _as_key(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def _inputs_per_scenario(wb: Workbook, cols: asm.Columns) -> None:
    """A comparison's inputs: per scenario its law, median, 5%, 95% and point, side by side.

    The rows and the ≠ mark are :func:`probmodel.analysis.diff.side_by_side`'s (the same
    code as ``probmodel diff``); each scenario read back from its own copied file.
    """
    head = ["parameter", "differs"]
    for n in cols.scenarios:
        head += [f"{n}: law", f"{n}: median", f"{n}: 5%", f"{n}: 95%", f"{n}: point"]
    head += ["unit", "sources"]
    rows, fmts = [], []
    for r in cols.rows:
        first = next(x for x in r["sides"] if x is not None)
        f = formats(first["unit"])[0]
        row: list[Any] = [r["name"], "≠" if r["differs"] else ""]
        fm: list[str | None] = [None, None]
        for side in r["sides"]:
            if side is None:
                row += ["(not in this scenario)", None, None, None, None]
            else:
                where = ("" if side["stated"] == "stated" else
                         f" ({side['stated']}: {side['file'].rsplit('/', 1)[-1]})")
                row += [side["law"] + where, side["median"], *side["interval_90"],
                        side["point"]]
            fm += [None, f, f, f, f]
        srcs = dict.fromkeys(x["source"] for x in r["sides"] if x is not None)
        row += [first["unit"], " | ".join(srcs)]
        rows.append(row)
        fmts.append([*fm, None, None])
    _sheet(wb, "Inputs", head, rows, fmts)


def _inputs(wb: Workbook, run: RunFolder) -> None:
    cols, _ = asm.per_scenario(run)
    if cols is not None:
        _inputs_per_scenario(wb, cols)
        return
    rows_, note = asm.assumptions(run)
    rows, fmts = [], []
    for a in rows_:
        f = formats(a.unit)[0]
        rows.append([a.name, a.distribution, a.q05, a.q50, a.q95, a.point, a.unit, a.source,
                     a.file])
        fmts.append([None, None, f, f, f, f, None, None, None])
    ws = _sheet(wb, "Inputs", ["parameter", "distribution (as written)", "5%", "median", "95%",
                               "point", "unit", "source", "file"], rows, fmts)
    if note:
        ws.cell(row=len(rows) + 3, column=1, value=note)
    for cor in asm.correlations(run):
        ws.append([])
        ws.append(["rank correlation", f"{cor[0]} ~ {cor[1]}", cor[2], None, None, None, "1",
                   cor[3]])


def _sweep(wb: Workbook, run: RunFolder) -> None:
    s = run.summary
    grid = s.get("grid") or run.manifest.get("grid") or {}
    names = list(grid)
    if len(names) not in (1, 2) or not s.get("cells"):
        return
    rn, cn = names[0], (names[1] if len(names) == 2 else None)
    rv, cv = list(grid[rn]), (list(grid[cn]) if cn else [None])
    by = {(c.get(rn), c.get(cn) if cn else None): c for c in s["cells"]}
    out = s.get("output", "margin")
    unit = _unit(run, tidy(run.tables.get("summary")), out)
    rf, cf = formats(_unit(run, None, rn))[0], formats(_unit(run, None, cn))[0] if cn else None
    views = [("P(profit>0)", lambda c: c.get("p_profitable"),
              lambda c: c.get("p_profitable_mcse"), ("0.0%", "0.00%")),
             (f"median {out}", lambda c: (c.get(out) or {}).get("q50"),
              lambda c: (c.get(out) or {}).get("mcse_q50"), formats(unit))]
    first = next(iter(by.values()), {})
    for j, e in enumerate(first.get("events") or []):
        def get(c, key, j=j):
            ev = c.get("events") or []
            return ev[j].get(key) if j < len(ev) else None

        views.append((f"P({e.get('event')})", lambda c, g=get: g(c, "p"),
                      lambda c, g=get: g(c, "mcse"), ("0.0%", "0.00%")))
    for title, val, mc, (fv, fe) in views:
        head = [f"{rn} (down) \\ {cn} (across)" if cn else rn,
                *(v if cn else title for v in cv), "", "MCSE",
                *(v if cn else "MCSE" for v in cv)]
        rows, fmts = [], []
        for a in rv:
            cells = [by.get((a, b), {}) for b in cv]
            rows.append([a, *(val(c) for c in cells), None, None, *(mc(c) for c in cells)])
            fmts.append([rf, *[fv] * len(cv), None, None, *[fe] * len(cv)])
        ws = _sheet(wb, f"Grid {title}", head, rows, fmts)
        for c in ws[1]:  # the column values of the grid, in their own format
            if isinstance(c.value, int | float) and cf:
                c.number_format = cf
    if cn is None:  # one swept parameter: the fan of the output against it
        stats = [by.get((a, None), {}).get(out) or {} for a in rv]
        rows = charts.fan_rows(rv, stats)
        fv = formats(unit)[0]
        ws = _sheet(wb, f"Fan {out}", [rn, *(f"{out} {k}" for k in charts.FAN_STATS)], rows,
                    [[rf, *[fv] * len(charts.FAN_STATS)]] * len(rows))
        charts.fan_chart(ws, _label(run, rn), _label(run, out, unit), len(rows))


def _label(run: RunFolder, name: str, unit: str | None = None) -> str:
    """``name (unit)`` for a chart axis, in the unit the cells hold."""
    unit = unit or _unit(run, None, name)
    return f"{name} ({'share' if unit == '1' else unit})" if unit else name


def _compare(wb: Workbook, run: RunFolder) -> None:
    s = run.summary
    out = s.get("output", "margin")
    rows, fmts = [], []
    scen = s.get("scenarios") or {}
    labels = [e.get("event") for e in (next(iter(scen.values()), {}).get("events") or [])]
    for name, st in scen.items():
        o = st.get(out) or {}
        ev = [x for e in st.get("events") or [] for x in (e.get("p"), e.get("mcse"))]
        rows.append([name, st.get("p_profitable"), st.get("p_profitable_mcse"),
                     o.get("q05"), o.get("q50"), o.get("mcse_q50"), o.get("q95"), *ev])
        fo = formats(_unit(run, tidy(run.tables.get("summary")), out))
        fmts.append([None, "0.0%", "0.00%", fo[0], fo[0], fo[1], fo[0],
                     *["0.0%", "0.00%"] * len(labels)])
    if rows:
        _sheet(wb, "Scenarios", ["scenario", "P(profit > 0)", "MCSE", f"{out} 5%",
                                 f"{out} median", "median MCSE", f"{out} 95%",
                                 *(x for lab in labels for x in (f"P({lab})", "MCSE"))],
               rows, fmts)
    if (pairs := run.tables.get("pairs")) is not None:
        fm = []
        for c in pairs.columns:
            if c.startswith("p_"):  # P(A > B) and paired differences of probabilities
                fm.append("0.00%" if c.endswith("mcse") else "0.0%")
            elif c.startswith("difference"):
                fo = formats(_unit(run, tidy(run.tables.get("summary")), out))
                fm.append(fo[1] if c.endswith("mcse") else fo[0])
            else:
                fm.append(None)
        _sheet(wb, "Pairs", list(pairs.columns), pairs.values.tolist(),
               [fm] * len(pairs), freeze_cols=2)


def _project(wb: Workbook, run: RunFolder) -> None:
    df = tidy(run.tables.get("summary"))
    if df is None or "year" not in df.columns:
        return
    years = sorted(df["year"].unique())
    rows, fmts = [], []
    s = run.summary
    pp, pse = s.get("p_profitable") or {}, s.get("p_profitable_mcse") or {}
    if pp:
        rows.append(["P(profit > 0)", "", "1", *(pp.get(str(y)) for y in years)])
        fmts.append([None, None, None, *["0.0%"] * len(years)])
        rows.append(["P(profit > 0)", "MCSE", "1", *(pse.get(str(y)) for y in years)])
        fmts.append([None, None, None, *["0.00%"] * len(years)])
    for (var, st), g in df.groupby(["variable", "statistic"], sort=False):
        unit = g["units"].iloc[0] if "units" in g else None
        fv, fe = formats(unit)
        by = g.set_index("year")
        rows.append([var, st, unit, *(by["value"].get(y) for y in years)])
        fmts.append([None, None, None, *[fv] * len(years)])
        if by["mcse"].notna().any():
            rows.append([var, f"{st} MCSE", unit, *(by["mcse"].get(y) for y in years)])
            fmts.append([None, None, None, *[fe] * len(years)])
    _sheet(wb, "By year", ["quantity", "statistic", "unit", *(int(y) for y in years)], rows,
           fmts, freeze_cols=3)
    for var in [v for v in ("margin", "profit", "revenue") if v in set(df["variable"])][:2]:
        g = df[df["variable"] == var]
        unit = g["units"].iloc[0] if "units" in g else None
        stats = [{st: finite(r["value"]) for _, r in g[g["year"] == y].iterrows()
                  for st in [r["statistic"]]} for y in years]
        rows = charts.fan_rows([int(y) for y in years], stats)
        fv = formats(unit)[0]
        ws = _sheet(wb, f"Fan {var}", ["year", *(f"{var} {k}" for k in charts.FAN_STATS)],
                    rows, [["0", *[fv] * len(charts.FAN_STATS)]] * len(rows))
        charts.fan_chart(ws, "year", _label(run, var, unit), len(rows))


_ORDER = ("diagnostics", "prior_posterior", "posterior_predictive", "tornado", "sobol",
          "drivers")


def _tables(wb: Workbook, run: RunFolder, skip: tuple[str, ...]) -> None:
    names = sorted(run.tables, key=lambda n: (_ORDER.index(n) if n in _ORDER else 99, n))
    for name in names:
        df = run.tables[name]
        if name in skip:
            continue
        if name == "tornado":
            df = charts.tornado_columns(df)
        _sheet(wb, name, [str(c) for c in df.columns], df.astype(object).where(
            df.notna(), None).values.tolist(), _table_formats(run, df))


#: Columns in the unit of the row's own quantity (the ``units`` column of the table).
_ROW_UNIT = re.compile(r"^(input_p\d+|median_(all|event|shift|event_mcse)|value|lower|upper"
                       r"|mcse|mean|sd|q\d\d|prior_q\d\d|posterior_q\d\d|pp_q\d\d)$")
#: Shares and probabilities, whatever the row's unit.
_SHARE = re.compile(r"(^p_|_prob$|^shrinkage$|^shift_of_|share|fraction)")
#: Dimensionless indices (Sobol, delta, KS, correlations, r-hat, tail probabilities).
_INDEX = re.compile(r"^(S1|ST|delta|s1|st)(_lower|_upper|_conf)?$|ks_|corr|r_hat|^level$")


def _table_formats(run: RunFolder, df: pd.DataFrame) -> list[list[str | None]]:
    """A number format for every numeric cell of a table the run wrote.

    Values in the unit of their row (a tornado's input quantiles, a calibration's prior
    and posterior quantiles) take that unit's format; the output's values (``margin_at_p05``,
    ``swing``) the output's; shares are percentages, indices three decimals, counts
    integers, and anything else a general number with thousands separators.
    """
    units = next((c for c in ("units", "unit") if c in df.columns), None)
    output = run.summary.get("output") or run.manifest.get("output")
    if output is None:  # a tornado's output is in its column names: margin_at_p05
        output = next((str(c)[:-len("_at_p05")] for c in df.columns
                       if str(c).endswith("_at_p05")), None)
    out_f = formats(_unit(run, None, output))[0] if output else GENERAL[0]
    params = {r: _unit(run, None, str(r)) for r in df.get("parameter", pd.Series()).unique()
              } if "parameter" in df.columns else {}
    cols = []
    for c in df.columns:
        c = str(c)
        col = df[c]
        if col.dtype == bool or not pd.api.types.is_numeric_dtype(col):
            cols.append(lambda _r: None)
        elif _SHARE.search(c):
            cols.append(lambda _r: "0.0%")
        elif _INDEX.search(c):
            cols.append(lambda _r: "0.000")
        elif pd.api.types.is_integer_dtype(col) or c in ("rank", "divergences"):
            cols.append(lambda _r: "#,##0")
        elif c.startswith("ess"):
            cols.append(lambda _r: "#,##0")
        elif units and _ROW_UNIT.match(c):
            cols.append(lambda r: formats(r.get(units))[0])
        elif params and _ROW_UNIT.match(c):
            cols.append(lambda r: formats(params.get(r.get("parameter")))[0])
        elif output and (c.startswith(f"{output}_") or c == "swing"):  # the output's
            cols.append(lambda _r, f=out_f: f)
        elif c in ("between_lo", "between_hi") and "parameter" in df.columns:
            cols.append(lambda r: formats(_unit(run, None, str(r.get("parameter"))))[0])
        else:
            big = float(np.nanmax(np.abs(col.to_numpy(np.float64)), initial=0.0)) >= 100
            cols.append(lambda _r, f="#,##0" if big else "#,##0.000": f)
    return [[f(r) for f in cols] for r in df.to_dict("records")]


def _provenance(wb: Workbook, run: RunFolder) -> None:
    m = run.manifest
    rows: list[list[Any]] = [["kind", run.kind], ["title", run.title],
                             ["command", m.get("command", "")],
                             ["created (UTC)", m.get("created_utc", "")],
                             ["seed", m.get("seed")], ["draws", run.draws],
                             ["method", m.get("method", "")],
                             ["source commit", m.get("git_commit") or ""],
                             ["run folder", run.path.name]]
    rows += [[f"version {k}", v] for k, v in (m.get("versions") or {}).items()]
    rows += [[f"SHA-256 {n}", rec, "matches" if act == rec else "differs or missing"]
             for n, rec, act in run.file_hashes()]
    _sheet(wb, "Provenance", ["field", "value", "check"], rows,
           [[None, "#,##0" if isinstance(r[1], int) and not isinstance(r[1], bool) else None,
             None] for r in rows])


def export_xlsx(run_dir: str | Path, path: str | Path, draws_sheet: bool = False) -> Path:
    """Write the workbook of a run folder (any kind) to ``path`` (which must not exist).

    ``draws_sheet``: add a sheet of the kept draws, one row per draw, at most
    :data:`probmodel.report.workbook_charts.DRAWS_SHEET_ROWS` rows (the sheet says so).

    Raises
    ------
    RunError
        When the folder is not a run folder or ``path`` exists.
    """
    from probmodel.runs import check_out_file, write_file_atomic

    target = check_out_file(path, "--xlsx", suffix=".xlsx")
    run = read_run(run_dir)
    wb = Workbook()
    wb.remove(wb.active)
    _summary(wb, run)
    {"sweep": _sweep, "compare": _compare, "project": _project}.get(
        run.kind, lambda *_: None)(wb, run)
    skip = ("summary", "pairs") if run.kind != "sensitivity" else ()
    _tables(wb, run, skip if tidy(run.tables.get("summary")) is not None else ("pairs",))
    charts.tornado_chart(wb)
    charts.profit_charts(wb, run, _sheet)
    if draws_sheet:
        charts.draws_sheet(wb, run, _sheet)
    _inputs(wb, run)
    _provenance(wb, run)
    return write_file_atomic(target, "--xlsx", wb.save)
