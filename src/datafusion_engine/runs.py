"""Runs left `running` by a process that died are found and marked failed (``nirdag runs repair``)."""

from __future__ import annotations

import datetime as dt
import os

from datafusion_engine.schemas import RunRow
from datafusion_engine.store import now
from datafusion_engine.workspace import Workspace


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def abandoned(row: RunRow, host: str, stale_after: dt.timedelta) -> str | None:
    """Why a ``running`` run is abandoned (its process on this host is gone, or another host's run is older than
    ``stale_after``), or None while it may still be running."""
    if row.host == host and not _process_alive(row.pid):
        return f"process {row.pid} on {row.host} is gone"
    if row.host != host and now() - row.started_at > stale_after:
        return f"no news since {row.started_at}"
    return None


def repair_runs(workspace: Workspace, host: str, stale_after: dt.timedelta) -> list[str]:
    """Mark failed every `running` run whose process is gone (same host) or older than ``stale_after``.

    Their partial result rows are deleted first, so no half-written run remains. Returns the repaired run ids.
    """
    store = workspace.store
    if "runs" not in workspace.layout.existing_tables():
        return []
    rows = workspace.session().query("SELECT * FROM runs WHERE status = $status", status="running").to_pylist()
    repaired = []
    for raw in rows:
        row = RunRow(**raw)
        why = abandoned(row, host, stale_after)
        if why is not None:
            store.delete_run_results(row.run_id)
            store.fail_run(row, f"abandoned: {why} (marked failed by repair)")
            repaired.append(row.run_id)
    return repaired
