"""The Delta tables of a run, read back through DataFusion SQL, agree with each other and with the contracts."""

from __future__ import annotations

import numpy as np
import pytest
from deltalake import DeltaTable

import nirdag
from datafusion_engine import QueryError


def test_run_is_completed_with_distinct_full_hashes(tecator_run):
    (row,) = tecator_run.sql(f"SELECT * FROM runs WHERE run_id = '{tecator_run.run_id}'").to_pylist()
    assert row["status"] == "completed" and row["error"] is None and row["finished_at"] is not None
    assert row["dataset_hash"] == tecator_run.dataset.content_hash
    assert len(row["dataset_hash"]) == len(row["pipeline_hash"]) == 64
    assert row["dataset_hash"] != row["pipeline_hash"]
    assert row["seed"] == 0


def test_sql_rmse_from_predictions_equals_stored_scores(tecator_run):
    joined = tecator_run.sql(
        """
        WITH p AS (
          SELECT chain_id, fold_id, partition, sqrt(avg((y_pred - y_true) * (y_pred - y_true))) AS rmse
          FROM predictions GROUP BY chain_id, fold_id, partition
          UNION ALL
          SELECT chain_id, 'cv' AS fold_id, partition, sqrt(avg((y_pred - y_true) * (y_pred - y_true)))
          FROM predictions WHERE partition = 'val' GROUP BY chain_id, partition
        )
        SELECT p.rmse AS sql_rmse, s.value AS stored FROM p
        JOIN scores s ON s.chain_id = p.chain_id AND s.fold_id = p.fold_id AND s.partition = p.partition
        WHERE s.metric = 'rmse'
        """
    )
    assert joined.num_rows == 60 * 5 * 2 + 60 + 2  # folds x (val, test), pooled cv, fold_final (train, test)
    np.testing.assert_allclose(joined["sql_rmse"].to_numpy(), joined["stored"].to_numpy(), rtol=0, atol=1e-9)


def test_fold_keys_and_partitions_use_one_spelling(tecator_run):
    rows = tecator_run.sql("SELECT DISTINCT fold_id, partition FROM predictions ORDER BY 1, 2").to_pylist()
    pairs = {(r["fold_id"], r["partition"]) for r in rows}
    expected = {(f"fold_{i}", p) for i in range(5) for p in ("val", "test")}
    assert pairs == expected | {("fold_final", "train"), ("fold_final", "test")}


def test_refit_rows_are_labelled_final_for_the_best_chain_only(tecator_run):
    rows = tecator_run.sql(
        "SELECT DISTINCT chain_id FROM predictions WHERE fold_id = 'fold_final'"
    ).to_pylist()
    assert [r["chain_id"] for r in rows] == [tecator_run.best["chain_id"]]
    counts = tecator_run.sql(
        "SELECT partition, count(*) AS n FROM predictions WHERE fold_id = 'fold_final' GROUP BY partition"
    ).to_pylist()
    assert {r["partition"]: r["n"] for r in counts} == {"train": 172, "test": 43}


def test_out_of_fold_predictions_cover_each_train_row_once_per_chain(tecator_run):
    rows = tecator_run.sql(
        "SELECT chain_id, count(*) AS n, count(DISTINCT sample_id) AS ids FROM predictions "
        "WHERE partition = 'val' GROUP BY chain_id"
    ).to_pylist()
    assert len(rows) == 60
    assert all(r["n"] == 172 and r["ids"] == 172 for r in rows)


def test_tables_are_real_delta_tables_on_disk(tecator_run):
    for name in ("runs", "chains", "predictions", "scores"):
        table = DeltaTable(tecator_run.workspace / "tables" / name)
        assert table.version() >= 0
        assert "run_id" in [f.name for f in table.schema().fields]


def test_query_is_read_only(tecator_run):
    for statement in ("DROP TABLE runs", "CREATE TABLE x AS SELECT 1", "INSERT INTO runs SELECT * FROM runs"):
        with pytest.raises(QueryError):
            nirdag.query(statement, tecator_run.workspace)


def test_bad_sql_is_a_one_line_query_error(tecator_run):
    with pytest.raises(QueryError) as info:
        nirdag.query("SELECT nope FROM predictions", tecator_run.workspace)
    assert "\n" not in str(info.value) and "nope" in str(info.value)


def test_top_is_ranked_by_rmsecv(tecator_run):
    top = tecator_run.top(5).to_pylist()
    assert [r["rank"] for r in top] == [1, 2, 3, 4, 5]
    assert [r["rmsecv"] for r in top] == sorted(r["rmsecv"] for r in top)


def test_pipelines_table_holds_the_decoded_spec(tecator_run):
    import json

    (row,) = tecator_run.sql("SELECT * FROM pipelines").to_pylist()
    assert row["pipeline_hash"] == tecator_run.pipeline_hash and row["target"] == "fat"
    spec = json.loads(row["spec_json"])
    assert spec["name"] == "tecator_pls" and spec["pipeline"][2]["model"]["n_components"] == list(range(1, 16))


def test_events_say_where_the_time_went(tecator_run):
    rows = tecator_run.sql(
        f"SELECT node, seconds, status FROM events WHERE run_id = '{tecator_run.run_id}' ORDER BY node").to_pylist()
    nodes = {r["node"] for r in rows}
    assert {"spectra", "targets", "chain_scores", "refit_models"} <= nodes
    assert sum(n.startswith("pls_sweep__fold_") for n in nodes) == 4 * 5
    assert all(r["status"] == "ok" and r["seconds"] >= 0 for r in rows)
