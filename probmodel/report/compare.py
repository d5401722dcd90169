"""The comparison section: which scenario is more likely profitable, against which reference.

A scenario whose profit has one sign on every draw (DeepSeek's own view: its inputs that
decide the sign are fixed) is a reference view, not a forecast: the headline names it as
such and never calls it "most likely profitable". The reference scenario of the paired
differences (the figures' and the pairs table's) is the first one named.
"""

from __future__ import annotations

from probmodel.report import assumptions as asm
from probmodel.report import common as cm
from probmodel.report import numbers as nb
from probmodel.report.folder import RunFolder, finite
from probmodel.report.html import esc, table


def _uncertain(run: RunFolder) -> dict[str, list[str]]:
    """Scenario -> the names of its uncertain inputs (from the copied files)."""
    cols, _ = asm.per_scenario(run)
    if cols is None:
        return {}
    out: dict[str, list[str]] = {n: [] for n in cols.scenarios}
    for row in cols.rows:
        for n, side in zip(cols.scenarios, row["sides"], strict=True):
            if side is not None and not str(side["law"]).startswith("fixed"):
                out[n].append(row["name"])
    return out


def headline(r: RunFolder) -> tuple[str, str]:
    """(headline HTML, a paragraph on the reference scenario and the fixed views)."""
    scen = r.summary.get("scenarios") or {}
    names = list(scen)
    if not names:
        return "no scenario", ""
    ps = {n: (finite(st.get("p_profitable")), finite(st.get("p_profitable_mcse")))
          for n, st in scen.items()}
    # one sign on every draw: a view with the deciding inputs fixed, not a probability
    fixed = [n for n, (p, se) in ps.items() if p is not None and se == 0 and p in (0.0, 1.0)]
    open_ = [n for n in names if n not in fixed and ps[n][0] is not None]
    if len(open_) >= 2:
        best = max(open_, key=lambda n: ps[n][0])
        head = (f"Most likely profitable of the {len(open_)} uncertain scenarios: "
                f"{esc(best)}, {cm.p_profit_html(*ps[best])}")
    elif open_:
        head = f"{esc(open_[0])}: {cm.p_profit_html(*ps[open_[0]])}"
    else:
        head = "Every scenario has one sign of profit on every draw (no uncertain outcome)"
    unc = _uncertain(r)
    notes = [f"Reference scenario: <b>{esc(names[0])}</b> (the first named): the paired "
             "differences in the figures and the differences below are taken against it."]
    for n in fixed:
        which = "profitable" if ps[n][0] == 1.0 else "loss-making"
        inputs = unc.get(n)
        why = ("all its inputs are fixed" if inputs == [] else
               f"only {', '.join(inputs)} {'is' if len(inputs) == 1 else 'are'} uncertain"
               if inputs else "the inputs that decide it are fixed")
        notes.append(f"<b>{esc(n)}</b> is {which} on every draw: a fixed reference view "
                     f"({esc(why)}), not a forecast, so it is not ranked.")
    return head, " ".join(notes)


def section(r: RunFolder) -> str:
    """A comparison: each scenario's P(profit > 0) and interval, paired differences."""
    s = r.summary
    out_name = s.get("output", "margin")
    scen = s.get("scenarios") or {}
    df = cm.tidy(r.tables.get("summary"))
    unit = cm.unit_of(df, out_name) if df is not None else None
    ref = next(iter(scen), None)
    rows = []
    labels = [e.get("event") for e in (next(iter(scen.values()), {}).get("events") or [])]
    for name, st in scen.items():
        o = st.get(out_name) or {}
        rows.append([name + (" (reference)" if name == ref else ""),
                     nb.percent(finite(st.get("p_profitable")),
                                finite(st.get("p_profitable_mcse"))),
                     nb.with_mcse(out_name, unit, finite(o.get("q50")), finite(o.get("mcse_q50"))),
                     f"[{nb.show(out_name, unit, finite(o.get('q05')))}, "
                     f"{nb.show(out_name, unit, finite(o.get('q95')))}]",
                     *(nb.percent(finite(e.get("p")), finite(e.get("mcse")))
                       for e in st.get("events") or [])])
    head, ref_note = headline(r)
    shown = nb.scale(out_name, unit)[1]
    parts = [cm.answer(
        "Which scenario is more likely profitable, and how far apart are they?", head,
        ref_note,
        f"{r.draws:,} paired draws per scenario on common random numbers: differences are "
        "the scenarios, not Monte Carlo noise." if r.draws else ""),
        f"<h3>Per scenario ({esc(out_name)} in {esc(shown)})</h3>",
        table(["scenario", "P(profit > 0) ± MCSE", f"median {out_name} ± MCSE",
               f"90% interval of {out_name}", *(f"P({lab}) ± MCSE" for lab in labels)],
              rows, [False, True, True, True, *[True] * len(labels)])]
    pairs = r.tables.get("pairs")
    if pairs is not None and {"scenario", "versus", "p_greater"} <= set(pairs.columns):
        pr = []
        # against the reference first, then the other pairs
        order = sorted(range(len(pairs)), key=lambda i: pairs.iloc[i]["versus"] != ref)
        for i in order:
            p = pairs.iloc[i]
            pr.append([p["scenario"], p["versus"],
                       nb.percent(finite(p["p_greater"]), finite(p.get("p_greater_mcse"))),
                       nb.with_mcse(out_name, unit, finite(p.get("difference_q50")),
                                    finite(p.get("difference_q50_mcse"))),
                       f"[{nb.show(out_name, unit, finite(p.get('difference_q05')))}, "
                       f"{nb.show(out_name, unit, finite(p.get('difference_q95')))}]"])
        parts.append(f"<h3>Pairs: A against B on the same draws ({esc(out_name)} in "
                     f"{esc(shown)}; against the reference {esc(ref)} first)</h3>" + table(
            ["A", "B", f"P({out_name}[A] > {out_name}[B]) ± MCSE",
             "median difference A - B ± MCSE", "90% interval of A - B"], pr,
            [False, False, True, True, True], keys=2))
    caps = {"forest": f"Each scenario's {out_name} (median, 50% and 90% intervals; "
                      f"P(profit > 0) beside its name) and its paired difference to the "
                      f"reference {ref}.",
            "ecdf": f"Cumulative distribution of {out_name} per scenario on common random "
                    f"numbers: where a curve crosses 0, the share of draws at a loss.",
            "p_greater": f"P({out_name} of the row's scenario > the column's) over paired "
                         "draws, ± MCSE."}
    parts += ["<h3>Figures</h3>", cm.figures(r, caps), "<h3>Summary per scenario</h3>",
              cm.summary_tables(df)]
    return "".join(parts)
