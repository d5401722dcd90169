"""probmodel.sampling: the structure a program is compiled for, and the chunk keys."""

import dataclasses

import numpy as np
import pytest

import probmodel
from probmodel import sampling


@pytest.fixture(scope="module")
def bot(priors):
    return probmodel.load_scenario(priors / "chatbot-h20-roofline.toml")


def test_a_chip_pick_changes_the_numbers_not_the_structure(bot):
    from probmodel.errors import InputWarning

    with pytest.warns(InputWarning, match="keeps its own mtp_acceptance"):
        other = bot.with_overrides({"chip": "H200"})
    a = sampling.ForwardModel.from_scenario(bot)
    b = sampling.ForwardModel.from_scenario(other)
    assert a.labels != b.labels  # the chip's own numbers draw from their own streams
    assert a == b  # ... but one compiled program serves both
    assert hash(a) == hash(b)
    la, lb = a.args(bot)["labels"], b.args(other)["labels"]
    differ = [k for k in la if int(la[k]) != int(lb[k])]
    assert differ
    assert all("@" in lab for k, lab in zip((k for k, _ in b.uncertain), b.labels,
                                             strict=True) if k in differ)


def test_label_ids_are_the_names_ids(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    m = sampling.ForwardModel.from_scenario(sc)
    ids = m.args(sc)["labels"]
    assert {k: int(v) for k, v in ids.items()} == {k: sampling.name_id(k)
                                                    for k, _ in m.uncertain}


def test_draw_j_does_not_depend_on_the_number_of_draws(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    few = sampling.sample_arrays(sc, 1000, 3)
    more = sampling.sample_arrays(sc, sampling.CHUNK + 5000, 3)
    for k in ("pay_rate", "profit"):
        np.testing.assert_array_equal(few[k], more[k][:1000])


def test_chunks_cover_the_draws_once():
    got = list(sampling.chunks(0, 2 * sampling.CHUNK + 7))
    assert [c.offset for c in got] == [0, sampling.CHUNK, 2 * sampling.CHUNK]
    assert [c.take for c in got] == [sampling.CHUNK, sampling.CHUNK, 7]
    assert len({tuple(np.asarray(c.key).tolist()) for c in got}) == 3


def test_the_structure_is_hashable_and_frozen(priors):
    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    m = sampling.ForwardModel.from_scenario(sc)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.outputs = ()
    assert {m: 1}[sampling.ForwardModel.from_scenario(sc)] == 1
