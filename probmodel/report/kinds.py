"""The question, the answer and the figures of each kind of run folder.

Each ``<kind>(run)`` returns the HTML between a section's heading and its assumptions:
the answer block, the figures, the summary tables. Unknown kinds (a command added later)
get :func:`generic`: the summary tables, every CSV and every figure of the folder.
"""

from __future__ import annotations

from probmodel.report import common as cm
from probmodel.report import numbers as nb
from probmodel.report import tables as tb
from probmodel.report.folder import RunFolder, finite
from probmodel.report.html import esc, figure_from_matplotlib, table


def _other_csvs(run: RunFolder, skip: tuple[str, ...], titles: dict[str, str]) -> str:
    out = []
    for name, df in run.tables.items():
        if name in skip or name == "summary":
            continue
        out.append(f"<h4>{esc(titles.get(name, name + '.csv'))}</h4>"
                   + cm.csv_table(df, fail_column="ok" if "ok" in df.columns else None))
    return "".join(out)


def run(r: RunFolder) -> str:
    """A forward Monte Carlo run: P(profit > 0), key intervals, distributions."""
    from probmodel.plots import run as prun

    s = r.summary
    p, se = finite(s.get("p_profitable")), finite(s.get("p_profitable_mcse"))
    df = cm.tidy(r.tables.get("summary"))
    keys = cm.key_interval_rows(df, cm.KEY_OUTPUTS) if df is not None else []
    post = r.manifest.get("posterior_parameters")
    extra = (f"Drawn from the calibration posterior for {esc(', '.join(post))} "
             f"(joint resampling of {esc(r.manifest.get('posterior_source', ''))}); the "
             "other inputs from their priors.") if post else ""
    if p is None and df is not None and (df["variable"] == "chips_required").any():
        # a demand scenario (no prices, no profit): the question is the fleet it needs
        u = cm.unit_of(df, "chips_required")
        med, lo, hi = (cm.stat(df, "chips_required", q) for q in ("q50", "q05", "q95"))
        shown = nb.scale("chips_required", u)[1]
        question = f"How many chips does serving this demand need ({r.title})?"
        headline = (f"chips required: median {esc(nb.with_mcse('chips_required', u, *med))} "
                    f"{esc(shown)}")
        detail = (f"90% interval {esc(nb.show('chips_required', u, lo[0]))} to "
                  f"{esc(nb.show('chips_required', u, hi[0]))} {esc(shown)}.")
    else:
        question = f"Is serving profitable under these assumptions ({r.title})?"
        headline = cm.p_profit_html(p, se)
        detail = cm.key_sentence(df) if df is not None else ""
    head = cm.answer(
        question, headline, detail,
        f"{r.draws:,} Monte Carlo draws, seed {r.manifest.get('seed')}." if r.draws else "",
        extra)
    body = [head, "<h3>Key intervals</h3>",
            table(cm.KEY_HEADERS, keys, cm.KEY_NUMERIC) if keys else ""]
    captions = {
        "distributions": "Distribution of the key outputs: loss region shaded, median and "
                         "90% interval marked.",
        "exceedance": "Exceedance curve: the chance that profit is above each level; the "
                      "red point is P(profit > 0) over every draw of the run."}
    figs = []
    ds = None if "distributions" in r.figures else r.draws_dataset()
    if ds is not None:  # a folder written before run saved its figures: draw them here
        draws = {k: ds[k].values.ravel() for k in prun.DISTRIBUTION_OUTPUTS if k in ds}
        if draws:
            figs.append(figure_from_matplotlib(
                prun.plot_distributions(draws, p, se, r.title),
                captions["distributions"] + " (from draws.nc)",
                "distributions of the key outputs"))
        if "profit" in draws:
            figs.append(figure_from_matplotlib(
                prun.plot_exceedance(draws["profit"], p, se, r.title),
                captions["exceedance"], "exceedance curve"))
    body += ["<h3>Figures</h3>", *figs, cm.figures(r, captions)]
    body += ["<h3>Summary of every quantity</h3>", cm.summary_tables(df)]
    return "".join(body)


def project(r: RunFolder) -> str:
    """A projection: P(profit > 0) and the key outputs by year."""
    s = r.summary
    years = [str(y) for y in s.get("years") or []]
    pp, pse = s.get("p_profitable") or {}, s.get("p_profitable_mcse") or {}
    df = cm.tidy(r.tables.get("summary"))
    rows = []
    fan = [v for v in ("margin", "profit", "revenue", "chips_required")
           if df is not None and (df["variable"] == v).any()]
    for y in years:
        g = df[df["year"].astype(str) == y] if df is not None and "year" in df else None
        row = [y, nb.percent(finite(pp.get(y)), finite(pse.get(y)))]
        for v in fan:
            u = cm.unit_of(g, v) if g is not None else None
            med, lo, hi = (cm.stat(g, v, q)[0] if g is not None else None
                           for q in ("q50", "q05", "q95"))
            row.append(f"{nb.show(v, u, med)} [{nb.show(v, u, lo)}, {nb.show(v, u, hi)}]")
        for e in s.get("events") or []:
            row.append(nb.percent(finite((e.get("p") or {}).get(y)),
                                  finite((e.get("mcse") or {}).get(y))))
        rows.append(row)
    first = next((y for y in years if (finite(pp.get(y)) or 0) >= 0.5), None)
    headline = (f"P(profit &gt; 0) first reaches 50% in {esc(first)}" if first else
                "P(profit &gt; 0) stays below 50% in every year" if pp else "")
    last = years[-1] if years else None
    parts = [cm.answer(
        f"When, if ever, does serving become profitable ({r.title})?", headline,
        f"In {esc(last)}: {cm.p_profit_html(finite(pp.get(last)), finite(pse.get(last)))}."
        if last and pp else "",
        f"{r.draws:,} coherent paths over {len(years)} years." if r.draws else ""),
        "<h3>By year: P(profit &gt; 0) ± MCSE; median [90% interval]</h3>",
        table(["year", "P(profit > 0) ± MCSE",
               *(f"{v} ({nb.scale(v, cm.unit_of(df, v))[1]})" for v in fan),
               *(f"P({e.get('event')}) ± MCSE" for e in s.get("events") or [])], rows,
              [True] * (2 + len(fan) + len(s.get("events") or []))),
        _paths(r, df, years),
        "<h3>Figures</h3>", cm.figures(r, skip=_fan_parts(r)),
        "<h3>Summary per year</h3>", cm.summary_tables(df)]
    return "".join(parts)


def _growth(r: RunFolder) -> dict:
    """[projection.growth] of the scenario as written (a derived file's tables win)."""
    out: dict = {}
    for _, doc in reversed(r.scenario_tomls()):
        out.update(((doc.get("projection") or {}).get("growth")) or {})
    return out


def _law_text(t: dict) -> str:
    def v(x):
        if isinstance(x, dict):
            return "{" + ", ".join(f"{k} {y}" for k, y in x.items() if k != "source") + "}"
        return str(x)

    return "; ".join(f"{k} {v(x)}" for k, x in t.items() if k not in ("source", "law"))


def _paths(r: RunFolder, df, years: list[str]) -> str:
    """The growth, adoption and price paths: each input's law and its value by year."""
    growth = _growth(r)
    if not growth or df is None or "year" not in df:
        return ""
    from probmodel.model import INPUTS

    law_rows, path_rows = [], []
    for name, t in growth.items():
        if not isinstance(t, dict):
            continue
        u = cm.unit_of(df, name)
        shown = nb.scale(name, u)[1]
        meaning = INPUTS[name].description if name in INPUTS else ""
        law_rows.append([name, str(t.get("law", "")), _law_text(t),
                         f"{shown}{': ' + meaning if meaning else ''}"])
        row = [name, shown]
        for y in years:
            g = df[df["year"].astype(str) == y]
            med, lo, hi = (cm.stat(g, name, q)[0] for q in ("q50", "q05", "q95"))
            row.append(f"{nb.show(name, u, med)} [{nb.show(name, u, lo)}, "
                       f"{nb.show(name, u, hi)}]")
        path_rows.append(row)
    return ("<h3>Growth, adoption and price paths: each input's value by year, median "
            "[90% interval]</h3><p class=\"note\">A share (unit 1) is shown in %: "
            "utilization 86% is 86% of the chip's peak FLOP/s; price_index is a multiplier "
            "(x) on every price of the scenario's table, 0.13 x = 13% of the report's "
            "prices. Logistic paths move from the scenario's value toward the target along "
            "the named adoption curve; exponential ones grow at the yearly rate.</p>"
            + table(["input", "unit", *years], path_rows, [False, False, *[True] * len(years)],
                    keys=2)
            + "<h4>The laws of the paths (as written in [projection.growth])</h4>"
            + table(["input", "law", "parameters", "unit and meaning"], law_rows))


def _fan_parts(r: RunFolder) -> tuple[str, ...]:
    # the combined panel (fans) already shows each single fan: keep the report short
    return tuple(n for n in r.figures if n.startswith("fan_")) if "fans" in r.figures else ()


def calibrate(r: RunFolder) -> str:
    """A calibration: whether the posterior can be trusted, and what it changed."""
    s = r.summary
    ok = s.get("diagnostics_ok", r.manifest.get("diagnostics_ok"))
    verdict = ('<span class="good">diagnostics passed</span>' if ok else
               '<span class="bad">diagnostics FAILED: do not use this posterior</span>')
    pp = s.get("p_profitable") or {}
    fails = s.get("failures") or r.manifest.get("failures") or []
    st = s.get("settings") or {}
    p0, p1 = finite(pp.get("prior")), finite(pp.get("posterior"))
    if p1 is not None:  # the business question first: does the data move P(profit > 0)?
        question = ("Given the disclosed data, how likely is serving profitable, and can "
                    "the posterior be trusted?")
        se1 = finite(pp.get("posterior_mcse"))
        headline = (f"P(profit &gt; 0): prior {esc(nb.percent(p0))} → posterior "
                    f'<span class="{"good" if p1 >= 0.5 else "bad"}">'
                    f"{esc(nb.percent(p1, se1))}</span>"
                    f"<br>{verdict}")
    else:
        question = ("What do the disclosed data say about the inputs, and can the posterior "
                    "be trusted?")
        headline = verdict
    parts = [cm.answer(
        question, headline,
        f"max r-hat {nb.number(finite(s.get('max_r_hat')), 4)} (limit "
        f"{esc(st.get('rhat_max', r.manifest.get('rhat_max', '')))}), min bulk ESS "
        f"{nb.number(finite(s.get('min_ess_bulk')), 3)}, min tail ESS "
        f"{nb.number(finite(s.get('min_ess_tail')), 3)} (limit "
        f"{esc(st.get('ess_min', r.manifest.get('ess_min', '')))}), "
        f"{esc(s.get('divergences', r.manifest.get('divergences', '?')))} divergences; "
        f"{esc(st.get('chains', r.manifest.get('chains', '?')))} chains x "
        f"{esc(st.get('samples', r.manifest.get('samples', '?')))} draws after "
        f"{esc(st.get('warmup', r.manifest.get('warmup', '?')))} warm-up.",
        ("The posterior's MCSE comes from its effective sample size; the prior's "
         "probability is over the prior draws." if p1 is not None else ""),
        ("Failures: " + esc("; ".join(map(str, fails[:12])))
         + (f" and {len(fails) - 12} more" if len(fails) > 12 else "")) if fails else "")]
    parts.append("<h3>Calibration diagnostics</h3>")
    if (d := r.tables.get("diagnostics")) is not None:
        parts.append('<p class="note">Rows in red fail the limits (r-hat, bulk and tail '
                     "ESS, divergences).</p>" + tb.diagnostics(d))
    parts += ["<h3>Figures</h3>", cm.figures(r, {
        "prior_posterior": "Each calibrated input and key output: its prior against its "
                           "posterior (how far the disclosed data moved it).",
        "posterior_predictive": "Each observation (red) against its replications under "
                                "the posterior: a red mark outside the spread is a misfit."})]
    titles = {"prior_posterior": "Prior against posterior: median [90% interval] in each "
                                 "quantity's unit, and the shrinkage",
              "posterior_predictive": "Posterior predictive check of each observation"}
    render = {"prior_posterior": tb.prior_posterior,
              "posterior_predictive": tb.posterior_predictive}
    for name in ("prior_posterior", "posterior_predictive"):
        if (t := r.tables.get(name)) is not None:
            parts.append(f"<h3>{esc(titles[name])}</h3>" + render[name](t))
    parts.append(_other_csvs(r, ("diagnostics", *titles), {}))
    return "".join(parts)


def generic(r: RunFolder) -> str:
    """Any other kind: its summary, every CSV and every figure."""
    p = finite(r.summary.get("p_profitable")) if not isinstance(
        r.summary.get("p_profitable"), dict) else None
    se = finite(r.summary.get("p_profitable_mcse")) if p is not None else None
    parts = [cm.answer(f"{r.kind}: {r.title}", cm.p_profit_html(p, se) if p is not None
                       else esc(r.manifest.get("method", r.kind))),
             "<h3>Figures</h3>", cm.figures(r), "<h3>Summary</h3>",
             cm.summary_tables(r.tables.get("summary")),
             _other_csvs(r, (), {})]
    if cm.tidy(r.tables.get("summary")) is None and "summary" in r.tables:
        parts.append(cm.csv_table(r.tables["summary"]))
    return "".join(parts)




def stress(r: RunFolder) -> str:
    """A stress test: P(profit > 0) and the key outputs in each band case against the base."""
    cases = r.summary.get("cases") or {}
    df = cm.tidy(r.tables.get("summary"))
    units = ({v: cm.unit_of(df, v) for v in df["variable"].unique()} if df is not None
             else {})
    profit = any(finite(c.get("p_profitable")) is not None for c in cases.values())
    labels = [e.get("event") for e in (next(iter(cases.values()), {}).get("events") or [])]
    rows, worst = [], None
    for name, c in cases.items():
        vals = c.get("values")
        rng = (f"{nb.number(vals[0], 4)} to {nb.number(vals[1], 4)}"
               if isinstance(vals, list) and len(vals) == 2 else "all draws")
        row = [name, rng, f"{int(c.get('draws', 0)):,}"]
        if profit:
            p, se = finite(c.get("p_profitable")), finite(c.get("p_profitable_mcse"))
            row.append(nb.percent(p, se))
            row.append("" if name == "base" else
                       f"{nb.percent(finite(c.get('p_profitable_diff')), None)} ± "
                       f"{nb.percent(finite(c.get('p_profitable_diff_mcse')), None)}")
            if name != "base" and p is not None and (worst is None or p < worst[1]):
                worst = (name, p, se)
        for e in c.get("events") or []:
            row.append(nb.percent(finite(e.get("p")), finite(e.get("mcse"))))
            row.append("" if name == "base" else
                       f"{nb.percent(finite(e.get('diff')), None)} ± "
                       f"{nb.percent(finite(e.get('diff_mcse')), None)}")
        rows.append(row)
    outputs = [v for v in ("profit", "margin", "chips_required")
               if any(v in (c.get("summary") or {}) for c in cases.values())]
    orow = []
    for name, c in cases.items():
        for v in outputs:
            s = (c.get("summary") or {}).get(v)
            if not s:
                continue
            u = units.get(v)
            diff = ("" if name == "base" else
                    nb.with_mcse(v, u, s.get("diff_q50"), s.get("mcse_diff_q50")))
            orow.append([name, f"{v} ({nb.scale(v, u)[1]})",
                         nb.with_mcse(v, u, s.get("q50"), s.get("mcse_q50")),
                         f"[{nb.show(v, u, s.get('q05'))}, {nb.show(v, u, s.get('q95'))}]",
                         nb.with_mcse(v, u, s.get("es05"), s.get("mcse_es05")), diff])
    base = cases.get("base", {})
    if profit and worst:
        p0 = nb.percent(finite(base.get("p_profitable")),
                        finite(base.get("p_profitable_mcse")))
        headline = (f"P(profit &gt; 0) falls from {esc(p0)} to "
                    f"{esc(nb.percent(worst[1], worst[2]))} when {esc(worst[0])}")
    else:
        headline = f"{len(cases) - 1} stressed case(s) against the base"
    parts = [cm.answer(
        f"What happens when an input sits in a band of its own percentiles ({r.title})?",
        headline,
        "Each case is the subset of the base's draws with the input in its band (the "
        "other inputs as drawn, correlations included); differences to the base are "
        "paired, with their MCSE.",
        f"{r.draws:,} draws, seed {r.manifest.get('seed')}." if r.draws else ""),
        "<h3>Cases</h3>",
        table(["case", "input range", "draws",
               *(("P(profit > 0) ± MCSE", "difference to base") if profit else ()),
               *(x for lab in labels for x in (f"P({lab}) ± MCSE", "difference to base"))],
              rows, [False, False, True, *[True] * (2 * profit + 2 * len(labels))]),
        "<h3>Key outputs per case</h3>",
        table(["case", "quantity", "median ± MCSE", "90% interval",
               "es05 (mean of the worst 5%) ± MCSE", "median minus base's ± MCSE"], orow,
              [False, False, True, True, True, True]),
        "<h3>Figures</h3>", cm.figures(r, {"stress": "Each case's 50% and 90% intervals, "
                                          "median and es05 against the base."})]
    return "".join(parts)


def frontier(r: RunFolder) -> str:
    """A serving frontier: per chip the operating point and cost at the SLO; the pairs."""
    s = r.summary
    chips = s.get("chips") or []

    def iv(c, k, digits=3):
        d = c.get(k) or {}
        q = [finite(d.get(x)) for x in ("q50", "q05", "q95")]
        if q[0] is None:
            return "n/a"
        return (f"{nb.number(q[0], digits)} [{nb.number(q[1], digits)}, "
                f"{nb.number(q[2], digits)}]")

    rows = [[c["chip"], nb.percent(finite(c.get("p_slo_met")), finite(c.get("p_slo_met_mcse"))),
             iv(c, "concurrency"), iv(c, "tput_per_gpu"), iv(c, "output_tput_per_gpu"),
             iv(c, "median_ttft"), "$" + iv(c, "cost_per_mtok_output"),
             "$" + iv(c, "cost_per_mtok")] for c in chips]
    pairs = [[p["a"], p["b"], nb.percent(finite(p.get("p_a_cheaper")), finite(p.get("mcse"))),
              nb.percent(finite(p.get("p_b_cheaper")), finite(p.get("mcse_b")))]
             for p in s.get("pairs") or []]
    best = min(chips, key=lambda c: (c.get("cost_per_mtok_output") or {}).get("q50")
               or float("inf"), default=None)
    headline = (f"at {esc(s.get('slo', ''))}, {esc(best['chip'])} serves 1M output tokens "
                f"for ${esc(iv(best, 'cost_per_mtok_output'))} (median [90% interval])"
                if best else "no chip")
    parts = [cm.answer(
        f"What throughput per GPU, and what cost per token, at a latency target ({r.title})?",
        headline,
        "Per chip: the scenario's deployment run through the calibrated serving physics "
        "over concurrency; the operating point is the highest throughput meeting the "
        "target. Cost counts the deployment's GPUs (prefill pool included) and charges "
        "them to output tokens. Chip-specific numbers (efficiencies, residual error, price) "
        "are drawn independently per chip; shared inputs are paired.",
        f"{r.draws:,} draws per chip, seed {r.manifest.get('seed')}." if r.draws else ""),
        "<h3>Figures</h3>", cm.figures(r, {"frontier": "Throughput per GPU against "
                                           "interactivity (median, 50% and 90% bands) and "
                                           "the cost per 1M output tokens at the target."}),
        "<h3>At the target</h3>",
        table(["chip", "P(target met) ± MCSE", "concurrency", "tokens/s per GPU",
               "output tokens/s per decode GPU", "TTFT (s)", "$ per 1M output tokens",
               "$ per 1M tokens"], rows, [False, True, True, True, True, True, True, True])]
    if pairs:
        parts += ["<h3>Which chip is cheaper at the target (paired draws)</h3>",
                  table(["chip A", "chip B", "P(A cheaper) ± MCSE", "P(B cheaper) ± MCSE"],
                        pairs, [False, False, True, True])]
    for n in s.get("notes") or []:
        parts.append(f"<p>{esc(n)}</p>")
    return "".join(parts)
