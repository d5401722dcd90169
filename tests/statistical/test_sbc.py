"""Simulation-based calibration (Talts et al. 2018) of the NUTS calibration.

The model under test is the one probmodel builds from a scenario file
(tests/fixtures/calibration/fleet.toml: per-phase throughputs and a peak factor, with a
lognormal node count, a lognormal decode rate and a capacity-censored peak): the same
numpyro model, likelihoods and equations as ``probmodel calibrate``.

Replications are vectorised: R data sets are fitted in one NUTS run of a model with a
``replicate`` plate (calibration.numpyro_model(n_rep=R)). The joint posterior factorises
over replications, so each block of draws is that replication's posterior.

The censored observation makes this a rejection SBC: a replication is kept only when
its simulated peak reaches the cap (the event the lower-bound likelihood conditions on);
the kept truths are then draws from the posterior given that event, so ranks stay
uniform if and only if the censored likelihood is right.

Test level: each parameter's rank histogram (10 bins) is tested with a chi-square test
at alpha = 0.001 (3 parameters, family-wise about 0.3%); 50% and 90% central interval
coverage must lie within 4 binomial standard errors of nominal. Fixed seeds.
"""

import jax
import numpy as np
import pytest
from scipy import stats

from probmodel import api, calibration
from probmodel import distributions as dists
from probmodel import observations as obsmod

pytestmark = pytest.mark.long

R_SIM = 170  # simulated data sets; ~70% survive the censoring (>= 100 kept)
THIN = 6


@pytest.fixture(scope="module")
def sbc(fixtures):
    sc = api.load_scenario(fixtures / "calibration" / "fleet.toml")
    cm = calibration.build(sc)
    rng = np.random.default_rng(20261128)
    truth = {name: np.asarray(dists.scipy_dist(fam, sc.parameters[name].params)
                              .rvs(size=R_SIM, random_state=rng))
             for name, fam in cm.latent}
    args = calibration.model_args(cm, sc)
    q = calibration.outputs_of(cm, args, truth)
    q.update(truth)
    data = {o.name: obsmod.replicate(o, q[o.name], rng.standard_normal(R_SIM))
            for o in cm.observations}
    keep = np.ones(R_SIM, bool)
    for o in cm.observations:
        if o.kind == "lower_bound":
            keep &= data[o.name] >= o.value
    n = int(keep.sum())
    assert n >= 100
    fit_args = dict(args)
    fit_args["obs"] = {o.name: (jax.numpy.asarray(data[o.name][keep]) if o.kind in
                                ("normal", "lognormal") else args["obs"][o.name])
                       for o in cm.observations}
    draws, stats_, _ = calibration.run_nuts(cm, fit_args, chains=1, warmup=300, samples=600,
                                            seed=1, n_rep=n, chain_method="vectorized",
                                            dense_mass=False)
    assert not stats_["diverging"].any()
    post = {k: v.reshape(-1, n)[::THIN] for k, v in draws.items()}  # (L, n)
    return cm, {k: v[keep] for k, v in truth.items()}, post, n


def test_sbc_ranks_are_uniform(sbc):
    cm, truth, post, _ = sbc
    for name in cm.latent_names:
        draws = post[name]
        ranks = (draws < truth[name][None, :]).sum(axis=0)  # 0..L
        L = draws.shape[0]
        counts = np.histogram(ranks, bins=10, range=(0, L + 1))[0]
        _, p = stats.chisquare(counts)
        assert p > 0.001, f"{name}: rank histogram {counts} (chi-square p = {p:.2g})"


@pytest.mark.parametrize("level", [0.5, 0.9])
def test_sbc_interval_coverage(sbc, level):
    cm, truth, post, n = sbc
    lo, hi = (1 - level) / 2, (1 + level) / 2
    se = np.sqrt(level * (1 - level) / n)
    for name in cm.latent_names:
        q = np.quantile(post[name], [lo, hi], axis=0)
        cover = float(np.mean((truth[name] >= q[0]) & (truth[name] <= q[1])))
        # 4 binomial standard errors around the nominal rate
        assert abs(cover - level) < 4 * se, f"{name}: {cover:.3f} vs {level} (se {se:.3f})"
