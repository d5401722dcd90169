"""Projections over years: the [projection] table, coherent paths, run folder, figures.

Statistical bounds are stated in Monte Carlo standard errors next to each check; seeds
are fixed, so every run is deterministic.
"""

import json
import math

import f32  # tests/f32.py: float32 comparisons across graphs
import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel.analysis import projection as pj
from probmodel.cli import main
from probmodel.errors import ScenarioError, UsageError

AGENTS = "agents-h20-2025-2030.toml"

# A small scenario whose base inputs are all LogNormal (quick to compile), with the
# three kinds of path: exponential with noise, exponential fixed, logistic.
BASE = """
schema_version = 1
title = "tiny projection"

[parameters.users]
dist = "LogNormal"
p05 = 2e7
p95 = 8e7
point = 4e7
unit = "user"
source = "test"

[parameters.requests_per_user_per_day]
value = 10
unit = "request/(user day)"
source = "test"

[parameters.tokens_per_request]
dist = "LogNormal"
p05 = 1e4
p95 = 4e4
point = 2e4
unit = "token/request"
source = "test"

[parameters.peak_factor]
value = 2.0
unit = "1"
source = "test"

[parameters.utilization]
value = 0.7
unit = "1"
source = "test"

[parameters.chip_peak_flops]
value = 148e12
unit = "FLOP/s"
source = "test"

[parameters.active_params]
value = 37e9
unit = "parameter"
source = "test"

[parameters.output_token_share]
value = 0.2
unit = "1"
source = "test"

[parameters.cache_hit_rate]
value = 0.5
unit = "1"
source = "test"

[parameters.offpeak_share]
value = 0.0
unit = "1"
source = "test"

[parameters.v3_share]
value = 0.0
unit = "1"
source = "test"

[parameters.pay_rate]
value = 0.4
unit = "1"
source = "test"

[parameters.price_index]
value = 1.0
unit = "1"
source = "test"

[parameters.gpu_price_per_hour]
dist = "LogNormal"
p05 = 0.5
p95 = 2.0
point = 1.0
unit = "USD/(GPU h)"
source = "test"

[parameters.gpu_cost_share]
value = 0.7
unit = "1"
source = "test"

[parameters.idle_capacity_paid]
value = 0.0
unit = "1"
source = "test"

[prices]
unit = "USD per 1M tokens"
source = "test"
[prices.standard.v3]
cache_hit = 0.1
cache_miss = 0.5
output = 2.0
[prices.standard.r1]
cache_hit = 0.1
cache_miss = 0.5
output = 2.0
[prices.offpeak.v3]
cache_hit = 0.1
cache_miss = 0.5
output = 2.0
[prices.offpeak.r1]
cache_hit = 0.1
cache_miss = 0.5
output = 2.0
"""

PROJECTION = """
[projection]
years = [2025, 2026, 2027, 2029]

[projection.growth.users]
law = "exponential"
rate = { dist = "Uniform", low = -0.1, high = 0.5 }
noise = 0.2
source = "test"

[projection.growth.price_index]
law = "exponential"
rate = -0.3
source = "test"

[projection.growth.tokens_per_request]
law = "logistic"
target = { dist = "LogNormal", p05 = 1e5, p95 = 1e6 }
midpoint = { dist = "Normal", p05 = 2026, p95 = 2028 }
steepness = 1.0
source = "test"
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("proj")
    (d / "tiny.toml").write_text(BASE + PROJECTION)
    (d / "flat.toml").write_text(BASE)
    return d


@pytest.fixture(scope="module")
def tiny_paths(tiny):
    sc = probmodel.load_scenario(tiny / "tiny.toml")
    return sc, pj.simulate(sc, draws=20_000, seed=3)


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(BASE + text)
    return p


# ----------------------------------------------------------------------------- table


@pytest.mark.parametrize(("table", "path", "message"), [
    ('years = [2025, 2025]\n[projection.growth.users]\nlaw = "exponential"\nrate = 0.1\n'
     'source = "s"', "projection.years", "increase strictly"),
    ('years = [2025]\n[projection.growth.userz]\nlaw = "exponential"\nrate = 0.1\nsource = "s"',
     "projection.growth.userz", "did you mean 'users'"),
    ('years = [2025]\n[projection.growth.users]\nlaw = "linear"\nrate = 0.1\nsource = "s"',
     "projection.growth.users.law", "must be one of"),
    ('years = [2025]\n[projection.growth.users]\nlaw = "exponential"\nrate = -1.5\n'
     'source = "s"', "projection.growth.users.rate", "outside"),
    ('years = [2025]\n[projection.growth.users]\nlaw = "exponential"\n'
     'rate = { dist = "Normal", p05 = 0.0, p95 = 0.4 }\nsource = "s"',
     "projection.growth.users.rate", "exceeds"),
    ('years = [2025]\n[projection.growth.pay_rate]\nlaw = "exponential"\nrate = 0.1\n'
     'source = "s"', "projection.growth.pay_rate.law", "logistic"),
    ('years = [2025]\n[projection.growth.users]\nlaw = "exponential"\nrate = 0.1',
     "projection.growth.users.source", "missing"),
    ('years = [2025]\n[projection.growth.pay_rate]\nlaw = "logistic"\ncurve = "nope"\n'
     'target = 0.5\nsource = "s"', "projection.growth.pay_rate.curve", "not a curve"),
    ('years = [2025]\n[projection.growth.pay_rate]\nlaw = "logistic"\ncurve = "c"\n'
     'target = 1.5\nsource = "s"\n[projection.curves.c]\nmidpoint = 2027\nsteepness = 1\n'
     'source = "s"', "projection.growth.pay_rate.target", "outside"),
    ('years = [2025]\n[projection.curves.c]\nmidpoint = 2027\nsteepness = -1\nsource = "s"\n'
     '[projection.growth.users]\nlaw = "exponential"\nrate = 0.1\nsource = "s"',
     "projection.curves.c.steepness", "outside"),
    ('years = [2025]\n[projection.growth.users]\nlaw = "exponential"\nrate = 0.1\n'
     'source = "s"\nspeed = 2', "projection.growth.users.speed", "unknown key"),
])
def test_bad_tables_give_located_errors(tmp_path, table, path, message):
    p = write(tmp_path, "\n[projection]\n" + table + "\n")
    with pytest.raises(ScenarioError) as e:
        probmodel.load_scenario(p)
    lines = e.value.lines()
    assert any(f": {path}: " in line and message in line for line in lines), lines


def test_law_on_a_parameter_the_scenario_lacks(tmp_path):
    p = write(tmp_path, '\n[projection]\nyears = [2025, 2026]\n[projection.growth.dau]\n'
                        'law = "exponential"\nrate = 0.1\nsource = "s"\n')
    # The table itself is fine; the scenario is checked as a whole when it is read.
    with pytest.raises(ScenarioError, match=r"projection\.growth\.dau: 'dau' is not a "
                                            r"parameter"):
        probmodel.load_scenario(p)


def test_no_projection_table_is_a_usage_error(tiny):
    with pytest.raises(UsageError, match="no \\[projection\\] table"):
        pj.load_projection(probmodel.load_scenario(tiny / "flat.toml"))


def test_adoption_share_is_zero_at_base_and_rises_to_one():
    years = np.arange(2025, 2061, dtype=float)
    a = pj.adoption(years, 2028.0, 1.2)
    assert a[0] == 0.0
    assert np.all(np.diff(a) > 0)
    assert a[-1] == pytest.approx(1.0, abs=1e-12)
    # far-away midpoints stay finite (no 0/0)
    assert np.all(np.isfinite(pj.adoption(years, 1900.0, 5.0)))
    assert np.all(np.isfinite(pj.adoption(years, 2300.0, 5.0)))


# ----------------------------------------------------------------------------- shipped


def test_shipped_scenario_base_year_is_the_report(priors):
    sc = probmodel.load_scenario(priors / AGENTS)
    proj = pj.load_projection(sc)
    assert proj.years == (2025, 2026, 2027, 2028, 2029, 2030)
    path = pj.point_path(sc)
    base = probmodel.point(sc)
    for k in ("chips_required", "revenue", "margin", "tokens_per_day"):
        assert path[k][0] == pytest.approx(base[k], rel=1e-12), k
    # report table 20: 5e7 x 20 x 2e4 tokens/day -> 661k H20 at peak factor 4, 70%
    assert path["chips_required"][0] == pytest.approx(661_376, rel=1e-4)
    # users: median rate +20%/year, no noise in the point path: 5e7 x 1.2^5
    assert path["users"][-1] == pytest.approx(5e7 * 1.2**5, rel=1e-9)
    assert path["offpeak_share"][0] == pytest.approx(1 / 3)
    assert path["offpeak_share"][1] < 1e-3  # the night discount ended 2025-09
    assert path["price_index"][0] == 1.0
    assert all(b < a for a, b in zip(path["price_index"], path["price_index"][1:],
                                     strict=False))


# ----------------------------------------------------------------------------- paths


def test_dataset_dims_units_and_base_year_matches_a_plain_run(tiny_paths):
    sc, ds = tiny_paths
    assert dict(ds.sizes) == {"chain": 1, "draw": 20_000, "year": 4}
    assert list(ds["year"].values) == [2025, 2026, 2027, 2029]
    assert ds["chips_required"].dims == ("chain", "draw", "year")
    assert ds["gpu_price_per_hour"].dims == ("chain", "draw")  # uncertain, not projected
    assert ds["users_growth_rate"].attrs["units"] == "1/year"
    assert ds["revenue"].attrs["units"] == "USD/day"
    # Common random numbers: year 0 of every path is the plain run's draw.
    plain = probmodel.simulate(sc, draws=20_000, seed=3)
    for k in ("users", "tokens_per_request", "gpu_price_per_hour"):
        base = ds[k].values[0, :, 0] if "year" in ds[k].dims else ds[k].values[0]
        np.testing.assert_array_equal(base, plain[k].values[0])
    # profit = revenue - cost from two different graphs: equal up to ulps of the operands
    f32.assert_close(ds["profit"].values[0, :, 0], plain["profit"].values[0],
                     plain["revenue"].values[0], plain["total_cost"].values[0], what="profit")


def test_paths_follow_their_laws(tiny_paths):
    _, ds = tiny_paths
    t = np.array([0.0, 1.0, 2.0, 4.0])
    price = ds["price_index"].values[0]
    np.testing.assert_allclose(price, np.broadcast_to(0.7**t, price.shape), rtol=1e-5)
    # logistic: from the base value toward the drawn target, monotone, never past it
    tpr = ds["tokens_per_request"].values[0].astype(np.float64)
    target = ds["tokens_per_request_target"].values[0][:, None]
    step = np.diff(tpr, axis=1) * np.sign(target - tpr[:, :1])
    assert np.all(step >= -1e-3 * tpr[:, 1:])
    assert np.all(np.abs(tpr[:, -1] - tpr[:, 0]) <= np.abs(target[:, 0] - tpr[:, 0]) * 1.0001)


def test_yearly_noise_is_a_random_walk_of_the_stated_size(tiny_paths):
    _, ds = tiny_paths
    users = ds["users"].values[0].astype(np.float64)
    g = ds["users_growth_rate"].values[0].astype(np.float64)
    # log x_t - log x_0 - t log(1 + g) is the sum of yearly shocks N(0, 0.2^2 dt)
    t = np.array([1.0, 2.0, 4.0])
    walk = np.log(users[:, 1:] / users[:, :1]) - t * np.log1p(g)[:, None]
    n = walk.shape[0]
    for i, ti in enumerate(t):
        var = walk[:, i].var()
        want = 0.04 * ti
        # the sample variance of n normals has sd want sqrt(2/(n-1)): within 5 sd
        assert abs(var - want) < 5 * want * math.sqrt(2 / (n - 1)), (ti, var, want)
    # independent increments: corr(walk_1, walk_4 - walk_2) ~ 0 within 5/sqrt(n)
    c = np.corrcoef(walk[:, 0], walk[:, 2] - walk[:, 1])[0, 1]
    assert abs(c) < 5 / math.sqrt(n)
    # the drawn rate is Uniform(-0.1, 0.5): KS against it (p > 1e-4)
    assert stats.kstest(g, stats.uniform(-0.1, 0.6).cdf).pvalue > 1e-4


def test_summaries_per_year_and_p_profit_mcse(tiny_paths):
    _, ds = tiny_paths
    s = pj.summarize(ds)
    assert list(s["year"].values) == [2025, 2026, 2027, 2029]
    assert s["chips_required"].dims == s["chips_required_mcse"].dims == ("year", "stat")
    for y in s["year"].values:
        p = float((ds["profit"].sel(year=y).values > 0).mean())
        assert float(s["p_profitable"].sel(year=y)) == pytest.approx(p)
        assert float(s["p_profitable_mcse"].sel(year=y)) == pytest.approx(
            math.sqrt(p * (1 - p) / 20_000))
        st = s["chips_required"].sel(year=y)
        assert st.sel(stat="es05") <= st.sel(stat="q05") <= st.sel(stat="q50") <= st.sel(
            stat="q95") <= st.sel(stat="es95")
    table = pj.summary_table(s)
    assert list(table.columns) == ["variable", "year", "statistic", "value", "mcse", "units"]
    assert len(table.query("variable == 'profit' and statistic == 'p_gt_0'")) == 4


# ----------------------------------------------------------------------------- figures


def test_fan_figures_structure(tiny_paths):
    from probmodel.plots import projection as plots

    sc, ds = tiny_paths
    pt = pj.point_path(sc)
    f = pj.fan(ds, "revenue", n_paths=5, point=pt["revenue"], title=sc.title)
    fig = plots.plot_fan(f)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "revenue ($k/day)"
    assert ax.get_xlabel() == "year"
    assert "median with 50% and 90% bands" in ax.get_title()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels.count("median") == 1
    assert labels.count("point path") == 1
    assert len(ax.get_lines()) == 5 + 2  # sample paths, median, point path
    assert len(ax.collections) == 2  # the two bands
    s = pj.summarize(ds)
    fans = [pj.fan(ds, k) for k in ("chips_required", "revenue", "margin")]
    big = plots.plot_fans(fans, s["p_profitable"], s["p_profitable_mcse"])
    visible = [a for a in big.axes if a.get_visible()]
    assert len(visible) == 4
    assert visible[-1].get_ylabel() == "P(profit > 0) (%)"
    assert visible[0].get_ylabel() == "chips_required (thousand chips)"


# ----------------------------------------------------------------------------- CLI


def test_project_command_writes_a_run_folder(tiny, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["project", str(tiny / "tiny.toml"), "--draws", "3000", "--seed", "1",
                 "--out", "p1"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "P(profit > 0) ± MCSE" in cap.out
    assert "run folder: p1" in cap.out
    run = tmp_path / "p1"
    res = json.loads((run / "summary.json").read_text())
    assert res["years"] == [2025, 2026, 2027, 2029]
    assert set(res["p_profitable"]) == {"2025", "2026", "2027", "2029"}
    assert res["summary"]["chips_required"]["2029"]["q50"] > 0
    names = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
    assert {"draws.nc", "summary.csv", "summary.json", "manifest.json", "point_path.json",
            "scenario/tiny.toml", "figures/fans.png", "figures/fan_margin.svg",
            "figures/fan_chips_required.png", "figures/fan_revenue.png",
            "figures/p_profitable.png"} <= names
    man = json.loads((run / "manifest.json").read_text())
    assert man["kind"] == "project"
    assert man["years"] == [2025, 2026, 2027, 2029]
    import xarray as xr

    tree = xr.open_datatree(run / "draws.nc", engine="h5netcdf")
    assert dict(tree["prior"].sizes) == {"chain": 1, "draw": 3000, "year": 4}
    tree.close()
    # write-once: the same --out is refused before any work
    assert main(["project", str(tiny / "tiny.toml"), "--draws", "100", "--out", "p1"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_project_command_bad_input_exits_2_with_one_line(tiny, capsys, tmp_path):
    assert main(["project", str(tiny / "flat.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no [projection] table" in err[0]
    bad = write(tmp_path, '\n[projection]\nyears = [2025, 2026]\n[projection.growth.users]\n'
                          'law = "exponential"\nrate = -2\nsource = "s"\n')
    assert main(["project", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "projection.growth.users.rate" in err[0]
    assert main(["project", str(tiny / "tiny.toml"), "--draws", "0"]) == 2
    assert "--draws" in capsys.readouterr().err
