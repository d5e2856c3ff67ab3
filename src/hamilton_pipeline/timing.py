"""Node timing as a Hamilton lifecycle adapter: one event per node (start, duration, outcome), kept in memory."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hamilton.lifecycle import NodeExecutionHook

from datafusion_engine.schemas import CacheStatus
from hamilton_pipeline.cache import NodeCache, cache_status


@dataclass(frozen=True)
class NodeEvent:
    node: str
    started_at: dt.datetime
    seconds: float
    status: str  # "ok" or "error"
    worker: str
    cache: CacheStatus = "uncached"  # hit / miss (served by the cache), off (cacheable, cache disabled), uncached
    cache_key: str | None = None  # display form of the node's cache key


@dataclass
class NodeTimer(NodeExecutionHook):
    """Records when each node started, how long it ran, whether it failed and its cache outcome (thread-safe)."""

    cache: NodeCache | None = None
    events: list[NodeEvent] = field(default_factory=list)
    _open: dict[str, tuple[dt.datetime, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_before_node_execution(self, *, node_name: str, **_: Any) -> None:
        with self._lock:
            self._open[node_name] = (dt.datetime.now(dt.UTC), time.perf_counter())

    def run_after_node_execution(self, *, node_name: str, node_tags: dict[str, Any], success: bool,
                                 **_: Any) -> None:
        outcome = cache_status(node_tags, self.cache, node_name)
        with self._lock:
            started, t0 = self._open.pop(node_name)
            self.events.append(NodeEvent(node=node_name, started_at=started, seconds=time.perf_counter() - t0,
                                         status="ok" if success else "error",
                                         worker=f"{os.getpid()}:{threading.current_thread().name}",
                                         cache=outcome.status if outcome else "uncached",
                                         cache_key=outcome.key if outcome else None))
