"""Hypothesis properties of the equations and the scenario parser."""

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probmodel import equations as eq
from probmodel.errors import ScenarioError
from probmodel.spec import build_scenario

pos = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
unit = st.floats(0.0, 1.0, allow_nan=False)
open_unit = st.floats(1e-3, 1.0, allow_nan=False)
tokens = st.floats(1e6, 1e13, allow_nan=False)
price = st.floats(0.0, 10.0, allow_nan=False)
prices = st.lists(price, min_size=12, max_size=12).map(lambda v: np.array(v).reshape(2, 2, 3))

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tokens, tokens, unit, unit, unit, prices, st.floats(1.0, 2.0), st.integers(0, 11))
def test_revenue_monotone_in_prices_and_tokens(inp, out, hit, off, v3, pr, f, idx):
    base = float(eq.revenue_before_pay_rate(inp, out, hit, off, v3, pr))
    bumped = pr.copy()
    bumped.flat[idx] *= f
    assert float(eq.revenue_before_pay_rate(inp, out, hit, off, v3, bumped)) >= base * (1 - 1e-12)
    assert float(eq.revenue_before_pay_rate(inp * f, out, hit, off, v3, pr)) >= base * (1 - 1e-12)
    assert float(eq.revenue_before_pay_rate(inp, out * f, hit, off, v3, pr)) >= base * (1 - 1e-12)
    assert math.isfinite(base)
    assert base >= 0


@SETTINGS
@given(tokens, tokens, unit, unit, unit, prices, st.floats(1e-3, 1e3))
def test_revenue_is_homogeneous_in_tokens(inp, out, hit, off, v3, pr, k):
    a = float(eq.revenue_before_pay_rate(inp, out, hit, off, v3, pr))
    b = float(eq.revenue_before_pay_rate(k * inp, k * out, hit, off, v3, pr))
    assert math.isclose(b, k * a, rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(st.floats(1.0, 1e9), pos, open_unit, open_unit)
def test_margin_at_most_one_and_finite(rev_before, cost, pay, share):
    rev = eq.revenue(rev_before, pay)
    total = eq.total_cost(cost, share)
    m = float(eq.margin(eq.profit(rev, total), rev))
    assert math.isfinite(m)
    assert m <= 1.0


@SETTINGS
@given(pos, tokens, st.floats(1.0, 10.0), st.floats(1e12, 1e16), open_unit, st.floats(1.01, 2))
def test_chips_monotone(active, tps, peak, flops, util, f):
    need = eq.flops_required(active * 1e9, tps, peak)
    c = float(eq.chips_required(need, flops, util))
    assert math.isfinite(c)
    assert c > 0
    assert float(eq.chips_required(need, flops, util * f)) < c  # more utilization, fewer chips
    assert float(eq.chips_required(eq.flops_required(active * 1e9, tps * f, peak), flops,
                                   util)) > c  # more tokens, more chips
    assert float(eq.implied_utilization(need, flops, 1000.0 * f)) < float(
        eq.implied_utilization(need, flops, 1000.0))


def test_equations_broadcast():
    pay = np.linspace(0.1, 1, 5)[:, None]
    share = np.linspace(0.5, 1, 3)[None, :]
    m = eq.margin(eq.profit(eq.revenue(370_000.0, pay), eq.total_cost(87_072.0, share)),
                  eq.revenue(370_000.0, pay))
    assert m.shape == (5, 3)


# --- the parser never raises anything but a located ScenarioError ----------------------

keys = st.sampled_from(["dist", "value", "point", "unit", "source", "p05", "p50", "p95",
                        "mean", "sd", "alpha", "beta", "loc", "scale", "low", "high", "mode",
                        "shape", "rate", "junk"])
vals = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                 st.sampled_from(["Beta", "Normal", "LogNormal", "Gamma", "Uniform", "PERT",
                                  "Triangular", "TruncatedNormal", "Nope", "", "1"]),
                 st.booleans(), st.lists(st.integers(), max_size=2))
names = st.sampled_from(["pay_rate", "users", "peak_factor", "gpu_cost_share", "nope"])


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v + '"'
    return str(v).replace("'", '"')


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, st.dictionaries(keys, vals, max_size=8), max_size=3),
       st.booleans())
def test_random_files_parse_or_give_located_errors(tables, garbage):
    lines = ["schema_version = 1"]
    for name, table in tables.items():
        lines.append(f"[parameters.{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    if garbage:
        lines.append("[[[")
    text = "\n".join(lines)
    problems = []
    try:
        build_scenario(Path("gen.toml"), lambda p: text)
    except ScenarioError as e:
        problems = e.problems or [("", "", "")]  # an empty problem list fails below
    for file, _path, msg in problems:
        assert file == "gen.toml"
        assert msg
