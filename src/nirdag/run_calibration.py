"""A run's calibration: its workload class's history read from the workspace, the calibrator's artifact, the run's
own metrics row and the ``calibration`` decisions of its provenance graph."""

from __future__ import annotations

import resource
import socket
from typing import Any, get_args

import msgspec
import pyarrow as pa

from datafusion_engine import TABLE_SCHEMAS, Workspace
from datafusion_engine.schemas import RunMetricRow
from hamilton_pipeline import EngineResult
from nirs_core.errors import NirdagError
from relspec.calibration import PolicyCalibration, applied_labels, calibrate
from relspec.calibration_history import (
    CacheObservation,
    CalibrationHistory,
    CalibrationMode,
    NodeCost,
    RunObservation,
    Settings,
    StartupObservation,
    ViewScans,
)
from relspec.errors import CalibrationError
from relspec.plan import CompiledPlan
from relspec.policy import BATCH_SIZE, AdmissionCosts, RuntimePolicy, SessionSettings
from relspec.provenance import Decision
from relspec.validation import decode_validation
from relspec.what_if import PARALLEL_KINDS, ExecutorCosts, MeasuredNode, WhatIf, WhatIfEstimate, estimate, parse_changes
from relspec.workload import WorkloadClass
from semantics.calibration_queries import (
    class_cache_costs,
    class_runs,
    computed_with,
    history_missing,
    metric_runs,
    run_measurements,
    startups_on,
)

CALIBRATION_DOCUMENT = "policy_calibration.json"
VIEW_COLUMNS = ("target_partitions", "batch_size", "view_seconds", "view_files_scanned", "view_files_total",
                "view_rows_read", "view_filters_pushed")  # the history's columns of what the run's views scanned


def _observation(row: dict[str, Any]) -> RunObservation:
    costs = AdmissionCosts(write_bytes_per_s=row["write_bytes_per_s"], read_bytes_per_s=row["read_bytes_per_s"],
                           entry_seconds=row["entry_seconds"])
    session = SessionSettings(target_partitions=row.get("target_partitions"),
                              batch_size=row.get("batch_size") or BATCH_SIZE)
    return RunObservation(
        run_id=row["run_id"], mode=row["calibration"], workers=row["workers"],
        settings=Settings(executor=row["executor"], workers=row["workers"], costs=costs, session=session),
        startup_seconds=row["startup_seconds"], engine_seconds=row["engine_seconds"],
        node_seconds=row["node_seconds"], applied=tuple(row["applied"] or ()),
        parallel_seconds=row.get("parallel_seconds") or 0.0, target_partitions=row.get("target_partitions"),
        view_seconds=row.get("view_seconds"), view_max_rows=row.get("view_max_rows"))


def _cache_observations(rows: list[dict[str, Any]], runs: set[str]) -> tuple[CacheObservation, ...]:
    out = []
    for r in rows:
        if r["run_id"] not in runs:
            continue
        if r["cache"] == "hit" and r["cache_read_seconds"] is not None:
            out.append(CacheObservation(run_id=r["run_id"], op="read", nbytes=r["output_bytes"],
                                        seconds=r["cache_read_seconds"]))
        elif r["cache"] == "miss" and r["cache_write_seconds"] is not None:
            out.append(CacheObservation(run_id=r["run_id"], op="write", nbytes=r["output_bytes"],
                                        seconds=r["cache_write_seconds"]))
    return tuple(out)


def _node_costs(rows: list[dict[str, Any]], newest: str | None) -> tuple[NodeCost, ...]:
    """The cacheable nodes the newest run computed (stored or skipped), with their compute seconds alone."""
    return tuple(NodeCost(compute_seconds=max(0.0, r["seconds"] - (r["cache_read_seconds"] or 0.0)
                                              - (r["cache_write_seconds"] or 0.0)), nbytes=r["output_bytes"])
                 for r in rows if r["run_id"] == newest and r["cache"] in ("miss", "skipped"))


def read_history(workspace: Workspace, workload: WorkloadClass) -> CalibrationHistory:
    """The measured runs of ``workload`` in ``workspace`` and the parallel start-ups measured on this host; a
    history that cannot be read, or is missing from a workspace that holds completed runs, is empty, with a warning
    saying why (the run then calibrates as observe)."""
    if not workspace.layout.has_tables():
        return CalibrationHistory(workload=workload)
    try:
        session = workspace.session()
        if history_missing(session):
            return CalibrationHistory(workload=workload, warnings=(
                f"the calibration history of {workspace.root} is missing: it holds completed runs but no "
                "run_metrics / node_metrics table; calibrated as observe",))
        runs = tuple(_observation(r) for r in class_runs(session, workload.key))
        rows = class_cache_costs(session, workload.key)
        cache = _cache_observations(rows, {r.run_id for r in runs})
        nodes = _node_costs(rows, runs[-1].run_id if runs else None)
        startups = tuple(StartupObservation(run_id=r["run_id"], executor=r["executor"], workers=r["workers"],
                                            startup_seconds=r["startup_seconds"])
                         for r in startups_on(session, socket.gethostname()))
    except (NirdagError, msgspec.ValidationError, KeyError, TypeError) as exc:
        return CalibrationHistory(workload=workload, warnings=(
            f"the calibration history of {workload.key} in {workspace.root} could not be read "
            f"({type(exc).__name__}: {exc}); calibrated as observe",))
    return CalibrationHistory(workload=workload, runs=runs, cache=cache, nodes=nodes, startups=startups)


def asked(runtime: RuntimePolicy) -> Settings:
    """The knob values the user's runtime policy asks for."""
    return Settings(executor=runtime.executor, workers=runtime.workers, costs=runtime.admission_costs,
                    session=runtime.session)


def calibrated_runtime(runtime: RuntimePolicy, calibration: PolicyCalibration) -> RuntimePolicy:
    """The runtime policy with the calibration's settings (its applied proposals)."""
    s = calibration.settings
    return msgspec.structs.replace(runtime, executor=s.executor, workers=s.workers, admission_costs=s.costs,
                                   session=s.session)


def calibrate_plan(workspace: Workspace, plan: CompiledPlan, runtime: RuntimePolicy,
                   mode: CalibrationMode) -> PolicyCalibration | None:
    """The calibration of a run of ``plan`` (None in ``off`` mode)."""
    if mode == "off" or plan.validation is None or plan.validation.workload is None:
        return None
    return calibrate(read_history(workspace, plan.validation.workload), asked(runtime), mode)


def peak_rss_bytes() -> int:
    """Peak resident memory of this process or of its largest finished child (Linux reports kB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(max(own, children)) * 1024


def run_metrics_table(plan: CompiledPlan, result: EngineResult, wall_seconds: float,
                      calibration: PolicyCalibration | None, scans: ViewScans | None = None,
                      partitions: int | None = None) -> pa.Table:
    """The run's ``run_metrics`` row (without run_id: the store adds it); ``scans`` what its views scanned (None
    when not measured), ``partitions`` the target partitions its views' session resolved."""
    policy, workload = plan.policy, plan.validation.workload if plan.validation else None
    row = RunMetricRow(
        run_id="", workload_class=workload.key if workload else "", executor=policy.executor,
        workers=policy.workers, startup_seconds=result.startup_seconds, engine_seconds=result.seconds,
        wall_seconds=wall_seconds, peak_rss_bytes=peak_rss_bytes(), nodes=len(result.events),
        node_seconds=sum(e.seconds for e in result.events), cache_enabled=policy.cache.enabled,
        write_bytes_per_s=policy.cache.costs.write_bytes_per_s, read_bytes_per_s=policy.cache.costs.read_bytes_per_s,
        entry_seconds=policy.cache.costs.entry_seconds,
        calibration=calibration.mode if calibration else "off",
        applied=list(applied_labels(calibration)) if calibration else [],
        parallel_seconds=sum(e.seconds for e in result.events if e.kind in PARALLEL_KINDS),
        target_partitions=scans.target_partitions if scans else partitions,
        batch_size=policy.session.batch_size,
        **({} if scans is None else {
            "view_seconds": scans.seconds, "view_files_total": scans.files_total,
            "view_files_scanned": scans.files_scanned, "view_rows_read": scans.rows_read,
            "view_max_rows": scans.max_rows_read, "view_filters_pushed": scans.filters_pushed}))
    table = pa.Table.from_pylist([msgspec.structs.asdict(row)], schema=TABLE_SCHEMAS["run_metrics"])
    return table.drop_columns(["run_id"])


def calibration_decisions(calibration: PolicyCalibration | None) -> list[Decision]:
    """One ``calibration`` decision per knob the calibration changed for this run, citing its artifact."""
    if calibration is None:
        return []
    return [Decision(
        id=f"calibration_{k.knob}", kind="calibration",
        summary=f"{'reverted' if k.revert else 'calibrated'} {k.knob}: {k.current} -> {k.proposed}",
        reason=k.reason + (f"; {k.bound}" if k.bound else ""),
        evidence={"artifact": CALIBRATION_DOCUMENT, "workload_class": calibration.workload_key,
                  "confidence": k.confidence, "expected_saving_seconds": k.expected_saving_seconds,
                  **{f"evidence.{name}": value for name, value in k.evidence.items()}},
        depends_on=("workload",)) for k in calibration.applied]


def check_mode(mode: str) -> CalibrationMode:
    """``mode`` as a calibration mode; a CalibrationError naming the choices otherwise."""
    if mode not in get_args(CalibrationMode):
        raise CalibrationError(f"calibration={mode!r} is not a calibration mode; expected one of "
                               f"{', '.join(get_args(CalibrationMode))}")
    return mode  # type: ignore[return-value]


def history_table(workspace: Workspace) -> pa.Table:
    """Every completed run's measured figures and calibration, oldest first (the ``nirdag calibration`` history)."""
    columns = ["run_id", "workload_class", "executor", "workers", "startup_seconds", "engine_seconds",
               "wall_seconds", "peak_rss_bytes", *VIEW_COLUMNS, "calibration", "applied"]
    if not workspace.layout.has_tables():
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    rows = metric_runs(workspace.session())
    return pa.Table.from_pylist([{c: r[c] for c in columns} for r in rows]) if rows else pa.table(
        {c: pa.array([], pa.string()) for c in columns})


def recommendations(workspace: Workspace) -> tuple[PolicyCalibration, ...]:
    """For each workload class of the workspace, what the calibrator proposes now (observe mode) for a run that
    starts from the values its newest run used."""
    if not workspace.layout.has_tables():
        return ()
    newest: dict[str, dict[str, Any]] = {}
    for row in metric_runs(workspace.session()):
        newest[row["workload_class"]] = row
    out = []
    for key, row in sorted(newest.items()):
        try:
            validation = decode_validation(workspace.read_document(row["run_id"], "policy_validation.json"))
        except (NirdagError, msgspec.ValidationError):  # its documents were removed or are unreadable: no class
            continue
        if validation.workload is None or validation.workload.key != key:
            continue
        out.append(calibrate(read_history(workspace, validation.workload), _observation(row).settings, "observe"))
    return tuple(out)


def what_if(workspace: Workspace, run_id: str, changes: str) -> WhatIfEstimate:
    """The engine seconds of run ``run_id`` estimated under ``changes`` (``executor=processes,workers=2,cache=off``)
    from its recorded metrics; a CalibrationError for an unknown knob or a run without metrics."""
    session = workspace.session()
    run, rows, elsewhere, startups = run_measurements(session, run_id)
    if run is None:
        raise CalibrationError(f"run {run_id} has no recorded metrics in {workspace.root} (run_metrics is written "
                               "by every run of this nirdag version; older runs have none)")
    recorded = WhatIf(executor=run["executor"], workers=run["workers"], cache=run["cache_enabled"])
    asked_settings = parse_changes(changes, recorded)
    as_asked = computed_with(session, run_id, asked_settings.executor)
    nodes = [MeasuredNode(node=r["node"], kind=r["kind"], seconds=r["seconds"], cache=r["cache"],
                          read_seconds=r["cache_read_seconds"], write_seconds=r["cache_write_seconds"],
                          computed_elsewhere=elsewhere.get(r["node"]), computed_as_asked=as_asked.get(r["node"]))
             for r in rows]
    measured: dict[str, list[dict[str, Any]]] = {}
    for s in startups:
        measured.setdefault(s["executor"], []).append(s)
    by_executor = {e: ExecutorCosts(startup_seconds=tuple(r["startup_seconds"] for r in rows),
                                    overhead_seconds=tuple(r["overhead_seconds"] for r in rows))
                   for e, rows in measured.items()}
    return estimate(run_id, recorded, run["engine_seconds"], run["startup_seconds"], nodes, asked_settings,
                    by_executor)
