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
        gone = row.host == host and not _process_alive(row.pid)
        stale = row.host != host and now() - row.started_at > stale_after
        if gone or stale:
            why = f"process {row.pid} on {row.host} is gone" if gone else f"no news since {row.started_at}"
            store.delete_run_results(row.run_id)
            store.fail_run(row, f"abandoned: {why} (marked failed by repair)")
            repaired.append(row.run_id)
    return repaired
