"""A run's lifecycle against deletes and other writers: a running run is not deleted, a deleted run is never
brought back by its completion, deletes racing writers resurrect nothing and leave true reference counts, and a
folder that is not a workspace is never written into."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys

import msgspec
import pytest

import nirdag
from datafusion_engine import RunRow, StoreError
from datafusion_engine import Workspace as Handle
from datafusion_engine.errors import RunDeletedError
from nirdag.run_service import RunTransaction
from relspec.source import read_spec

SPEC = {"target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"}, {"model": {"op": "pls", "n_components": [2, 4]}}]}


def _running(ws, tecator, pid: int | None = None) -> RunTransaction:
    plan = nirdag.compile(SPEC, tecator)
    run = RunTransaction(Handle.of(ws), plan, read_spec(SPEC))
    if pid is not None:
        run.row = msgspec.structs.replace(run.row, pid=pid)
    run.begin()
    return run


def _status(ws, run_id):
    return Handle.of(ws).store.run_status(run_id)


def test_a_running_run_is_not_deleted(tmp_path, tecator):
    ws = tmp_path / "ws"
    run = _running(ws, tecator)  # this very process: alive
    with pytest.raises(StoreError, match=r"is still running \(pid"):
        nirdag.Workspace(ws).delete_run(run.run_id)
    assert _status(ws, run.run_id) == "running"


def test_an_abandoned_running_run_is_repaired_then_deleted(tmp_path, tecator):
    ws = tmp_path / "ws"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = _running(ws, tecator, pid=int(dead.stdout))
    assert nirdag.Workspace(ws).delete_run(run.run_id) == run.run_id
    assert _status(ws, run.run_id) is None


def test_completing_a_deleted_run_is_refused_and_brings_nothing_back(tmp_path, tecator):
    ws = tmp_path / "ws"
    run = _running(ws, tecator)
    handle = Handle.of(ws)
    handle.store.delete_run(run.run_id)  # what a delete racing the run does
    with pytest.raises(RunDeletedError, match=r"was deleted .* while it ran"):
        run.complete()
    run.fail(RuntimeError("deleted"))  # the run service's clean-up: writes nothing back either
    assert _status(ws, run.run_id) is None


def test_an_update_never_inserts_a_deleted_row(tmp_path, tecator):
    ws = tmp_path / "ws"
    first = nirdag.run(SPEC, tecator, workspace=ws)
    second = nirdag.run(SPEC, tecator, workspace=ws, reuse=False)  # the same fitted objects: shared blobs
    handle = Handle.of(ws)
    stale = handle.session().sql("SELECT * FROM artifacts")  # read before the delete, as a racing writer would
    handle.store.delete_run(first.run_id)
    handle.store.update_matched("artifacts", stale)
    ids = set(nirdag.query("SELECT DISTINCT run_id FROM artifacts", ws).column("run_id").to_pylist())
    assert ids == {second.run_id}


def _run_into(ws: str) -> None:
    nirdag.run(SPEC, nirdag.datasets.tecator(), workspace=ws, reuse=False)


@pytest.mark.parametrize("trial", range(2))
def test_a_delete_racing_a_run_leaves_true_reference_counts(tmp_path, tecator, trial):
    ws = tmp_path / "ws"
    victim = nirdag.run(SPEC, tecator, workspace=ws)
    writer = mp.get_context("spawn").Process(target=_run_into, args=(str(ws),))
    writer.start()
    nirdag.Workspace(ws).delete_run(victim.run_id)
    writer.join(300)
    assert writer.exitcode == 0
    rows = nirdag.query("SELECT run_id, blob_sha256, ref_count FROM artifacts", ws).to_pylist()
    assert victim.run_id not in {r["run_id"] for r in rows}
    truth: dict[str, int] = {}
    for r in rows:
        truth[r["blob_sha256"]] = truth.get(r["blob_sha256"], 0) + 1
    assert all(r["ref_count"] == truth[r["blob_sha256"]] for r in rows)


def test_a_folder_that_is_not_a_workspace_is_not_written_into(tmp_path, tecator):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="holds files but is not a nirdag workspace"):
        nirdag.run(SPEC, tecator, workspace=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    with pytest.raises(StoreError, match="MiB free on its disk"):
        Handle.of(tmp_path / "new").check_writable(min_free_bytes=1 << 62)


def test_run_rows_keep_their_struct(tmp_path, tecator):
    run = _running(tmp_path / "ws", tecator)
    raw = nirdag.query("SELECT * FROM runs", tmp_path / "ws").to_pylist()[0]
    assert RunRow(**raw).status == "running" and raw["run_id"] == run.run_id
