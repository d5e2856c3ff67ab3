"""A run as a transaction on a workspace: begin, write, complete — or fail, with the clean-up in one place."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from typing import Any

import msgspec
import pyarrow as pa
from rich.console import Console

from datafusion_engine import TABLE_SCHEMAS, RunRow, Workspace
from datafusion_engine import artifact_housekeeping as housekeeping
from datafusion_engine.session import target_partitions
from datafusion_engine.spectra_store import save_dataset, stored_spectra
from hamilton_pipeline import CVSession, EngineResult, execute_plan
from hamilton_pipeline.timing import NodeEvent
from nirdag.bundle import serialize
from nirdag.bundle.artifacts import persist_fits
from nirdag.run_calibration import CALIBRATION_DOCUMENT, calibration_decisions, run_metrics_table
from nirdag.run_provenance import run_provenance
from nirs_core.data import SpectraDataset
from nirs_modelling.results import GroupCV
from relspec import CompiledPlan
from relspec.calibration import PolicyCalibration
from relspec.provenance import Decision
from relspec.source import LoadedSpec
from semantics import open_session
from semantics.records import VIEW_DECISIONS, join_findings, view_decisions, view_decisions_json
from semantics.view_scans import measure_views

NIRDAG_VERSION = version("nirdag")
RUN_SPEC_DOCUMENT = "pipeline_spec.json"  # the spec as the run decoded it, its refit block included


def new_run_id() -> str:
    """A run id: UTC start time and 8 random hex digits (``20261203T151000-0123abcd``)."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunExtras:
    """What a run adds beside the engine's results: a tuned run's study (its cross-validations, already computed,
    its ``trials`` table and its provenance decision)."""

    cv_results: Mapping[str, GroupCV] = field(default_factory=dict)
    tables: Mapping[str, pa.Table] = field(default_factory=dict)
    decisions: Sequence[Decision] = ()
    events: tuple[NodeEvent, ...] = ()  # the study's nodes (a node run in several batches: its first run)
    seconds: float = 0.0  # the study's engine seconds, added to the run's
    # the run_metrics class of a tuned run: its own (`tuned-...`), so the calibration of plain runs never learns from
    # a run whose CV was computed trial by trial before it
    workload_class: str | None = None


class RunTransaction:
    """One run's writes into a workspace, in order: :meth:`begin` records it ``running``; :meth:`write_inputs`
    and :meth:`write_results` store what it read and made; :meth:`complete` marks it ``completed``. :meth:`fail`
    removes every result row and every blob only this run wrote, then marks it ``failed`` with the error (its
    documents stay: they explain the failed run)."""

    def __init__(self, workspace: Workspace, plan: CompiledPlan, spec: LoadedSpec,
                 calibration: PolicyCalibration | None = None, extras: RunExtras | None = None):
        self.workspace, self.plan, self.spec, self.calibration = workspace, plan, spec, calibration
        self.extras = extras or RunExtras()
        self._started = time.perf_counter()
        self.row = RunRow(
            run_id=new_run_id(), status="running", started_at=dt.datetime.now(dt.UTC), finished_at=None,
            dataset_hash=plan.dataset_hash, pipeline_hash=plan.pipeline_hash, plan_hash=plan.plan_hash,
            seed=plan.seed, nirdag_version=NIRDAG_VERSION, error=None, host=socket.gethostname(), pid=os.getpid(),
        )
        self.written_blobs: list[str] = []
        self._spectra: Future[bool] | None = None  # the dataset's spectra, written while the engine runs

    @property
    def run_id(self) -> str:
        return self.row.run_id

    def begin(self) -> None:
        self.workspace.check_writable()  # a folder that is not ours, read-only or full is refused before writing
        self.workspace.store.begin_run(self.row)

    def write_inputs(self, dataset: SpectraDataset) -> None:
        """The dataset's spectra (once per dataset_hash), the pipeline as decoded, the compiler's findings.

        The spectra are written on a thread of their own while the engine runs (the Delta writer releases the GIL:
        a 20,000 x 1,000 dataset takes ~1 s); :meth:`write_results` waits for them, and a failure of that write
        fails the run like any other."""
        plan = self.plan
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nirdag-spectra")
        self._spectra = pool.submit(save_dataset, self.workspace, dataset)
        pool.shutdown(wait=False)
        # spec order matters (branch order is structure): encoded as written, not with sorted keys
        spec_json = msgspec.json.encode(self.spec.spec)
        self.workspace.store.write("pipelines", pa.Table.from_pylist([{
            "pipeline_hash": plan.pipeline_hash, "name": plan.name, "target": plan.target_label,
            "spec_json": spec_json.decode()}], schema=TABLE_SCHEMAS["pipelines"]))
        # the pipelines row is one per pipeline hash, which leaves the refit block out: the run keeps its own
        self.workspace.write_document(self.run_id, RUN_SPEC_DOCUMENT, spec_json)
        if plan.validation is not None:
            self.workspace.write_document(self.run_id, "policy_validation.json", plan.validation.to_json())
        if self.calibration is not None:
            self.workspace.write_document(self.run_id, CALIBRATION_DOCUMENT, self.calibration.to_json())

    def _spectra_written(self) -> None:
        """Wait for the spectra write; its error, if any, is raised here."""
        if self._spectra is not None:
            spectra, self._spectra = self._spectra, None
            spectra.result()

    def write_results(self, result: EngineResult) -> None:
        """Fitted objects as blobs, the result tables, the views' join decisions and the decision provenance."""
        self._spectra_written()
        artifacts, self.written_blobs = persist_fits(self.workspace, self.plan, result.fits)
        self.workspace.store.write_results(self.run_id, {**result.tables(), "artifacts": artifacts,
                                                         **self.extras.tables})
        views = view_decisions(open_session(self.workspace, policy=self.plan.policy), self.run_id)
        self.workspace.write_document(self.run_id, VIEW_DECISIONS, view_decisions_json(views))
        joins = join_findings(views)
        if joins and self.plan.validation is not None:  # the run's validation record gains the views' warnings
            validation = msgspec.structs.replace(self.plan.validation,
                                                 findings=(*self.plan.validation.findings, *joins))
            self.workspace.write_document(self.run_id, "policy_validation.json", validation.to_json())
        graph = run_provenance(self.run_id, self.plan, self.spec.raw, result, views,
                               [*calibration_decisions(self.calibration), *self.extras.decisions])
        self.workspace.write_document(self.run_id, "decision_provenance.json", graph.to_json())
        scans = None
        # the session knobs' evidence; not on object storage, where the views read the Delta log's Parquet files
        # through obstore and two concurrent runs measuring them took minutes (not investigated yet)
        if self.calibration is not None and self.calibration.measure_views and self.workspace.layout.is_local:
            scans = measure_views(self.workspace, self.plan.policy, self.run_id)
            self.calibration = msgspec.structs.replace(self.calibration, view_scans=scans)
            self.workspace.write_document(self.run_id, CALIBRATION_DOCUMENT, self.calibration.to_json())
        metrics = run_metrics_table(self.plan, result, time.perf_counter() - self._started, self.calibration, scans,
                                    target_partitions(self.plan.policy.session))
        if self.extras.workload_class is not None:
            metrics = metrics.set_column(metrics.schema.get_field_index("workload_class"), "workload_class",
                                         pa.array([self.extras.workload_class], pa.string()))
        self.workspace.store.write_results(self.run_id, {"run_metrics": metrics})

    def complete(self) -> None:
        self.row = self.workspace.store.complete_run(self.row)

    def fail(self, exc: BaseException) -> None:
        with contextlib.suppress(Exception):  # nothing of this run is still writing when it is marked failed
            self._spectra_written()
        self.workspace.store.delete_run_results(self.run_id)
        housekeeping.remove_unreferenced(self.workspace, self.written_blobs)
        self.row = self.workspace.store.fail_run(self.row, f"{type(exc).__name__}: {exc}")


def execute_run(workspace: Workspace, spec: LoadedSpec, plan: CompiledPlan, dataset: SpectraDataset, *,
                dask_client: Any | None, cache_max_bytes: int | None, progress: Console | None,
                calibration: PolicyCalibration | None = None, extras: RunExtras | None = None,
                session: CVSession | None = None) -> tuple[str, EngineResult]:
    """Run a compiled plan as one transaction; returns the run id and the engine's result. A failure anywhere after
    :meth:`RunTransaction.begin` marks the run failed (nothing half-written stays) and is raised again. ``extras``
    (a tuned run's) are written by the same transaction; ``session`` (its study's) lends its started executor."""
    run = RunTransaction(workspace, plan, spec, calibration, extras)
    run.begin()
    serialize.import_in_background()  # the fitted objects are written with skops after the engine
    try:
        run.write_inputs(dataset)
        cache = None
        if plan.policy.cache.enabled:
            cache = workspace.cache() if cache_max_bytes is None else workspace.cache(cache_max_bytes)
        spectra = None
        if plan.policy.executor == "dask":  # the workers read the stored spectra: they must be committed first
            run._spectra_written()
            spectra = stored_spectra(workspace, dataset.content_hash)
        result = execute_plan(plan, dataset, dask_client=dask_client, cache=cache, progress=progress,
                              spectra=spectra, cv_results=run.extras.cv_results, session=session)
        if run.extras.events or run.extras.seconds:
            seen = {e.node for e in result.events}
            first: dict[str, NodeEvent] = {}
            for e in run.extras.events:
                if e.node not in seen:
                    first.setdefault(e.node, e)
            result = replace(result, events=(*first.values(), *result.events),
                             seconds=result.seconds + run.extras.seconds)
        run.write_results(result)
        run.complete()
    except BaseException as exc:
        run.fail(exc)
        raise
    return run.run_id, result
