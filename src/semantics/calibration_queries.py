"""The named queries of the policy calibration: a workload class's measured runs and cache costs.

Constant SQL text whose values are ``$name`` parameters, like :mod:`semantics.queries`. Only completed runs count:
a failed run's metrics are removed with its results, and a running one has written none yet.
"""

from __future__ import annotations

from typing import Any

from semantics.queries import Session

HISTORY_RUNS = 20  # the newest completed runs of a class the calibration reads

_RUNS = (
    "SELECT m.*, r.started_at FROM run_metrics m JOIN runs r ON r.run_id = m.run_id "
    "WHERE r.status = 'completed' AND m.workload_class = $workload "
    f"ORDER BY r.started_at DESC, m.run_id DESC LIMIT {HISTORY_RUNS}")
_CACHE = (
    "SELECT n.run_id, n.cache, n.seconds, n.output_bytes, n.cache_read_seconds, n.cache_write_seconds "
    "FROM node_metrics n JOIN run_metrics m ON m.run_id = n.run_id JOIN runs r ON r.run_id = n.run_id "
    "WHERE r.status = 'completed' AND m.workload_class = $workload AND n.cache IN ('hit', 'miss', 'skipped')")
_STARTUPS_ON = (
    "SELECT m.run_id, m.executor, m.workers, m.startup_seconds FROM run_metrics m JOIN runs r ON r.run_id = m.run_id "
    "WHERE r.status = 'completed' AND r.host = $host AND m.executor <> 'sync' AND m.workers > 1 "
    f"ORDER BY r.started_at DESC, m.run_id DESC LIMIT {HISTORY_RUNS}")
_COMPLETED = "SELECT run_id FROM runs WHERE status = 'completed' LIMIT 1"
_ALL_RUNS = (
    "SELECT m.*, r.started_at FROM run_metrics m JOIN runs r ON r.run_id = m.run_id "
    "WHERE r.status = 'completed' ORDER BY r.started_at, m.run_id")


def _has_metrics(session: Session) -> bool:
    return {"runs", "run_metrics", "node_metrics"} <= set(session.tables)


def class_runs(session: Session, workload: str) -> list[dict[str, Any]]:
    """The newest completed runs of a workload class (at most ``HISTORY_RUNS``), oldest first."""
    if not _has_metrics(session):
        return []
    return list(reversed(session.query(_RUNS, workload=workload).to_pylist()))


def class_cache_costs(session: Session, workload: str) -> list[dict[str, Any]]:
    """The cacheable nodes (hit, stored miss, skipped) of the completed runs of a workload class, with their
    measured seconds."""
    if not _has_metrics(session):
        return []
    return session.query(_CACHE, workload=workload).to_pylist()


def startups_on(session: Session, host: str) -> list[dict[str, Any]]:
    """The worker start-ups of the newest completed parallel runs (more than one worker) on ``host``, any class."""
    if not _has_metrics(session):
        return []
    return list(reversed(session.query(_STARTUPS_ON, host=host).to_pylist()))


def history_missing(session: Session) -> bool:
    """True when the workspace holds completed runs but no execution metrics (the tables were removed, or every
    run was made before nirdag recorded them)."""
    return "runs" in session.tables and not _has_metrics(session) and session.query(_COMPLETED).num_rows > 0


def metric_runs(session: Session) -> list[dict[str, Any]]:
    """Every completed run's ``run_metrics`` row, oldest first (empty in a workspace without them)."""
    if not _has_metrics(session):
        return []
    return session.query(_ALL_RUNS).to_pylist()


_RUN = "SELECT * FROM run_metrics WHERE run_id = $run_id"
_RUN_NODES = "SELECT * FROM node_metrics WHERE run_id = $run_id ORDER BY node"
_COMPUTED_ELSEWHERE = (
    "SELECT node, median(seconds - coalesce(cache_read_seconds, 0) - coalesce(cache_write_seconds, 0)) AS compute "
    "FROM node_metrics WHERE cache <> 'hit' AND node IN "
    "(SELECT node FROM node_metrics WHERE run_id = $run_id AND cache = 'hit') GROUP BY node")
_COMPUTED_WITH = (
    "SELECT n.node, median(n.seconds - coalesce(n.cache_read_seconds, 0) - coalesce(n.cache_write_seconds, 0)) "
    "AS compute FROM node_metrics n JOIN run_metrics m ON m.run_id = n.run_id "
    "WHERE n.cache <> 'hit' AND m.executor = $executor AND n.node IN "
    "(SELECT node FROM node_metrics WHERE run_id = $run_id) GROUP BY n.node")
_STARTUPS = ("SELECT executor, startup_seconds, engine_seconds - startup_seconds - node_seconds AS overhead_seconds "
             "FROM run_metrics")


def computed_with(session: Session, run_id: str, executor: str) -> dict[str, float]:
    """The median compute seconds (cache costs taken off) of each node of run ``run_id`` in the runs with
    ``executor`` that computed it."""
    if not _has_metrics(session):
        return {}
    rows = session.query(_COMPUTED_WITH, run_id=run_id, executor=executor).to_pylist()
    return {r["node"]: r["compute"] for r in rows}


def run_measurements(session: Session, run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]],
                                                             dict[str, float], list[dict[str, Any]]]:
    """A run's ``run_metrics`` row (None without one), its ``node_metrics`` rows, the compute seconds other runs
    measured for the nodes it served from the cache, and every run's executor start-up and overhead."""
    if not _has_metrics(session):
        return None, [], {}, []
    rows = session.query(_RUN, run_id=run_id).to_pylist()
    if not rows:
        return None, [], {}, []
    elsewhere = {r["node"]: r["compute"] for r in session.query(_COMPUTED_ELSEWHERE, run_id=run_id).to_pylist()}
    return (rows[0], session.query(_RUN_NODES, run_id=run_id).to_pylist(), elsewhere,
            session.query(_STARTUPS).to_pylist())
