"""The compiled execution policy is derived: scan tables, UDF requirements and join strategy follow the views."""

from __future__ import annotations

from relspec.policy import ALL_VIEWS, SORT_MERGE_ROWS, VIEW_NEEDS, RuntimePolicy, decide_policy


def test_views_v_runs_narrows_tables_functions_and_join():
    everything, _ = decide_policy(RuntimePolicy(), 8, 1_000)
    policy, reasons = decide_policy(RuntimePolicy(views=("v_runs",)), 8, 10 * SORT_MERGE_ROWS)
    assert policy.scan.tables == ("chains", "datasets", "runs", "scores")
    assert set(policy.scan.tables) < set(everything.scan.tables)
    assert policy.udf_requirements == () and everything.udf_requirements == ("rmse", "mae", "bias", "sep", "r2",
                                                                             "rpd")
    assert policy.join_strategy == "hash"  # v_runs joins no per-sample table, however many predictions there are
    assert any("join hash: the requested views join no per-sample table" in r for r in reasons)
    assert any("scan tables chains, datasets, runs, scores" in r for r in reasons)


def test_large_per_sample_joins_sort_merge_with_the_threshold_as_reason():
    policy, reasons = decide_policy(RuntimePolicy(views=("v_aggregated_scores",)), 8, SORT_MERGE_ROWS + 1)
    assert policy.join_strategy == "sort_merge" and policy.udf_requirements == ("rmse", "mae", "bias", "sep", "r2",
                                                                                "rpd")
    assert any(f"more than {SORT_MERGE_ROWS:,}" in r for r in reasons)
    small, _ = decide_policy(RuntimePolicy(views=("v_aggregated_scores",)), 8, SORT_MERGE_ROWS)
    assert small.join_strategy == "hash"


def test_every_view_has_its_needs_named():
    assert set(VIEW_NEEDS) == set(ALL_VIEWS)
