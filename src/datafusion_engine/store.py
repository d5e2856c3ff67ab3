"""The workspace store: the ONE writer of the Delta tables of a workspace folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec
import pyarrow as pa
from datafusion import col, lit
from datafusion import functions as f
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from pyarrow.dataset import field as pc_field

from datafusion_engine.artifact_index import blobs_of, read_artifacts, recounted
from datafusion_engine.documents import delete_documents
from datafusion_engine.errors import RunDeletedError, StoreError
from datafusion_engine.layout import WorkspaceLayout
from datafusion_engine.schemas import NATURAL_KEYS, TABLE_SCHEMAS, RunRow
from datafusion_engine.upgrade import upgrade_table

RESULT_TABLES = ("chains", "predictions", "scores", "events", "artifacts", "component_diagnostics",
                 "variable_importance", "sample_diagnostics", "confusion", "class_scores", "domains",
                 "sample_exclusions", "selected_variables", "node_metrics", "run_metrics", "explanations",
                 "trials")
_ATTEMPTS = 6
T = TypeVar("T")


def _changed(schema: pa.Schema, keys: tuple[str, ...]) -> str | None:
    """Update a matched row only when a value differs, so writing the same rows again commits nothing."""
    scalars = [f.name for f in schema if f.name not in keys and not pa.types.is_nested(f.type)]
    return " OR ".join(f"(t.{c} IS DISTINCT FROM s.{c})" for c in scalars) or None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _committed(what: str, commit: Callable[[], T], *, local: bool = True) -> T:
    """Run one Delta commit, retried (with backoff) while another writer commits first; a lost race beyond
    _ATTEMPTS, a full disk, a read-only folder or a refusing object store is a StoreError saying so."""
    hint = "is the disk full or the workspace read-only?" if local else "is the object store reachable and writable?"
    for attempt in range(_ATTEMPTS):
        try:
            return commit()
        except (CommitFailedError, FileExistsError) as exc:  # another writer committed first: retry
            if attempt == _ATTEMPTS - 1:
                raise StoreError(f"{what}: {_ATTEMPTS} commits lost to concurrent writers: {exc}") from None
            time.sleep(0.05 * 2**attempt)
        except (OSError, DeltaError) as exc:
            raise StoreError(f"{what}: cannot write ({' '.join(str(exc).split())[:300]}); {hint}") from None
        except BaseException as exc:  # deltalake's Rust panics arrive as pyo3's PanicException (a BaseException)
            if type(exc).__name__ != "PanicException":
                raise
            raise StoreError(f"{what}: the Delta writer failed ({' '.join(str(exc).split())[:300]}); {hint}") from None
    raise AssertionError("unreachable")


def delete_where_equal(layout: WorkspaceLayout, name: str, column: str, values: list[str]) -> int:
    """Delete the rows of the workspace's Delta table ``name`` whose ``column`` equals one of ``values``; returns
    how many.

    The values travel as a source table of a merge, never as SQL text, so any string is matched literally; a
    commit lost to a concurrent writer is retried (the merge is re-planned on the new version).
    """
    source = pa.table({column: pa.array(values, type=pa.string())})

    def commit() -> int:
        merged = (open_table(layout, name).merge(source, predicate=f"t.{column} = s.{column}", source_alias="s",
                                                 target_alias="t").when_matched_delete().execute())
        return int(merged.get("num_target_rows_deleted", 0))

    return _committed(f"table {name!r}", commit, local=layout.is_local)


def open_table(layout: WorkspaceLayout, name: str) -> DeltaTable:
    """The workspace's Delta table ``name`` at its newest version (through the workspace's storage options)."""
    return DeltaTable(layout.table(name), storage_options=layout.delta_options)


class WorkspaceStore:
    """The writer of a workspace's Delta tables (``tables/``); every write goes through this class.

    Writes merge on the table's natural key, so writing the same rows twice replaces them, never duplicates.
    """

    def __init__(self, layout: WorkspaceLayout):
        self.layout = layout

    @property
    def root(self) -> Path | str:
        return self.layout.root

    def _conform(self, name: str, data: pa.Table) -> pa.Table:
        self.layout.table(name)  # an unknown table name: StoreError naming the tables
        schema = TABLE_SCHEMAS[name]
        if data.column_names != schema.names:
            raise StoreError(f"rows for table {name!r} have columns {data.column_names}, expected {schema.names}")
        try:
            return data.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise StoreError(f"rows for table {name!r} do not fit its schema: {exc}") from None

    def write(self, name: str, data: pa.Table, *, new_keys: bool = False) -> None:
        """Merge ``data`` into table ``name`` on its natural key (creating the table on first write).

        ``new_keys``: the caller knows no row of ``data`` can match a stored key (the rows of a run being written,
        keyed by its fresh run id), so they are appended in one commit instead of merged (a merge reads the
        target to match keys). A retried commit appends nothing twice: a commit lost to another writer is not
        in the table.
        """
        data = self._conform(name, data)
        if data.num_rows == 0:
            return
        if self.layout.is_local:
            folder = Path(self.layout.table(name)).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"workspace {self.root}: cannot create {folder} ({exc.strerror}); is it "
                                 "read-only?") from None
        _committed(f"table {name!r}", lambda: self._merge(name, data, append=new_keys), local=self.layout.is_local)

    def update_matched(self, name: str, data: pa.Table) -> int:
        """Update the rows of table ``name`` that ``data`` matches on the natural key; never inserts (a row deleted
        meanwhile stays deleted). Returns how many rows were updated."""
        data = self._conform(name, data)
        if data.num_rows == 0 or not self.layout.has_table(name):
            return 0
        keys = NATURAL_KEYS[name]
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in keys)

        def commit() -> int:
            table = open_table(self.layout, name)
            upgrade_table(name, table, self.layout)
            merged = (table.merge(data, predicate=predicate, source_alias="s", target_alias="t")
                      .when_matched_update_all().execute())
            return int(merged.get("num_target_rows_updated", 0))

        return _committed(f"table {name!r}", commit, local=self.layout.is_local)

    def _merge(self, name: str, data: pa.Table, *, append: bool = False) -> None:
        try:
            table = open_table(self.layout, name)
        except TableNotFoundError:
            try:
                write_deltalake(self.layout.table(name), data, mode="error", name=name,
                                storage_options=self.layout.delta_options)
                return
            except DeltaError as exc:  # the table appeared meanwhile (another process created it)
                if "already exists" not in str(exc):
                    raise
                raise FileExistsError(str(exc)) from None
        upgrade_table(name, table, self.layout)
        if append:
            write_deltalake(table, data, mode="append")
            return
        keys = NATURAL_KEYS[name]
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        (table.merge(data, predicate=predicate, source_alias="s", target_alias="t")
            .when_matched_update_all(predicate=_changed(data.schema, keys))
            .when_not_matched_insert_all().execute())

    def delete_run(self, run_id: str) -> bool:
        """Remove a run from `runs`, its rows from every result table and its documents; False when there was no
        such run."""
        if not self.layout.has_table("runs"):
            return False
        deleted = delete_where_equal(self.layout, "runs", "run_id", [run_id])
        self.delete_run_results(run_id)
        delete_documents(self.layout, run_id)
        return bool(deleted)

    def delete_run_results(self, run_id: str) -> list[str]:
        """Remove a run's rows from the result tables (used when a run fails, so no half-written run remains).

        Returns the blobs the run's artifact rows referenced; their ref counts are refreshed (the blobs stay: other
        runs may share them, and unreferenced ones are orphans for cleanup).
        """
        blobs = blobs_of(read_artifacts(self.layout, col("run_id") == lit(run_id)))
        existing = self.layout.existing_tables()
        for name in RESULT_TABLES:
            if name in existing:
                delete_where_equal(self.layout, name, "run_id", [run_id])
        self.refresh_ref_counts(blobs)
        return blobs

    def refresh_ref_counts(self, blobs: list[str]) -> None:
        """Set ``ref_count`` of every artifact row sharing one of ``blobs`` to the number of rows sharing it.

        The rows are counted and updated in one retried step, and only updated (never inserted): a run deleted
        concurrently keeps its rows deleted, and a lost commit re-counts from the new version."""
        if not blobs:
            return
        if not self.layout.has_table("artifacts"):
            return
        for attempt in range(_ATTEMPTS):
            before = open_table(self.layout, "artifacts").version()
            rows = recounted(read_artifacts(self.layout, f.in_list(col("blob_sha256"), [lit(b) for b in blobs])))
            self.update_matched("artifacts", rows)
            if open_table(self.layout, "artifacts").version() <= before + 1:
                return  # nobody committed between our read and our update: the counts are the table's
            time.sleep(0.02 * 2**attempt)  # another writer moved the table meanwhile: count again

    def _write_run(self, row: RunRow) -> None:
        self.write("runs", pa.Table.from_pylist([msgspec.structs.asdict(row)], schema=TABLE_SCHEMAS["runs"]))

    def begin_run(self, row: RunRow) -> None:
        """Record a run as ``running`` (creates the workspace folder if needed)."""
        if self.layout.is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
        self._write_run(msgspec.structs.replace(row, status="running", finished_at=None, error=None))

    def _update_run(self, row: RunRow) -> None:
        """Write a run's new state over its row; StoreError when the row is gone (the run was deleted meanwhile)."""
        table = pa.Table.from_pylist([msgspec.structs.asdict(row)], schema=TABLE_SCHEMAS["runs"])
        if self.update_matched("runs", table) == 0 and self.run_status(row.run_id) != row.status:
            raise RunDeletedError(f"run {row.run_id} was deleted from {self.root} while it ran; its results are "
                                  "not kept")

    def run_status(self, run_id: str) -> str | None:
        """The status of a run as the table holds it now (None without such a run)."""
        if not self.layout.has_table("runs"):
            return None
        rows = open_table(self.layout, "runs").to_pyarrow_dataset().to_table(filter=pc_field("run_id") == run_id,
                                                              columns=["status"])
        return rows.column("status")[0].as_py() if rows.num_rows else None

    def complete_run(self, row: RunRow) -> RunRow:
        """Mark a run ``completed``; call only after every result table is committed. Refused (RunDeletedError)
        when the run's row was deleted meanwhile: completing never brings a deleted run back."""
        done = msgspec.structs.replace(row, status="completed", finished_at=now(), error=None)
        self._update_run(done)
        return done

    def fail_run(self, row: RunRow, error: str) -> RunRow:
        """Mark a run ``failed`` with its error message (nothing is written when its row was deleted)."""
        failed = msgspec.structs.replace(row, status="failed", finished_at=now(), error=error)
        with contextlib.suppress(RunDeletedError):  # a deleted run stays deleted
            self._update_run(failed)
        return failed

    def write_results(self, run_id: str, results: dict[str, pa.Table]) -> None:
        """Write a run's result tables (``chains``, ``predictions``, ``scores``, ``events``, ``artifacts``), adding
        run_id; the ref counts of the blobs the new artifact rows reference are refreshed. Every result table is
        keyed by run id and a run writes its results once, so its rows are appended (one commit per table)."""
        for name, table in results.items():
            if "run_id" not in NATURAL_KEYS[name]:
                raise StoreError(f"table {name!r} is not keyed by run: its rows cannot be written as a run's")
            column = pa.array([run_id] * table.num_rows, type=pa.string())
            self.write(name, table.add_column(0, "run_id", column), new_keys=True)
            if name == "artifacts":
                self.refresh_ref_counts(blobs_of(table))
