"""The Workspace handle: one session per export, reused until a table moves on, and the folder layout in one place."""

from __future__ import annotations

import nirdag
from datafusion_engine import Workspace, WorkspaceSession

SPEC = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                      {"model": {"op": "pls", "n_components": [2, 3]}}]}


def _count_sessions(monkeypatch) -> list[int]:
    opened = [0]
    real = WorkspaceSession.__init__

    def counting(self, *args, **kwargs):
        opened[0] += 1
        real(self, *args, **kwargs)

    monkeypatch.setattr(WorkspaceSession, "__init__", counting)
    return opened


def test_one_export_opens_one_session(tecator, tmp_path, monkeypatch):
    run = nirdag.run(SPEC, tecator, workspace=tmp_path / "ws", seed=0)
    opened = _count_sessions(monkeypatch)
    nirdag.export(tmp_path / "ws", run.run_id, tmp_path / "model.nirdag")
    assert opened[0] == 1
    assert (tmp_path / "model.nirdag").is_file()


def test_the_session_is_reused_until_a_table_moves_on(tecator, tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "ws")
    first = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    session = ws.session()
    assert ws.session() is session and session.is_current()
    nirdag.run(SPEC, tecator, workspace=ws, seed=1)  # new commits: the old session no longer sees every row
    assert not session.is_current()
    fresh = ws.session()
    assert fresh is not session
    runs = fresh.sql("SELECT run_id FROM runs").column("run_id").to_pylist()
    assert first.run_id in runs and len(runs) == 2


def test_a_time_travel_session_is_never_shared(tecator, tmp_path):
    ws = Workspace(tmp_path / "ws")
    nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    old = ws.session(as_of=0)
    assert old is not ws.session() and not old.is_current()


def test_the_public_workspace_is_accepted_where_a_folder_is(tecator, tmp_path):
    ws = nirdag.Workspace(tmp_path / "ws")
    run = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    assert run.workspace == ws.path and ws.runs().column("run_id").to_pylist() == [run.run_id]
