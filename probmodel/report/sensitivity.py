"""The sensitivity section: what drives the output, with a spider plot and a two-range tornado.

The spider plot comes from the run's draws.nc alone: the output's median among the
draws whose input falls in each decile of that input (the other inputs drawn as the
run drew them, correlations included). The tornado at p05/p95 and p10/p90 evaluates
the copied scenario one input at a time with probmodel's public analysis function;
when the scenario cannot be read back, the report keeps the command's own tornado.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probmodel.report import common as cm
from probmodel.report import numbers as nb
from probmodel.report import tables as tb
from probmodel.report.folder import RunFolder, as_array, finite
from probmodel.report.html import esc, figure_from_matplotlib

DECILES = 10


@dataclass(frozen=True)
class Spider:
    """The output's median in each decile bin of each input."""

    output: str
    percentiles: np.ndarray  # bin centres, 5..95
    medians: dict[str, np.ndarray]
    overall: float
    per_bin: int


def spider_from_draws(draws, output: str, inputs: list[str], bins: int = DECILES) -> Spider:
    """Bin the draws by each input's quantiles; the output's median in each bin.

    Parameters
    ----------
    draws : xarray.Dataset or mapping
        Draws of ``output`` and of each input (same draws, any shape).
    output : str
        The output.
    inputs : list of str
        The inputs (those absent from ``draws`` are skipped).
    bins : int
        Equal-probability bins per input (deciles by default).
    """
    y = np.asarray(draws[output], np.float64).ravel()
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2 * 100
    medians = {}
    for name in inputs:
        if name not in draws:
            continue
        x = np.asarray(draws[name], np.float64).ravel()
        # ranks, not values: ties (a fixed or discrete input) still split evenly
        r = np.empty(x.size)
        r[np.argsort(x, kind="stable")] = (np.arange(x.size) + 0.5) / x.size
        idx = np.minimum((r * bins).astype(int), bins - 1)
        medians[name] = np.array([np.median(y[idx == b]) for b in range(bins)])
    return Spider(output, centres, medians, float(np.median(as_array(y))), y.size // bins)


def _tornados(run: RunFolder, output: str):
    """(outer p05/p95, inner p10/p90) Tornado objects, or (None, reason).

    From the result tree when it holds both (a sensitivity run); a folder written before
    has them recomputed from its copied scenario.
    """
    from probmodel.analysis import sensitivity as se

    t = run.tree
    if t is not None and {"tornado", "tornado_inner"} <= set(t.children):
        return (se.Tornado.from_dataset(t["tornado"].to_dataset()),
                se.Tornado.from_dataset(t["tornado_inner"].to_dataset())), ""
    tomls = run.scenario_tomls()
    if not tomls:
        return None, "no scenario file in the run folder"
    try:  # public API: read the copied scenario back, evaluate one input at a time
        from probmodel import api

        sc = api.load_scenario(run.path / "scenario" / tomls[0][0],
                               run.manifest.get("overrides") or None)
        return (se.tornado(sc, output, (0.05, 0.95)), se.tornado(sc, output, (0.10, 0.90))), ""
    except Exception as e:  # an old or foreign file must not stop the report
        return None, f"two-range tornado not drawn: {type(e).__name__}: {e}"


_CAPTIONS = {
    "spider": "Spider plot: median of the output among the draws in each decile of an "
              "input. Steep lines: the inputs the output follows.",
    "tornado_ranges": "Tornado at two ranges: each input at its 5%/95% (light) and "
                      "10%/90% (dark) quantiles, the others at their point values.",
    "tornado": "Tornado: the output with each input at its 5% and 95% quantiles, the "
               "others at their point values; the longest bars matter most.",
    "sobol": "Sobol indices: the share of the output's variance due to each input alone "
             "(S1) and with its interactions (ST), with bootstrap intervals.",
    "drivers": "Drivers of the adverse event: how far each input's distribution moves "
               "among the draws with the event (KS distance).",
}


def _saved_figures(r: RunFolder, skip_tornado: bool) -> list[str]:
    """The folder's figures: spider and two-range tornado first, then the others."""
    first = [n for n in ("spider", "tornado_ranges") if n in r.figures]
    rest = [n for n in r.figures if n not in first]
    skip = ("tornado",) if skip_tornado else ()
    return [cm.figures(r, _CAPTIONS, skip=(*rest, *skip)),
            cm.figures(r, _CAPTIONS, skip=(*first, *skip))]


def section(r: RunFolder) -> str:
    """Answer (largest swings, largest total Sobol indices, P(event)), figures, tables."""
    from probmodel.plots import sensitivity as ps

    s = r.summary
    output = str(s.get("output", r.manifest.get("output", "margin")))
    unit = s.get("output_units")
    tor = r.tables.get("tornado")
    sob = r.tables.get("sobol")
    top = []
    if tor is not None and "swing" in tor:
        for _, row in tor[tor["swing"] > 0].head(3).iterrows():
            top.append(f"{esc(row['input'])} (swing "
                       f"{esc(tb.output_swing(output, unit, row['swing']))})")
    st = []
    if sob is not None and "ST" in sob:
        for _, row in sob.sort_values("ST", ascending=False).head(3).iterrows():
            st.append(f"{esc(row['input'])} (ST {row['ST']:.2f})")
    d = s.get("drivers") or {}
    event = (f"P({esc(d.get('event', 'event'))}) = "
             f"{esc(nb.percent(finite(d.get('p_event')), finite(d.get('p_event_mcse'))))}"
             if d else "")
    parts = [cm.answer(
        f"What drives {output} ({r.title})?",
        ("Largest one-at-a-time swings: " + ", ".join(top)) if top else esc(output),
        ("Largest shares of variance (total Sobol index): " + ", ".join(st)) if st else "",
        event)]
    figs = []
    # folders written by the sensitivity command hold the spider and two-range tornado
    # (figures/); older ones get them computed here
    ds = None if "spider" in r.figures else r.draws_dataset()
    inputs = [str(x) for x in tor["input"]] if tor is not None and "input" in tor else []
    if ds is not None and output in ds and inputs:
        moving = [n for n in inputs if tor is None or
                  float(tor.loc[tor["input"] == n, "swing"].iloc[0]) > 0]
        sp = spider_from_draws(ds, output, moving[:8])
        if sp.medians:
            figs.append(figure_from_matplotlib(
                ps.plot_spider(output, sp.percentiles, sp.medians, sp.overall, r.title,
                               sp.per_bin),
                f"Spider plot from draws.nc: median {output} among the draws in each decile "
                "of an input. Steep lines: the inputs the output follows.", "spider plot"))
    pair, why = (None, "") if "tornado_ranges" in r.figures else _tornados(r, output)
    if pair is not None:
        figs.append(figure_from_matplotlib(
            ps.plot_tornado_ranges(*pair),
            "Tornado at two ranges: each input at its 5%/95% (light) and 10%/90% (dark) "
            "quantiles, the others at their point values.", "two-range tornado"))
    parts += ["<h3>Figures</h3>", *figs,
              f'<p class="note">{esc(why)}</p>' if why else "",
              *_saved_figures(r, skip_tornado=pair is not None
                              or "tornado_ranges" in r.figures)]
    shown = nb.scale(output, unit)[1]
    ev = str(d.get("event", "the event")) if d else "the event"
    if tor is not None and "swing" in tor:
        parts.append(f"<h3>Tornado: {esc(output)} ({esc(shown)}) with each input at its 5% "
                     "and 95% quantiles, the others at their point values</h3>"
                     + tb.tornado(tor, output, unit))
    if sob is not None and "ST" in sob:
        parts.append("<h3>Sobol indices: the share of the variance of "
                     f"{esc(output)} due to each input</h3><p class=\"note\">S1: the input "
                     "alone; ST: the input with all its interactions. Estimates from "
                     "few draws can fall outside [0, 1]; the bootstrap interval says how "
                     "far.</p>" + "".join(
                         f'<p class="note warn">{esc(str(n))}</p>' for n in
                         ((r.summary.get("sobol") or {}).get("notes") or ())
                         if str(n).startswith("imprecise")) + tb.sobol(sob))
    if (dv := r.tables.get("drivers")) is not None and "input" in dv:
        parts.append(f"<h3>Drivers of {esc(ev)}: the inputs whose distribution moves "
                     "most among the draws with it (ranked by KS distance)</h3>"
                     + tb.drivers(dv, ev))
    return "".join(parts)
