"""The sensitivity and calibration CSVs as a reader wants them: labels, units, percentages.

Each table names its columns in words with their unit, shows shares and probabilities
in %, a change of a share in percentage points (pp), ranks and counts as integers,
and a diagnostic's verdict as "passes" or "FAILS" (never ``ok True``).
"""

from __future__ import annotations

import pandas as pd

from probmodel.report import numbers as nb
from probmodel.report.folder import finite
from probmodel.report.html import esc, linkify, table


def _unit_of(row, unit_col: str | None) -> str | None:
    u = row.get(unit_col) if unit_col else None
    return None if u is None or (isinstance(u, float) and u != u) else str(u)


def _val(name: str, unit: str | None, x, digits: int = 3, share: str = "%") -> str:
    """A value of quantity ``name`` in its display unit, with the unit (``share`` for %)."""
    v = finite(x)
    if v is None:
        return "–"
    shown = nb.scale(name, unit)[1]
    return (f"{nb.show(name, unit, v, digits)}"
            f"{('' if share == '%' else ' ') + share if shown == '%' else ' ' + shown}")


def _delta(name: str, unit: str | None, x) -> str:
    """A difference of ``name``: percentage points for a share, else its display unit."""
    return _val(name, unit, x, 3, share="pp")


def output_swing(output: str, unit: str | None, x) -> str:
    """``165 pp`` for a margin's swing; ``92.1 $k/day`` for a profit's."""
    return _delta(output, unit, x)


def _interval(name: str, unit: str | None, lo, mid, hi) -> str:
    return (f"{_val(name, unit, mid)} [{nb.show(name, unit, finite(lo))}, "
            f"{nb.show(name, unit, finite(hi))}]")


def tornado(df: pd.DataFrame, output: str, out_unit: str | None) -> str:
    """Each input at its 5% and 95% quantiles, the others at their point values."""
    rows = []
    for _, r in df.iterrows():
        n, u = str(r["input"]), _unit_of(r, "units")
        rows.append([n, _val(n, u, r.get("input_p05")), _val(n, u, r.get("input_p95")),
                     _val(output, out_unit, r.get(f"{output}_at_p05")),
                     _val(output, out_unit, r.get(f"{output}_at_p95")),
                     output_swing(output, out_unit, r.get("swing"))])
    return table(["input", "input at its 5% quantile", "input at its 95% quantile",
                  f"{output} with the input at 5%", f"{output} with the input at 95%",
                  f"swing of {output} (95% minus 5%)"], rows, [False, *[True] * 5])


def sobol(df: pd.DataFrame) -> str:
    """First-order and total Sobol indices with their bootstrap intervals."""
    def ix(r, k):
        v, lo, hi = (finite(r.get(x)) for x in (k, f"{k}_lower", f"{k}_upper"))
        return ("–" if v is None else
                f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None
                else f"{v:.2f}")

    rows = [[str(r["input"]), ix(r, "S1"), ix(r, "ST")] for _, r in df.iterrows()]
    return table(["input", "first-order index S1 [95% bootstrap interval]",
                  "total index ST [95% bootstrap interval]"], rows, [False, True, True])


def drivers(df: pd.DataFrame, event: str) -> str:
    """Inputs ranked by how far their distribution moves among the draws with the event."""
    rows = []
    for _, r in df.iterrows():
        n, u = str(r["input"]), _unit_of(r, "units")
        rank = finite(r.get("rank"))
        shift = finite(r.get("shift_of_90pct_width"))
        rows.append([f"{int(rank)}" if rank is not None else "", n,
                     _val(n, u, r.get("median_all")),
                     nb.with_mcse(n, u, finite(r.get("median_event")),
                                  finite(r.get("median_event_mcse")))
                     + ("%" if nb.scale(n, u)[1] == "%" else f" {nb.scale(n, u)[1]}"),
                     _delta(n, u, r.get("median_shift")),
                     "–" if shift is None else f"{100 * shift:+.0f}%",
                     nb.number(finite(r.get("ks_distance")), 2),
                     "–" if finite(r.get("rank_corr_with_output")) is None
                     else f"{float(r['rank_corr_with_output']):+.2f}"])
    return table(["rank", "input", "median over all draws",
                  f"median among draws with {event} ± MCSE", "shift of the median",
                  "shift as a share of the input's 90% width",
                  "KS distance (0 = same distribution, 1 = disjoint)",
                  "rank correlation with the output"], rows,
                 [True, False, True, True, True, True, True, True], keys=2)


def _verdict(ok) -> str:
    return "passes" if str(ok).lower() in ("true", "1") else "FAILS"


def diagnostics(df: pd.DataFrame) -> str:
    """r-hat, bulk and tail ESS and divergences per parameter, with the verdict."""
    rows, classes = [], []
    for _, r in df.iterrows():
        ints = [finite(r.get(k)) for k in ("ess_bulk", "ess_tail", "divergences")]
        rhat = finite(r.get("r_hat"))
        rows.append([str(r["parameter"]), "–" if rhat is None else f"{rhat:.3f}",
                     *("–" if v is None else f"{v:,.0f}" for v in ints),
                     _verdict(r.get("ok"))])
        classes.append("fail" if rows[-1][-1] == "FAILS" else "")
    return table(["parameter", "r-hat (split)", "bulk ESS (draws)", "tail ESS (draws)",
                  "divergent transitions", "verdict"], rows,
                 [False, True, True, True, True, False], classes)


def prior_posterior(df: pd.DataFrame) -> str:
    """Each quantity's prior and posterior median [90% interval] and the shrinkage."""
    rows = []
    for _, r in df.iterrows():
        n, u = str(r["variable"]), _unit_of(r, "units")
        shrink = finite(r.get("shrinkage"))
        rows.append([n, str(r.get("role", "")),
                     _interval(n, u, r.get("prior_q05"), r.get("prior_q50"), r.get("prior_q95")),
                     _interval(n, u, r.get("posterior_q05"), r.get("posterior_q50"),
                               r.get("posterior_q95")),
                     "–" if shrink is None else f"{100 * shrink:.0f}%",
                     "yes" if str(r.get("observed")).lower() == "true" else "no"])
    return table(["quantity", "role", "prior: median [90% interval]",
                  "posterior: median [90% interval]",
                  "shrinkage (1 - posterior / prior variance)", "observed"], rows,
                 [False, False, True, True, True, False])


def posterior_predictive(df: pd.DataFrame) -> str:
    """Each observation against its replications under the posterior."""
    rows = []
    for _, r in df.iterrows():
        n = str(r["observation"])
        tail = finite(r.get("pp_tail_prob"))
        rows.append([n, esc(f"{r.get('kind', '')} ({r.get('noise', '')})"),
                     nb.number(finite(r.get("value")), 4),
                     f"{nb.number(finite(r.get('pp_q50')), 4)} "
                     f"[{nb.number(finite(r.get('pp_q05')), 4)}, "
                     f"{nb.number(finite(r.get('pp_q95')), 4)}]",
                     "–" if tail is None else f"{100 * tail:.0f}%",
                     linkify(r.get("source", ""))])
    return table(["observation", "likelihood (noise)", "observed value (as written)",
                  "replicated: median [90% interval]",
                  "tail probability (small: the model misses the data)", "source"],
                 [[esc(c) if j in (0, 2, 3, 4) else c for j, c in enumerate(row)]
                  for row in rows], [False, False, True, True, True, False], raw=True)
