"""The Workspace handle: one folder, opened once and passed down to the api, the bundles and the engine."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from datafusion_engine.blobs import BlobStore
from datafusion_engine.cache_store import DEFAULT_MAX_BYTES, CacheStore
from datafusion_engine.documents import delete_documents, read_document, write_document
from datafusion_engine.errors import NotAWorkspace, StoreError
from datafusion_engine.layout import BLOBS_DIR, CACHE_DIR, PROVENANCE_DIR, TABLES_DIR, WorkspaceLayout
from datafusion_engine.session import WorkspaceSession
from datafusion_engine.store import WorkspaceStore
from relspec.policy import ExecutionPolicy


class Workspace:
    """A workspace folder and everything it holds: its layout, the single writer of its Delta tables, its blobs,
    run documents and node cache, and one lazily opened DataFusion session that is reused while it is current.

    Parameters
    ----------
    root : str or Path
        The workspace folder. It need not exist until a run writes into it; it must not be a file.

    Examples
    --------
    >>> ws = Workspace("ws")                         # doctest: +SKIP
    >>> ws.session().sql("SELECT count(*) FROM runs")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path):
        self.layout = WorkspaceLayout.at(root)
        self.store = WorkspaceStore(self.layout)
        self.blobs = BlobStore(self.layout.blobs_dir)
        self._session: WorkspaceSession | None = None

    @classmethod
    def of(cls, workspace: Workspace | str | Path) -> Workspace:
        """``workspace`` itself when it is a handle already, else a handle of that folder."""
        return workspace if isinstance(workspace, Workspace) else cls(workspace)

    @property
    def root(self) -> Path:
        return self.layout.root

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def exists(self) -> bool:
        return self.root.is_dir()

    def is_workspace(self) -> bool:
        """True when the folder holds a nirdag workspace (one of its Delta tables under ``tables/``)."""
        return bool(self.layout.existing_tables())

    def require(self) -> Workspace:
        """The handle itself; StoreError when the folder does not exist or is not a nirdag workspace (nothing was
        ever run into it), before anything in it is read or touched."""
        if not self.exists():
            raise StoreError(f"workspace {self.root} does not exist; run a pipeline into it first")
        if not self.is_workspace():
            raise NotAWorkspace(f"{self.root} is not a nirdag workspace (no tables under {self.layout.tables_dir}); "
                                "give the folder a run was written into, or run a pipeline into a new one")
        return self

    def check_writable(self, min_free_bytes: int = 64 * 1024**2) -> None:
        """Refuse, before a run starts writing, a folder that holds other files but no workspace, a read-only one,
        and a disk with less than ``min_free_bytes`` free (each a StoreError saying what to do)."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise StoreError(f"workspace {root} is a file, not a folder")
        ours = {TABLES_DIR, BLOBS_DIR, PROVENANCE_DIR, CACHE_DIR}  # a workspace's own folders (one being made)
        if root.is_dir() and not self.is_workspace() and any(p.name not in ours for p in root.iterdir()):
            raise StoreError(f"{root} holds files but is not a nirdag workspace: give a new or empty folder, or one a "
                             "run was written into")
        probe = root if root.is_dir() else next((p for p in root.parents if p.is_dir()), Path("/"))
        if not os.access(probe, os.W_OK | os.X_OK):
            raise StoreError(f"workspace {root}: {probe} is not writable (read-only?); choose another folder")
        free = shutil.disk_usage(probe).free
        if free < min_free_bytes:
            raise StoreError(f"workspace {root}: only {free / 1024**2:.0f} MiB free on its disk; free some space "
                             "(a run needs at least 64 MiB)")

    def session(self, *, as_of: int | dt.datetime | None = None,
                policy: ExecutionPolicy | None = None) -> WorkspaceSession:
        """A read-only DataFusion session over the workspace's tables.

        The plain session (no ``as_of``, default policy) is opened once and reused until a table of the
        workspace is created or committed to (by this process or another); a time-travel or policy-specific
        session is opened for its caller alone.
        """
        if as_of is not None or policy is not None:
            return WorkspaceSession(self.layout, as_of=as_of, policy=policy)
        if self._session is None or not self._session.is_current():
            self._session = WorkspaceSession(self.layout)
        return self._session

    def cache(self, max_bytes: int = DEFAULT_MAX_BYTES) -> CacheStore:
        """The workspace's node cache (``cache/``), kept under ``max_bytes`` by LRU eviction."""
        return CacheStore(self.layout.cache_dir, max_bytes)

    def write_document(self, run_id: str, name: str, data: bytes) -> Path:
        """Store a run's typed artifact (msgspec JSON) under ``provenance/<run_id>/<name>``, atomically."""
        return write_document(self.layout, run_id, name, data)

    def read_document(self, run_id: str, name: str) -> bytes:
        """A run document's bytes; StoreError naming the run and document when it is missing."""
        return read_document(self.layout, run_id, name)

    def delete_documents(self, run_id: str) -> None:
        delete_documents(self.layout, run_id)
