"""Read-only SQL over a workspace and run references: what `nirdag query`, `nirdag runs` and `nirdag.Workspace`
need, without the engine (no Hamilton, no scikit-learn: these verbs start fast)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from datafusion_engine import Workspace
from datafusion_engine.scan_metrics import ScanMetrics
from datafusion_engine.sql_limits import DEFAULT_LIMITS, query_limits
from semantics import open_session, queries
from semantics.records import record_scan_metrics

WorkspaceLike = Workspace | str | Path


def resolve_run(workspace: WorkspaceLike, ref: str) -> str:
    """The run id ``ref`` names in a workspace: a run id, a unique prefix of one, or ``latest`` (the newest
    completed run). Raises RunNotFound (no match, or several)."""
    return queries.resolve_run(Workspace.of(workspace).require().session(), ref)


def query(sql: str, workspace: WorkspaceLike = "workspace", *, as_of: int | dt.datetime | None = None,
          timeout: float | None = DEFAULT_LIMITS.timeout, max_rows: int | None = DEFAULT_LIMITS.max_rows,
          max_bytes: int | None = DEFAULT_LIMITS.max_bytes, all_runs: bool = False) -> pa.Table:
    """Read-only SQL over a workspace's tables and semantic views, optionally as of a Delta version or time.

    Parameters
    ----------
    sql : str
        One read-only statement (DDL, DML and other statements are refused with a QueryError). Its text is
        bounded (``datafusion_engine.sql_limits.QueryLimits``: characters, operators, UNION branches, nesting).
    workspace : str, Path or Workspace
        The workspace to query.
    as_of : int or datetime, optional
        Read every table as of this Delta version or point in time.
    timeout : float or None
        Seconds the query may run (QueryTimeout past it); None: no limit.
    max_rows, max_bytes : int or None
        The most rows / Arrow bytes the result may hold (ResultTooLarge past it); None: no limit.
    all_runs : bool
        Also see the rows of runs that are not completed (a running or killed run) in the raw tables; by default
        they show completed runs only, as the views do.

    Returns
    -------
    pyarrow.Table

    Examples
    --------
    >>> nirdag.query("SELECT * FROM v_ranked_chains LIMIT 5", "ws")  # doctest: +SKIP
    """
    limits = query_limits(timeout=timeout, max_rows=max_rows, max_bytes=max_bytes)
    return open_session(Workspace.of(workspace), as_of=as_of).sql(sql, limits=limits, all_runs=all_runs)


def query_with_metrics(sql: str, workspace: WorkspaceLike = "workspace", *,
                       as_of: int | dt.datetime | None = None,
                       all_runs: bool = False) -> tuple[pa.Table, ScanMetrics, Path | str]:
    """Like :func:`query`, and measure what the query scanned: files in the tables it reads vs files opened, rows
    read. The ScanMetrics artifact is also written under ``<workspace>/provenance/scans/``; returns its path.
    The text limits and the memory pool apply; the result is collected whole (no time or row limit)."""
    handle = Workspace.of(workspace)
    table, metrics = open_session(handle, as_of=as_of).sql_with_metrics(sql, all_runs=all_runs)
    return table, metrics, record_scan_metrics(handle, metrics)
