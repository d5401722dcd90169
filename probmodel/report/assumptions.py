"""Every assumption of a run, from the scenario files copied into its folder.

The distribution and source are taken from the TOML exactly as written (the reader sees
what the analyst wrote); the 5%, 50% and 95% quantiles are those of the law the engine
sampled, obtained by reading the copied scenario back with probmodel's own parser. When
that parser no longer accepts an old file, the written p05/p95 (if any) are shown and the
report says so, rather than failing to report an existing run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from probmodel.report.folder import RunFolder, scenario_subfolder

_META = ("dist", "point", "unit", "source", "value", "description")


@dataclass(frozen=True)
class Assumption:
    """One parameter as the run used it."""

    name: str
    distribution: str  # "Beta(mean=0.35, sd=0.13)" or "fixed"
    q05: float | None
    q50: float | None
    q95: float | None
    point: float | None
    unit: str
    source: str
    file: str
    swept: tuple[float, ...] = ()  # the values a sweep set it to (its law not used)


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def _written(table: dict[str, Any]) -> str:
    if "dist" not in table:
        return "fixed"
    args = ", ".join(f"{k}={_num(v)}" for k, v in table.items() if k not in _META)
    return f"{table['dist']}({args})"


def merged_parameters(run: RunFolder) -> dict[str, tuple[str, dict[str, Any]]]:
    """Parameter name -> (file, TOML table): a derived file replaces a parameter's whole table."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for fname, doc in reversed(run.scenario_tomls()):  # base first, derived last
        for name, table in (doc.get("parameters") or {}).items():
            if isinstance(table, dict):
                out[name] = (fname, table)
    return out


def _engine_quantiles(run: RunFolder) -> tuple[dict[str, tuple[float, float, float]], str]:
    """Quantiles of each uncertain parameter's law via probmodel's parser, and a note."""
    tomls = run.scenario_tomls()
    if not tomls:
        return {}, "no scenario file in the run folder"
    try:
        # Parser and law are probmodel's public API; imported here so that a report of
        # files alone (no scenario) never needs them.
        from probmodel import api
        from probmodel import distributions as dists
        from probmodel.spec import parse_overrides

        laws = parse_overrides([f"{k}={v}" for k, v in
                                (run.manifest.get("law_overrides") or {}).items()])
        sc = api.load_scenario(run.path / "scenario" / tomls[0][0], laws or None)
        out = {}
        for name, p in sc.uncertain.items():
            q = dists.quantile(p.dist, p.params, [0.05, 0.5, 0.95])
            out[name] = (float(q[0]), float(q[1]), float(q[2]))
        return out, ""
    except Exception as e:  # an old or foreign file must not stop the report
        return {}, (f"the copied scenario could not be read back ({type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''}); quantiles shown as written")


def assumptions(run: RunFolder) -> tuple[list[Assumption], str]:
    """Every parameter of the run's scenario with its law, quantiles and source.

    Returns
    -------
    (list of Assumption, str)
        Uncertain parameters first (in file order), then fixed ones; and a note (empty
        when the quantiles are the engine's).
    """
    quant, note = _engine_quantiles(run)
    overrides = run.manifest.get("overrides") or {}
    laws = run.manifest.get("law_overrides") or {}
    posterior = set(run.manifest.get("posterior_parameters") or [])
    grid = run.manifest.get("grid") or run.summary.get("grid") or {}
    grid = grid if isinstance(grid, dict) else {}
    rows: list[Assumption] = []
    for name, (fname, t) in merged_parameters(run).items():
        point = t.get("point", t.get("value"))
        point = float(point) if isinstance(point, int | float) else None
        dist = _written(t)
        q = quant.get(name)
        if q is None and "dist" in t:
            q = (t.get("p05"), t.get("p50"), t.get("p95"))
        source = str(t.get("source", ""))
        changed = {k: v for k, v in laws.items() if k == name or k.startswith(f"{name}.")}
        if name in overrides:
            dist, point, q = "fixed (override)", float(overrides[name]), None
            source = f"set on the command line: {name}={overrides[name]}; file: {source}"
        elif changed:
            sets = "; ".join(f"--set {k}={v}" for k, v in changed.items())
            dist, q = f"overridden ({sets})", quant.get(name)
            source = f"set on the command line: {sets}; file: {_written(t)}, {source}"
        elif name in grid:  # a sweep sets it to each grid value in turn
            swept = tuple(float(v) for v in grid[name])
            rows.append(Assumption(name, "swept", None, None, None, None,
                                   str(t.get("unit", "")),
                                   f"swept over the grid (the file's law, not used: "
                                   f"{_written(t)}); {source}", fname, swept))
            continue
        elif name in posterior:
            dist = f"posterior of {run.manifest.get('posterior_source', 'a calibration')}"
            source = f"calibration posterior (joint resampling); prior: {_written(t)}; {source}"
        q = q or (None, None, None)
        rows.append(Assumption(name, dist, *(_f(v) for v in q), point,
                               str(t.get("unit", "")), source, fname))
    rows.sort(key=lambda a: (not a.swept, a.distribution.startswith("fixed")))
    return rows, note


@dataclass(frozen=True)
class Columns:
    """A comparison's assumptions, one column per scenario (:func:`per_scenario`)."""

    scenarios: list[str]  # the column heads, in the comparison's order
    rows: list[dict]  # probmodel.analysis.diff.side_by_side's rows, differences first
    # (a, b) -> each scenario's Spearman rank between them (None where it has none)
    correlations: dict[tuple[str, str], list[float | None]]


def per_scenario(run: RunFolder) -> tuple[Columns | None, str]:
    """Each scenario of a comparison read back from its own copied files, side by side.

    The same code as ``probmodel diff`` (:func:`probmodel.analysis.diff.side_by_side`):
    every scenario is parsed from the copy of its own file in scenario/ (with the files
    it extends), so each column shows that scenario's law, never another file's. Returns
    (None, note) for a folder that is not a comparison of two or more scenarios, or
    whose copies cannot be read back.
    """
    scen = run.manifest.get("scenarios")
    if run.kind != "compare" or not isinstance(scen, dict) or len(scen) < 2:
        return None, ""
    try:
        from probmodel import api
        from probmodel.analysis.diff import side_by_side

        loaded = []
        for name, info in scen.items():
            head = next(iter((info or {}).get("files") or {}))
            sc = api.load_scenario(run.path / "scenario" / (scenario_subfolder(name) + head))
            if info.get("overrides"):
                sc = sc.with_overrides({k: float(v) for k, v in info["overrides"].items()})
            loaded.append(sc)
        pairs = dict.fromkeys(c.pair for sc in loaded for c in sc.correlations)
        ranks = {p: [next((c.rank for c in sc.correlations if c.pair == p), None)
                     for sc in loaded] for p in pairs}
        return Columns([str(n) for n in scen], side_by_side(loaded), ranks), ""
    except Exception as e:  # an old or foreign folder must not stop the report
        return as_written(run, scen), (
            f"the scenarios could not be read back by probmodel ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); each column shows its own files' "
            "laws as written")


def as_written(run: RunFolder, scen: dict) -> Columns:
    """Each scenario's parameters from its own copied files, laws as written (no parse)."""
    import tomllib

    merged = []
    for name, info in scen.items():
        files = list((info or {}).get("files") or {})
        params: dict[str, dict] = {}
        for f in reversed(files):  # base first, the scenario's own file last
            data = run.scenario_files.get(scenario_subfolder(name) + f)
            try:
                doc = tomllib.loads(data.decode("utf-8")) if data else {}
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                doc = {}
            for k, t in (doc.get("parameters") or {}).items():
                if isinstance(t, dict):
                    point = t.get("point", t.get("value"))
                    params[k] = {"law": _written(t), "median": None, "interval_90": [None, None],
                                 "point": _f(point), "unit": str(t.get("unit", "")),
                                 "source": str(t.get("source", "")), "file": f,
                                 "stated": "stated" if files and f == files[0] else
                                 "inherited"}
        merged.append(params)
    names = list(dict.fromkeys(k for m in merged for k in m))
    rows = []
    for k in names:
        sides = [m.get(k) for m in merged]
        key = [None if x is None else (x["law"], x["point"]) for x in sides]
        rows.append({"name": k, "differs": len(set(key)) > 1, "sides": sides})
    rows.sort(key=lambda r: not r["differs"])
    return Columns([str(n) for n in scen], rows, {})


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def correlations(run: RunFolder) -> list[tuple[str, str, float, str]]:
    """[[correlations]] entries (a, b, Spearman rank, source) as written; a derived file wins."""
    out: dict[tuple[str, str], tuple[str, str, float, str]] = {}
    for _, doc in reversed(run.scenario_tomls()):
        for c in doc.get("correlations") or []:
            if not isinstance(c, dict) or len(c.get("between", ())) != 2:
                continue
            a, b = sorted(str(x) for x in c["between"])
            out[(a, b)] = (a, b, float(c.get("rank", float("nan"))), str(c.get("source", "")))
    return list(out.values())


def observations(run: RunFolder) -> list[tuple[str, str, str, str]]:
    """[observations] as written: (name, value with unit, noise, source)."""
    out = {}
    for _, doc in reversed(run.scenario_tomls()):
        for name, t in (doc.get("observations") or {}).items():
            if not isinstance(t, dict):
                continue
            noise = ", ".join(f"{k} {_num(v)}" for k, v in t.items()
                              if k not in ("value", "unit", "source", "description", "kind"))
            out[name] = (name, f"{_num(t.get('value', ''))} {t.get('unit', '')}".strip(),
                         f"{t.get('kind', '')} {noise}".strip(), str(t.get("source", "")))
    return list(out.values())
