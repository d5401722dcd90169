"""The sweep section: P(profit > 0) and the output over the grid, crossings, break-even values.

Every table is headed by the quantity it holds (P(profit > 0) ± MCSE, the output's
median ± MCSE, the break-even value) and the grid's values in display units; the
headline quotes the same numbers with the same digits as the tables below it.
"""

from __future__ import annotations

from probmodel.report import common as cm
from probmodel.report import numbers as nb
from probmodel.report.assumptions import merged_parameters
from probmodel.report.folder import RunFolder, finite
from probmodel.report.html import esc, table


def _units(r: RunFolder) -> dict[str, str]:
    return {n: str(t.get("unit", "")) for n, (_, t) in merged_parameters(r).items()}


def value_text(name: str, units: dict, v: float | None, se: float | None = None) -> str:
    """``38.45 ± 0.20%`` or ``2.00 USD/(GPU h)``: a value of ``name`` with its unit."""
    shown = nb.scale(name, units.get(name))[1]
    text = nb.with_mcse(name, units.get(name), v, se) if se is not None else nb.show(
        name, units.get(name), v, 4)
    return f"{text}{'%' if shown == '%' else ' ' + shown}"


def _at(at: dict, units: dict) -> str:
    return ", ".join(f"{k} = {value_text(k, units, v)}" for k, v in (at or {}).items())


def crossing_sentences(crossings: list, units: dict) -> list[str]:
    """``P(margin > 20%) = 90% at pay_rate = 59.69 ± 0.28% (rising)`` per crossing."""
    out = []
    for c in crossings:
        x = c.get("parameter", "")
        at = _at(c.get("at"), units)
        out.append(f"P({c.get('event')}) = {100 * float(c.get('level', 0.5)):g}% at {x} = "
                   f"{value_text(x, units, finite(c.get('value')), finite(c.get('mcse')))}"
                   f" ({c.get('direction', '')}){' where ' + at if at else ''}")
    return out


def _crossing_row(c: dict, units: dict) -> list[str]:
    x = c.get("parameter", "")
    lo, hi = (c.get("interval") or [None, None])[:2]
    b0, b1 = (c.get("between") or [None, None])[:2]

    def v(y):
        return value_text(x, units, finite(y))

    return [f"P({c.get('event')})", f"{100 * float(c.get('level', 0.5)):g}%", x,
            _at(c.get("at"), units),
            value_text(x, units, finite(c.get("value")), finite(c.get("mcse"))),
            f"[{v(lo)}, {v(hi)}]", f"{v(b0)} to {v(b1)}"]


def _break_even(s: dict, units: dict) -> tuple[list[str], str]:
    """(headline lines, table HTML) of the break-even values per draw, per grid cell."""
    be = s.get("break_even_pay_rate")
    if not isinstance(be, dict) or not be.get("cells"):
        return [], ""
    name = "pay_rate"
    lines, rows = [], []
    for c in be["cells"]:
        at = _at(c.get("at"), units)
        med = value_text(name, units, finite(c.get("q50")), finite(c.get("mcse_q50")))
        lo, hi = (value_text(name, units, finite(c.get(q))) for q in ("q05", "q95"))
        lines.append(f"break-even {name}: median {med} (90% interval {lo} to {hi})"
                     + (f" where {at}" if at else ""))
        rows.append([at or "every cell", med, f"[{lo}, {hi}]",
                     value_text(name, units, finite(c.get("mean")), finite(c.get("mcse_mean")))])
    t = (f"<h3>Break-even {esc(name)} (the {esc(name)} at which profit is 0)</h3>"
         f"<p class=\"note\">Per draw: {esc(be.get('definition', ''))}; its median, 90% "
         "interval and mean over the draws, ± MCSE. It does not depend on the swept "
         f"{esc(name)} itself.</p>"
         + table(["where", "median ± MCSE", "90% interval [5%, 95%]", "mean ± MCSE"], rows,
                 [False, True, True, True]))
    return lines, t


def section(r: RunFolder) -> str:
    """A sweep: P(profit > 0) and the output's median over the grid, as matrices."""
    s = r.summary
    grid = s.get("grid") or r.manifest.get("grid") or {}
    names = list(grid)
    out_name = s.get("output", "margin")
    cells = s.get("cells") or []
    parts = []
    units = _units(r)
    if len(names) not in (1, 2) or not cells:
        parts.append(cm.answer(f"Sweep of {r.title}", f"{len(cells)} cells"))
        return "".join([*parts, "<h3>Figures</h3>", cm.figures(r), "<h3>Summary per cell</h3>",
                        cm.summary_tables(r.tables.get("summary"))])
    rows_n = names[0]
    cols_n = names[1] if len(names) == 2 else None
    rv = list(grid[rows_n])
    cv = list(grid[cols_n]) if cols_n else [None]
    by = {(c.get(rows_n), c.get(cols_n) if cols_n else None): c for c in cells}
    unit = cm.unit_of(r.tables["summary"], out_name) if "summary" in r.tables else None

    def label(name, v):
        return value_text(name, units, v)

    def matrix(quantity, cell_text):
        # one row per value of the first swept input; across, the second's values (or
        # the quantity itself for a one-input sweep)
        rows = [[label(rows_n, a)] + [cell_text(by.get((a, b))) for b in cv] for a in rv]
        head = [f"{rows_n} ↓, {cols_n} →" if cols_n else rows_n,
                *(label(cols_n, b) if cols_n else quantity for b in cv)]
        return table(head, rows, [True] * len(head))

    def pcell(c):
        return nb.percent(finite(c.get("p_profitable")), finite(c.get("p_profitable_mcse"))
                          ) if c else ""

    def mcell(c):
        st = (c or {}).get(out_name) or {}
        return nb.with_mcse(out_name, unit, finite(st.get("q50")), finite(st.get("mcse_q50")))

    ps = [(finite(c.get("p_profitable")), finite(c.get("p_profitable_mcse"))) for c in cells]
    ps = [x for x in ps if x[0] is not None]
    headline = (f"P(profit &gt; 0) ranges from {esc(nb.percent(*min(ps)))} to "
                f"{esc(nb.percent(*max(ps)))} over the {len(cells)} cells" if ps
                else f"{len(cells)} cells")
    cross = crossing_sentences(s.get("crossings") or [], units)
    be_lines, be_table = _break_even(s, units)
    lines = [*cross[:6], *be_lines[:4]]
    if lines:
        more = len(cross) - 6 + max(len(be_lines) - 4, 0)
        headline += "<br>" + "<br>".join(esc(c) for c in lines) + (
            f"<br>and {more} more (below)" if more > 0 else "")
    parts.append(cm.answer(
        f"How does the answer change as {' and '.join(names)} move ({r.title})?",
        headline, f"{r.draws:,} draws per cell on common random numbers (the same draws "
        "in every cell), seed " f"{r.manifest.get('seed')}." if r.draws else "",
        "A crossing is interpolated linearly between neighbouring grid values; ± is "
        "its Monte Carlo standard error (not the interpolation's error: a finer grid "
        "or probmodel solve removes that)." if cross else ""))
    if ps:
        parts.append("<h3>P(profit &gt; 0) ± MCSE in each cell</h3>"
                     + matrix("P(profit > 0) ± MCSE", pcell))
    labels = [e.get("event") for e in (cells[0].get("events") or [])]
    for j, lab in enumerate(labels):
        def ecell(c, j=j):
            e = ((c or {}).get("events") or [{}] * (j + 1))[j]
            return nb.percent(finite(e.get("p")), finite(e.get("mcse"))) if c else ""

        parts.append(f"<h3>P({esc(lab)}) ± MCSE in each cell</h3>"
                     + matrix(f"P({lab}) ± MCSE", ecell))
    if cross:
        parts.append("<h3>Crossings</h3>" + table(
            ["probability", "level", "swept", "at", "crossing ± MCSE",
             "± 2 MCSE interval", "between grid values"],
            [_crossing_row(c, units) for c in s.get("crossings") or []],
            [False, True, False, False, True, True, True]))
    parts.append(be_table)
    shown = nb.scale(out_name, unit)[1]
    parts.append(f"<h3>Median {esc(out_name)} ({esc(shown)}) ± MCSE in each cell</h3>"
                 + matrix(f"median {out_name} ({shown}) ± MCSE", mcell))
    grid_text = "; ".join(f"{n} = {', '.join(label(n, v) for v in grid[n])}" for n in names)
    caps = {n: f"P(profit > 0) (colour) and the median {out_name} (text) in each cell of "
               f"the grid ({grid_text})." for n in r.figures if n.startswith("heatmap")}
    caps.update({n: f"{out_name} against {rows_n}: median with 50% and 90% bands in each "
                    "cell; the dashed line marks a crossing." for n in r.figures
                 if n.startswith(("fan", "band", "line"))})
    parts += ["<h3>Figures</h3>", cm.figures(r, caps), "<h3>Summary per cell</h3>",
              cm.summary_tables(r.tables.get("summary"))]
    return "".join(parts)
