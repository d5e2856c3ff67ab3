"""A 10,000-chain grid runs end to end: no recursion limit, no funnel of thousands of inputs into one node."""

from __future__ import annotations

import sys

from hamilton_pipeline import execute_plan
from nirdag.api import compile
from nirs_core.data import synthetic


def test_ten_thousand_chains_run(tmp_path):
    data = synthetic(48, 60, seed=1)
    spec = {"target": "y", "max_chains": 20_000, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_or_": [None, {"op": "snv"}, {"op": "msc"}, {"op": "rnv"}, {"op": "vector_norm"}]},
        {"_or_": [None, {"op": "detrend"}]},
        {"op": "savgol", "window_length": {"_range_": [5, 43, 2]}, "polyorder": {"_or_": [2, 3]},
         "deriv": {"_or_": [0, 1]}},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 13]}}}]}
    plan = compile(spec, data)
    assert len(plan.chains) == 5 * 2 * 20 * 2 * 2 * 13 == 10_400
    limit = sys.getrecursionlimit()
    result = execute_plan(plan, data)
    assert sys.getrecursionlimit() == limit  # nothing raised it to get through
    assert result.chains.num_rows == 10_400
    assert result.ranking[0].cv_loss == min(r.cv_loss for r in result.ranking)
    assert result.ranking[0].metric == "rmse" and result.ranking[0].cv_value == result.ranking[0].cv_loss
