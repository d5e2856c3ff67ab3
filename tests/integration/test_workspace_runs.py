"""Runs of a workspace: list, show, delete (cascade), time travel, and query output formats."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

import nirdag
from datafusion_engine import StoreError
from semantics.errors import RunNotFound

SPEC = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                      {"model": {"op": "pls", "n_components": [2, 4]}}]}


@pytest.fixture()
def two_runs(tecator, tmp_path):
    ws = tmp_path / "ws"
    return ws, [nirdag.run(SPEC, tecator, workspace=ws, seed=s).run_id for s in (1, 2)]


def test_list_and_show(two_runs):
    ws, ids = two_runs
    workspace = nirdag.Workspace(ws)
    assert sorted(workspace.runs().column("run_id").to_pylist()) == sorted(ids)
    (shown,) = workspace.run_summary(ids[0]).to_pylist()
    assert shown["status"] == "completed" and shown["n_chains"] == 2 and shown["best_rmsecv"] > 0
    assert shown["rank_metric"] == "rmse" and shown["best_cv_value"] == shown["best_rmsecv"]


def test_delete_removes_the_run_from_every_table(two_runs):
    ws, (gone, kept) = two_runs
    nirdag.Workspace(ws).delete_run(gone)
    for table in ("runs", "chains", "predictions", "scores"):
        ids = set(nirdag.query(f"SELECT DISTINCT run_id FROM {table}", ws).column("run_id").to_pylist())
        assert ids == {kept}, table
    with pytest.raises(RunNotFound, match="no run"):
        nirdag.Workspace(ws).delete_run(gone)


def test_time_travel_sees_the_table_before_the_second_run(two_runs):
    ws, (first, _) = two_runs
    old = nirdag.query("SELECT run_id, status FROM runs", ws, as_of=0).to_pylist()
    assert old == [{"run_id": first, "status": "running"}]
    with pytest.raises(StoreError, match="no version"):
        nirdag.query("SELECT * FROM runs", ws, as_of=999)


def test_cli_runs_and_parquet_output(two_runs, tmp_path):
    ws, ids = two_runs
    cli = [sys.executable, "-m", "nirdag"]
    listed = subprocess.run([*cli, "runs", "list", "-w", str(ws), "-f", "csv"], capture_output=True, text=True,
                            check=True)
    assert all(run_id in listed.stdout for run_id in ids)
    out = tmp_path / "q.parquet"
    subprocess.run([*cli, "query", "SELECT chain_id, rmse(y_true, y_pred) AS rmse FROM predictions GROUP BY 1",
                    "-w", str(ws), "-f", "parquet", "-o", str(out)], check=True, capture_output=True)
    assert pq.read_table(out).num_rows == 2  # chain ids are the same in both runs (same spec, same data)
    refused = subprocess.run([*cli, "query", "SELECT 1", "-w", str(ws), "-f", "parquet"], capture_output=True,
                             text=True)
    assert refused.returncode == 1 and "--output" in refused.stderr


def test_a_rebuilt_run_keeps_its_own_refit_rule(tmp_path, tecator):
    """Two runs of one pipeline with different refit rules share the spec stored per pipeline hash (the newest
    writes it); each rebuilt run compiles its own rule, and a run that lost its own spec document falls back to
    the shared one."""
    base = {"name": "refit", "target": "fat", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 8]}}}]}
    first = nirdag.run({**base, "refit": {"select": "min"}}, tecator, workspace=tmp_path)
    second = nirdag.run({**base, "refit": {"select": "one_se"}}, tecator, workspace=tmp_path)
    assert first.plan.pipeline_hash == second.plan.pipeline_hash
    ws = nirdag.Workspace(tmp_path)
    assert ws.run(first.run_id).plan.refit.select == "min"
    assert ws.run(second.run_id).plan.refit.select == "one_se"
    assert ws.run(first.run_id).plan.plan_hash == first.plan.plan_hash
    (tmp_path / "provenance" / first.run_id / "pipeline_spec.json").unlink()  # a run made before runs kept it
    assert ws.run(first.run_id).plan.refit.select == "one_se"
