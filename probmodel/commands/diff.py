"""``probmodel diff``: two scenarios' parameters side by side, differences first."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from probmodel.cli import JsonOpt, ScenarioArg, SetOpt, app, load, out


@app.command()
def diff(a: ScenarioArg, b: ScenarioArg, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Two scenarios' parameters side by side, differences first.

    Law, median, 90% interval, point, unit, source, and the file that states each.
    """
    from probmodel import fmt
    from probmodel.analysis.diff import diff as compare

    sa, sb = load(a, set_), load(b, set_)
    d = compare(sa, sb)
    if json_:
        out.print_json(json.dumps(d))
        return
    n = len(d["differing"])
    out.print(f"A = {sa.name} ({' <- '.join(d['a']['files'])})")
    out.print(f"B = {sb.name} ({' <- '.join(d['b']['files'])})")
    t = Table(title=f"{n} of {len(d['parameters'])} parameters differ (first)",
              title_justify="left")
    for col in ("parameter", "", "law", "median", "90% interval", "point", "unit",
                "where"):
        t.add_column(col, justify="right" if col in ("median", "90% interval", "point")
                     else "left", no_wrap=True, min_width=1)
    sources = []
    for r in d["parameters"]:
        name = r["name"]
        for side in ("a", "b"):
            s = r[side]
            mark = ("≠ " if r["differs"] else "") + name if side == "a" else ""
            if s is None:
                t.add_row(mark, side.upper(), "(not in this scenario)", "", "", "", "", "",
                          end_section=side == "b")
                continue
            show = lambda v: fmt.show(name, v, 4)  # noqa: B023, E731
            lo, hi = s["interval_90"]
            where = ("stated" if s["stated"] == "stated" else
                     f"{s['stated']}: {Path(s['file']).name}" if s["file"] != "--set"
                     else "--set")
            t.add_row(mark, side.upper(), s["law"], show(s["median"]),
                      "" if s["law"] == "fixed" else f"[{show(lo)}, {show(hi)}]",
                      show(s["point"]), fmt.scale_for(name)[1], where,
                      end_section=side == "b")
            if r["differs"]:
                text = s["source"]
                sources.append(f"  {name} {side.upper()}: "
                               f"{text[:110] + '…' if len(text) > 110 else text}")
    out.print(t)
    if sources:
        out.print("sources of the parameters that differ (in full with --json):")
        for line in sources:
            out.print(line, markup=False)
    out.print(f"prices: {d['prices']}; rank correlations: {d['correlations']}")
