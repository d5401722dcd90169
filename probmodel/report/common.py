"""Parts every report section has: summary tables, figures, assumptions, provenance."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from probmodel.report import assumptions as asm
from probmodel.report import numbers as nb
from probmodel.report.folder import RunFolder, finite
from probmodel.report.html import esc, figure_from_file, linkify, table

_TIDY = ("variable", "statistic", "value", "mcse", "units")
_STAT_LABEL = {"mean": "mean", "sd": "sd", "q05": "5%", "q25": "25%", "q50": "median",
               "q75": "75%", "q95": "95%", "es05": "ES 5% (lower tail)",
               "es95": "ES 95% (upper tail)", "p_gt_0": "P(> 0)",
               "p_profitable": "P(profit > 0)"}
KEY_OUTPUTS = ("margin", "profit", "revenue", "total_cost", "implied_utilization",
               "chips_required")


def answer(question: str, headline: str, *paragraphs: str) -> str:
    """The question and the answer, first in every section (``headline`` is HTML)."""
    ps = "".join(f"<p>{p}</p>" for p in paragraphs if p)
    return (f'<div class="answer"><p class="question">{esc(question)}</p>'
            f'<p class="headline">{headline}</p>{ps}</div>')


def p_profit_html(p: float | None, se: float | None) -> str:
    """``P(profit > 0) = 49.4% ± 0.4%`` coloured by which side of one half it lies."""
    if p is None:
        return "P(profit &gt; 0) not defined for this scenario (it has no profit)"
    cls = "good" if p >= 0.5 else "bad"
    note = ('' if se == 0 else
            ' <span class="note">(± one Monte Carlo standard error)</span>')
    return f'P(profit &gt; 0) = <span class="{cls}">{esc(nb.percent(p, se))}</span>{note}'



def _stat_label(s: str) -> str:
    """A statistic's column head: ``median``, ``P(> 0.2)`` for an event's ``p_gt_0.2``."""
    if s in _STAT_LABEL:
        return _STAT_LABEL[s]
    word, _, x = s[2:].partition("_") if s.startswith("p_") else ("", "", "")
    op = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}.get(word)
    return f"P({op} {x})" if op and x else s


def tidy(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """``df`` when it is a tidy summary (variable, statistic, value, ...), else None."""
    if df is None or not {"variable", "statistic", "value"} <= set(df.columns):
        return None
    return df


def stat(df: pd.DataFrame, var: str, st: str) -> tuple[float | None, float | None]:
    """(value, mcse) of one statistic of one variable in a tidy frame (one group)."""
    r = df[(df["variable"] == var) & (df["statistic"] == st)]
    if r.empty:
        return None, None
    row = r.iloc[0]
    return finite(row["value"]), finite(row.get("mcse"))


def unit_of(df: pd.DataFrame, var: str) -> str | None:
    """The unit a tidy frame records for ``var``."""
    if "units" not in df.columns:
        return None
    u = df.loc[df["variable"] == var, "units"]
    return None if u.empty or (isinstance(u.iloc[0], float)) else str(u.iloc[0])


def key_interval_rows(df: pd.DataFrame, names: Sequence[str]) -> list[list[str]]:
    """Rows: quantity, median ± MCSE, 90% interval (each end ± MCSE), mean ± MCSE, unit."""
    rows = []
    for v in names:
        u = unit_of(df, v)
        if u is None and df[df["variable"] == v].empty:
            continue
        med, lo, hi, mean = (stat(df, v, s) for s in ("q50", "q05", "q95", "mean"))
        rows.append([v, nb.with_mcse(v, u, *med),
                     f"[{nb.with_mcse(v, u, *lo)}, {nb.with_mcse(v, u, *hi)}]",
                     nb.with_mcse(v, u, *mean), nb.scale(v, u)[1]])
    return rows


def key_sentence(df: pd.DataFrame, names: Sequence[str] = ("margin", "profit")) -> str:
    """``margin: median -0.6% (90% interval -152% to 49%); profit: ...`` for the answer."""
    out = []
    for v in names:
        if df[df["variable"] == v].empty:
            continue
        u = unit_of(df, v)
        med, lo, hi = (stat(df, v, s)[0] for s in ("q50", "q05", "q95"))
        shown = nb.scale(v, u)[1]
        out.append(f"{v}: median {nb.show(v, u, med)} {shown} (90% interval "
                   f"{nb.show(v, u, lo)} to {nb.show(v, u, hi)} {shown})")
    return esc("; ".join(out) + ".") if out else ""


KEY_HEADERS = ["quantity", "median ± MCSE", "90% interval [5%, 95%] ± MCSE",
               "mean ± MCSE", "unit"]
KEY_NUMERIC = [False, True, True, True, False]


def summary_tables(df: pd.DataFrame | None, max_rows: int = 400) -> str:
    """summary.csv as tables: one row per (extra dims, variable), statistics across.

    Each cell is ``value ± MCSE`` in the variable's display unit; statistics without an
    MCSE (sd) show the value alone.
    """
    df = tidy(df)
    if df is None or df.empty:
        return ""
    dims = [c for c in df.columns if c not in _TIDY]
    stats = list(dict.fromkeys(df["statistic"]))
    keys = [*dims, "variable"]
    rows, n = [], 0
    for key, g in df.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        var = str(key[-1])
        u = unit_of(g, var)
        by = {r["statistic"]: (finite(r["value"]), finite(r.get("mcse")))
              for _, r in g.iterrows()}
        cells = []
        for s in stats:
            if s not in by:
                cells.append("")
            elif s.startswith("p_"):
                cells.append(nb.percent(*by[s]))
            else:
                cells.append(nb.with_mcse(var, u, *by[s]))
        rows.append([*(nb.number(k, 4) if isinstance(k, float) else str(k) for k in key[:-1]),
                     var, nb.scale(var, u)[1], *cells])
        n += 1
        if n >= max_rows:
            break
    headers = [*dims, "quantity", "unit", *(_stat_label(s) for s in stats)]
    numeric = [False] * (len(dims) + 2) + [True] * len(stats)
    note = ("<p class=\"note\">Each cell: estimate ± Monte Carlo standard error, in the "
            "row's unit. sd has no MCSE shown. ES 5%: the mean of the lowest 5% of draws "
            "(expected shortfall); ES 95%: the mean of the highest 5%.</p>")
    more = (f'<p class="note">First {max_rows} rows of {df.groupby(keys).ngroups}; '
            "the rest are in summary.csv.</p>") if n >= max_rows else ""
    return note + table(headers, rows, numeric, keys=len(dims) + 2) + more


def csv_table(df: pd.DataFrame, max_rows: int = 200, fail_column: str | None = None) -> str:
    """Any CSV of the run folder as a table (numbers to 4 significant digits)."""
    rows, classes = [], []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            if isinstance(v, float | int) and not isinstance(v, bool):
                cells.append(nb.number(float(v), 4) if not math.isnan(float(v)) else "")
            else:
                cells.append(linkify(v) if c == "source" else esc(v))
        rows.append(cells)
        bad = fail_column is not None and str(r.get(fail_column)).lower() in ("false", "0")
        classes.append("fail" if bad else "")
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool
               for c in df.columns]
    more = (f'<p class="note">First {max_rows} of {len(df)} rows.</p>'
            if len(df) > max_rows else "")
    return table([esc(c) for c in df.columns], rows, numeric, classes, raw=True) + more


#: What each figure a command saves shows (a section's own captions take precedence).
FIGURE_CAPTIONS = {
    "distributions": "Distribution of the key outputs: loss region shaded, median and 90% "
                     "interval marked.",
    "exceedance": "Exceedance curve: the chance that profit is above each level.",
    "cost_revenue_per_mtok": "Cost and revenue per 1M tokens by year (median with 50% and "
                             "90% bands, log scale): serving pays where revenue is above "
                             "cost; below the axis, the share of demand served.",
    "fans": "Each key output by year: median, 50% and 90% bands and a few sample paths.",
    "fan_margin": "Margin by year: median, 50% and 90% bands and sample paths.",
    "fan_revenue": "Revenue by year: median, 50% and 90% bands and sample paths.",
    "fan_chips_required": "Chips required by year: median, 50% and 90% bands.",
    "p_profitable": "P(profit > 0) by year with ± 2 MCSE: when serving becomes profitable, "
                    "if ever.",
    "stress": "Each case's 50% and 90% intervals, median and es05 against the base.",
    "frontier": "Throughput per GPU against interactivity (median, 50% and 90% bands) and "
                "the cost per 1M output tokens at the target.",
    "prior_posterior": "Each calibrated quantity's prior against its posterior.",
    "posterior_predictive": "Each observation against its replications under the posterior.",
}


def figures(run: RunFolder, captions: dict[str, str] | None = None,
            skip: Sequence[str] = ()) -> str:
    """The figures the command saved in figures/, inline (SVG when it saved one)."""
    captions = captions or {}
    out = []
    for name, path in run.figures.items():
        if name in skip:
            continue
        cap = captions.get(name) or FIGURE_CAPTIONS.get(name) or (
            f"{name[6:]} at the point values (no uncertainty) over the swept grid."
            if name.startswith("point_") else
            f"{name.replace('_', ' ').capitalize()}: as drawn by the command that made "
            "the run.")
        out.append(figure_from_file(path.read_bytes(), path.suffix, cap,
                                    f"{name} figure of {run.title}"))
    return "".join(out)


def _side_text(name: str, side: dict | None) -> str:
    """One scenario's cell: law, median [90% interval], point, and where it is stated."""
    if side is None:
        return "(not in this scenario)"
    u = side["unit"]

    def v(x):
        return nb.show(name, u, x, 3)

    where = ("" if side["stated"] == "stated" else " (--set)" if side["file"] == "--set"
             else f" (inherited: {side['file'].rsplit('/', 1)[-1]})")
    if side["law"] == "fixed":
        return f"fixed {nb.show(name, u, side['point'], 4)}{where}"
    if side.get("median") is None:  # as written (the copy could not be read back)
        return f"{side['law']}; point {nb.show(name, u, side['point'], 4)}{where}"
    lo, hi = side["interval_90"]
    return (f"{side['law']}: median {v(side['median'])} [{v(lo)}, {v(hi)}]; point "
            f"{nb.show(name, u, side['point'], 4)}{where}")


def per_scenario_section(cols: asm.Columns) -> str:
    """A comparison's assumptions: one column per scenario, differing rows first, marked."""
    body, classes = [], []
    for r in cols.rows:
        sides = r["sides"]
        first = next(s for s in sides if s is not None)
        by_src: dict[str, list[str]] = {}  # each source once, with the scenarios stating it
        for n, s in zip(cols.scenarios, sides, strict=True):
            if s:
                by_src.setdefault(s["source"], []).append(n)
        if len(by_src) == 1:
            src = linkify(next(iter(by_src)))
        else:
            src = "<br>".join(f"<b>{esc(', '.join(ns))}</b>: {linkify(t)}"
                              for t, ns in by_src.items())
        body.append([("≠ " if r["differs"] else "") + esc(r["name"]),
                     *(esc(_side_text(r["name"], s)) for s in sides),
                     esc(nb.scale(r["name"], first["unit"])[1]), src])
        classes.append("differs" if r["differs"] else "")
    n_diff = sum(r["differs"] for r in cols.rows)
    t = table(["parameter", *cols.scenarios, "unit", "source"], body,
              [False] * (len(cols.scenarios) + 3), classes, raw=True)
    if cols.correlations:
        crow = [[("≠ " if len(set(v)) > 1 else "") + f"{a} ~ {b}",
                 *("none" if x is None else f"{x:+.2f}" for x in v)]
                for (a, b), v in cols.correlations.items()]
        t += "<h4>Rank correlations (Spearman)</h4>" + table(
            ["between", *cols.scenarios], crow, [False, *[True] * len(cols.scenarios)],
            ["differs" if r[0].startswith("≠") else "" for r in crow])
    return (f"<h3>Assumptions</h3><p>One column per scenario, each read back from its own "
            f"copied file (the same comparison as <code>probmodel diff</code>): "
            f"{n_diff} of {len(cols.rows)} parameters differ, marked ≠ and listed first. "
            "Median and 90% interval: quantiles of the law the engine sampled; point: the "
            "report's value; inherited: stated by a file the scenario extends.</p>" + t)


def _source(a: asm.Assumption) -> str:
    """The source, then the file that states it (in the muted note style)."""
    return f'{linkify(a.source)} <span class="note">(file: {esc(a.file)})</span>'


def assumptions_section(run: RunFolder) -> str:
    """Every parameter (law as written, 5/50/95% quantiles, point, unit, source).

    A comparison shows one column per scenario (:func:`per_scenario_section`).
    """
    cols, cnote = asm.per_scenario(run)
    if cols is not None:
        files = "".join(
            f"<details><summary>scenario/{esc(n)} (verbatim)</summary><pre>"
            f"{esc(data.decode('utf-8', 'replace'))}</pre></details>"
            for n, data in run.scenario_files.items())
        note = f'<p class="note">{esc(cnote)}</p>' if cnote else ""
        return per_scenario_section(cols) + note + files
    rows, note = asm.assumptions(run)
    note = "; ".join(x for x in (cnote, note) if x)
    if not rows:
        return "<h3>Assumptions</h3><p class=\"note\">No scenario file in the run folder.</p>"
    body = []
    for a in rows:
        if a.swept:
            shown = nb.scale(a.name, a.unit)[1]
            vals = ", ".join(nb.show(a.name, a.unit, v, 4) for v in a.swept)
            body.append([f"<b>{esc(a.name)}</b>", esc(f"swept: {vals} {shown}"), "", "", "",
                         esc(shown), _source(a)])
            continue
        q = [nb.show(a.name, a.unit, x, 3) for x in (a.q05, a.q50, a.q95)]
        interval = f"[{q[0]}, {q[2]}]" if a.q05 is not None else ""
        body.append([esc(a.name), esc(a.distribution), esc(interval), esc(q[1] if a.q50
                     is not None else ""), esc(nb.show(a.name, a.unit, a.point, 4)),
                     esc(nb.scale(a.name, a.unit)[1]), _source(a)])
    t = table(["parameter", "distribution (as written)", "90% interval", "median", "point",
               "unit", "source"], body, [False, False, True, True, True, False, False],
              raw=True)
    n_swept = sum(bool(a.swept) for a in rows)
    n_unc = sum(not a.distribution.startswith("fixed") for a in rows) - n_swept
    swept = (f"{n_swept} swept (set to each grid value in turn, listed first), "
             if n_swept else "")
    parts = [f"<h3>Assumptions</h3><p>{swept}{n_unc} uncertain and "
             f"{len(rows) - n_unc - n_swept} fixed parameters. Interval and median: "
             "quantiles of the law the engine sampled; point: the report's value (used by "
             "point mode).</p>",
             f'<p class="note">{esc(note)}</p>' if note else "", t]
    if cor := asm.correlations(run):
        parts.append("<h4>Rank correlations</h4>" + table(
            ["between", "and", "Spearman rank", "source"],
            [[esc(a), esc(b), f"{r:+.2f}", linkify(s)] for a, b, r, s in cor],
            [False, False, True, False], raw=True))
    if obs := asm.observations(run):
        parts.append("<h4>Observations (what the calibration conditions on)</h4>" + table(
            ["observation", "value", "likelihood", "source"],
            [[esc(a), esc(b), esc(c), linkify(d)] for a, b, c, d in obs], raw=True))
    files = "".join(
        f"<details><summary>scenario/{esc(n)} (verbatim)</summary><pre>"
        f"{esc(data.decode('utf-8', 'replace'))}</pre></details>"
        for n, data in run.scenario_files.items())
    parts.append(files)
    return "".join(parts)


def provenance_section(run: RunFolder) -> str:
    """The probmodel version, commit, seed, draws, file hashes (checked), the command line."""
    m = run.manifest
    versions = m.get("versions") or {}
    items = [("kind", run.kind), ("created (UTC)", m.get("created_utc", "")),
             ("probmodel", versions.get("probmodel", "unknown")),
             ("source commit", m.get("git_commit") or "unknown"),
             ("seed", m.get("seed", m.get("settings", {}).get("seed", "")
                            if isinstance(m.get("settings"), dict) else "")),
             ("draws", f"{run.draws:,}" if run.draws else "–"),
             ("method", m.get("method", "")), ("platform", m.get("platform", "")),
             ("devices", ", ".join(map(str, m.get("devices") or []))),
             ("run folder", run.path.name)]
    for k in ("draws_nc", "quantile_method", "posterior_source", "chains", "warmup", "samples"):
        if m.get(k) is not None:
            items.append((k.replace("_", " "), m[k]))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    hashes = []
    for name, rec, actual in run.file_hashes():
        ok = ("matches" if actual == rec else "MISSING from scenario/" if actual is None
              else "DIFFERS: the copy was changed after the run")
        hashes.append([name, rec, ok])
    ht = table(["scenario file", "SHA-256 (manifest)", "copy in scenario/"], hashes,
               row_classes=["" if h[2] == "matches" else "fail" for h in hashes])
    pk = ", ".join(f"{k} {v}" for k, v in versions.items())
    cmd = m.get("command", "")
    return (f"<h3>Provenance</h3><dl class=\"prov\">{dl}</dl>{ht}"
            f"<p>Reproduce (the same files, seed and package versions give the same draws):</p>"
            f"<pre>{esc(cmd)}</pre><p class=\"note\">Package versions: {esc(pk)}</p>")
