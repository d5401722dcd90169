"""Stress tests: the outputs when one input sits in a band of its own percentiles.

A band ``NAME=LO:HI`` is one stressed case: the draws of the base run whose ``NAME``
lies between its LO-th and HI-th percentile, both computed on those same draws. Every
case is a subset of the base draws (common random numbers: a difference to the base is
the band, not Monte Carlo noise), and conditioning on the joint draws moves every input
that is correlated with ``NAME`` too, as a risk team expects of "the world in which
pay_rate is in its bottom decile".

Per case the result holds, for the key outputs and every uncertain input, the
statistics of the result contract (mean, sd, q05 ... q95, es05, es95) with their MCSE,
P(profit > 0) with its MCSE, and the difference to the base with an MCSE that accounts
for the case being a subset of the base draws.

MCSE (derived here, not batch means; batch means would need many batches, and a 10%
band of a small run leaves a few draws per batch for its tails): every statistic T is
a smooth functional of the joint law F of (input X, output Y), so
``T_hat - T ~ mean_i IF(x_i, y_i)`` over the N iid draws and the MCSE is
``sd(IF) / sqrt(N)``. For a case with band ``B = (t_lo, t_hi]``, ``t = Q_X(a), Q_X(b)``,
``f = b - a``, and a statistic with influence function ``psi`` under the law of Y
given X in B (``psi = y - mean`` for the mean; ``(p - 1{y <= q}) / g(q)`` for a
quantile, ``1 / g`` from the order-statistic window the run summaries use;
``(y - q) 1{tail} / alpha + q - ES`` for an expected shortfall; ``1{y > 0} - P`` for a
probability; ``((y - mean)^2 - sd^2) / (2 sd)`` for the sd), perturbing F moves both
the draws inside B and its percentile edges, which gives

    IF(x, y) = [psi(y) 1{x in B} + h_hi (b - 1{x <= t_hi}) - h_lo (a - 1{x <= t_lo})] / f

with ``h_e = E[psi(Y) | X = t_e]``, estimated by the mean of ``psi`` over the draws
nearest the edge in rank (the edge terms vanish at the 0th and 100th percentiles, and
for an output that does not depend on X). Without them the MCSE of, say, the mean
profit in the bottom pay_rate decile would be too small by a factor ~sqrt(1 + 9 d^2 /
s^2), d the gap between the case mean and the mean at the edge. The difference to the
base has influence function ``IF_case - psi_base`` on the same draws, whence its MCSE:
the positive correlation of a case with the base it is part of is accounted for
exactly. For the base itself, these are the iid formulas of the run summaries.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from probmodel import checks, fmt, results
from probmodel.errors import UsageError

#: The statistics of each case and the outputs summarised are the result contract's
#: (:data:`probmodel.results.STATS`, :data:`probmodel.results.KEY_OUTPUTS`).
STATS = results.STATS
KEY_OUTPUTS = results.KEY_OUTPUTS
#: The fewest draws a case may hold: below this its tails (es05 is the mean of 5% of
#: the case) rest on a handful of draws.
MIN_CASE_DRAWS = 100


@dataclass(frozen=True)
class Band:
    """One stressed case: ``name`` between its ``lo``-th and ``hi``-th percentile."""

    name: str
    lo: float
    hi: float

    @property
    def label(self) -> str:
        """``name=lo:hi`` as the user writes it (the ``band`` coordinate)."""
        return f"{self.name}={self.lo:g}:{self.hi:g}"


def parse_band(text: str, uncertain: Sequence[str], fixed: Sequence[str] = (),
               outputs: Sequence[str] = ()) -> Band:
    """Parse and check one ``NAME=LO:HI`` band.

    Raises
    ------
    UsageError
        One line, ``--band TEXT: problem``: not of the form NAME=LO:HI, an unknown name
        (with a suggestion), a fixed parameter or an output, percentiles that are not
        numbers, outside 0..100, or LO >= HI.
    """
    where = f"--band {text}"
    name, sep, rng = text.partition("=")
    name = name.strip()
    lo_s, sep2, hi_s = rng.partition(":")
    if not sep or not sep2 or not name:
        raise UsageError(f"{where}: not of the form NAME=LO:HI (e.g. pay_rate=0:10, "
                         "the bottom decile of pay_rate)")
    if name not in uncertain:
        if name in fixed:
            raise UsageError(f"{where}: {name} is a fixed parameter; a band needs an "
                             "uncertain one (" + ", ".join(uncertain) + ")")
        if name in outputs:
            raise UsageError(f"{where}: {name} is an output; a band conditions on an "
                             "uncertain input (" + ", ".join(uncertain) + ")")
        close = difflib.get_close_matches(name, list(uncertain), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else (
            " (uncertain parameters: " + ", ".join(uncertain) + ")")
        raise UsageError(f"{where}: '{name}' is not an uncertain parameter of the "
                         f"scenario{hint}")
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise UsageError(f"{where}: LO and HI must be percentiles (numbers in 0..100), "
                         f"not '{lo_s}' and '{hi_s}'") from None
    if not (0 <= lo <= 100 and 0 <= hi <= 100):
        raise UsageError(f"{where}: percentiles must lie in 0..100")
    if lo >= hi:
        raise UsageError(f"{where}: LO ({lo:g}) must be below HI ({hi:g})")
    return Band(name, lo, hi)


def check_size(bands: Sequence[Band], draws: int) -> None:
    """Refuse, before sampling, a band given twice or one with < MIN_CASE_DRAWS draws."""
    seen = set()
    for b in bands:
        if b.label in seen:
            raise UsageError(f"--band {b.label}: given twice; give each case once")
        seen.add(b.label)
    for b in bands:
        expected = draws * (b.hi - b.lo) / 100
        if expected < MIN_CASE_DRAWS:
            need = math.ceil(MIN_CASE_DRAWS * 100 / (b.hi - b.lo))
            raise UsageError(f"--band {b.label}: selects about {expected:.0f} of {draws:,} "
                             f"draws, fewer than {MIN_CASE_DRAWS}; use --draws {need:,} "
                             "or more, or a wider band")


def _quantile_inv_density(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """1 / density at the sample quantiles, from the summaries' order-statistic window.

    The window is :func:`probmodel.results.quantile_window`'s.
    """
    lo, hi = results.quantile_window(probs, y.size)
    w = np.quantile(y, np.concatenate([lo, hi]))
    k = len(probs)
    return (w[k:] - w[:k]) / np.maximum(hi - lo, 1e-300)


def _stats_and_psi(yb: np.ndarray):
    """Values of STATS on the case draws ``yb`` and their influence functions.

    Returns the values (len(STATS),) and a function mapping any draws y to
    psi(y), shape (len(STATS), len(y)).
    """
    n = yb.size
    mean = yb.mean()
    sd = yb.std(ddof=1) if n > 1 else 0.0
    probs = np.asarray(results.QUANTILES)
    qs = np.quantile(yb, probs)
    inv_g = _quantile_inv_density(yb, probs)
    q_lo, q_hi = qs[0], qs[-1]
    lo_tail, hi_tail = yb <= q_lo, yb >= q_hi
    es_lo = yb[lo_tail].mean()
    es_hi = yb[hi_tail].mean()
    a_lo, a_hi = lo_tail.mean(), hi_tail.mean()
    values = np.array([mean, sd, *qs, es_lo, es_hi])

    def psi(y: np.ndarray) -> np.ndarray:
        rows = [y - mean,
                (np.square(y - mean) - sd**2) / (2 * sd) if sd > 0 else np.zeros_like(y)]
        rows += [(p - (y <= q)) * g for p, q, g in zip(probs, qs, inv_g, strict=True)]
        rows.append(np.where(y <= q_lo, y - q_lo, 0.0) / a_lo + q_lo - es_lo)
        rows.append(np.where(y >= q_hi, y - q_hi, 0.0) / a_hi + q_hi - es_hi)
        return np.stack(rows)

    return values, psi


def _edges(x: np.ndarray, band: Band):
    """Band mask and, per finite edge, (sign, below-mask, fraction, nearest-draws index)."""
    n = x.size
    t_lo, t_hi = np.quantile(x, [band.lo / 100, band.hi / 100])
    inside = (x >= t_lo) & (x <= t_hi)
    order = np.argsort(x, kind="stable")
    half = max(25, n // 200)  # the ~1% of draws nearest the edge in rank
    edges = []
    for sign, pct, below in ((-1, band.lo, x < t_lo), (1, band.hi, x <= t_hi)):
        if pct in (0, 100):
            continue  # the edge is the sample minimum / maximum: no edge term
        r = round(pct / 100 * (n - 1))
        near = order[max(0, r - half):min(n, r + half)]
        edges.append((sign, below, below.mean(), near))
    return inside, edges, (float(t_lo), float(t_hi))


#: Draws per block when summing influence functions (bounds the float64 temporaries).
_BLOCK = 1 << 20


def _all_stats(yb: np.ndarray):
    """STATS and P(y > 0) of the case draws, and their influence functions."""
    values, psi = _stats_and_psi(yb)
    p = float((yb > 0).mean())
    return np.append(values, p), lambda v: np.vstack([psi(v), (v > 0) - p])


def _share(yb: np.ndarray):
    """P(y > 0) alone (an event's indicator, shifted by one half) and its influence."""
    p = float((yb > 0).mean())
    return np.array([p]), lambda v: ((v > 0) - p)[None]


def _case(y: np.ndarray, inside: np.ndarray, edges, psi_base, kernel=_all_stats,
          blocks: bool = False):
    """Values, MCSE, difference to base and its MCSE of ``kernel``'s statistics.

    The default kernel gives STATS with a P(y > 0) row last; :func:`_share` only that.
    ``blocks``: the draws (in engine order) of a scenario with correlated inputs,
    dependent within the reordering's blocks: the variance of each influence function's
    mean comes from batch means over the blocks (never below the iid value).
    """
    from probmodel.correlation import BLOCK
    from probmodel.mcse import MIN_BLOCKS

    n = y.size
    yb = y[inside]
    f = yb.size / n
    vals, psi_all = kernel(yb)

    h = [(sign, below, frac, psi_all(y[near]).mean(axis=1, keepdims=True))
         for sign, below, frac, near in edges]
    # sums of IF, IF^2, D and D^2 (D = IF - psi_base) over blocks of draws
    acc = np.zeros((4, len(vals)))
    block_sums: list[np.ndarray] = []  # per reordering block: sums of IF and D
    for lo in range(0, n, _BLOCK):
        sl = slice(lo, min(n, lo + _BLOCK))
        yy = y[sl]
        inf = np.where(inside[sl], psi_all(yy), 0.0)
        for sign, below, frac, he in h:
            inf += sign * he * (frac - below[sl])
        inf /= f
        d = inf - psi_base(yy)
        acc += [inf.sum(axis=1), np.square(inf).sum(axis=1), d.sum(axis=1),
                np.square(d).sum(axis=1)]
        if blocks:  # _BLOCK is a multiple of BLOCK: blocks never straddle two slabs
            m = yy.size
            pad = -m % BLOCK
            both = np.concatenate([inf, d])
            if pad:
                both = np.concatenate([both, np.zeros((both.shape[0], pad))], axis=1)
            block_sums.append(both.reshape(both.shape[0], -1, BLOCK).sum(axis=2))
    var = np.maximum(acc[1] / n - np.square(acc[0] / n), 0.0) / n
    dvar = np.maximum(acc[3] / n - np.square(acc[2] / n), 0.0) / n
    if block_sums:
        sums = np.concatenate(block_sums, axis=1)
        nb = sums.shape[1]
        if nb >= MIN_BLOCKS:
            counts = np.full(nb, BLOCK, np.float64)
            counts[-1] = n - (nb - 1) * BLOCK
            k = len(vals)
            mu = np.concatenate([acc[0], acc[2]]) / n
            bm = nb / (nb - 1) * np.square(sums - mu[:, None] * counts).sum(axis=1) / n**2
            var, dvar = np.maximum(var, bm[:k]), np.maximum(dvar, bm[k:])
    return vals, np.sqrt(var), np.sqrt(dvar)


def stress_arrays(draws: Mapping[str, np.ndarray], bands: Sequence[Band],
                  variables: Sequence[str], events: Sequence = (),
                  blocks: bool = False) -> dict:
    """The NumPy kernel of :func:`stress`: cases x (STATS + P(> 0)) per variable.

    Returns a dict with ``labels``, ``n`` (draws per case), ``thresholds`` and, per
    variable, arrays ``value``, ``mcse``, ``diff``, ``diff_mcse`` of shape
    (1 + len(bands), len(STATS) + 1); row 0 is the base, the last column P(var > 0).
    Per event (:class:`probmodel.analysis.targets.Event`, keyed by its label) the same
    four arrays of shape (1 + len(bands),): P(event) in each case, with the influence
    function of a probability (band edges included) for its MCSE.
    """
    n = next(iter(draws.values())).size
    cases = [(np.ones(n, bool), [])]
    thresholds = [(np.nan, np.nan)]
    for b in bands:
        x = np.asarray(draws[b.name], np.float64).ravel()
        inside, edges, t = _edges(x, b)
        if inside.sum() < MIN_CASE_DRAWS:
            raise UsageError(f"--band {b.label}: selects {int(inside.sum())} of {n:,} draws, "
                             f"fewer than {MIN_CASE_DRAWS}; use more --draws or a wider band")
        cases.append((inside, edges))
        thresholds.append(t)
    out: dict = {"labels": ["base", *(b.label for b in bands)],
                 "n": np.array([int(c[0].sum()) for c in cases]),
                 "thresholds": np.array(thresholds)}
    for var in variables:
        y = np.asarray(draws[var], np.float64).ravel()
        _, base_psi = _stats_and_psi(y)
        pb = float((y > 0).mean())

        def psi_base(v, base_psi=base_psi, pb=pb):
            return np.vstack([base_psi(v), (v > 0) - pb])

        rows = [_case(y, inside, edges, psi_base, blocks=blocks) for inside, edges in cases]
        value = np.array([r[0] for r in rows])
        out[var] = {"value": value, "mcse": np.array([r[1] for r in rows]),
                    "diff": value - value[0], "diff_mcse": np.array([r[2] for r in rows])}
        out[var]["diff_mcse"][0] = 0.0
    for e in events:
        # the indicator shifted by one half: P(event) = P(y > 0), the probability row
        y = e.holds(draws[e.output]).ravel().astype(np.float64) - 0.5
        pb = float((y > 0).mean())

        def psi_base(v, pb=pb):
            return ((v > 0) - pb)[None]

        rows = [_case(y, inside, edges, psi_base, _share, blocks) for inside, edges in cases]
        value = np.array([r[0][0] for r in rows])
        out[e.label] = {"value": value, "mcse": np.array([r[1][0] for r in rows]),
                        "diff": value - value[0],
                        "diff_mcse": np.array([0.0, *(r[2][0] for r in rows[1:])])}
    return out


def stress(ds: xr.Dataset, bands: Sequence[Band], outputs: Sequence[str] | None = None,
           inputs: Sequence[str] | None = None, events: Sequence = (),
           blocks: bool = False) -> xr.Dataset:
    """Stressed cases of a run's draws, in the result contract.

    Parameters
    ----------
    ds : xarray.Dataset
        Draws with dims (chain, draw), e.g. from :func:`probmodel.simulate`: every band's
        input and every variable to summarise.
    bands : sequence of Band
        The cases (see :func:`parse_band`).
    outputs, inputs : sequence of str, optional
        Variables to summarise; default the key outputs present and every variable
        with a ``distribution`` attribute (the uncertain inputs).
    events : sequence of Event, optional
        Events (:func:`probmodel.analysis.targets.parse_events`): P(event) per case.
    blocks : bool
        The draws (in engine order) come from a scenario with correlated inputs: MCSEs
        from batch means over the reordering's blocks.

    Returns
    -------
    xarray.Dataset
        Dims ``band`` (``base`` first, then each band's label) and ``stat``. Per variable
        ``<var>``, ``<var>_mcse``, ``<var>_diff`` (case minus base) and
        ``<var>_diff_mcse``; ``p_profitable`` (+ ``_mcse``, ``_diff``, ``_diff_mcse``)
        over ``band`` when profit is present; ``p_event`` (+ ``_mcse``, ``_diff``,
        ``_diff_mcse``) over (band, event) for events; ``n_draws`` per case; coordinates
        ``band_variable``, ``band_lo``, ``band_hi`` (percentiles) and
        ``band_lo_value``, ``band_hi_value`` (the input at those percentiles).
    """
    labels = [b.label for b in bands]
    if len(set(labels)) < len(labels):
        raise UsageError(f"--band: a case is given twice ({', '.join(labels)})")
    outputs = [k for k in KEY_OUTPUTS if k in ds] if outputs is None else list(outputs)
    if inputs is None:
        inputs = [k for k in ds.data_vars if "distribution" in ds[k].attrs]
    variables = [*outputs, *(k for k in inputs if k not in outputs)]
    need = ({b.name for b in bands} | set(variables) | {e.output for e in events}
            | ({"profit"} if "profit" in ds else set()))
    flat = {k: ds[k].values.reshape(-1) for k in need}
    res = stress_arrays(flat, bands, variables, events, blocks)
    labels = res["labels"]
    coords = {
        "band": labels, "stat": list(STATS),
        "band_variable": ("band", ["", *(b.name for b in bands)]),
        "band_lo": ("band", [0.0, *(b.lo for b in bands)]),
        "band_hi": ("band", [100.0, *(b.hi for b in bands)]),
        "band_lo_value": ("band", res["thresholds"][:, 0]),
        "band_hi_value": ("band", res["thresholds"][:, 1]),
    }
    data = {"n_draws": ("band", res["n"], {"units": "1", "long_name": "draws in the case"})}
    k = len(STATS)
    for var in variables:
        r, units = res[var], ds[var].attrs.get("units", "")
        data[var] = (("band", "stat"), r["value"][:, :k], {"units": units})
        data[f"{var}_mcse"] = (("band", "stat"), r["mcse"][:, :k], {"units": units})
        data[f"{var}_diff"] = (("band", "stat"), r["diff"][:, :k], {"units": units})
        data[f"{var}_diff_mcse"] = (("band", "stat"), r["diff_mcse"][:, :k], {"units": units})
    if "profit" in ds:
        r = res["profit"] if "profit" in res else stress_arrays(flat, bands, ["profit"],
                                                                blocks=blocks)["profit"]
        for suffix in ("", "_mcse", "_diff", "_diff_mcse"):
            key = {"": "value", "_mcse": "mcse", "_diff": "diff", "_diff_mcse": "diff_mcse"}
            data[f"p_profitable{suffix}"] = ("band", r[key[suffix]][:, k], {"units": "1"})
    if events:
        for suffix, key in (("", "value"), ("_mcse", "mcse"), ("_diff", "diff"),
                            ("_diff_mcse", "diff_mcse")):
            data[f"p_event{suffix}"] = (("band", "event"), np.stack(
                [res[e.label][key] for e in events], -1),
                {"units": "1", "long_name": "P(event)"})
        coords.update({"event": [e.label for e in events],
                       "event_output": ("event", [e.output for e in events]),
                       "event_statistic": ("event", [e.statistic for e in events])})
    out = xr.Dataset(data, coords=coords)
    out.attrs.update({
        "analysis": "stress",
        "draws": int(flat[variables[0]].size) if variables else 0,
        "bands": ", ".join(b.label for b in bands),
        "outputs": ", ".join(outputs),
        "method": "cases are subsets of the base draws (common random numbers); a band's "
                  "percentiles are computed on the same draws",
        "mcse_method": ("influence functions, band edges included, batch means over "
                        "the correlated inputs' blocks" if blocks else
                        "iid influence functions, band edges included") +
                       " (probmodel.analysis.stress module notes)",
    })
    for key in ("scenario", "title", "seed"):
        if key in ds.attrs:
            out.attrs[key] = ds.attrs[key]
    return out


def run(scenario, bands: Sequence[Band], draws: int, seed: int,
        progress=None, events: Sequence = ()) -> tuple[xr.Dataset, xr.Dataset]:
    """Draw the base run from the engine and stress it.

    The draws are :func:`probmodel.sampling.sample_arrays`' (the one chunk iterator:
    the same draws as ``probmodel run`` and :func:`probmodel.simulate` on this seed,
    correlations included), in the result contract's dataset
    (:func:`probmodel.results.to_dataset`).

    Returns the stress result and the draws it was computed from.
    """
    from probmodel import sampling  # JAX: loaded only when a stress test runs

    check_size(bands, draws)
    checks.check_draws_seed(draws, seed)
    arrays = sampling.sample_arrays(scenario, draws, seed, progress)
    if progress is not None and hasattr(progress, "phase"):  # the summaries take a while
        progress.phase(f"summarising the base and {len(bands)} stressed "
                       f"case{'s' * (len(bands) != 1)}", None)
    ds = results.to_dataset(arrays, scenario, {"seed": seed, "draws": draws})
    model = sampling.ForwardModel.from_scenario(scenario)
    return stress(ds, bands, events=events, blocks=bool(model.correlated or model.given)), ds


# --------------------------------------------------------------------------- the run folder


def to_tree(scenario, res: xr.Dataset, ds: xr.Dataset, draws: int, seed: int,
            seconds: float, keep: int) -> xr.DataTree:
    """A stress run's result tree (:func:`probmodel.runs.write` writes its folder).

    ``/stress`` (the result of :func:`stress`; stress.nc holds it at its root) and
    ``/prior`` (draws.nc: the base draws, evenly thinned to at most about ``keep``).
    summary.csv and summary.json are derived from ``/stress`` (:func:`outputs`).
    """
    from probmodel import sampling, tree

    stride = -(-draws // keep)  # draws.nc keeps at most ~keep draws, as run does
    if stride > 1:
        ds = ds.isel(draw=slice(None, None, stride))
        ds.attrs["thinned"] = f"every {fmt.ordinal(stride)} of {draws} draws"
    res = res.copy()
    res.attrs.update({"scenario": scenario.name, "seed": seed, "draws": draws})
    return tree.make(
        "stress", scenario.name, {"stress": res, "prior": ds},
        salt=f"stress{seed}{draws}{res.attrs['bands']}",
        files={"stress.nc": {"/": "/stress"}, "draws.nc": {"/prior": "/prior"}},
        settings=dict(
            method="forward Monte Carlo (iid); cases are subsets of the same draws",
            seed=seed, draws=draws, chunk_size=sampling.CHUNK,
            bands=res.attrs["bands"].split(", "), mcse_method=res.attrs["mcse_method"],
            events=[str(x) for x in res["event"].values] if "p_event" in res else [],
            draws_kept=int(ds.sizes["draw"]), kept_stride=stride, seconds=round(seconds, 3)))


def cases_json(res: xr.Dataset) -> dict:
    """The public JSON form: per case its band, draws, P(profit > 0) and statistics."""
    cases = {}
    for i, label in enumerate(res["band"].values):
        r = res.isel(band=i)
        case = {"variable": str(r.band_variable.values) or None,
                "percentiles": [float(r.band_lo), float(r.band_hi)],
                "values": [float(r.band_lo_value), float(r.band_hi_value)] if i else None,
                "draws": int(r.n_draws)}
        if "p_profitable" in res:
            for k in ("p_profitable", "p_profitable_mcse", "p_profitable_diff",
                      "p_profitable_diff_mcse"):
                case[k] = float(r[k])
        if "p_event" in res:
            case["events"] = [
                {"event": str(lab), "output": str(r.event_output.values[j]),
                 "statistic": str(r.event_statistic.values[j]), "p": float(r.p_event[j]),
                 "mcse": float(r.p_event_mcse[j]), "diff": float(r.p_event_diff[j]),
                 "diff_mcse": float(r.p_event_diff_mcse[j])}
                for j, lab in enumerate(res["event"].values)]
        case["summary"] = {
            var: {**{s: float(r[var].sel(stat=s)) for s in STATS},
                  **{f"mcse_{s}": float(r[f"{var}_mcse"].sel(stat=s)) for s in STATS},
                  **{f"diff_{s}": float(r[f"{var}_diff"].sel(stat=s)) for s in STATS},
                  **{f"mcse_diff_{s}": float(r[f"{var}_diff_mcse"].sel(stat=s))
                     for s in STATS}}
            for var in str(res.attrs["outputs"]).split(", ") if var}
        cases[str(label)] = case
    return {"cases": cases}


def summary_frame(res: xr.Dataset):
    """Tidy table: case, variable, statistic, value, mcse, diff, diff_mcse, units."""
    import pandas as pd

    rows = []
    for var in [v for v in res.data_vars if f"{v}_mcse" in res and "stat" in res[v].dims
                and not str(v).endswith("_diff")]:
        for label in res["band"].values:
            for s in res["stat"].values:
                sel = {"band": label, "stat": s}
                rows.append({"case": str(label), "variable": str(var), "statistic": str(s),
                             "value": float(res[var].sel(sel)),
                             "mcse": float(res[f"{var}_mcse"].sel(sel)),
                             "diff": float(res[f"{var}_diff"].sel(sel)),
                             "diff_mcse": float(res[f"{var}_diff_mcse"].sel(sel)),
                             "units": str(res[var].attrs.get("units", ""))})
    if "p_profitable" in res:
        for label in res["band"].values:
            r = res.sel(band=label)
            rows.append({"case": str(label), "variable": "profit", "statistic": "p_gt_0",
                         "value": float(r.p_profitable), "mcse": float(r.p_profitable_mcse),
                         "diff": float(r.p_profitable_diff),
                         "diff_mcse": float(r.p_profitable_diff_mcse), "units": "1"})
    if "p_event" in res:
        for label in res["band"].values:
            r = res.sel(band=label)
            for j in range(res.sizes["event"]):
                rows.append({"case": str(label), "variable": str(r.event_output.values[j]),
                             "statistic": str(r.event_statistic.values[j]),
                             "value": float(r.p_event[j]), "mcse": float(r.p_event_mcse[j]),
                             "diff": float(r.p_event_diff[j]),
                             "diff_mcse": float(r.p_event_diff_mcse[j]), "units": "1"})
    return pd.DataFrame(rows)


def outputs(t: xr.DataTree):
    """A stress folder's summary.csv and summary.json, from its tree's ``/stress`` alone."""
    from probmodel import tree

    res = t["stress"].to_dataset()
    head = {"scenario": str(res.attrs["scenario"]), "draws": int(res.attrs["draws"]),
            "seed": int(res.attrs["seed"])}
    return tree.Outputs(tables={"summary.csv": summary_frame(res)},
                        json={"summary.json": {**head, **cases_json(res)}})
