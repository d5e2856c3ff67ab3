"""A workspace folder as the user sees it: its runs, read-only SQL, artifacts, cache and the documents of each run."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from datafusion_engine import RunRow, StoreError
from datafusion_engine import Workspace as WorkspaceHandle
from datafusion_engine import artifact_housekeeping as housekeeping
from datafusion_engine.cache_store import CacheStats
from datafusion_engine.runs import abandoned, repair_runs
from datafusion_engine.scan_metrics import ScanMetrics
from datafusion_engine.spectra_store import load_stored_dataset
from datafusion_engine.sql_limits import DEFAULT_LIMITS
from nirdag.sql import query, query_with_metrics, resolve_run
from relspec.provenance import DecisionProvenanceGraph, decode_provenance
from relspec.validation import PolicyValidation, decode_validation
from semantics import open_session, queries, view_columns

if TYPE_CHECKING:
    from nirdag.api import RunResult


class Workspace:
    """A workspace folder: its runs and read-only SQL over its tables and views.

    Parameters
    ----------
    path : str or Path
        The workspace folder (``nirdag run ... --workspace PATH``), ``file://...`` or ``s3://bucket/prefix``.
    storage_options : mapping, optional
        For ``s3://``: options over the ``AWS_*`` environment (endpoint, credentials; kept in memory only).

    Examples
    --------
    >>> ws = nirdag.Workspace("ws")        # doctest: +SKIP
    >>> ws.runs()                          # doctest: +SKIP
    >>> ws.run(run_id).best                # doctest: +SKIP
    """

    def __init__(self, path: str | Path | WorkspaceHandle, *, storage_options: Mapping[str, str] | None = None):
        self.handle = WorkspaceHandle(path, storage_options) if storage_options else WorkspaceHandle.of(path)

    @property
    def path(self) -> Path | str:
        """The folder (a Path), or the ``s3://`` URI (a str) of an object-store workspace."""
        return self.handle.root

    def __repr__(self) -> str:
        return f"nirdag.Workspace({str(self.path)!r})"

    def __fspath__(self) -> str:
        """The folder, so ``nirdag.run(..., workspace=ws)`` and ``open(...)``-style calls take the object too."""
        return str(self.path)

    def resolve(self, ref: str) -> str:
        """The run id ``ref`` names: a run id, a unique prefix of one, or ``latest`` (the newest completed run)."""
        return resolve_run(self.handle, ref)

    def _missing(self, run_id: str) -> StoreError:
        return StoreError(f"workspace {self.path} has no run {run_id!r}")

    def sql(self, query_text: str, *, as_of: int | dt.datetime | None = None,
            timeout: float | None = DEFAULT_LIMITS.timeout, max_rows: int | None = DEFAULT_LIMITS.max_rows,
            max_bytes: int | None = DEFAULT_LIMITS.max_bytes, all_runs: bool = False) -> pa.Table:
        """Read-only SQL over this workspace within its limits (see :func:`nirdag.query`)."""
        return query(query_text, self.handle, as_of=as_of, timeout=timeout, max_rows=max_rows, max_bytes=max_bytes,
                     all_runs=all_runs)

    def sql_with_metrics(self, query_text: str, *, as_of: int | dt.datetime | None = None,
                         all_runs: bool = False) -> tuple[pa.Table, ScanMetrics]:
        """The result and the ScanMetrics of a read-only query (also written under ``provenance/scans/``); result
        tables read for completed runs only also scan ``runs``, unless ``all_runs``."""
        table, metrics, _path = query_with_metrics(query_text, self.handle, as_of=as_of, all_runs=all_runs)
        return table, metrics

    def views(self) -> pa.Table:
        """The semantic views of this workspace: name, description, columns."""
        rows = [{"view": v.name, "description": v.description, "columns": ", ".join(cols)}
                for v, cols in view_columns(self.handle)]
        return pa.Table.from_pylist(rows, schema=pa.schema([("view", pa.string()), ("description", pa.string()),
                                                            ("columns", pa.string())]))

    def runs(self) -> pa.Table:
        """One row per run, newest first."""
        return queries.runs(self.handle.require().session())

    def run_summary(self, run_id: str) -> pa.Table:
        """A run's row with its chain count and, from ``v_runs``, its rank metric, the best chain and its pooled CV
        value of that metric (``best_rmsecv`` when the run ranks on one target's rmse)."""
        table = queries.run_summary(open_session(self.handle), run_id := self.resolve(run_id))
        if table.num_rows == 0:
            raise self._missing(run_id)
        return table

    def repair(self, *, stale_after: dt.timedelta = dt.timedelta(hours=6)) -> list[str]:
        """Mark failed the runs left `running` by a process that died (kill -9, power loss).

        A run is abandoned when its process no longer exists on this host, or, for runs started on another host,
        when it started more than ``stale_after`` ago. Returns the run ids marked failed.
        """
        return repair_runs(self.handle.require(), socket.gethostname(), stale_after)

    def run_spec(self, run_id: str) -> dict:
        """The spec a run ran, as decoded (its refit block included): the run's own ``pipeline_spec.json``; a run
        made before runs kept it has only the spec stored for its pipeline hash, whose refit block is the last
        such run's."""
        from nirdag.run_service import RUN_SPEC_DOCUMENT

        run_id = self.resolve(run_id)
        if self.handle.has_document(run_id, RUN_SPEC_DOCUMENT):
            return json.loads(self.handle.read_document(run_id, RUN_SPEC_DOCUMENT))
        row = queries.stored_run(self.handle.require().session(), run_id)
        if row is None:
            raise self._missing(run_id)
        return json.loads(row["spec_json"])

    def run(self, run_id: str) -> RunResult:
        """A completed run of this workspace, rebuilt from what the workspace stores (its spec, dataset, seed)."""
        from nirdag.api import RunResult, compile  # the engine loads only for a run's results

        row = queries.stored_run(self.handle.require().session(), run_id := self.resolve(run_id))
        if row is None:
            raise self._missing(run_id)
        if row["status"] != "completed":
            raise StoreError(f"run {run_id!r} is {row['status']}, not completed")
        data = load_stored_dataset(self.handle, row["dataset_hash"])
        plan = compile(self.run_spec(run_id), data, seed=row["seed"])
        if plan.pipeline_hash != row["pipeline_hash"]:
            raise StoreError(f"run {run_id!r} was made by another version of the pipeline language: its stored spec "
                             f"now compiles to pipeline {plan.pipeline_hash[:8]}, not {row['pipeline_hash'][:8]}")
        return RunResult(run_id=run_id, handle=self.handle, plan=plan, dataset=data, seconds=row["s"] or 0.0)

    def provenance(self, run_id: str) -> DecisionProvenanceGraph:
        """The DecisionProvenanceGraph stored with a run."""
        return decode_provenance(self.handle.read_document(self.resolve(run_id), "decision_provenance.json"))

    def validation(self, run_id: str) -> PolicyValidation:
        """The PolicyValidation artifact stored with a run."""
        return decode_validation(self.handle.read_document(self.resolve(run_id), "policy_validation.json"))

    def cache_stats(self) -> CacheStats:
        """What the workspace's node cache holds: entries and bytes per node kind, leftover temp files."""
        return self.handle.require().cache().stats()

    def clear_cache(self) -> CacheStats:
        """Empty the workspace's node cache; returns what it held."""
        return self.handle.require().cache().clear()

    def delete_run(self, run_id: str, *, stale_after: dt.timedelta = dt.timedelta(hours=6)) -> str:
        """Delete a run from `runs` and its rows from every result table (its blobs become orphans: `cleanup`);
        returns the run id deleted (``run_id`` may be a unique prefix or ``latest``).

        A run still ``running`` is refused (StoreError) unless it is abandoned (its process is gone, or another
        host's run is older than ``stale_after``): it is then repaired (marked failed) first."""
        run_id = self.resolve(run_id)
        raw = queries.run_row(self.handle.require().session(), run_id)
        if raw is not None and raw["status"] == "running":
            if abandoned(RunRow(**raw), socket.gethostname(), stale_after) is None:
                raise StoreError(f"run {run_id} is still running (pid {raw['pid']} on {raw['host']}): wait for it "
                                 "to finish, or stop it and run `nirdag runs repair` first")
            self.repair(stale_after=stale_after)
        if not self.handle.store.delete_run(run_id):
            raise self._missing(run_id)
        return run_id

    def artifact_stats(self) -> housekeeping.ArtifactStats:
        """Artifact rows, runs, chains, blobs referenced and on disk, bytes, orphans."""
        return housekeeping.stats(self.handle)

    def orphans(self) -> list[tuple[str, int]]:
        """Blobs no artifact row references: (sha256, bytes)."""
        return housekeeping.orphans(self.handle)

    def cleanup(self, *, dry_run: bool = False) -> list[tuple[str, int]]:
        """Delete the orphan blobs (only list them with ``dry_run``)."""
        return housekeeping.cleanup(self.handle, dry_run=dry_run)

    def purge(self, dataset_hash: str, *, dry_run: bool = False) -> tuple[int, list[str]]:
        """Drop the fitted objects of every run on ``dataset_hash``: (artifact rows, blobs) removed."""
        return housekeeping.purge_dataset(self.handle, dataset_hash, dry_run=dry_run)
