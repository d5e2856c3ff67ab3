"""A workspace folder as an object: its runs, read-only SQL, artifacts, cache and the documents of each run."""

from __future__ import annotations

import datetime as dt
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from datafusion_engine import StoreError, WorkspaceStore
from datafusion_engine import artifact_housekeeping as housekeeping
from datafusion_engine.cache_store import CacheStats, workspace_cache
from datafusion_engine.documents import read_document
from datafusion_engine.runs import repair_runs
from datafusion_engine.scan_metrics import ScanMetrics
from datafusion_engine.spectra_store import load_stored_dataset
from nirdag.api import RunResult, compile, query, query_with_metrics
from relspec.provenance import DecisionProvenanceGraph, decode_provenance
from relspec.validation import PolicyValidation, decode_validation
from semantics import view_columns


@dataclass(frozen=True)
class Workspace:
    """A workspace folder: its runs and read-only SQL over its tables and views."""

    path: Path

    def sql(self, query_text: str, *, as_of: int | dt.datetime | None = None) -> pa.Table:
        return query(query_text, self.path, as_of=as_of)

    def sql_with_metrics(self, query_text: str, *,
                         as_of: int | dt.datetime | None = None) -> tuple[pa.Table, ScanMetrics]:
        """The result and the ScanMetrics of a read-only query (also written under ``provenance/scans/``)."""
        table, metrics, _path = query_with_metrics(query_text, self.path, as_of=as_of)
        return table, metrics

    def views(self) -> pa.Table:
        """The semantic views of this workspace: name, description, columns."""
        rows = [{"view": v.name, "description": v.description, "columns": ", ".join(cols)}
                for v, cols in view_columns(self.path)]
        return pa.Table.from_pylist(rows, schema=pa.schema([("view", pa.string()), ("description", pa.string()),
                                                            ("columns", pa.string())]))

    def runs(self) -> pa.Table:
        """One row per run, newest first."""
        return self.sql("SELECT run_id, status, started_at, finished_at, dataset_hash, pipeline_hash, seed, error "
                        "FROM runs ORDER BY started_at DESC")

    def run_summary(self, run_id: str) -> pa.Table:
        """A run's row with its chain count and, from ``v_runs``, its rank metric, the best chain and its pooled CV
        value of that metric (``best_rmsecv`` when the run ranks on one target's rmse)."""
        quoted = run_id.replace("'", "''")
        table = self.sql(
            "SELECT r.run_id, r.status, r.started_at, r.finished_at, r.dataset_hash, r.pipeline_hash, r.seed, "
            "r.nirdag_version, r.error, (SELECT count(*) FROM chains c WHERE c.run_id = r.run_id) AS n_chains, "
            "v.best_rmsecv, v.rank_metric, v.best_cv_value, v.best_chain_id "
            f"FROM runs r LEFT JOIN v_runs v ON v.run_id = r.run_id WHERE r.run_id = '{quoted}'")
        if table.num_rows == 0:
            raise StoreError(f"workspace {self.path} has no run {run_id!r}")
        return table

    def repair(self, *, stale_after: dt.timedelta = dt.timedelta(hours=6)) -> list[str]:
        """Mark failed the runs left `running` by a process that died (kill -9, power loss).

        A run is abandoned when its process no longer exists on this host, or, for runs started on another host,
        when it started more than ``stale_after`` ago. Returns the run ids marked failed.
        """
        return repair_runs(self.path, socket.gethostname(), stale_after)

    def run(self, run_id: str) -> RunResult:
        """A completed run of this workspace, rebuilt from what the workspace stores (spec, dataset, seed)."""
        quoted = run_id.replace("'", "''")
        rows = self.sql("SELECT r.status, r.seed, r.pipeline_hash, r.dataset_hash, p.spec_json, "
                        "CAST(date_part('epoch', r.finished_at) - date_part('epoch', r.started_at) AS DOUBLE) AS s "
                        "FROM runs r JOIN pipelines p ON p.pipeline_hash = r.pipeline_hash "
                        f"WHERE r.run_id = '{quoted}'").to_pylist()
        if not rows:
            raise StoreError(f"workspace {self.path} has no run {run_id!r}")
        row = rows[0]
        if row["status"] != "completed":
            raise StoreError(f"run {run_id!r} is {row['status']}, not completed")
        data = load_stored_dataset(self.path, row["dataset_hash"])
        plan = compile(json.loads(row["spec_json"]), data, seed=row["seed"])
        if plan.pipeline_hash != row["pipeline_hash"]:
            raise StoreError(f"run {run_id!r} was made by another version of the pipeline language: its stored spec "
                             f"now compiles to pipeline {plan.pipeline_hash[:8]}, not {row['pipeline_hash'][:8]}")
        return RunResult(run_id=run_id, workspace=self.path, plan=plan, dataset=data, seconds=row["s"] or 0.0)

    def provenance(self, run_id: str) -> DecisionProvenanceGraph:
        """The DecisionProvenanceGraph stored with a run."""
        return decode_provenance(read_document(self.path, run_id, "decision_provenance.json"))

    def validation(self, run_id: str) -> PolicyValidation:
        """The PolicyValidation artifact stored with a run."""
        return decode_validation(read_document(self.path, run_id, "policy_validation.json"))

    def cache_stats(self) -> CacheStats:
        """What the workspace's node cache holds: entries and bytes per node kind, leftover temp files."""
        return workspace_cache(self.path).stats()

    def clear_cache(self) -> CacheStats:
        """Empty the workspace's node cache; returns what it held."""
        return workspace_cache(self.path).clear()

    def delete_run(self, run_id: str) -> None:
        """Delete a run from `runs` and its rows from every result table (its blobs become orphans: `cleanup`)."""
        if not WorkspaceStore(self.path).delete_run(run_id):
            raise StoreError(f"workspace {self.path} has no run {run_id!r}")

    def artifact_stats(self) -> housekeeping.ArtifactStats:
        """Artifact rows, runs, chains, blobs referenced and on disk, bytes, orphans."""
        return housekeeping.stats(WorkspaceStore(self.path))

    def orphans(self) -> list[tuple[str, int]]:
        """Blobs no artifact row references: (sha256, bytes)."""
        return housekeeping.orphans(WorkspaceStore(self.path))

    def cleanup(self, *, dry_run: bool = False) -> list[tuple[str, int]]:
        """Delete the orphan blobs (only list them with ``dry_run``)."""
        return housekeeping.cleanup(WorkspaceStore(self.path), dry_run=dry_run)

    def purge(self, dataset_hash: str, *, dry_run: bool = False) -> tuple[int, list[str]]:
        """Drop the fitted objects of every run on ``dataset_hash``: (artifact rows, blobs) removed."""
        return housekeeping.purge_dataset(WorkspaceStore(self.path), dataset_hash, dry_run=dry_run)
