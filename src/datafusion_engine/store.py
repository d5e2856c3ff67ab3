"""The workspace store: the ONE writer of the Delta tables of a workspace folder."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import msgspec
import pyarrow as pa
from deltalake import DeltaTable, Schema, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from datafusion_engine.artifact_index import blobs_of, quoted_list, read_artifacts, recounted
from datafusion_engine.documents import delete_documents, write_document
from datafusion_engine.errors import StoreError
from datafusion_engine.schemas import NATURAL_KEYS, TABLE_SCHEMAS, RunRow

TABLES_DIR = "tables"
RESULT_TABLES = ("chains", "predictions", "scores", "events", "artifacts")
_ATTEMPTS = 6


def _changed(schema: pa.Schema, keys: tuple[str, ...]) -> str | None:
    """Update a matched row only when a value differs, so writing the same rows again commits nothing."""
    scalars = [f.name for f in schema if f.name not in keys and not pa.types.is_nested(f.type)]
    return " OR ".join(f"(t.{c} IS DISTINCT FROM s.{c})" for c in scalars) or None


def _add_missing_columns(name: str, table: DeltaTable, schema: pa.Schema) -> None:
    """Give a table written by an older nirdag the nullable columns added since (its old rows hold null)."""
    present = {f.name for f in table.schema().fields}
    missing = [f for f in schema if f.name not in present]
    if not missing:
        return
    if any(not f.nullable for f in missing):
        raise StoreError(f"table {name!r} lacks the non-nullable column(s) "
                         f"{[f.name for f in missing if not f.nullable]}; it cannot be upgraded in place")
    table.alter.add_columns(Schema.from_arrow(pa.schema(missing)).fields)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WorkspaceStore:
    """A workspace folder holding Delta tables under ``tables/``; every write goes through this class.

    Writes merge on the table's natural key, so writing the same rows twice replaces them, never duplicates.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"workspace path {self.root} exists and is not a directory")

    def table_path(self, name: str) -> Path:
        if name not in TABLE_SCHEMAS:
            raise StoreError(f"unknown table {name!r}; tables are {sorted(TABLE_SCHEMAS)}")
        return self.root / TABLES_DIR / name

    def existing_tables(self) -> dict[str, Path]:
        """Tables that have been written at least once (name -> path)."""
        found = {}
        for name in TABLE_SCHEMAS:
            path = self.root / TABLES_DIR / name
            if (path / "_delta_log").is_dir():
                found[name] = path
        return found

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
        path = self.table_path(name)
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
        _add_missing_columns(name, table, data.schema)
        keys = NATURAL_KEYS[name]
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        (table.merge(data, predicate=predicate, source_alias="s", target_alias="t")
            .when_matched_update_all(predicate=_changed(data.schema, keys))
            .when_not_matched_insert_all().execute())

    def delete_run(self, run_id: str) -> bool:
        """Remove a run from `runs` and its rows from every result table; False when there was no such run."""
        path = self.root / TABLES_DIR / "runs"
        if not (path / "_delta_log").is_dir():
            return False
        quoted = run_id.replace("'", "''")
        deleted = DeltaTable(path).delete(f"run_id = '{quoted}'").get("num_deleted_rows", 0)
        self.delete_run_results(run_id)
        delete_documents(self.root, run_id)
        return bool(deleted)

    def write_document(self, run_id: str, name: str, data: bytes) -> Path:
        """Store a run's typed artifact (msgspec JSON) under ``provenance/<run_id>/<name>``, atomically."""
        return write_document(self.root, run_id, name, data)

    def delete_run_results(self, run_id: str) -> list[str]:
        """Remove a run's rows from the result tables (used when a run fails, so no half-written run remains).

        Returns the blobs the run's artifact rows referenced; their ref counts are refreshed (the blobs stay: other
        runs may share them, and unreferenced ones are orphans for cleanup).
        """
        quoted = run_id.replace("'", "''")
        blobs = blobs_of(read_artifacts(self.root / TABLES_DIR / "artifacts", f"run_id = '{quoted}'"))
        for name in RESULT_TABLES:
            path = self.root / TABLES_DIR / name
            if (path / "_delta_log").is_dir():
                DeltaTable(path).delete(f"run_id = '{quoted}'")
        self.refresh_ref_counts(blobs)
        return blobs

    def refresh_ref_counts(self, blobs: list[str]) -> None:
        """Set ``ref_count`` of every artifact row sharing one of ``blobs`` to the number of rows sharing it."""
        if not blobs:
            return
        rows = read_artifacts(self.root / TABLES_DIR / "artifacts", f"blob_sha256 IN ({quoted_list(blobs)})")
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
