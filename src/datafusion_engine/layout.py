"""The layout of a workspace: where its Delta tables, blobs, run documents, scan records and node cache live.

This module is the one place that knows the folder names; everything else asks a :class:`WorkspaceLayout`. The
workspace is a :class:`nirs_core.storage.Storage` (a folder or an object-store prefix): the layout names keys in it
and gives deltalake the URL and options of each table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from datafusion_engine.errors import StoreError
from datafusion_engine.schemas import TABLE_SCHEMAS
from nirs_core.storage import LocalStorage, Storage, StorageError, open_storage

TABLES_DIR = "tables"
BLOBS_DIR = "blobs"
PROVENANCE_DIR = "provenance"
SCANS_DIR = "scans"  # inside provenance/: scan metrics of queries (a query spans runs, so not a run document)
CACHE_DIR = "cache"
DELTA_LOG = "_delta_log"
_LOG_ENTRY = re.compile(r"^(\d{20})\.json$")


@dataclass(frozen=True)
class WorkspaceLayout:
    """The keys of one workspace in its storage.

    ``tables/<name>`` Delta tables, ``blobs/sha256/ab/<hex>`` content-addressed fitted objects,
    ``provenance/<run_id>/`` run documents, ``provenance/scans/`` scan metrics, ``cache/`` the node cache.
    ``root`` is the folder (a Path) of a local workspace, the URI (a str) of an object-store one.
    """

    storage: Storage

    @classmethod
    def at(cls, root: str | Path | Storage, options: Mapping[str, str] | None = None) -> WorkspaceLayout:
        """The layout of ``root``: a folder (which need not exist yet, but must not be a file), ``file://...`` or
        ``s3://bucket/prefix`` (with ``options``: storage options over the ``AWS_*`` environment)."""
        try:
            storage = open_storage(root, options)
        except StorageError as exc:
            raise StoreError(str(exc)) from None
        if isinstance(storage, LocalStorage) and storage.root.exists() and not storage.root.is_dir():
            raise StoreError(f"workspace path {storage.root} exists and is not a directory")
        return cls(storage)

    @property
    def root(self) -> Path | str:
        return self.storage.root if isinstance(self.storage, LocalStorage) else self.storage.location

    @property
    def is_local(self) -> bool:
        return self.storage.is_local

    @property
    def delta_options(self) -> dict[str, str] | None:
        """deltalake's ``storage_options`` for every table of the workspace (None for a folder)."""
        return self.storage.delta_options()

    def table(self, name: str) -> str:
        """The URL (a local path or ``s3://...``) of Delta table ``name`` (one of the workspace's tables)."""
        if name not in TABLE_SCHEMAS:
            raise StoreError(f"unknown table {name!r}; tables are {sorted(TABLE_SCHEMAS)}")
        return self.storage.url(f"{TABLES_DIR}/{name}")

    def has_table(self, name: str) -> bool:
        """Whether table ``name`` has been written at least once."""
        return self._log_entries(name) is not None

    def has_tables(self) -> bool:
        """Whether anything was ever written under ``tables/``."""
        return self.storage.has_prefix(TABLES_DIR)

    def _log_entries(self, name: str) -> list[int] | None:
        if self.is_local:  # a folder test, as cheap as before the storage abstraction
            log = Path(self.table(name)) / DELTA_LOG
            return [int(m.group(1)) for p in log.iterdir() if (m := _LOG_ENTRY.match(p.name))] if log.is_dir() \
                else None
        found = [int(m.group(1)) for item in self.storage.list(f"{TABLES_DIR}/{name}/{DELTA_LOG}")
                 if (m := _LOG_ENTRY.match(item.key.rpartition("/")[2]))]
        return found or None

    def existing_tables(self) -> dict[str, str]:
        """Tables that have been written at least once (name -> URL), in schema order."""
        if self.is_local:
            return {name: self.table(name) for name in TABLE_SCHEMAS if self.has_table(name)}
        written = {item.key.split("/")[1] for item in self.storage.list(TABLES_DIR)
                   if f"/{DELTA_LOG}/" in item.key}
        return {name: self.table(name) for name in TABLE_SCHEMAS if name in written}

    def latest_versions(self) -> dict[str, int]:
        """The newest committed Delta version of every existing table, read from the log entry names alone (no
        table is opened): cheap enough to ask before reusing a session."""
        if self.is_local:
            return {name: max(self._log_entries(name) or [], default=-1) for name in self.existing_tables()}
        versions: dict[str, int] = {}
        for item in self.storage.list(TABLES_DIR):
            parts = item.key.split("/")
            if len(parts) == 4 and parts[2] == DELTA_LOG and (m := _LOG_ENTRY.match(parts[3])):
                versions[parts[1]] = max(versions.get(parts[1], -1), int(m.group(1)))
        return {name: versions[name] for name in TABLE_SCHEMAS if name in versions}

    @property
    def blobs_prefix(self) -> str:
        return f"{BLOBS_DIR}/sha256"

    def run_prefix(self, run_id: str) -> str:
        """The folder of a run's documents; a run id that would leave ``provenance/`` is refused."""
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise StoreError(f"invalid run id {run_id!r}")
        return f"{PROVENANCE_DIR}/{run_id}"

    def describe(self, key: str) -> str:
        """Where ``key`` is, for messages (a path or a URI; never an option value)."""
        return self.storage.url(key)

    def location(self, key: str) -> Path | str:
        """Where ``key`` is: a Path in a folder, a URI (str) in an object store."""
        url = self.storage.url(key)
        return Path(url) if self.is_local else url

    @property
    def scans_prefix(self) -> str:
        return f"{PROVENANCE_DIR}/{SCANS_DIR}"

    @property
    def cache_prefix(self) -> str:
        return CACHE_DIR
