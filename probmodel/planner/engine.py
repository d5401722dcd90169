"""The planner's engine: a scenario and ``--set`` items in, the answer of ``probmodel run``.

Every request names a scenario and a list of ``--set`` items, written exactly as on the
command line (``pay_rate.p95=0.7``, ``users=3e7``, ``chip=H200``); they are parsed and
applied by the CLI's own code (:func:`probmodel.cli.load`'s steps), and the draws come
from :func:`probmodel.api.summarise`, the computation of ``probmodel run``. So a view of
the planner and ``probmodel run FILE --set ... --seed S --draws N --json`` give the same
numbers, bit for bit.

Speed: the compiled program of a scenario depends on its structure only (which inputs
are uncertain, their families, which outputs follow); the numbers (a law's parameters,
a fixed value, event thresholds) are runtime arguments
(:meth:`probmodel.sampling.ForwardModel.args`). Moving a control therefore reuses the
compiled program; :class:`CompileCounter` counts XLA compilations so that the tests and
the benchmark can say so.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probmodel import catalog, fmt
from probmodel.errors import ProbmodelError, ScenarioError, clip
from probmodel.spec import Scenario, parse_overrides, read_scenario

#: Draws of an answer (2^16): the planner redraws at this size after every change.
DRAWS = 65_536
#: Draws of a "refine" run (2^20), on demand.
REFINE_DRAWS = 1_048_576
#: The most draws a request may ask for.
MAX_DRAWS = 1 << 24
#: Outputs drawn as distributions on the page (when the scenario computes them).
CHART_OUTPUTS = ("profit", "margin")
#: Inputs shown in the tornado (the largest rank correlations with profit).
TORNADO_TOP = 10
#: Draws the tornado's rank correlations use (the first ones).
TORNADO_DRAWS = 16_384


class CompileCounter:
    """Counts XLA compilations (and compilation-cache loads) of this process.

    Listens to :mod:`jax.monitoring`'s backend-compile events: one per program compiled,
    whether it is then found in the persistent compilation cache or not.
    """

    _lock = threading.Lock()
    _count = 0
    _installed = False

    @classmethod
    def install(cls) -> None:
        """Start counting (once per process)."""
        import jax.monitoring

        with cls._lock:
            if cls._installed:
                return
            cls._installed = True

        def listen(event: str, duration: float, **_kw) -> None:
            if event.endswith("backend_compile_duration"):
                with cls._lock:
                    cls._count += 1

        jax.monitoring.register_event_duration_secs_listener(listen)

    @classmethod
    def count(cls) -> int:
        """Compilations so far."""
        return cls._count


class PlannerError(ProbmodelError):
    """A bad request: one line for the page, and the control it is about (if any)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def one_line(e: Exception) -> str:
    """The CLI's message of a user error, as one line (several problems joined by ';')."""
    if isinstance(e, ScenarioError):
        return clip("; ".join(e.lines()))
    return clip(str(e))


def _param_of(message: str, names: Sequence[str]) -> str | None:
    """The parameter a message is about: the first of ``names`` it mentions."""
    best = None
    for n in names:
        i = message.find(n)
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(n) > len(best[1]))):
            best = (i, n)
    return best[1] if best else None


@dataclass(frozen=True)
class Request:
    """What every answer depends on: the scenario, its ``--set`` items, seed and draws."""

    scenario: str
    sets: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    seed: int = 0
    draws: int = DRAWS


def request_from(body: Mapping[str, Any], default_draws: int = DRAWS) -> Request:
    """A :class:`Request` from a JSON body; a wrong type is one line, not a traceback."""
    if not isinstance(body, Mapping):
        raise PlannerError("the request body must be a JSON object")

    def strings(key: str) -> tuple[str, ...]:
        v = body.get(key) or []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise PlannerError(f"{key}: a list of strings, like the CLI's --{key[:-1]} items")
        return tuple(s.strip() for s in v if s.strip())

    name = body.get("scenario")
    if not isinstance(name, str) or not name:
        raise PlannerError("scenario: give the name of a scenario (GET /api/scenarios)")
    seed, draws = body.get("seed", 0), body.get("draws", default_draws)
    for key, v, lo, hi in (("seed", seed, 0, 2**31 - 1), ("draws", draws, 1, MAX_DRAWS)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise PlannerError(f"{key}: an integer from {lo:,} to {hi:,}, not {v!r}")
    return Request(name, strings("sets"), strings("events"), seed, draws)


class Planner:
    """The scenarios a ``probmodel serve`` offers, and every answer about them.

    One instance per server; its methods are called from several request threads at
    once, and the computations run one at a time (a lock): on two cores a second
    computation in parallel only slows both.
    """

    def __init__(self, files: Sequence[Path], save_dir: Path | None = None):
        self.files: dict[str, Path] = {}
        for f in files:
            name = Path(f).name.removesuffix(".toml")
            if name not in self.files:
                self.files[name] = Path(f)
        self.save_dir = save_dir
        self._lock = threading.Lock()
        self._base: dict[str, tuple[float, Scenario]] = {}
        CompileCounter.install()

    # ------------------------------------------------------------------ scenarios
    def scenario_list(self) -> list[dict[str, Any]]:
        """Every scenario offered: name, title, file, whether it has serving physics."""
        out = []
        for name, path in self.files.items():
            try:
                sc = self.base(name)
            except PlannerError as e:
                out.append({"name": name, "file": str(path), "error": str(e)})
                continue
            out.append({"name": name, "title": sc.title, "file": str(path),
                        "serving": _is_serving(sc)})
        return out

    def base(self, name: str) -> Scenario:
        """The scenario ``name`` as its file says (re-read when the file changed)."""
        path = self.files.get(name)
        if path is None:
            from probmodel.spec.problems import did_you_mean

            raise PlannerError(f"scenario: unknown scenario '{clip(name)}'"
                               f"{did_you_mean(name, list(self.files))}")
        try:
            mtime = path.stat().st_mtime
        except OSError as e:
            raise PlannerError(f"{path}: cannot read: {e.strerror or e}") from None
        hit = self._base.get(name)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        try:
            sc = read_scenario(path)
        except ProbmodelError as e:
            raise PlannerError(one_line(e)) from None
        self._base[name] = (mtime, sc)
        return sc

    def scenario(self, req: Request) -> tuple[Scenario, list[str]]:
        """The scenario of ``req`` with its ``--set`` items applied, and any warnings.

        Raises
        ------
        PlannerError
            With the CLI's one-line message and the control it is about.
        """
        from probmodel.errors import InputWarning

        sc = self.base(req.scenario)
        if not req.sets:
            return sc, []
        asked = [s.split("=")[0].split(".")[0].strip() for s in req.sets]
        try:
            overrides = parse_overrides(list(req.sets))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                sc = sc.with_overrides(overrides)
        except ProbmodelError as e:
            msg = one_line(e)
            raise PlannerError(msg, _param_of(msg, asked)) from None
        return sc, [clip(str(w.message)) for w in caught if issubclass(w.category, InputWarning)]

    def controls(self, req: Request) -> dict[str, Any]:
        """Every input of the scenario as a control, and the catalog pickers."""
        sc, warns = self.scenario(req)
        params = [control(p, sc) for p in sc.parameters.values()]
        pickers = []
        for kind in catalog.SELECTORS:
            pick = catalog.current_pick(sc, kind)
            if pick is not None:
                pickers.append({"name": kind, "value": pick,
                                "options": list(catalog.entries(kind))})
        return {"scenario": req.scenario, "title": sc.title, "description": sc.description,
                "file": str(self.files[req.scenario]), "serving": _is_serving(sc),
                "controls": params, "pickers": pickers, "warnings": warns,
                "outputs": [o for o in _outputs(sc)]}

    # ------------------------------------------------------------------ answers
    def answer(self, req: Request, charts: bool = True, progress=None) -> dict[str, Any]:
        """``probmodel run --json``'s summary for ``req`` (no run folder), with the charts.

        The keys of ``probmodel run --json`` (less ``run_dir``), then ``charts``
        (histograms, the exceedance curve and the tornado, from every draw),
        ``warnings`` and ``timing`` (server milliseconds and compilations so far).
        """
        from probmodel import api
        from probmodel.analysis.targets import parse_events

        t0 = time.perf_counter()
        sc, warns = self.scenario(req)
        try:
            events = parse_events(list(req.events), sc)
        except ProbmodelError as e:
            raise PlannerError(one_line(e), "events") from None
        c0 = CompileCounter.count()
        with self._lock:
            try:
                _, ds, summary = api.summarise(sc, req.draws, req.seed, progress=progress,
                                               events=events)
            except ProbmodelError as e:
                raise PlannerError(one_line(e)) from None
        body = api.run_json(summary, sc.name, req.seed)
        body["display"] = {k: list(fmt.scale_for(k)) for k in summary.data_vars
                           if "stat" in summary[k].dims}
        if charts:
            body["charts"] = chart_data(ds, sc)
        body["warnings"] = warns
        body["timing"] = {"server_ms": round(1e3 * (time.perf_counter() - t0), 1),
                          "compilations": CompileCounter.count() - c0,
                          "compilations_total": CompileCounter.count()}
        return body

    def run_folder(self, req: Request, runs_dir: Path, progress=None) -> Path:
        """``probmodel run``'s run folder for ``req`` (under ``runs_dir``); its path."""
        from probmodel import api
        from probmodel.analysis.targets import parse_events

        sc, _ = self.scenario(req)
        try:
            events = parse_events(list(req.events), sc)
            with self._lock:
                return api.run(sc, req.draws, req.seed, progress=progress,
                               runs_dir=runs_dir, events=events).run_dir
        except ProbmodelError as e:
            raise PlannerError(one_line(e)) from None

    def compare(self, a: Request, b: Request, output: str = "margin") -> dict[str, Any]:
        """A vs B on common random numbers: ``probmodel compare``'s JSON summary.

        The two are named ``A: <scenario>`` and ``B: <scenario>`` (they may be one file
        with different settings).
        """
        from dataclasses import replace

        from probmodel.analysis import compare as cmp
        from probmodel.analysis.targets import check_output_name

        sa, _ = self.scenario(a)
        sb, _ = self.scenario(b)
        sa = replace(sa, name=f"A: {sa.name}")
        sb = replace(sb, name=f"B: {sb.name}")
        try:
            for s in (sa, sb):
                check_output_name(s, output, "output")
            with self._lock:
                res = cmp.compare([sa, sb], output, a.draws, a.seed)
        except ProbmodelError as e:
            raise PlannerError(one_line(e)) from None
        body = cmp.json_summary(res)
        div, unit = fmt.scale_for(output)
        body["ecdf"] = {"label": fmt.label(output), "unit": unit,
                        "levels": res.ecdf["level"].values.tolist(),
                        "x": {n: (res.ecdf[output].sel(scenario=n).values / div).tolist()
                              for n in res.names}}
        return body

    def solve(self, req: Request, vary: str, target: str) -> dict[str, Any]:
        """Goal seek: ``probmodel solve --vary VARY --target TARGET``'s JSON summary."""
        from probmodel.analysis import solve as so
        from probmodel.analysis import targets as tg

        sc, _ = self.scenario(req)
        try:
            tgt = tg.parse_target(target, sc)
            name, rng = tg.parse_vary(vary)
            tg.check_vary(sc, name, tgt)
            if rng is not None:
                tg.check_range(sc, name, *rng)
            with self._lock:
                res = so.solve(sc, name, tgt, req.draws, req.seed, rng, [])
        except ProbmodelError as e:
            msg = one_line(e)
            raise PlannerError(msg, "target" if msg.startswith("--target") else "vary") \
                from None
        return so.json_summary(res)

    def frontier(self, req: Request, slos: Sequence[str], chips: str | None = None,
                 draws: int = 4096) -> dict[str, Any]:
        """``probmodel frontier``'s JSON summary and each chip's band (for the chart)."""
        from probmodel.analysis import frontier as fr

        sc, _ = self.scenario(req)
        try:
            fr.check_serving(sc)
            slo = fr.parse_slos(list(slos), sc)
            chip_list = fr.parse_chips(chips, sc)
            with self._lock:
                res = fr.frontier(sc, chip_list, slo, draws, req.seed)
        except ProbmodelError as e:
            raise PlannerError(one_line(e), "slo") from None
        body = fr.json_summary(res)
        bands = fr.band_table(res)
        body["bands"] = bands.to_dict(orient="records")
        return body


def _is_serving(sc: Scenario) -> bool:
    return "slo_interactivity" in sc.parameters


def _outputs(sc: Scenario) -> list[str]:
    from probmodel.model import plan

    available = set(sc.parameters) | ({"prices"} if sc.prices is not None else set())
    return [n.name for n in plan(available)]


def control(p, sc: Scenario) -> dict[str, Any]:
    """One input as a control: its law and 5/50/95% handles, or its fixed value.

    ``density`` is the law's density at 48 points between its 0.5% and 99.5% quantiles
    (in display units), drawn beside the control.
    """
    from probmodel import distributions as dists

    div, unit = fmt.scale_for(p.name)
    c: dict[str, Any] = {"name": p.name, "unit": p.unit, "display_unit": unit,
                         "scale": div, "source": p.source, "description": p.description,
                         "point": p.point,
                         "overridden": p.name in sc.overrides or any(
                             k.split(".")[0] == p.name for k in sc.law_overrides),
                         "correlated": any(p.name in (c.a, c.b) for c in sc.correlations)}
    if p.is_fixed:
        c.update(kind="value", value=p.point, value_text=f"{p.point:.7g}")
        return c
    q = [float(v) for v in dists.quantile(p.dist, dict(p.params), [0.005, 0.05, 0.5, 0.95,
                                                                    0.995])]
    x = np.linspace(q[0], q[4], 48)
    with np.errstate(all="ignore"):
        y = dists.scipy_dist(p.dist, dict(p.params)).pdf(x)
    y = np.where(np.isfinite(y), y, 0.0)
    native = ", ".join(f"{k}={v:.6g}" for k, v in p.params.items())
    c.update(kind="law", dist=p.dist, params={k: float(v) for k, v in p.params.items()},
             law=f"{p.dist}({native})", p05=q[1], p50=q[2], p95=q[3],
             p05_text=f"{q[1]:.6g}", p95_text=f"{q[3]:.6g}",
             density={"x": (x / div).tolist(), "y": (y / max(float(y.max()), 1e-300)).tolist()})
    return c


def chart_data(ds, sc: Scenario) -> dict[str, Any]:
    """Histograms of profit and margin, profit's exceedance curve and the tornado.

    Histograms and the exceedance curve from every kept draw (every draw at the
    planner's sizes), in display units (:func:`probmodel.fmt.scale_for`: $k/day, %).
    The tornado is the Spearman rank correlation of each uncertain input with profit,
    the sensitivity chart Crystal Ball users know (:func:`tornado`).
    """
    out: dict[str, Any] = {}
    for name in CHART_OUTPUTS:
        if name not in ds:
            continue
        div, unit = fmt.scale_for(name)
        x = np.asarray(ds[name].values, np.float64).ravel() / div
        x = x[np.isfinite(x)]
        lo, hi = np.quantile(x, [0.002, 0.998])
        if not hi > lo:
            lo, hi = lo - 1.0, hi + 1.0
        counts, edges = np.histogram(np.clip(x, lo, hi), bins=60, range=(lo, hi))
        out[name] = {"unit": unit, "label": fmt.label(name), "edges": edges.tolist(),
                     "density": (counts / (x.size * np.diff(edges))).tolist(),
                     "clipped_share": float(np.mean((x < lo) | (x > hi)))}
        if name == "profit":
            s = np.sort(x)
            grid = np.linspace(lo, hi, 121)
            exceed = 1.0 - np.searchsorted(s, grid, side="right") / s.size
            out["exceedance"] = {"unit": unit, "label": fmt.label(name),
                                 "x": grid.tolist(), "p": exceed.tolist()}
    if "profit" in ds:
        out["tornado"] = tornado(ds, sc)
    return out


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, standardised (mean 0, sd 1; ties broken by position)."""
    order = np.argsort(x, axis=-1)
    r = np.empty(x.shape, np.float32)
    np.put_along_axis(r, order, np.arange(x.shape[-1], dtype=np.float32)[None, :]
                      if x.ndim == 2 else np.arange(x.shape[-1], dtype=np.float32), axis=-1)
    n = x.shape[-1]
    return (r - (n - 1) / 2) / np.float32(np.sqrt((n * n - 1) / 12))


def tornado(ds, sc: Scenario, output: str = "profit") -> list[dict[str, Any]]:
    """Spearman rank correlation of each uncertain input with ``output``, largest first.

    From the first :data:`TORNADO_DRAWS` draws: ranking is the planner's costliest
    summary (a sort per input), and at 16,384 draws the standard error of a rank
    correlation is below 0.008, finer than the chart shows.
    """
    m = TORNADO_DRAWS
    names = [k for k in sc.uncertain
             if k in ds and float(ds[k].values.ravel()[:m].std()) > 0]
    if not names:
        return []
    y = _ranks(np.asarray(ds[output].values).ravel()[:m])
    x = _ranks(np.stack([np.asarray(ds[k].values).ravel()[:m] for k in names]))
    rho = (x @ y) / y.size
    rows = [{"name": k, "spearman": float(r)} for k, r in zip(names, rho, strict=True)
            if math.isfinite(float(r))]
    rows.sort(key=lambda r: -abs(r["spearman"]))
    return rows[:TORNADO_TOP]


def _check_name(name: Any) -> str:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}", name):
        raise PlannerError("name: letters, digits, '-', '_' and '.', at most 81 characters, "
                           "starting with a letter or digit", "name")
    return name.removesuffix(".toml")


def save_scenario(planner: Planner, req: Request, name: Any) -> dict[str, Any]:
    """Write ``req``'s scenario as a new TOML file that extends its file.

    The file holds the changed tables only (``extends`` the original, so sources stay
    with their file); it is validated by reading it back as ``probmodel check`` does,
    and it is created only when no file of that name exists (never overwritten).
    """
    from probmodel.planner.saving import write_scenario

    name = _check_name(name)
    if name in planner.files:
        raise PlannerError(f"save: {name} is a scenario offered here already (choose a new "
                           "name)", "name")
    sc, _ = planner.scenario(req)
    base = planner.files[req.scenario]
    folder = planner.save_dir or base.parent
    target = folder / f"{name}.toml"
    out = write_scenario(sc, base, target, req.sets)
    planner.files[name] = target  # offered from now on, as the files given are
    out["scenario"] = name
    return out

