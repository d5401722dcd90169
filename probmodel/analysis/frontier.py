"""``probmodel frontier``: throughput per GPU against interactivity, at a latency target.

For every chip asked for, the scenario's deployment (chip picked as ``--set chip=X``
does) is drawn ``draws`` times and run through the calibrated serving physics over a
grid of concurrencies (:mod:`probmodel.serving.frontier`). Per chip this gives

- the frontier: for each interactivity x (tokens/s per user), the highest throughput per
  GPU the deployment reaches while every user gets at least x (0 where it cannot), as a
  median and 90% band over the draws, with P(x is reachable);
- the operating point at the SLO (``--slo "interactivity >= 20" --slo "ttft <= 2"``): the
  concurrency, throughput per GPU (all tokens, output tokens per decode GPU), and the GPU
  cost per million tokens (all tokens; output tokens carrying the whole cost; input
  tokens carrying it), with P(the SLO can be met at all);
- for every pair of chips, P(A cheaper than B per million output tokens at the SLO).

Draws and pairing. Inputs every chip shares (request lengths, the cost share, anything
the scenario states) have the same draws for every chip (common random numbers), so a
difference between chips is the chips'. The chip's own numbers (its engine's
calibrated efficiencies, residual errors and rental price, the parameters its catalog
entries supply) are keyed by their catalog entry (:func:`probmodel.sampling.rng_label`):
independent between chips.
The calibration's hierarchy does pool chips of one generation, so their errors are in
truth partly shared; treating them as independent keeps P(A cheaper than B) away from
0 and 1 (a stated, conservative choice: common draws for different laws would instead
make two chips' efficiencies move together perfectly, and P(A cheaper) near-certain).
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from probmodel.errors import UsageError
from probmodel.spec import Scenario

#: Draws evaluated per compiled call (the concurrency grid multiplies it by 61).
BATCH = 4096
#: Interactivities (tokens/s per user) at which the frontier band is given.
XS = tuple(float(x) for x in np.geomspace(2.0, 1000.0, 55))
#: Quantiles of the bands.
BAND_Q = (0.05, 0.25, 0.5, 0.75, 0.95)

_SLO_RE = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|>|<)\s*([0-9.eE+-]+)\s*(ms|s)?\s*$")
#: SLO names -> (metric, allowed comparison direction, unit).
SLO_NAMES = {"interactivity": ("intvty", ">"), "median_intvty": ("intvty", ">"),
             "ttft": ("ttft", "<"), "median_ttft": ("ttft", "<"),
             "tpot": ("tpot", "<"), "median_tpot": ("tpot", "<")}


@dataclass(frozen=True)
class Slo:
    """A latency target: interactivity at least ``intvty_min``, TTFT at most ``ttft_max``."""

    intvty_min: float = 0.0
    ttft_max: float = math.inf
    texts: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The SLO as the user wrote it ('none' without one)."""
        return " and ".join(self.texts) or "none (the most throughput at any latency)"


def parse_slos(items: Sequence[str], scenario: Scenario | None = None) -> Slo:
    """``--slo`` texts -> one :class:`Slo`; without any, the scenario's own targets.

    Accepted: ``interactivity >= A`` (tokens/s per user), ``tpot <= T`` (s or ms; the
    same as interactivity >= 1/T), ``ttft <= T`` (s or ms).
    """
    a, t, texts = 0.0, math.inf, []
    for raw in items:
        m = _SLO_RE.match(raw)
        if not m:
            raise UsageError(f"--slo: '{raw}' is not of the form 'interactivity >= 20', "
                             "'ttft <= 2' or 'tpot <= 50ms'")
        name, op, num, unit = m.groups()
        key = SLO_NAMES.get(name.lower())
        if key is None:
            raise UsageError(f"--slo: unknown metric '{name}' in '{raw}' (known: "
                             "interactivity, ttft, tpot)")
        metric, direction = key
        if op[0] != direction:
            want = ">=" if direction == ">" else "<="
            raise UsageError(f"--slo: '{raw}': a target on {name} is a bound from "
                             f"{'below' if direction == '>' else 'above'} ({name} {want} X)")
        try:
            x = float(num)
        except ValueError:
            raise UsageError(f"--slo: '{raw}': '{num}' is not a number") from None
        if not math.isfinite(x) or x <= 0:
            raise UsageError(f"--slo: '{raw}': the limit must be a positive number")
        if metric == "intvty" and unit:
            raise UsageError(f"--slo: '{raw}': interactivity is in tokens/s per user "
                             "(no unit)")
        x = x / 1000.0 if unit == "ms" else x
        if metric == "intvty":
            a = max(a, x)
        elif metric == "tpot":
            a = max(a, 1.0 / x)
        else:
            t = min(t, x)
        texts.append(raw.strip())
    if not items and scenario is not None:
        p = scenario.parameters
        if "slo_interactivity" in p:
            a = float(p["slo_interactivity"].point)
            texts.append(f"interactivity >= {a:g}")
        if "slo_ttft" in p:
            t = float(p["slo_ttft"].point)
            texts.append(f"ttft <= {t:g}s")
    return Slo(a, t, tuple(texts))


def parse_chips(text: str | None, scenario: Scenario) -> list[str]:
    """``--chips H20,H800``: catalog chips (the scenario's own chip when not given)."""
    from probmodel import catalog

    if text is None:
        chip = catalog.current_pick(scenario, "chip")
        if chip is None:
            raise UsageError(f"{scenario.name} picks no chip (chip = \"NAME\"); give --chips")
        return [chip]
    items = [c.strip() for c in text.split(",") if c.strip()]
    if not items:
        raise UsageError("--chips: give chip names, e.g. --chips H20,H800")
    if len(set(items)) != len(items):
        raise UsageError(f"--chips: a chip is given twice in '{text}'")
    for c in items:
        catalog.split_override("chip", c, "--chips")
    return items


def check_serving(scenario: Scenario) -> None:
    """Refuse a scenario without a deployment (the serving physics' names)."""
    from probmodel.serving import deployment as dep

    have = set(scenario.parameters)
    missing = [k for k in dep.INPUTS if k != "concurrency" and k not in have]
    if missing:
        raise UsageError(f"{scenario.name}: not a serving deployment (missing "
                         f"{', '.join(missing[:6])}{', ...' if len(missing) > 6 else ''}); "
                         "see priors/serving-dsr1-h200.toml")


def chip_scenarios(scenario: Scenario, chips: Sequence[str],
                   say: Callable[[str], None] | None = None) -> list[Scenario]:
    """The scenario on each chip (as ``--set chip=X``), concurrency left to the grid.

    What the catalogs' picks say (numbers the file keeps on every chip) goes to ``say``,
    one line for all chips; without it, to an :class:`InputWarning`.
    """
    import warnings

    from probmodel import catalog
    from probmodel.errors import InputWarning

    out, kept = [], {}
    for chip in chips:
        sc = scenario
        if catalog.current_pick(scenario, "chip") != chip:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                sc = scenario.with_overrides({"chip": chip}, origin="--chips")
            for w in caught:  # one line for all chips, not one per chip and catalog
                m = re.search(r"keeps its own (.+?) \(stated", str(w.message))
                if m:
                    kept.update(dict.fromkeys(m.group(1).split(", ")))
                elif say is not None:
                    say(str(w.message))
                else:
                    warnings.warn(w.message, stacklevel=2)
        check_serving(sc)
        out.append(sc)
    if kept:
        text = (f"--chips: {scenario.name} keeps its own {', '.join(kept)} on every chip "
                "(stated in the file; a catalog never overrides it)")
        if say is not None:
            say(text)
        else:
            warnings.warn(InputWarning(text), stacklevel=2)
    return out


#: Values each draw needs besides the deployment's (for the costs).
_KEEP = ("gpu_price_per_hour", "gpu_cost_share", "input_length", "output_length")


@functools.cache
def _compiled(model):
    """The compiled draw of one scenario structure (its chip's rng labels included)."""
    import jax

    from probmodel.serving import deployment as dep
    from probmodel.serving import frontier as fr

    @jax.jit
    def draw(key, args, intvty_min, ttft_max):
        inputs = model.condition(model.draw_inputs(key, args, BATCH), args)
        values = dict(args["fixed"])
        values.update(inputs)
        v = {k: values[k] for k in dep.ARGUMENTS if k in values and k != "concurrency"}
        extra = {k: jax.numpy.broadcast_to(values[k], (BATCH,)) for k in _KEEP
                 if k in values}
        return fr.curves(v), fr.slo_metrics(v, intvty_min, ttft_max), extra

    return draw


def _drawer(sc: Scenario):
    """A compiled function (key, chip key, args) -> the curves of BATCH draws, and args."""
    from probmodel import sampling

    if "concurrency" in sc.parameters:
        sc = sc.with_overrides({"concurrency": 1.0}, origin="frontier")
    model = sampling.ForwardModel.from_scenario(sc)
    return _compiled(model), model.args(sc)


@dataclass
class ChipFrontier:
    """One chip's draws: the curves over the grid and its operating point at the SLO."""

    chip: str
    scenario: Scenario
    curves: dict            # metric -> (draws, grid)
    at_slo: dict            # name -> (draws,)
    band: dict              # "tput" -> (q, xs); "p_reach" -> (xs,)


@dataclass
class FrontierResult:
    """Every chip's frontier and operating point; P(A cheaper than B) for every pair."""

    scenario: Scenario
    slo: Slo
    chips: list[ChipFrontier]
    pairs: list[dict]
    draws: int
    seed: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """The chips, in the order given."""
        return [c.chip for c in self.chips]


def _costs(tput, out_tput_share, price, share):
    """GPU cost per 1M tokens at throughput ``tput`` (tokens/s/GPU); inf where 0."""
    with np.errstate(divide="ignore"):
        per_token = price / 3600.0 / share / tput * 1e6
    return per_token, per_token / out_tput_share, per_token / (1.0 - out_tput_share)


def frontier(scenario: Scenario, chips: Sequence[str], slo: Slo, draws: int = 16_384,
             seed: int = 0, progress: Callable[[int], None] | None = None) -> FrontierResult:
    """Every chip's frontier and its operating point at ``slo`` on paired draws."""
    from probmodel import sampling
    from probmodel.results import probability
    from probmodel.serving import frontier as fr

    t0 = time.perf_counter()
    scs = chip_scenarios(scenario, chips, say=lambda _: None)  # said when checked
    n_batches = math.ceil(draws / BATCH)
    root = sampling.root_key(seed)
    grid = np.asarray(fr.GRID)
    out: list[ChipFrontier] = []
    done = 0
    for chip, sc in zip(chips, scs, strict=True):
        draw, args = _drawer(sc)
        parts, ats, extras = [], [], []
        for i in range(n_batches):
            c, at, extra = draw(sampling.chunk_key(root, i), args,
                                np.float32(slo.intvty_min), np.float32(slo.ttft_max))
            take = min(BATCH, draws - i * BATCH)
            parts.append({k: np.asarray(v, np.float64)[:take] for k, v in c.items()})
            ats.append({k: np.asarray(v, np.float64)[:take] for k, v in at.items()})
            extras.append({k: np.asarray(v, np.float64)[:take] for k, v in extra.items()})
            done += take
            if progress is not None:
                progress(done)
        curves = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        extra = {k: np.concatenate([p[k] for p in extras]) for k in extras[0]}
        at = {k: np.concatenate([p[k] for p in ats]) for k in ats[0]}
        met = at["met"] > 0.5
        tput = np.where(met, at["tput_per_gpu"], 0.0)
        osl, isl = extra["output_length"], extra["input_length"]
        share = extra.get("gpu_cost_share", np.ones(draws))
        cost, cost_out, cost_in = _costs(tput, osl / (isl + osl), extra["gpu_price_per_hour"],
                                         share)
        at_slo = {"met": met, "concurrency": at["concurrency"], "tput_per_gpu": tput,
                  "output_tput_per_gpu": np.where(met, at["output_tput_per_gpu"], 0.0),
                  "median_intvty": at["median_intvty"], "median_ttft": at["median_ttft"],
                  "cost_per_mtok": cost, "cost_per_mtok_output": cost_out,
                  "cost_per_mtok_input": cost_in,
                  "gpu_price_per_hour": extra["gpu_price_per_hour"]}
        xs = np.asarray(XS)
        reach = np.empty((xs.size, draws), bool)
        tp_x = np.empty((xs.size, draws))
        for j, x in enumerate(xs):  # one interactivity at a time: (draws, grid) arrays
            b = fr.at_target(curves, grid, x, slo.ttft_max)
            reach[j] = b["met"] > 0.5
            tp_x[j] = np.where(reach[j], b["tput_per_gpu"], 0.0)
        band = {"tput": np.quantile(tp_x, BAND_Q, axis=1), "p_reach": reach.mean(axis=1)}
        out.append(ChipFrontier(chip, sc, curves, at_slo, band))
    pairs = []
    for i, a in enumerate(out):
        for b in out[i + 1:]:
            ca, cb = a.at_slo["cost_per_mtok_output"], b.at_slo["cost_per_mtok_output"]
            p, se = probability(ca < cb)
            q, qse = probability(cb < ca)
            pairs.append({"a": a.chip, "b": b.chip, "p_a_cheaper": p, "mcse": se,
                          "p_b_cheaper": q, "mcse_b": qse,
                          "p_neither": float(np.mean(~np.isfinite(ca) & ~np.isfinite(cb)))})
    notes = [f"{c.chip}: the SLO is out of reach in {1 - c.at_slo['met'].mean():.1%} of the "
             "draws (throughput 0 there; the costs at the SLO are over the draws that meet it)"
             for c in out if c.at_slo["met"].mean() < 1.0]
    return FrontierResult(scenario, slo, out, pairs, draws, seed,
                          time.perf_counter() - t0, notes)


#: The operating-point variables summarised per chip, with their units.
SLO_UNITS = {"concurrency": "request", "tput_per_gpu": "token/(GPU s)",
             "output_tput_per_gpu": "token/(GPU s)", "median_intvty": "token/(user s)",
             "median_ttft": "s", "cost_per_mtok": "USD/Mtoken",
             "cost_per_mtok_output": "USD/Mtoken", "cost_per_mtok_input": "USD/Mtoken",
             "gpu_price_per_hour": "USD/(GPU h)"}


def summary(res: FrontierResult):
    """The result contract per chip (dims chip, stat) at the SLO, with P(SLO met).

    Throughput at the SLO counts a draw that cannot meet it as 0; the other variables
    (costs, concurrency, latencies) are over the draws that meet it.
    """
    import xarray as xr

    from probmodel import results

    parts = []
    for c in res.chips:
        met = c.at_slo["met"]
        arrays = {k: (c.at_slo[k] if k in ("tput_per_gpu", "output_tput_per_gpu")
                      else c.at_slo[k][met]) for k in SLO_UNITS}
        if not met.any():
            arrays = {k: c.at_slo[k][:1] * np.nan for k in SLO_UNITS}
        ds = xr.merge([results.summarize_arrays({k: v}) for k, v in arrays.items()],
                      combine_attrs="drop")
        p, se = results.probability(met)
        ds["p_slo_met"] = ((), p, {"units": "1", "long_name": "P(the SLO can be met)"})
        ds["p_slo_met_mcse"] = ((), se, {"units": "1"})
        parts.append(ds)
    out = xr.concat(parts, dim="chip", coords="minimal", compat="override",
                    combine_attrs="drop").assign_coords(chip=res.labels)
    for k, u in SLO_UNITS.items():
        out[k].attrs["units"] = u
    out.attrs.update({"scenario": res.scenario.name, "seed": res.seed, "draws": res.draws,
                      "slo": res.slo.text, "slo_interactivity": res.slo.intvty_min,
                      **({"slo_ttft": res.slo.ttft_max}
                         if math.isfinite(res.slo.ttft_max) else {})})
    return out


def band_table(res: FrontierResult):
    """The frontier bands as a tidy table: chip, interactivity, quantiles, P(reachable)."""
    return bands_table(bands_dataset(res))


def bands_table(bands):
    """bands.csv from the tree's ``/bands`` (chip, interactivity, quantiles, P(reachable))."""
    import pandas as pd

    tput = bands["tput_per_gpu"].transpose("chip", "quantile", "interactivity").values
    reach = bands["p_reachable"].transpose("chip", "interactivity").values
    xs = [float(x) for x in bands["interactivity"].values]
    qs = [float(q) for q in bands["quantile"].values]
    rows = []
    for i, chip in enumerate(bands["chip"].values):
        for j, x in enumerate(xs):
            rows.append({"chip": str(chip), "interactivity": x,
                         **{f"tput_q{int(q * 100):02d}": float(tput[i, k, j])
                            for k, q in enumerate(qs)},
                         "p_reachable": float(reach[i, j])})
    return pd.DataFrame(rows)


#: The columns of pairs.csv (and the keys of each pair in summary.json).
PAIR_COLUMNS = ("a", "b", "p_a_cheaper", "mcse", "p_b_cheaper", "mcse_b", "p_neither")


def pairs_table(res: FrontierResult):
    """P(A cheaper than B per 1M output tokens at the SLO) for every pair of chips."""
    return pairs_frame(pairs_dataset(res))


def pairs_frame(pairs):
    """pairs.csv from the tree's ``/pairs``."""
    import pandas as pd

    return pd.DataFrame(_pair_dicts(pairs), columns=list(PAIR_COLUMNS))


def _pair_dicts(pairs) -> list[dict]:
    n = pairs.sizes.get("pair", 0)
    return [{k: (str(pairs[k].values[i]) if k in ("a", "b") else float(pairs[k].values[i]))
             for k in PAIR_COLUMNS} for i in range(n)]


def json_summary(res: FrontierResult, summ=None) -> dict:
    """The public JSON form: per chip the operating point at the SLO; the pairs."""
    summ = summary(res) if summ is None else summ
    return summary_json(_with_result_attrs(summ, res), pairs_dataset(res))


def summary_json(summ, pairs) -> dict:
    """summary.json from the tree's ``/summary`` (its attributes too) and ``/pairs``."""
    from probmodel import results

    a = summ.attrs
    chips = []
    for c in summ["chip"].values:
        s = summ.sel(chip=c)
        chips.append({"chip": str(c), "p_slo_met": float(s["p_slo_met"]),
                      "p_slo_met_mcse": float(s["p_slo_met_mcse"]),
                      **{k: results.stat_dict(s, k) for k in SLO_UNITS}})
    return {"scenario": str(a["scenario"]), "slo": str(a["slo"]),
            "slo_interactivity": float(a["slo_interactivity"]),
            "slo_ttft": float(a["slo_ttft"]) if "slo_ttft" in a else None,
            "chips": chips, "pairs": _pair_dicts(pairs), "draws": int(a["draws"]),
            "seed": int(a["seed"]), "notes": [str(n) for n in json.loads(a["notes"])]}


def _with_result_attrs(summ, res: FrontierResult):
    """``summ`` with what summary.json needs besides the statistics (notes) in attrs."""
    return summ.assign_attrs(notes=json.dumps(res.notes))


def bands_dataset(res: FrontierResult):
    """``/bands``: each chip's frontier band over interactivity, and P(reachable)."""
    import xarray as xr

    return xr.Dataset(
        {"tput_per_gpu": (("chip", "quantile", "interactivity"),
                          np.stack([c.band["tput"] for c in res.chips]),
                          {"units": "token/(GPU s)",
                           "long_name": "throughput per GPU at interactivity >= x"}),
         "p_reachable": (("chip", "interactivity"),
                         np.stack([c.band["p_reach"] for c in res.chips]), {"units": "1"})},
        coords={"chip": res.labels, "quantile": list(BAND_Q),
                "interactivity": ("interactivity", list(XS), {"units": "token/(user s)"})})


def pairs_dataset(res: FrontierResult):
    """``/pairs``: P(A cheaper than B) for every pair of chips, with the chips named."""
    import xarray as xr

    p = res.pairs
    return xr.Dataset(
        {k: ("pair", np.asarray([q[k] for q in p], np.float64))
         for k in PAIR_COLUMNS if k not in ("a", "b")},
        coords={"pair": np.asarray([f"{q['a']} vs {q['b']}" for q in p], str),
                "a": ("pair", np.asarray([q["a"] for q in p], str)),
                "b": ("pair", np.asarray([q["b"] for q in p], str))})


def to_tree(res: FrontierResult, summ=None):
    """The frontier's result tree (:func:`probmodel.tree.make`), all in frontier.nc.

    ``/summary`` (per chip at the SLO: the result contract with P(SLO met); the SLO,
    seed, draws and notes in its attributes), ``/bands`` (the frontier over
    interactivity), ``/curves`` (each metric's quantiles over concurrency) and
    ``/pairs`` (P(A cheaper than B)). :func:`outputs` derives summary.csv, bands.csv,
    pairs.csv and summary.json from it.
    """
    import xarray as xr

    from probmodel import tree
    from probmodel.serving import frontier as fr

    summ = summary(res) if summ is None else summ
    curves = xr.Dataset(
        {k: (("chip", "quantile", "concurrency"),
             np.stack([np.quantile(c.curves[k], BAND_Q, axis=0) for c in res.chips]))
         for k in fr.METRICS},
        coords={"chip": res.labels, "quantile": list(BAND_Q),
                "concurrency": ("concurrency", list(fr.GRID), {"units": "request"})})
    attrs = {"slo": res.slo.text, "seed": res.seed, "draws": res.draws}
    groups = {"summary": _with_result_attrs(summ, res).assign_attrs(attrs),
              "bands": bands_dataset(res).assign_attrs(attrs),
              "curves": curves.assign_attrs(attrs),
              "pairs": pairs_dataset(res).assign_attrs(attrs)}
    return tree.make(
        "frontier", f"{res.scenario.name}_frontier", groups,
        salt=f"{res.seed}{res.draws}{','.join(res.labels)}{res.slo.text}",
        files={"frontier.nc": {f"/{g}": f"/{g}" for g in groups}},
        settings=dict(method="serving physics over a concurrency grid per draw; the "
                      "operating point where the SLO first fails, interpolated",
                      seed=res.seed, draws=res.draws, chips=res.labels, slo=res.slo.text,
                      seconds=round(res.seconds, 3)))


def outputs(t):
    """A frontier folder's summary.csv, bands.csv, pairs.csv and summary.json, from its tree."""
    from probmodel import results, tree

    summ = t["summary"].to_dataset()
    pairs = t["pairs"].to_dataset()
    return tree.Outputs(
        tables={"summary.csv": results.summary_table(summ),
                "bands.csv": bands_table(t["bands"].to_dataset()),
                "pairs.csv": pairs_frame(pairs)},
        json={"summary.json": summary_json(summ, pairs)})
