"""The Monte Carlo engine against analytic answers, within stated numbers of MCSE.

Bounds: |estimate - truth| < 4 MCSE. For one normal estimate the false-failure rate is
6e-5; with the ~20 comparisons below, about 1e-3 for the file. Seeds are fixed, so a
run is deterministic; the bound says how surprising a failure would be.
"""

import f32  # tests/f32.py: float32 comparisons across graphs
import numpy as np
import pytest
from scipy import stats

import probmodel
from probmodel import distributions as dists
from probmodel.results import quantiles_with_mcse

K = 4.0
N = 400_000


@pytest.fixture(scope="module")
def adjusted(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    return sc, probmodel.simulate(sc, draws=N, seed=11)


@pytest.fixture(scope="module")
def chatbot(priors):
    sc = probmodel.load_scenario(priors / "chatbot-h20.toml")
    return sc, probmodel.simulate(sc, draws=N, seed=12)


def within(est, truth, mcse):
    return abs(est - truth) < K * mcse


def test_input_means_and_quantiles_match_the_file(adjusted):
    sc, ds = adjusted
    for name, p in sc.uncertain.items():
        x = ds[name].values.ravel().astype(np.float64)
        truth = dists.scipy_dist(p.dist, p.params)
        assert within(x.mean(), truth.mean(), x.std() / np.sqrt(x.size)), name
        q, se = quantiles_with_mcse(x, [0.05, 0.5, 0.95])
        for qi, sei, t in zip(q, se, truth.ppf([0.05, 0.5, 0.95]), strict=True):
            assert within(qi, t, sei), (name, qi, t, sei)


def test_elicited_interval_round_trip(adjusted):
    # the file says pay_rate mean 0.35 sd 0.13, v3_share p05 0.15 / p95 0.58,
    # dau p05 16.7M / p95 37.5M: the sampled values must say the same.
    _, ds = adjusted
    pay = ds["pay_rate"].values.ravel().astype(np.float64)
    assert within(pay.mean(), 0.35, pay.std() / np.sqrt(N))
    v3 = ds["v3_share"].values.ravel()
    q, se = quantiles_with_mcse(v3, [0.05, 0.95])
    assert within(q[0], 0.15, se[0])
    assert within(q[1], 0.58, se[1])
    dau = ds["dau"].values.ravel()
    q, se = quantiles_with_mcse(dau, [0.05, 0.95])
    assert within(q[0], 16.7e6, se[0])
    assert within(q[1], 37.5e6, se[1])


def test_total_cost_mean_is_analytic(adjusted):
    sc, ds = adjusted
    # total_cost = 1814 x 24 x price / share, price ~ LogNormal, share ~ Beta(14, 6)
    # independent: E = 1814 x 24 x exp(mu + s^2/2) x E[1/share], E[1/Beta(a,b)] = (a+b-1)/(a-1)
    pr = sc.parameters["gpu_price_per_hour"].params
    truth = 1814 * 24 * np.exp(pr["loc"] + pr["scale"] ** 2 / 2) * (14 + 6 - 1) / (14 - 1)
    x = ds["total_cost"].values.ravel().astype(np.float64)
    assert within(x.mean(), truth, x.std() / np.sqrt(x.size))


def test_revenue_mean_is_multilinear_in_independent_inputs(adjusted):
    sc, ds = adjusted
    # revenue = pay x sum tokens x shares x prices is multilinear in independent inputs,
    # so its mean is the formula evaluated at the input means.
    means = {k: dists.mean(p.dist, p.params) for k, p in sc.uncertain.items()}
    at_means = probmodel.point(sc.with_overrides({k: float(v) for k, v in means.items()
                                                  if k in ("pay_rate", "v3_share",
                                                           "offpeak_share", "cache_hit_rate")}))
    x = ds["revenue"].values.ravel().astype(np.float64)
    assert within(x.mean(), at_means["revenue"], x.std() / np.sqrt(x.size))


def test_chips_required_is_exactly_lognormal(chatbot):
    sc, ds = chatbot
    # chips = users x req x tokens x 2 x 37e9 x peak / (86400 x 148e12 x util): a product
    # of independent LogNormals, so log(chips) ~ Normal(sum of +-loc, sqrt(sum scale^2)).
    sign = {"users": 1, "requests_per_user_per_day": 1, "tokens_per_request": 1,
            "peak_factor": 1, "utilization": -1}
    loc = np.log(2 * 37e9 / (86400 * 148e12))
    var = 0.0
    for name, s in sign.items():
        p = sc.parameters[name].params
        loc += s * p["loc"]
        var += p["scale"] ** 2
    truth = stats.lognorm(s=np.sqrt(var), scale=np.exp(loc))
    x = ds["chips_required"].values.ravel()
    q, se = quantiles_with_mcse(x, [0.05, 0.5, 0.95])
    for qi, sei, t in zip(q, se, truth.ppf([0.05, 0.5, 0.95]), strict=True):
        assert within(qi, t, sei), (qi, t, sei)
    lx = np.log(x.astype(np.float64))
    assert within(lx.mean(), loc, lx.std() / np.sqrt(lx.size))


def test_p_profitable_matches_an_independent_numpy_simulation(adjusted, priors):
    sc, ds = adjusted
    # Same model written with NumPy's generator (different random numbers): the two
    # estimates of P(profit > 0) agree within 4 combined MCSE.
    rng = np.random.default_rng(2024)
    draw = {k: dists.scipy_dist(p.dist, p.params).rvs(N, random_state=rng)
            for k, p in sc.uncertain.items()}
    hit, off, v3 = draw["cache_hit_rate"], draw["offpeak_share"], draw["v3_share"]
    pr = sc.prices
    tok = np.stack([608e9 * hit, 608e9 * (1 - hit), np.full(N, 168e9)], axis=-1)
    blended = np.einsum("nw,nm,wmc->nc", np.stack([1 - off, off], -1),
                        np.stack([v3, 1 - v3], -1), pr)
    revenue = draw["pay_rate"] * (tok * blended).sum(-1) / 1e6
    cost = 1814 * 24 * draw["gpu_price_per_hour"] / draw["gpu_cost_share"]
    p_np = np.mean(revenue > cost)
    p_pm = float((ds["profit"].values > 0).mean())
    se = np.hypot(np.sqrt(p_np * (1 - p_np) / N), np.sqrt(p_pm * (1 - p_pm) / N))
    assert abs(p_np - p_pm) < K * se


def test_same_seed_bit_identical_and_prefix_stable(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    a = probmodel.simulate(sc, draws=3000, seed=5)
    b = probmodel.simulate(sc, draws=3000, seed=5)
    c = probmodel.simulate(sc, draws=300_000, seed=5)
    for k in a.data_vars:
        assert np.array_equal(a[k].values, b[k].values)
        assert np.array_equal(a[k].values[0], c[k].values[0, :3000])


def test_common_random_numbers_across_scenarios(priors):
    adj = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    a = probmodel.simulate(adj, draws=2000, seed=3)
    b = probmodel.simulate(adj.with_overrides({"pay_rate": 0.35}), draws=2000, seed=3)
    # A shared uncertain parameter is drawn from the same random numbers.
    assert np.array_equal(a["gpu_cost_share"].values, b["gpu_cost_share"].values)
    # total_cost from another graph (pay_rate fixed): equal up to ulps (a positive product)
    f32.assert_close(b["total_cost"].values, a["total_cost"].values, what="total_cost")
