"""benchmarks/aiconfigurator/score.py scores aiconfigurator's and probmodel's predictions alike."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd

SCORE = Path(__file__).resolve().parents[2] / "benchmarks" / "aiconfigurator" / "score.py"


def _score_module():
    spec = importlib.util.spec_from_file_location("aiconfigurator_score", SCORE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_score_counts_log_errors_and_share_within_25_percent():
    score = _score_module()
    measured = pd.DataFrame(
        {
            "hardware": ["h200", "h200", "h200", "b200", "mi300x"],
            "disagg": [False, False, False, True, False],
            "tput_per_gpu": [100.0, 100.0, 100.0, 50.0, 10.0],
        }
    )
    # matched by `row`, in another order; row 2 not predicted, row 4 (AMD) absent
    predicted = pd.DataFrame(
        {"row": [3, 1, 0, 2], "tput_per_gpu_q50": [50.0, 200.0, 110.0, np.nan]}
    )
    table = score.score(measured, predicted, ["tput_per_gpu"]).set_index(["hardware", "mode"])

    h200 = table.loc[("h200", "agg")]
    assert (h200["predicted"], h200["rows"]) == (2, 3)
    assert math.isclose(h200["median_abs_log"], (math.log(1.1) + math.log(2.0)) / 2)
    assert h200["within_25"] == 0.5
    assert table.loc[("b200", "disagg"), "median_abs_log"] == 0.0
    assert table.loc[("mi300x", "agg"), "predicted"] == 0
    assert np.isnan(table.loc[("mi300x", "agg"), "median_abs_log"])
    everything = table.loc[("all", "all")]
    assert (everything["predicted"], everything["rows"]) == (3, 5)
    assert (table.loc[("nvidia", "all"), "predicted"], table.loc[("nvidia", "all"), "rows"]) == (
        3,
        4,
    )
    assert "tput_per_gpu" in score.format_table(table.reset_index())
