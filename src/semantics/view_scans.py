"""What a run's views scan: each catalog view of the run's session executed for the run's rows once, its scan
metrics summed into the run's :class:`relspec.calibration_history.ViewScans` (the calibrator's evidence for the
views' session settings)."""

from __future__ import annotations

import msgspec
from datafusion import col, lit

from datafusion_engine import Workspace
from datafusion_engine.scan_metrics import execute_with_metrics, scan_metrics
from datafusion_engine.session import target_partitions
from relspec.calibration_history import ViewScan, ViewScans
from relspec.policy import ExecutionPolicy
from semantics.session import open_session


def measure_views(handle: Workspace, policy: ExecutionPolicy, run_id: str) -> ViewScans:
    """Execute every view ``policy`` names filtered to ``run_id`` (a view without a run id column whole), in a
    session with the policy's settings, and sum what each scanned: files in the tables it reads and files opened,
    rows in those files and rows read, table scans and those with pushed-down filters, seconds.

    The run is not completed yet when it is measured, so the session reads every run's rows (the views' gate on
    completed runs left out: a semi-join with the ``runs`` table, which holds a row per run)."""
    every_run = msgspec.structs.replace(policy, scan=msgspec.structs.replace(policy.scan, completed_runs_only=False))
    session = open_session(handle, policy=every_run)
    workspace = session.session
    scans, metrics = [], []
    for name, view in sorted(session.views.items()):
        df = view.dataframe
        if "run_id" in df.schema().names:
            df = df.filter(col("run_id") == lit(run_id))
        plan_text = df.optimized_logical_plan().display_indent()
        table, executed, seconds = execute_with_metrics(workspace.ctx, df)
        read = {t: workspace.delta[t] for t in workspace.delta if f"TableScan: {t}" in plan_text}
        m = scan_metrics(name, view.fingerprint, plan_text, executed, table.num_rows, seconds, read)
        metrics.append(m)
        scans.append(ViewScan(view=name, seconds=m.seconds, files_total=m.files_total,
                              files_scanned=m.files_scanned, rows_read=m.rows_read, rows_out=m.rows_out))
    settings = workspace.policy.session
    return ViewScans(
        views=tuple(scans), seconds=round(sum(m.seconds for m in metrics), 6),
        files_total=sum(m.files_total for m in metrics), files_scanned=sum(m.files_scanned for m in metrics),
        rows_total=sum(m.rows_total for m in metrics), rows_read=sum(m.rows_read for m in metrics),
        bytes_scanned=sum(m.bytes_scanned for m in metrics),
        table_scans=sum(t.scans for m in metrics for t in m.tables),
        filters_pushed=sum(t.scans for m in metrics for t in m.tables if t.filters_pushed),
        target_partitions=target_partitions(settings), batch_size=settings.batch_size)
