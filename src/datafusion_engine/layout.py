"""The folder layout of a workspace: where its Delta tables, blobs, run documents, scan records and node cache live.

This module is the one place that knows the folder names; everything else asks a :class:`WorkspaceLayout`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datafusion_engine.errors import StoreError
from datafusion_engine.schemas import TABLE_SCHEMAS

TABLES_DIR = "tables"
BLOBS_DIR = "blobs"
PROVENANCE_DIR = "provenance"
SCANS_DIR = "scans"  # inside provenance/: scan metrics of queries (a query spans runs, so not a run document)
CACHE_DIR = "cache"
_LOG_ENTRY = re.compile(r"^(\d{20})\.json$")


@dataclass(frozen=True)
class WorkspaceLayout:
    """The paths of one workspace folder (``root`` is absolute).

    ``tables/<name>`` Delta tables, ``blobs/sha256/ab/<hex>`` content-addressed fitted objects,
    ``provenance/<run_id>/`` run documents, ``provenance/scans/`` scan metrics, ``cache/`` the node cache.
    """

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> WorkspaceLayout:
        """The layout of the folder ``root`` (which need not exist yet, but must not be a file)."""
        path = Path(root).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise StoreError(f"workspace path {path} exists and is not a directory")
        return cls(path)

    @property
    def tables_dir(self) -> Path:
        return self.root / TABLES_DIR

    def table(self, name: str) -> Path:
        """The folder of Delta table ``name`` (one of the workspace's tables)."""
        if name not in TABLE_SCHEMAS:
            raise StoreError(f"unknown table {name!r}; tables are {sorted(TABLE_SCHEMAS)}")
        return self.tables_dir / name

    def existing_tables(self) -> dict[str, Path]:
        """Tables that have been written at least once (name -> path), in schema order."""
        return {name: self.tables_dir / name for name in TABLE_SCHEMAS
                if (self.tables_dir / name / "_delta_log").is_dir()}

    def latest_versions(self) -> dict[str, int]:
        """The newest committed Delta version of every existing table, read from the log folder names alone (no
        table is opened): cheap enough to ask before reusing a session."""
        versions = {}
        for name, path in self.existing_tables().items():
            found = [int(m.group(1)) for p in (path / "_delta_log").iterdir() if (m := _LOG_ENTRY.match(p.name))]
            versions[name] = max(found, default=-1)
        return versions

    @property
    def blobs_dir(self) -> Path:
        return self.root / BLOBS_DIR / "sha256"

    @property
    def provenance_dir(self) -> Path:
        return self.root / PROVENANCE_DIR

    def run_dir(self, run_id: str) -> Path:
        """The folder of a run's documents; a run id that would leave ``provenance/`` is refused."""
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise StoreError(f"invalid run id {run_id!r}")
        return self.provenance_dir / run_id

    @property
    def scans_dir(self) -> Path:
        return self.provenance_dir / SCANS_DIR

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR
