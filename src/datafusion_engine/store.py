"""The workspace store: the ONE writer of the Delta tables of a workspace folder."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import msgspec
import pyarrow as pa
from datafusion import col, lit
from datafusion import functions as f
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from datafusion_engine.artifact_index import blobs_of, read_artifacts, recounted
from datafusion_engine.documents import delete_documents
from datafusion_engine.errors import StoreError
from datafusion_engine.layout import WorkspaceLayout
from datafusion_engine.schemas import NATURAL_KEYS, TABLE_SCHEMAS, RunRow
from datafusion_engine.upgrade import upgrade_table

RESULT_TABLES = ("chains", "predictions", "scores", "events", "artifacts", "component_diagnostics",
                 "variable_importance", "sample_diagnostics", "confusion", "class_scores", "domains")
_ATTEMPTS = 6


def _changed(schema: pa.Schema, keys: tuple[str, ...]) -> str | None:
    """Update a matched row only when a value differs, so writing the same rows again commits nothing."""
    scalars = [f.name for f in schema if f.name not in keys and not pa.types.is_nested(f.type)]
    return " OR ".join(f"(t.{c} IS DISTINCT FROM s.{c})" for c in scalars) or None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def delete_where_equal(path: Path, column: str, values: list[str]) -> int:
    """Delete the rows of the Delta table at ``path`` whose ``column`` equals one of ``values``; returns how many.

    The values travel as a source table of a merge, never as SQL text, so any string is matched literally.
    """
    source = pa.table({column: pa.array(values, type=pa.string())})
    merged = (DeltaTable(path).merge(source, predicate=f"t.{column} = s.{column}", source_alias="s", target_alias="t")
              .when_matched_delete().execute())
    return int(merged.get("num_target_rows_deleted", 0))


class WorkspaceStore:
    """The writer of a workspace's Delta tables (``tables/``); every write goes through this class.

    Writes merge on the table's natural key, so writing the same rows twice replaces them, never duplicates.
    """

    def __init__(self, layout: WorkspaceLayout):
        self.layout = layout

    @property
    def root(self) -> Path:
        return self.layout.root

    def _conform(self, name: str, data: pa.Table) -> pa.Table:
        schema = TABLE_SCHEMAS[name]
        if data.column_names != schema.names:
            raise StoreError(f"rows for table {name!r} have columns {data.column_names}, expected {schema.names}")
        try:
            return data.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise StoreError(f"rows for table {name!r} do not fit its schema: {exc}") from None

    def write(self, name: str, data: pa.Table) -> None:
        """Merge ``data`` into table ``name`` on its natural key (creating the table on first write)."""
        path = self.layout.table(name)
        data = self._conform(name, data)
        if data.num_rows == 0:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(_ATTEMPTS):
            try:
                self._merge(name, path, data)
                return
            except (CommitFailedError, FileExistsError) as exc:  # another writer committed first: retry
                if attempt == _ATTEMPTS - 1:
                    raise StoreError(f"table {name!r}: {_ATTEMPTS} commits lost to concurrent writers: {exc}") from None
                time.sleep(0.05 * 2**attempt)

    def _merge(self, name: str, path: Path, data: pa.Table) -> None:
        try:
            table = DeltaTable(path)
        except TableNotFoundError:
            try:
                write_deltalake(path, data, mode="error", name=name)
                return
            except DeltaError as exc:  # the table appeared meanwhile (another process created it)
                if "already exists" not in str(exc):
                    raise
                raise FileExistsError(str(exc)) from None
        upgrade_table(name, table, self.layout.tables_dir)
        keys = NATURAL_KEYS[name]
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        (table.merge(data, predicate=predicate, source_alias="s", target_alias="t")
            .when_matched_update_all(predicate=_changed(data.schema, keys))
            .when_not_matched_insert_all().execute())

    def delete_run(self, run_id: str) -> bool:
        """Remove a run from `runs`, its rows from every result table and its documents; False when there was no
        such run."""
        path = self.layout.tables_dir / "runs"
        if not (path / "_delta_log").is_dir():
            return False
        deleted = delete_where_equal(path, "run_id", [run_id])
        self.delete_run_results(run_id)
        delete_documents(self.layout, run_id)
        return bool(deleted)

    def delete_run_results(self, run_id: str) -> list[str]:
        """Remove a run's rows from the result tables (used when a run fails, so no half-written run remains).

        Returns the blobs the run's artifact rows referenced; their ref counts are refreshed (the blobs stay: other
        runs may share them, and unreferenced ones are orphans for cleanup).
        """
        artifacts = self.layout.tables_dir / "artifacts"
        blobs = blobs_of(read_artifacts(artifacts, col("run_id") == lit(run_id)))
        for name in RESULT_TABLES:
            path = self.layout.tables_dir / name
            if (path / "_delta_log").is_dir():
                delete_where_equal(path, "run_id", [run_id])
        self.refresh_ref_counts(blobs)
        return blobs

    def refresh_ref_counts(self, blobs: list[str]) -> None:
        """Set ``ref_count`` of every artifact row sharing one of ``blobs`` to the number of rows sharing it."""
        if not blobs:
            return
        rows = read_artifacts(self.layout.tables_dir / "artifacts",
                              f.in_list(col("blob_sha256"), [lit(b) for b in blobs]))
        self.write("artifacts", recounted(rows))

    def _write_run(self, row: RunRow) -> None:
        self.write("runs", pa.Table.from_pylist([msgspec.structs.asdict(row)], schema=TABLE_SCHEMAS["runs"]))

    def begin_run(self, row: RunRow) -> None:
        """Record a run as ``running`` (creates the workspace folder if needed)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_run(msgspec.structs.replace(row, status="running", finished_at=None, error=None))

    def complete_run(self, row: RunRow) -> RunRow:
        """Mark a run ``completed``; call only after every result table is committed."""
        done = msgspec.structs.replace(row, status="completed", finished_at=now(), error=None)
        self._write_run(done)
        return done

    def fail_run(self, row: RunRow, error: str) -> RunRow:
        """Mark a run ``failed`` with its error message."""
        failed = msgspec.structs.replace(row, status="failed", finished_at=now(), error=error)
        self._write_run(failed)
        return failed

    def write_results(self, run_id: str, results: dict[str, pa.Table]) -> None:
        """Write a run's result tables (``chains``, ``predictions``, ``scores``, ``events``, ``artifacts``), adding
        run_id; the ref counts of the blobs the new artifact rows reference are refreshed."""
        for name, table in results.items():
            column = pa.array([run_id] * table.num_rows, type=pa.string())
            self.write(name, table.add_column(0, "run_id", column))
            if name == "artifacts":
                self.refresh_ref_counts(blobs_of(table))
