"""The workspace store is the one writer: merges on natural keys, conforms rows to the struct-derived schemas."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datafusion_engine import StoreError, Workspace, WorkspaceStore
from datafusion_engine.schemas import TABLE_SCHEMAS


def _predictions(y_pred: float) -> pa.Table:
    rows = [
        {"run_id": "r1", "chain_id": "c1", "fold_id": f"fold_{i}", "partition": "val", "sample_id": f"s{i}",
         "target": "fat", "y_true": 1.0, "y_pred": y_pred}
        for i in range(3)
    ]
    return pa.Table.from_pylist(rows, schema=TABLE_SCHEMAS["predictions"])


def test_writing_the_same_keys_twice_replaces_and_never_duplicates(tmp_path):
    store = Workspace(tmp_path / "ws").store
    store.write("predictions", _predictions(2.0))
    store.write("predictions", _predictions(5.0))
    rows = Workspace(tmp_path / "ws").session().sql("SELECT y_pred FROM predictions").to_pylist()
    assert sorted(r["y_pred"] for r in rows) == [5.0, 5.0, 5.0]


def test_rows_with_wrong_columns_are_refused(tmp_path):
    store = Workspace(tmp_path / "ws").store
    bad = _predictions(1.0).drop_columns(["target"])
    with pytest.raises(StoreError, match="expected"):
        store.write("predictions", bad)
    assert not (tmp_path / "ws" / "tables" / "predictions").exists()


def test_unknown_table_is_refused(tmp_path):
    with pytest.raises(StoreError, match="unknown table 'predictionz'"):
        Workspace(tmp_path / "ws").store.write("predictionz", _predictions(1.0))


def test_run_result_draws_its_dag(tecator_run, tmp_path):
    graph = tecator_run.dag()
    assert "chain_scores" in graph.source and "refit_models" in graph.source
    path = tecator_run.dag(tmp_path / "run.dot", folds=True)
    assert path.read_text().count("pls_sweep__fold_") >= 20


def test_a_run_failing_after_some_tables_leaves_none_of_its_rows(tecator, tmp_path, monkeypatch):
    import nirdag

    real_write = WorkspaceStore.write

    def failing_scores(self, name, data, **options):
        if name == "scores":
            raise OSError("disk full while writing scores")
        real_write(self, name, data, **options)

    monkeypatch.setattr(WorkspaceStore, "write", failing_scores)
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                          {"model": {"op": "pls", "n_components": 2}}]}
    with pytest.raises(OSError, match="disk full"):
        nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    session = Workspace(tmp_path / "ws").session()
    assert session.sql("SELECT status FROM runs").column("status").to_pylist() == ["failed"]
    assert session.sql("SELECT count(*) AS n FROM predictions").column("n").to_pylist() == [0]
    assert session.sql("SELECT count(*) AS n FROM chains").column("n").to_pylist() == [0]


CONCURRENT_WRITER = """
import sys, datetime as dt
from datafusion_engine import RunRow, Workspace
store = Workspace(sys.argv[1]).store
for i in range(6):
    store.begin_run(RunRow(run_id=f"{sys.argv[2]}-{i}", status="running", started_at=dt.datetime.now(dt.UTC),
        finished_at=None, dataset_hash="d", pipeline_hash="p", plan_hash="q", seed=0, nirdag_version="t", error=None,
        host="h", pid=1))
"""


def test_two_processes_writing_one_table_lose_no_rows(tmp_path):
    import subprocess
    import sys

    ws = tmp_path / "ws"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(ws), tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ids = Workspace(ws).session().sql("SELECT run_id FROM runs").column("run_id").to_pylist()
    assert sorted(ids) == sorted(f"{t}-{i}" for t in "ab" for i in range(6))


def test_writing_identical_rows_again_commits_nothing(tmp_path):
    from deltalake import DeltaTable

    store = Workspace(tmp_path / "ws").store
    store.write("predictions", _predictions(2.0))
    store.write("predictions", _predictions(3.0))  # a real change: a new version
    version = DeltaTable(tmp_path / "ws" / "tables" / "predictions").version()
    store.write("predictions", _predictions(3.0))
    assert DeltaTable(tmp_path / "ws" / "tables" / "predictions").version() == version


CONCURRENT_RUN = """
import sys
import nirdag
spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
        {"model": {"op": "pls", "n_components": [2, 3, 4]}}]}
nirdag.run(spec, nirdag.datasets.tecator(), workspace=sys.argv[1], seed=int(sys.argv[2]))
"""


def test_two_concurrent_runs_into_one_workspace_lose_no_rows(tmp_path):
    import subprocess
    import sys

    ws = tmp_path / "ws"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_RUN, str(ws), seed], stderr=subprocess.PIPE)
             for seed in ("1", "2")]
    assert [p.wait(timeout=300) for p in procs] == [0, 0], [p.stderr.read().decode()[-500:] for p in procs]
    session = Workspace(ws).session()
    assert sorted(session.sql("SELECT status FROM runs").column("status").to_pylist()) == ["completed"] * 2
    counts = session.sql("SELECT run_id, count(*) AS n FROM predictions GROUP BY run_id").column("n").to_pylist()
    assert counts == [3 * (172 + 3 * 43) + 215] * 2  # 3 chains x (val + per-fold test) + the refit's rows
    assert session.sql("SELECT count(*) AS n FROM datasets").column("n").to_pylist() == [1]


def _old_chains_rows(with_rank_metric: bool) -> pa.Table:
    """chains rows as an nirdag before classification (no rank_metric) or before multi-target runs wrote them."""
    names = [f.name for f in TABLE_SCHEMAS["chains"]]
    keep = names[:names.index("rank_metric") + (1 if with_rank_metric else 0)]
    row = {"run_id": "r", "chain_id": "c", "pipeline_hash": "p", "branch_path": [0], "branch_name": "raw",
           "preprocessing": "raw", "model": "pls", "n_components": 3, "params_json": "{}", "dataset_hash": "d",
           "refit": True, "rank_metric": None}
    schema = pa.schema([TABLE_SCHEMAS["chains"].field(n) for n in keep])
    return pa.Table.from_pylist([{n: row[n] for n in keep}], schema=schema)


@pytest.mark.parametrize("with_rank_metric", [False, True])
def test_a_table_written_by_an_older_version_is_read_as_the_current_schema(tmp_path, with_rank_metric):
    from deltalake import write_deltalake

    ws = Workspace(tmp_path / "ws")
    write_deltalake(ws.layout.table("chains"), _old_chains_rows(with_rank_metric))
    (row,) = ws.session().sql("SELECT * FROM chains").to_pylist()
    assert list(row) == TABLE_SCHEMAS["chains"].names
    assert row["rank_metric"] == "rmse"  # every chain written before classification was ranked by rmse
    assert row["rank"] is None and row["rank_target"] is None  # not recorded then: null, never invented


def test_old_chains_take_their_rank_target_from_their_pipeline(tmp_path):
    from deltalake import write_deltalake

    ws = Workspace(tmp_path / "ws")
    ws.store.write("pipelines", pa.Table.from_pylist(
        [{"pipeline_hash": "p", "name": "old", "target": "fat", "spec_json": "{}"}], schema=TABLE_SCHEMAS["pipelines"]))
    write_deltalake(ws.layout.table("chains"), _old_chains_rows(with_rank_metric=False))
    (row,) = ws.session().sql("SELECT rank_metric, rank_target FROM chains").to_pylist()
    assert row == {"rank_metric": "rmse", "rank_target": "fat"}  # a chain written before multi-target runs
