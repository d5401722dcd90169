"""The planner's web app: one page and the JSON API it uses (Starlette, served by uvicorn).

Why Starlette with plotly.js, not Panel: the page needs a dozen JSON endpoints that
scripts can call too (the API is the product, the page one client of it), the engine's
answer is already a JSON summary, and a redraw must cost the engine's ~0.1 s, not a
widget framework's round trips. Starlette is a small, well-kept ASGI toolkit; uvicorn
its standard server; plotly.js (shipped inside the plotly Python package) draws
interactive charts. Every script and stylesheet is served from installed packages:
the page works offline and asks nothing of any other host.

Endpoints (docs/planner.md gives a run of each):

=====================  ==========================================================
GET  /                 the page (its URL's query carries the view: scenario, set, event, seed)
GET  /api/scenarios    the scenarios offered
POST /api/controls     {scenario, sets} -> every input as a control, the pickers
POST /api/run          {scenario, sets, events, seed, draws} -> probmodel run --json + charts
POST /api/compare      {a: {...}, b: {...}, output} -> probmodel compare's JSON (paired draws)
POST /api/solve        {scenario, sets, seed, draws, vary, target} -> probmodel solve's JSON
POST /api/frontier     {scenario, sets, seed, draws, slo: [...], chips} -> frontier JSON
POST /api/save         {scenario, sets, name} -> a new scenario file (never overwrites)
POST /api/report       {scenario, sets, events, seed, draws} -> a run folder and its report
POST /api/refine       as /api/run with 2^20 draws, in the background -> {job}
GET  /api/jobs/{id}    a background job: draws done of the total, then its answer
GET  /reports/{id}     a report the server wrote
=====================  ==========================================================

Errors are ``{"error": one line, "param": the control it is about}`` with status 400;
anything unexpected is logged and answered with status 500, and the server goes on.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from probmodel.planner.engine import (
    REFINE_DRAWS,
    Planner,
    PlannerError,
    Request,
    request_from,
    save_scenario,
)

log = logging.getLogger("probmodel.planner")

#: The longest request body read (a view is a few kB).
MAX_BODY = 256 * 1024
#: The most draws of a frontier from the page or the API (a CLI run may take more).
FRONTIER_MAX_DRAWS = 65_536


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _static(name: str) -> Path:
    return Path(str(resources.files("probmodel.planner") / "static" / name))


def _clean(body: Any) -> Any:
    from probmodel import runs

    return runs.clean(body)


class Jobs:
    """Background computations (refine, report) with their progress, polled by the page."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, what: str, total: int, work) -> str:
        """Run ``work(progress)`` in a thread; ``progress(done)`` updates the job."""
        jid = str(next(self._ids))
        job = {"id": jid, "what": what, "state": "running", "done": 0, "total": total,
               "started": time.time()}
        with self._lock:
            self._jobs[jid] = job

        def progress(done: int) -> None:
            job["done"] = int(done)
            log.info("%s: %s of %s draws", what, f"{int(done):,}", f"{total:,}")

        def run() -> None:
            try:
                job["result"] = _clean(work(progress))
                job["state"] = "done"
            except PlannerError as e:
                job.update(state="error", error=str(e), param=e.param)
            except Exception as e:  # a job must end, and say why
                log.exception("%s failed", what)
                job.update(state="error", error=f"internal error: {type(e).__name__}: {e}")
            job["seconds"] = round(time.time() - job["started"], 2)
            log.info("%s: %s in %.2f s", what, job["state"], job["seconds"])

        threading.Thread(target=run, name=f"planner-job-{jid}", daemon=True).start()
        return jid

    def get(self, jid: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(jid)
        return None if job is None else dict(job)


def create_app(planner: Planner, runs_dir: Path | None = None) -> Starlette:
    """The Starlette app of ``planner``; run folders of reports go to ``runs_dir``."""
    from probmodel import runs

    runs_dir = runs_dir or runs.RUNS_DIR
    jobs = Jobs()
    reports: dict[str, Path] = {}
    report_ids = itertools.count(1)

    async def body_of(req: HttpRequest) -> dict[str, Any]:
        import json

        raw = await req.body()
        if len(raw) > MAX_BODY:
            raise PlannerError(f"the request body is over {MAX_BODY // 1024} kB")
        try:
            body = json.loads(raw or b"{}")
        except ValueError as e:
            raise PlannerError(f"the request body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise PlannerError("the request body must be a JSON object")
        return body

    def endpoint(fn, method: str = "POST"):
        async def handle(req: HttpRequest) -> Response:
            from starlette.concurrency import run_in_threadpool

            t0 = time.perf_counter()
            try:
                body = await body_of(req) if method == "POST" else dict(req.path_params)
                out = await run_in_threadpool(fn, body)
                status = 200
            except PlannerError as e:
                out, status = {"error": str(e), "param": e.param}, 400
            except Exception as e:  # never a crashed server: log it, answer, go on
                log.exception("%s %s failed", method, req.url.path)
                out = {"error": f"internal error: {type(e).__name__}: {e}", "param": None}
                status = 500
            log.info("%s %s %d %.0f ms", method, req.url.path, status,
                     1e3 * (time.perf_counter() - t0))
            if isinstance(out, Response):
                return out
            return JSONResponse(_clean(out), status_code=status)

        return handle

    def controls(body):
        return planner.controls(request_from(body))

    def run(body):
        return planner.answer(request_from(body))

    def compare(body):
        a, b = body.get("a"), body.get("b")
        if not isinstance(a, dict) or not isinstance(b, dict):
            raise PlannerError("compare: give two views, a and b", "compare")
        output = body.get("output", "margin")
        if not isinstance(output, str):
            raise PlannerError("output: the name of an output, e.g. margin", "compare")
        ra = request_from(a)
        rb = request_from({**b, "seed": ra.seed, "draws": ra.draws})
        return planner.compare(ra, rb, output)

    def solve(body):
        vary, target = body.get("vary"), body.get("target")
        if not isinstance(vary, str) or not vary.strip():
            raise PlannerError("--vary: give the input to solve for (NAME or NAME=LO:HI)",
                               "vary")
        if not isinstance(target, str) or not target.strip():
            raise PlannerError("--target: give what must hold, e.g. 'P(profit > 0) >= 0.9'",
                               "target")
        return planner.solve(request_from(body), vary, target)

    def frontier(body):
        slo = body.get("slo") or []
        if isinstance(slo, str):
            slo = [slo]
        chips = body.get("chips")
        if not isinstance(slo, list) or not all(isinstance(s, str) for s in slo) or (
                chips is not None and not isinstance(chips, str)):
            raise PlannerError("slo: a list like ['interactivity >= 20', 'ttft <= 2'];"
                               " chips: 'H20,H200'", "slo")
        req = request_from(body, 4096)
        if req.draws > FRONTIER_MAX_DRAWS:  # 70 physics evaluations per draw and chip
            raise PlannerError(f"draws: at most {FRONTIER_MAX_DRAWS:,} for a frontier here "
                               f"(probmodel frontier -n takes more), not {req.draws:,}",
                               "slo")
        return planner.frontier(req, slo, chips or None, req.draws)

    def save(body):
        return save_scenario(planner, request_from(body), body.get("name"))

    def report(body):
        req = request_from(body)
        planner.scenario(req)  # a bad view is refused before a job starts

        def work(progress):
            from probmodel.report import write_report

            run_dir = planner.run_folder(req, runs_dir, progress)
            rid = str(next(report_ids))
            reports[rid] = write_report(run_dir)
            return {"run_dir": str(run_dir), "report": f"/reports/{rid}"}

        return {"job": jobs.start("report", req.draws, work)}

    def refine(body):
        req = request_from({**body, "draws": body.get("draws", REFINE_DRAWS)})
        planner.scenario(req)
        return {"job": jobs.start(f"refine {req.scenario}", req.draws,
                                  lambda progress: planner.answer(req, progress=progress))}

    def job(params):
        got = jobs.get(params["jid"])
        if got is None:
            raise PlannerError(f"no job {params['jid']}")
        return got

    def scenarios(_):
        return {"scenarios": planner.scenario_list()}

    def report_page(params):
        path = reports.get(params["rid"])
        if path is None:
            raise PlannerError(f"no report {params['rid']}")
        return FileResponse(path, media_type="text/html")

    async def page(_req: HttpRequest) -> Response:
        return FileResponse(_static("index.html"), media_type="text/html")

    async def static(req: HttpRequest) -> Response:
        name = req.path_params["name"]
        files = {"planner.js": (_static("planner.js"), "text/javascript"),
                 "planner.css": (_static("planner.css"), "text/css"),
                 "plotly.min.js": (_plotly_js(), "text/javascript")}
        if name not in files:
            return JSONResponse({"error": f"no file {name}"}, status_code=404)
        path, media = files[name]
        return FileResponse(path, media_type=media,
                            headers={"Cache-Control": "max-age=3600"})

    async def favicon(_req: HttpRequest) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/", page), Route("/favicon.ico", favicon),
        Route("/static/{name}", static),
        Route("/api/scenarios", endpoint(scenarios, "GET")),
        Route("/api/controls", endpoint(controls), methods=["POST"]),
        Route("/api/run", endpoint(run), methods=["POST"]),
        Route("/api/compare", endpoint(compare), methods=["POST"]),
        Route("/api/solve", endpoint(solve), methods=["POST"]),
        Route("/api/frontier", endpoint(frontier), methods=["POST"]),
        Route("/api/save", endpoint(save), methods=["POST"]),
        Route("/api/report", endpoint(report), methods=["POST"]),
        Route("/api/refine", endpoint(refine), methods=["POST"]),
        Route("/api/jobs/{jid}", endpoint(job, "GET")),
        Route("/reports/{rid}", endpoint(report_page, "GET")),
    ]
    return Starlette(routes=routes)


__all__ = ["Request", "create_app"]
