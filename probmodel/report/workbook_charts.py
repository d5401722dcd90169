"""Native Excel charts for the workbook, each on the sheet of the numbers it draws.

Excel draws these itself (openpyxl.chart), so an analyst can restyle them, and they
follow the cells: the distribution and exceedance of profit (a run: from draws.nc),
the tornado (from the tornado table), and fans (a one-parameter sweep: quantiles of
the output against the swept value; a projection: quantiles by year). Also the
optional per-draw sheet (``probmodel export --draws-sheet``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series

#: Rows of the per-draw sheet at most (the sheet says how many of the run's draws it
#: holds): a run's ~90 columns x 20,000 rows take ~10 s to write and ~6 MB; every
#: draw is in draws.nc.
DRAWS_SHEET_ROWS = 20_000
#: Bins of the distribution chart.
HIST_BINS = 60
#: The quantiles of the fans, in the run's statistic names.
FAN_STATS = ("q05", "q25", "q50", "q75", "q95")
_WIDTH, _HEIGHT = 18, 9  # chart size (cm)


def _anchor(ws, n_cols: int) -> str:
    """The cell two columns right of the data's last column, row 2: charts sit beside."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(n_cols + 2)}2"


def _size(chart, title: str, x: str, y: str) -> None:
    chart.title = title
    chart.x_axis.title = x
    chart.y_axis.title = y
    chart.width, chart.height = _WIDTH, _HEIGHT
    # openpyxl >= 3.1 hides axes unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def profit_charts(wb, run, sheet) -> None:
    """Distribution and exceedance of profit, each on its own sheet beside its data.

    ``sheet(wb, title, headers, rows, fmts)`` is the workbook's sheet writer (frozen,
    formatted header, table). Nothing is added when draws.nc holds no profit of one
    scenario (a comparison's draws have a scenario dim: its ECDFs are in the report).
    """
    ds = run.draws_dataset()
    if ds is None or "profit" not in ds or set(ds["profit"].dims) - {"chain", "draw"}:
        return
    x = np.asarray(ds["profit"].values, np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size < 2:
        return
    n, total = x.size, run.draws or x.size
    lo, hi = np.quantile(x, [0.005, 0.995])
    counts, edges = np.histogram(x, bins=HIST_BINS, range=(lo, hi))
    centre = (edges[:-1] + edges[1:]) / 2
    rows = [[float(c), float(a), float(b), int(k), k / n]
            for c, a, b, k in zip(centre, edges[:-1], edges[1:], counts, strict=True)]
    money, share = '"$"#,##0', "0.00%"
    ws = sheet(wb, "Profit distribution", ["bin centre (USD/day)", "from (USD/day)",
                                           "to (USD/day)", "draws", "share of draws"],
               rows, [[money, money, money, "#,##0", share]] * len(rows))
    chart = BarChart()
    chart.gapWidth = 0
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=len(rows) + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1))
    chart.x_axis.number_format = money
    chart.y_axis.number_format = "0%"
    chart.legend = None
    _size(chart, f"Distribution of profit: {n:,} draws (0.5% tails left out)",
          "profit (USD/day, bin centre)", "share of draws")
    ws.add_chart(chart, _anchor(ws, 5))
    if n < total:
        ws.cell(row=len(rows) + 3, column=1,
                value=f"From the {n:,} draws draws.nc keeps (evenly thinned from {total:,}).")

    levels = np.linspace(0.005, 0.995, 199)
    xs = np.quantile(x, levels)
    rows = [[float(v), float(1 - q)] for v, q in zip(xs, levels, strict=True)]
    ws = sheet(wb, "Profit exceedance", ["profit x (USD/day)", "P(profit > x)"], rows,
               [[money, "0.0%"]] * len(rows))
    chart = ScatterChart()
    chart.style = 13
    s = Series(Reference(ws, min_col=2, min_row=1, max_row=len(rows) + 1),
               Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1),
               title_from_data=True)
    s.marker.symbol = "none"
    s.smooth = False
    chart.series.append(s)
    chart.x_axis.number_format = money
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.legend = None
    _size(chart, "Probability that profit exceeds x", "profit x (USD/day)",
          "P(profit > x)")
    ws.add_chart(chart, _anchor(ws, 2))


def tornado_columns(df):
    """The tornado table with the output's change at each end (the bars' data) added."""
    lo = next((c for c in df.columns if str(c).endswith("_at_p05")), None)
    hi = next((c for c in df.columns if str(c).endswith("_at_p95")), None)
    pt = next((c for c in df.columns if str(c).endswith("_point")), None)
    if None in (lo, hi, pt):
        return df
    out = str(lo)[:-len("_at_p05")]
    return df.assign(**{f"{out}_change_at_p05": df[lo] - df[pt],
                        f"{out}_change_at_p95": df[hi] - df[pt]})


def tornado_chart(wb) -> None:
    """Horizontal bars of the output's change with each input at p05 and p95.

    Drawn from the tornado sheet's two change columns (:func:`tornado_columns`), beside
    them; the largest swing on top, as in the figure.
    """
    if "tornado" not in wb.sheetnames:
        return
    ws = wb["tornado"]
    head = [str(c.value) for c in ws[1]]
    cols = [i + 1 for i, h in enumerate(head) if "_change_at_p" in h]
    if len(cols) != 2:
        return
    out = head[cols[0] - 1].split("_change_at_p")[0]
    n = ws.max_row - 1
    chart = BarChart()
    chart.type = "bar"  # horizontal
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.add_data(Reference(ws, min_col=cols[0], max_col=cols[1], min_row=1, max_row=n + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    chart.x_axis.scaling.orientation = "maxMin"  # the largest swing on top
    chart.y_axis.number_format = ws.cell(row=2, column=cols[0]).number_format
    _size(chart, f"Tornado of {out}: each input at its 5% and 95% quantile, the others "
          "at point", "input", f"change of {out} from its point value")
    ws.add_chart(chart, _anchor(ws, len(head)))


def fan_chart(ws, x_title: str, y_title: str, n_rows: int, first_col: int = 2) -> None:
    """Lines of the five quantile columns (from ``first_col``) against column A."""
    chart = LineChart()
    chart.add_data(Reference(ws, min_col=first_col, max_col=first_col + len(FAN_STATS) - 1,
                             min_row=1, max_row=n_rows + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n_rows + 1))
    dashes = {0: "dash", 1: "sysDot", 2: None, 3: "sysDot", 4: "dash"}
    for i, s in enumerate(chart.series):
        s.smooth = False
        s.marker.symbol = "circle" if i == 2 else "none"
        if dashes[i]:
            s.graphicalProperties.line.dashStyle = dashes[i]
        s.graphicalProperties.line.width = 28575 if i == 2 else 15875  # EMU: 2.25, 1.25 pt
    chart.y_axis.number_format = ws.cell(row=2, column=first_col).number_format
    _size(chart, f"{y_title}: median with 50% and 90% intervals", x_title, y_title)
    ws.add_chart(chart, _anchor(ws, first_col + len(FAN_STATS) + 1))


def fan_rows(x: list[Any], stats: list[dict]) -> list[list[Any]]:
    """Rows of a fan's data: the x value, then q05..q95 (None when missing)."""
    return [[a, *(s.get(k) for k in FAN_STATS)] for a, s in zip(x, stats, strict=True)]


def draws_sheet(wb, run, sheet, cap: int | None = None) -> None:
    """The kept draws, one row per draw (and per scenario, cell or year), at most ``cap``.

    Row 1 carries the columns' names and, past them, a note saying how many rows the
    sheet holds of how many draws the run made (draws.nc may be thinned).
    """
    cap = DRAWS_SHEET_ROWS if cap is None else cap
    ds = run.draws_dataset()
    if ds is None:
        return
    df = ds.to_dataframe().reset_index()
    df = df[[c for c in df.columns if c != "chain" or df[c].nunique() > 1]]
    n = len(df)
    part = df.head(cap)
    from probmodel.report.workbook import _unit, formats

    fmts = []
    for c in part.columns:
        fmts.append(None if not pd.api.types.is_numeric_dtype(part[c]) else
                    "#,##0" if c in ("draw", "chain") else formats(_unit(run, None, c))[0])
    rows = part.astype(object).where(part.notna(), None).values.tolist()
    ws = sheet(wb, "Draws", [str(c) for c in part.columns], rows, [fmts] * len(rows))
    kept = int(ds.sizes.get("draw", 0)) * int(ds.sizes.get("chain", 1))
    note = (f"{len(part):,} of {n:,} rows (the sheet holds at most {cap:,}; all rows are "
            f"in draws.nc). draws.nc keeps {kept:,} of the run's {run.draws or kept:,} "
            "draws; the draw column is the draw's index in the run.")
    ws.cell(row=1, column=len(part.columns) + 2, value=note)
