"""Node timing as a Hamilton lifecycle adapter: one event per node (start, duration, outcome, output size, cache
costs), kept in memory; the run's ``events`` and ``node_metrics`` rows are made from it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from hamilton.lifecycle import NodeExecutionHook

from datafusion_engine.schemas import CacheStatus, NodeKind
from hamilton_pipeline.cache import NodeCache, cache_status
from hamilton_pipeline.node_tags import STEP_TAG, kind_of


@dataclass(frozen=True)
class NodeEvent:
    node: str
    started_at: dt.datetime
    seconds: float
    status: str  # "ok" or "error"
    worker: str
    cache: CacheStatus = "uncached"  # hit / miss / skipped (served by the cache), off (cache disabled), uncached
    cache_key: str | None = None  # display form of the node's cache key
    kind: NodeKind = "result"
    step: str | None = None  # full identity of the step the node computes (hoisted node id, group id)
    output_bytes: int = 0
    cache_read_seconds: float | None = None
    cache_write_seconds: float | None = None


def output_bytes(value: Any, depth: int = 0) -> int:
    """The bytes a node's value holds in arrays: numpy arrays, Arrow tables, and those inside records, tuples and
    lists (two levels deep; fitted objects and scalars count 0)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, pa.Table):
        return int(value.nbytes)
    if depth >= 2:
        return 0
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(output_bytes(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return sum(output_bytes(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return sum(output_bytes(item, depth + 1) for item in value.values())
    return 0


@dataclass
class NodeTimer(NodeExecutionHook):
    """Records when each node started, how long it ran, whether it failed, what it returned (in bytes) and its cache
    outcome and costs (thread-safe)."""

    cache: NodeCache | None = None
    events: list[NodeEvent] = field(default_factory=list)
    _open: dict[str, tuple[dt.datetime, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_before_node_execution(self, *, node_name: str, **_: Any) -> None:
        with self._lock:
            self._open[node_name] = (dt.datetime.now(dt.UTC), time.perf_counter())

    def run_after_node_execution(self, *, node_name: str, node_tags: dict[str, Any], success: bool,
                                 result: Any = None, **_: Any) -> None:
        outcome = cache_status(node_tags, self.cache, node_name)
        size = output_bytes(result) if success else 0
        with self._lock:
            started, t0 = self._open.pop(node_name)
            self.events.append(NodeEvent(node=node_name, started_at=started, seconds=time.perf_counter() - t0,
                                         status="ok" if success else "error",
                                         worker=f"{os.getpid()}:{threading.current_thread().name}",
                                         cache=outcome.status if outcome else "uncached",
                                         cache_key=outcome.key if outcome else None,
                                         kind=kind_of(node_tags), step=node_tags.get(STEP_TAG), output_bytes=size,
                                         cache_read_seconds=outcome.read_seconds if outcome else None,
                                         cache_write_seconds=outcome.write_seconds if outcome else None))
