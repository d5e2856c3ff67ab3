"""Scan metrics of a query: files in the tables it reads vs files opened, rows read, from DataFusion's metrics.

The query's physical plan is executed partition by partition (``SessionContext.execute``), so the metrics read
afterwards (``ExecutionPlan.collect_metrics``) are the ones of the run that produced the result.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from datafusion import DataFrame, SessionContext
from datafusion.plan import ExecutionPlan, MetricsSet
from deltalake import DeltaTable

_ARTIFACT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}
_TABLE_SCAN = re.compile(r"TableScan: (\w+)(.*)")


class TableScanMetrics(msgspec.Struct, **_ARTIFACT):
    """One table the query reads: its Delta version, active files, and how many scans of it the plan holds."""

    table: str
    version: int
    files: int
    rows: int
    scans: int
    filters_pushed: bool


class ScanMetrics(msgspec.Struct, **_ARTIFACT):
    """What a query read. ``files_total`` / ``rows_total`` count every active file / row once per scan of its table
    (what a scan without pruning reads); ``files_scanned`` the files the Parquet readers opened, ``rows_read`` the
    rows they produced; ``files_pruned`` = files_total - files_scanned."""

    query: str
    fingerprint: str
    tables: tuple[TableScanMetrics, ...]
    files_total: int
    files_scanned: int
    files_pruned: int
    rows_total: int
    rows_read: int
    bytes_scanned: int
    rows_out: int
    seconds: float


def _sum(metrics: MetricsSet, name: str) -> int:
    return sum(int(m.value) for m in metrics.metrics() if m.name == name and isinstance(m.value, int))


def _table_scans(plan_text: str) -> dict[str, tuple[int, bool]]:
    """Scans per table in an optimised logical plan, and whether any of them carries pushed-down filters."""
    counts: Counter[str] = Counter()
    pushed: dict[str, bool] = {}
    for name, rest in _TABLE_SCAN.findall(plan_text):
        counts[name] += 1
        pushed[name] = pushed.get(name, False) or "filters=" in rest
    return {name: (n, pushed[name]) for name, n in counts.items()}


def execute_with_metrics(ctx: SessionContext, df: DataFrame) -> tuple[pa.Table, ExecutionPlan, float]:
    """Run ``df``'s physical plan, returning the rows, the executed plan (with its metrics) and the seconds."""
    start = time.perf_counter()
    plan = df.execution_plan()
    batches = [batch.to_pyarrow() for p in range(plan.partition_count) for batch in ctx.execute(plan, p)]
    table = pa.Table.from_batches(batches, schema=df.schema())
    return table, plan, time.perf_counter() - start


def scan_metrics(query: str, fingerprint: str, plan_text: str, executed: ExecutionPlan, rows_out: int,
                 seconds: float, tables: dict[str, DeltaTable]) -> ScanMetrics:
    """Summarise the scans of an executed plan against the Delta tables it read."""
    scans = _table_scans(plan_text)
    per_table = []
    for name, (n, pushed) in sorted(scans.items()):
        if name in tables:
            actions = pa.table(tables[name].get_add_actions())  # an arro3 table: convert explicitly
            rows_in_files = int(pc.sum(actions.column("num_records")).as_py() or 0)
            per_table.append(TableScanMetrics(table=name, version=tables[name].version(), files=actions.num_rows,
                                              rows=rows_in_files, scans=n, filters_pushed=pushed))
    opened = rows = scanned_bytes = 0
    for description, metrics in executed.collect_metrics():
        if description.lstrip().startswith(("DataSourceExec", "FFI_ExecutionPlan: DataSourceExec")):
            opened += _sum(metrics, "files_opened")
            rows += metrics.output_rows or 0
            scanned_bytes += _sum(metrics, "bytes_scanned")
    total = sum(t.files * t.scans for t in per_table)
    return ScanMetrics(query=query, fingerprint=fingerprint, tables=tuple(per_table), files_total=total,
                       files_scanned=opened, files_pruned=max(total - opened, 0),
                       rows_total=sum(t.rows * t.scans for t in per_table), rows_read=rows,
                       bytes_scanned=scanned_bytes, rows_out=rows_out, seconds=round(seconds, 6))
