"""The Workspace handle: one folder, opened once and passed down to the api, the bundles and the engine."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from datafusion_engine.blobs import BlobStore
from datafusion_engine.cache_store import DEFAULT_MAX_BYTES, CacheStore
from datafusion_engine.documents import delete_documents, has_document, read_document, write_document
from datafusion_engine.errors import NotAWorkspace, StoreError
from datafusion_engine.layout import BLOBS_DIR, CACHE_DIR, PROVENANCE_DIR, TABLES_DIR, WorkspaceLayout
from datafusion_engine.session import WorkspaceSession
from datafusion_engine.store import WorkspaceStore
from nirs_core.errors import NirdagError
from relspec.policy import ExecutionPolicy


class Workspace:
    """A workspace (a folder or an object-store prefix) and everything it holds: its layout, the single writer of
    its Delta tables, its blobs, run documents and node cache, and one lazily opened DataFusion session that is
    reused while it is current.

    Parameters
    ----------
    root : str or Path
        The workspace folder, ``file://...`` or ``s3://bucket/prefix``. It need not exist until a run writes into
        it; it must not be a file.
    storage_options : mapping, optional
        For ``s3://``: options over the ``AWS_*`` environment variables (``AWS_ENDPOINT_URL``, credentials...,
        see :mod:`nirs_core.storage`). They stay in memory: nothing writes them into the workspace.

    Examples
    --------
    >>> ws = Workspace("ws")                         # doctest: +SKIP
    >>> ws.session().sql("SELECT count(*) FROM runs")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path, storage_options: Mapping[str, str] | None = None):
        self.layout = WorkspaceLayout.at(root, storage_options)
        self.store = WorkspaceStore(self.layout)
        self.blobs = BlobStore(self.layout.storage, self.layout.blobs_prefix)
        self._session: WorkspaceSession | None = None

    @classmethod
    def of(cls, workspace: Workspace | str | Path) -> Workspace:
        """``workspace`` itself when it is a handle already (or holds one), else a handle of that location."""
        if isinstance(workspace, Workspace):
            return workspace
        handle = getattr(workspace, "handle", None)  # nirdag.Workspace, the facade over a handle
        return handle if isinstance(handle, Workspace) else cls(workspace)

    @property
    def root(self) -> Path | str:
        """The folder (a Path) of a local workspace, the URI (a str) of an object-store one."""
        return self.layout.root

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __str__(self) -> str:
        return str(self.root)

    def exists(self) -> bool:
        if self.layout.is_local:
            return Path(self.root).is_dir()
        self.layout.storage.check()  # an unreachable store or a missing bucket: one line, now
        return True

    def is_workspace(self) -> bool:
        """True when the folder holds a nirdag workspace (one of its Delta tables under ``tables/``)."""
        return bool(self.layout.existing_tables())

    def require(self) -> Workspace:
        """The handle itself; StoreError when the folder does not exist or is not a nirdag workspace (nothing was
        ever run into it), before anything in it is read or touched."""
        if not self._exists():
            raise StoreError(f"workspace {self.root} does not exist; run a pipeline into it first")
        if not self.is_workspace():
            raise NotAWorkspace(f"{self.root} is not a nirdag workspace (no tables under "
                                f"{self.layout.describe(TABLES_DIR)}); give the folder a run was written into, or "
                                "run a pipeline into a new one")
        return self

    def _exists(self) -> bool:
        try:
            return self.exists()
        except NirdagError as exc:
            raise StoreError(str(exc)) from None

    def check_writable(self, min_free_bytes: int = 64 * 1024**2) -> None:
        """Refuse, before a run starts writing, a folder that holds other files but no workspace, a read-only one,
        and a disk with less than ``min_free_bytes`` free (each a StoreError saying what to do). An object store
        is probed with one bounded request (unreachable endpoint, missing bucket, refused credentials)."""
        if not self.layout.is_local:
            self._exists()
            return
        root = Path(self.root)
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
        return CacheStore(self.layout.storage, max_bytes, prefix=self.layout.cache_prefix)

    def has_document(self, run_id: str, name: str) -> bool:
        return has_document(self.layout, run_id, name)

    def write_document(self, run_id: str, name: str, data: bytes) -> Path | str:
        """Store a run's typed artifact (msgspec JSON) under ``provenance/<run_id>/<name>``, atomically."""
        return write_document(self.layout, run_id, name, data)

    def read_document(self, run_id: str, name: str) -> bytes:
        """A run document's bytes; StoreError naming the run and document when it is missing."""
        return read_document(self.layout, run_id, name)

    def delete_documents(self, run_id: str) -> None:
        delete_documents(self.layout, run_id)
