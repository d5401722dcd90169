"""Bounded projections: supply caps per year, utilization below 1, chip successors.

Every bound is checked on every draw and year, not on medians. Statistical checks state
their error bound in Monte Carlo standard errors; seeds are fixed, so runs are
deterministic.
"""

import math

import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel.analysis import projection as pj
from probmodel.cli import main
from probmodel.errors import ScenarioError

AGENTS = "agents-h20-2025-2030.toml"
ROOFLINE = "agents-h20-2025-2030-roofline.toml"

# Demand from LogNormal users only (fast to compile); chips on the FLOP basis.
BASE = """
schema_version = 1
title = "tiny capped projection"

[parameters.users]
dist = "LogNormal"
p05 = 2e7
p95 = 8e7
point = 4e7
unit = "user"
source = "test"
"""
FIXED = {
    "requests_per_user_per_day": (10, "request/(user day)"),
    "tokens_per_request": (2e4, "token/request"),
    "peak_factor": (2.0, "1"), "utilization": (0.7, "1"), "chip_peak_flops": (148e12, "FLOP/s"),
    "active_params": (37e9, "parameter"), "output_token_share": (0.2, "1"),
    "cache_hit_rate": (0.5, "1"), "offpeak_share": (0.0, "1"), "v3_share": (0.0, "1"),
    "pay_rate": (0.4, "1"), "price_index": (1.0, "1"), "gpu_price_per_hour": (1.0, "USD/(GPU h)"),
    "gpu_cost_share": (0.7, "1"), "idle_capacity_paid": (0.0, "1"),
}
BASE += "".join(f'\n[parameters.{k}]\nvalue = {v}\nunit = "{u}"\nsource = "test"\n'
                for k, (v, u) in FIXED.items())
BASE += '\n[prices]\nunit = "USD per 1M tokens"\nsource = "test"\n' + "".join(
    f"[prices.{w}.{m}]\ncache_hit = 0.1\ncache_miss = 0.5\noutput = 2.0\n"
    for w in ("standard", "offpeak") for m in ("v3", "r1"))
GROWTH = """
[projection]
years = [2025, 2026, 2027]

[projection.growth.price_index]
law = "exponential"
rate = -0.3
source = "test"
"""
SUPPLY = """
[projection.supply]
source = "test"

[projection.supply.cap]
2025 = 1.2e5
2026 = 2.0e5
2027 = { dist = "LogNormal", p05 = 1e5, p95 = 3e5 }
"""
DRAWS = 20_000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("bounds")
    (d / "capped.toml").write_text(BASE + GROWTH + SUPPLY)
    (d / "free.toml").write_text(BASE + GROWTH)
    capped = probmodel.load_scenario(d / "capped.toml")
    free = probmodel.load_scenario(d / "free.toml")
    return d, pj.simulate(capped, DRAWS, 5), pj.simulate(free, DRAWS, 5)


def _v(ds, k):
    return ds[k].values[0].astype(np.float64)


def test_capped_fleet_never_exceeds_the_cap_in_any_draw(tiny):
    _, ds, free = tiny
    chips, cap, demand = _v(ds, "chips_required"), _v(ds, "supply_cap"), _v(ds, "chips_demanded")
    assert np.all(chips <= cap)
    assert np.all(chips <= demand * (1 + 1e-6))
    share = _v(ds, "served_share")
    assert np.all((share > 0) & (share <= 1))
    binds = _v(ds, "cap_binds") > 0
    np.testing.assert_array_equal(binds, demand > cap)
    # where the cap does not bind, the fleet is the demand's, bit for bit
    np.testing.assert_array_equal(chips[~binds], demand[~binds])
    # the demand is the uncapped run's (common random numbers)
    np.testing.assert_allclose(demand, _v(free, "chips_required"), rtol=1e-6)
    # fixed caps are the table's numbers
    assert np.all(cap[:, 0] == np.float32(1.2e5))


def test_revenue_and_cost_are_those_of_the_served_tokens(tiny):
    _, ds, free = tiny
    share = _v(ds, "served_share")
    for k in ("revenue", "total_cost", "tokens_per_day", "paid_chips"):
        np.testing.assert_allclose(_v(ds, k), _v(free, k) * share, rtol=2e-5, err_msg=k)
    np.testing.assert_allclose(_v(ds, "unserved_tokens_per_day"),
                               _v(free, "tokens_per_day") * (1 - share),
                               rtol=2e-4, atol=1e-3 * float(_v(free, "tokens_per_day").max()))
    # unit economics do not depend on the cap: cost and revenue per token
    for k in ("cost_per_mtok", "revenue_per_mtok", "margin"):
        np.testing.assert_allclose(_v(ds, k), _v(free, k), rtol=2e-5, err_msg=k)
    # the users reported are the demand's
    np.testing.assert_array_equal(_v(ds, "users"), _v(free, "users"))


def test_p_cap_binds_matches_the_lognormal_demand_within_4_mcse(tiny):
    _, ds, _ = tiny
    s = pj.summarize(ds)
    users = _v(ds, "users")  # not projected: one value per path
    per_user = float(np.median(_v(ds, "chips_demanded")[:, 0] / users))  # chips per user
    mu, sigma = math.log(4e7), math.log(2.0) / stats.norm.ppf(0.95)
    for j, cap in enumerate((1.2e5, 2.0e5)):
        want = stats.norm.sf((math.log(cap / per_user) - mu) / sigma)
        got = float(s["p_cap_binds"].isel(year=j))
        se = math.sqrt(want * (1 - want) / DRAWS)
        assert float(s["p_cap_binds_mcse"].isel(year=j)) == pytest.approx(
            math.sqrt(got * (1 - got) / DRAWS))
        assert abs(got - want) < 4 * se, (j, got, want, se)
    # the share served has mean E[min(1, cap / demand)]: within 4 MCSE of its estimate
    sh = _v(ds, "served_share")[:, 1]
    z = np.linspace(-9, 9, 20001)
    demand = per_user * np.exp(mu + sigma * z)
    want = np.trapezoid(np.minimum(1.0, 2.0e5 / demand) * stats.norm.pdf(z), z)
    assert abs(sh.mean() - want) < 4 * sh.std() / math.sqrt(DRAWS)


@pytest.mark.parametrize(("name", "fleet"), [(AGENTS, "chips_required"),
                                             (ROOFLINE, "chips_required_roofline")])
def test_shipped_projections_stay_inside_their_bounds(priors, name, fleet):
    sc = probmodel.load_scenario(priors / name)
    ds = pj.simulate(sc, draws=1000, seed=0)
    assert ds.attrs["capped_fleet"] == fleet
    assert np.all(_v(ds, fleet) <= _v(ds, "supply_cap"))
    assert np.all(_v(ds, "paid_chips") <= _v(ds, "supply_cap"))
    util = _v(ds, "utilization")
    assert np.all((util > 0) & (util <= 1))
    peak = _v(ds, "chip_peak_flops")
    assert np.all(peak[:, 0] == np.float32(148e12))  # H20 in the base year
    assert np.all(peak >= np.float32(148e12) * (1 - 1e-6))  # successors are not slower
    assert np.all(np.diff(peak, axis=1) >= -1e-6 * peak[:, 1:])
    if "compute_utilization" in ds:
        assert np.all(_v(ds, "compute_utilization") < 1)
    pt = pj.point_path(sc)
    assert all(c <= cap for c, cap in zip(pt[fleet], pt["supply_cap"], strict=True))
    assert pt["chip_peak_flops"][-1] > 3 * pt["chip_peak_flops"][0]  # H20 -> successors


@pytest.mark.parametrize(("table", "path", "message"), [
    ('chips = "chips"\nsource = "s"\n[projection.supply.cap]\n2025 = 1e6\n2026 = 1e6',
     "projection.supply.chips", "must be one of"),
    ('source = "s"\n[projection.supply.cap]\n2025 = 1e6', "projection.supply.cap.2026",
     "missing"),
    ('source = "s"\n[projection.supply.cap]\n2025 = 1e6\n2026 = 1e6\n2031 = 1e6',
     "projection.supply.cap.2031", "not a year"),
    ('source = "s"\n[projection.supply.cap]\n2025 = -5\n2026 = 1e6',
     "projection.supply.cap.2025", "outside"),
    ('source = "s"\n[projection.supply.cap]\n2025 = { dist = "Normal", p05 = 1, p95 = 2 }\n'
     '2026 = 1e6', "projection.supply.cap.2025", "exceeds"),
    ('[projection.supply.cap]\n2025 = 1e6\n2026 = 1e6', "projection.supply.source", "missing"),
    ('source = "s"\nlimit = 3\n[projection.supply.cap]\n2025 = 1e6\n2026 = 1e6',
     "projection.supply.limit", "unknown key"),
])
def test_bad_supply_tables_give_one_located_line(tmp_path, capsys, table, path, message):
    p = tmp_path / "bad.toml"
    p.write_text(BASE + GROWTH.replace("2025, 2026, 2027", "2025, 2026")
                 + "\n[projection.supply]\n" + table + "\n")
    with pytest.raises(ScenarioError) as e:
        probmodel.load_scenario(p)
    lines = e.value.lines()
    assert any(f": {path}: " in line and message in line for line in lines), lines
    assert main(["project", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "bad.toml" in err[0]
    assert path in err[0]


def test_project_command_reports_the_cap_and_draws_cost_against_revenue(tiny, capsys,
                                                                       tmp_path):
    d, _, _ = tiny
    out = tmp_path / "run"
    assert main(["project", str(d / "capped.toml"), "-n", "2000", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "P(cap binds) ± MCSE" in text
    assert "Per 1M tokens served" in text
    assert (out / "figures" / "cost_revenue_per_mtok.png").stat().st_size > 0
    import json

    res = json.loads((out / "summary.json").read_text())
    assert set(res["p_cap_binds"]) == {"2025", "2026", "2027"}
    assert res["summary"]["served_share"]["2025"]["mean"] <= 1


def test_cost_revenue_figure_structure(tiny):
    from probmodel.plots import projection as plots

    _, ds, _ = tiny
    cost, rev = (pj.fan(ds, k, n_paths=0, title="t") for k in ("cost_per_mtok",
                                                              "revenue_per_mtok"))
    fig = plots.plot_cost_revenue_per_mtok(cost, rev, [1.0, 0.9, 0.8])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel().startswith("USD per 1M tokens")
    assert "cost and revenue per 1M tokens by year" in ax.get_title()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["cost, median", "revenue, median"]
    assert len(ax.collections) == 4  # 50% and 90% bands of each
    assert "90% served" in ax.get_xticklabels()[1].get_text()
