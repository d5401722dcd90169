"""The planner's redraw latency at 2^16 draws, and its compilations, on a warm engine.

A control change in the page is: the request (the view's --set items), the engine's
answer (probmodel run's summary at 2^16 draws, charts from every draw), the JSON back,
and the page drawn. Reported apart, medians and 95th percentiles over N changes:

- server: the engine's milliseconds for one answer (``timing.server_ms``);
- round trip: fetch sent to JSON parsed, in the browser;
- drawn: the page's render after the JSON (headline, tables, four plotly charts);
- change to drawn: the whole of it, as a user sees it.

Each change moves one law's handle or a fixed value to a new number (never a value
seen before, so no cache can answer); the engine must not compile anything for them.

    python benchmarks/bench_planner.py [N]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "priors" / "deepseek-adjusted.toml"


def _pct(xs, q):
    return float(np.percentile(np.asarray(xs, float), q))


def main(n: int = 40) -> dict:
    from probmodel.planner.engine import CompileCounter
    from probmodel.planner.live import LivePage
    from probmodel.planner.server import running
    from probmodel.report.browser import Chromium

    load = os.getloadavg()[0]
    with running([SCENARIO]) as url, Chromium() as browser:
        with LivePage(browser, url + "?scenario=deepseek-adjusted") as pg:
            t0 = time.perf_counter()
            pg.wait("document.body.dataset.ready === '1'", 300)
            first = time.perf_counter() - t0
            # warm: one change of each kind the loop makes
            for label, value in (("pay_rate.p95", "0.69"), ("nodes_avg", "221")):
                k = pg.answers()
                pg.set_control(label, value)
                pg.wait(f"Number(document.body.dataset.answers) > {k}", 120)
            c0 = CompileCounter.count()
            pg.eval("window.plannerTimings.length = 0")
            walls = []
            for i in range(n):
                label, value = (("pay_rate.p95", f"{0.55 + 0.004 * i:.3f}") if i % 2 == 0
                                else ("nodes_avg", str(200 + i)))
                k = pg.answers()
                t = time.perf_counter()
                pg.set_control(label, value)
                pg.wait(f"Number(document.body.dataset.answers) > {k}", 120)
                walls.append(1e3 * (time.perf_counter() - t))
            timings = pg.eval("JSON.stringify(window.plannerTimings)")
            compiles = CompileCounter.count() - c0
            errors = pg.errors()
    # a change redraws once (the page's own answer), then reloads the controls: the
    # timings list holds one entry per change
    t = json.loads(timings)[:n]
    server = [x["server_ms"] for x in t]
    fetch = [x["fetch_ms"] for x in t]
    render = [x["render_ms"] for x in t]
    total = [x["total_ms"] for x in t]
    out = {
        "changes": n, "draws": 65536, "load_average": round(load, 2),
        "first_page_s": round(first, 2), "compilations_during_changes": compiles,
        "server_ms": {"median": _pct(server, 50), "p95": _pct(server, 95)},
        "round_trip_ms": {"median": _pct(fetch, 50), "p95": _pct(fetch, 95)},
        "render_ms": {"median": _pct(render, 50), "p95": _pct(render, 95)},
        "change_to_drawn_ms": {"median": _pct(total, 50), "p95": _pct(total, 95)},
        "change_to_controls_ms": {"median": _pct(walls, 50), "p95": _pct(walls, 95)},
        "page_errors": errors,
    }
    print(f"planner, {SCENARIO.name}, 2^16 draws, {n} changes (load average {load:.2f}); "
          f"first page {first:.1f} s (compiles)")
    print("| step | median ms | 95th percentile ms |")
    print("|---|---|---|")
    for key, label in (("server_ms", "server (engine answer)"),
                       ("round_trip_ms", "browser round trip (fetch to JSON)"),
                       ("render_ms", "page drawn after the JSON"),
                       ("change_to_drawn_ms", "change to answer drawn"),
                       ("change_to_controls_ms", "change to controls redrawn too")):
        print(f"| {label} | {out[key]['median']:.0f} | {out[key]['p95']:.0f} |")
    print(f"compilations during the {n} changes: {compiles}")
    if errors:
        print(f"page errors: {errors}")
    return out


if __name__ == "__main__":
    res = main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
    path = ROOT / "benchmarks" / "results" / "planner.json"
    path.write_text(json.dumps(res, indent=1) + "\n")
