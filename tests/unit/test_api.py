"""probmodel.api: summarise is run without the folder; check_finite refuses NaN draws."""

import numpy as np
import pytest

import probmodel
from probmodel import api, results
from probmodel.errors import NonFiniteError


@pytest.fixture(scope="module")
def adj(priors):
    return probmodel.load_scenario(priors / "deepseek-adjusted.toml")


def test_summarise_is_the_run_s_computation(adj, tmp_path):
    _, ds, summary = api.summarise(adj, 20_000, 4)
    res = api.run(adj, 20_000, 4, out=tmp_path / "r")
    assert summary.identical(res.summary)
    assert api.run_json(summary, adj.name, 4) == api.run_json(res.summary, adj.name, 4)
    # the kept draws are every draw at this size, the same ones the folder holds
    np.testing.assert_array_equal(ds["profit"].values, res.dataset["profit"].values)
    assert (tmp_path / "r" / "summary.json").is_file()


def test_run_json_has_what_the_cli_prints(adj):
    _, _, summary = api.summarise(adj, 4096, 0)
    body = api.run_json(summary, adj.name, 0)
    assert set(body) == {"scenario", "draws", "seed", "summary", "p_profitable",
                         "p_profitable_mcse"}
    assert body["draws"] == 4096
    p = body["p_profitable"]
    assert 0 < p < 1
    assert body["p_profitable_mcse"] == pytest.approx(np.sqrt(p * (1 - p) / 4096))


def test_check_finite_refuses_a_summary_with_non_finite_draws(adj):
    _, _, summary = api.summarise(adj, 4096, 0)
    bad = summary.copy()
    name = results.summarized(summary)[0]
    bad[name].attrs["non_finite"] = 3
    with pytest.raises(NonFiniteError):
        api.check_finite(bad)
    api.check_finite(summary)


def test_ordinals_of_thinning_strides():
    from probmodel.fmt import ordinal

    assert [ordinal(n) for n in (1, 2, 3, 4, 8, 11, 12, 13, 21, 32, 64, 101, 112, 128)] == [
        "1st", "2nd", "3rd", "4th", "8th", "11th", "12th", "13th", "21st", "32nd", "64th",
        "101st", "112th", "128th"]
