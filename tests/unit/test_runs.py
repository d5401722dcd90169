"""probmodel.runs: JSON-safe values, write-once output folders."""

import json
import math

import numpy as np
import pytest

from probmodel import runs
from probmodel.errors import RunError


def test_clean_makes_json_safe_values():
    got = runs.clean({"a": float("nan"), "b": [np.float32(1.5), float("inf")],
                      1: (np.int64(3), -math.inf), "c": "x"})
    assert got == {"a": None, "b": [1.5, None], "1": [3, None], "c": "x"}
    json.dumps(got, allow_nan=False)


def test_an_existing_out_folder_is_refused(tmp_path):
    (tmp_path / "r").mkdir()
    with pytest.raises(RunError, match="already exists; probmodel never overwrites"):
        runs.check_out_dir(tmp_path / "r")
    runs.check_out_dir(tmp_path / "new" / "deeper")  # creatable: accepted, nothing made
    assert not (tmp_path / "new").exists()


def test_an_out_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunError, match="cannot be created"):
        runs.check_out_dir(tmp_path / "f" / "r")


def test_run_ids_are_new_each_time_and_name_the_label():
    a, b = runs.run_id("deepseek-adjusted", "0200000"), runs.run_id("deepseek-adjusted",
                                                                      "0200000")
    assert a != b
    assert "deepseek-adjusted" in a
