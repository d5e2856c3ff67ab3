"""A progress bar per run as a Hamilton lifecycle adapter: nodes and chains done, cache hits, elapsed, remaining."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

from hamilton.lifecycle import GraphExecutionHook, NodeExecutionHook
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from hamilton_pipeline.cache import NodeCache
from relspec.plan import CompiledPlan

CHAINS_TAG = "nirdag.chains"  # on a cv node: how many chains its pooled predictions complete


class RunProgress(GraphExecutionHook, NodeExecutionHook):
    """Draws one rich progress bar on ``console`` while the plan runs, and keeps the counts it shows.

    A console that is not a terminal gets no animation (rich prints the final state once).
    """

    def __init__(self, console: Console, plan: CompiledPlan, cache: NodeCache | None = None):
        self.console = console
        self.cache = cache
        self.total_nodes = 0
        self.total_chains = len(plan.chains)
        self.nodes_done = 0
        self.chains_done = 0
        self.cache_hits = 0
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._name = plan.name if len(plan.name) <= 24 else plan.name[:23] + "…"

    def _fields(self) -> dict[str, Any]:
        return {"chains": f"{self.chains_done}/{self.total_chains}", "hits": self.cache_hits}

    def run_before_graph_execution(self, *, execution_path: Collection[str], **_: Any) -> None:
        self.total_nodes = len(execution_path)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
            TextColumn("nodes · chains {task.fields[chains]} · cache hits {task.fields[hits]}"), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), console=self.console, transient=False,
        )
        self._task = self._progress.add_task(self._name, total=self.total_nodes, **self._fields())
        self._progress.start()

    def run_before_node_execution(self, **_: Any) -> None:
        pass

    def run_after_node_execution(self, *, node_name: str, node_tags: dict[str, Any], success: bool,
                                 **_: Any) -> None:
        outcome = self.cache.outcome(node_name) if self.cache is not None else None
        with self._lock:
            self.nodes_done += 1
            if success:
                self.chains_done += int(node_tags.get(CHAINS_TAG, 0))
            if outcome is not None and outcome.status == "hit":
                self.cache_hits += 1
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, completed=self.nodes_done, **self._fields())

    def run_after_graph_execution(self, **_: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
