"""Run documents: typed msgspec artifacts (JSON) stored next to the tables, under ``provenance/<run_id>/``."""

from __future__ import annotations

import re
from pathlib import Path

from datafusion_engine.errors import StoreError
from datafusion_engine.layout import WorkspaceLayout
from nirs_core.storage import StorageError, StorageNotFound

_NAME = re.compile(r"^[a-z][a-z0-9_]*\.json$")


def write_document(layout: WorkspaceLayout, run_id: str, name: str, data: bytes) -> Path | str:
    """Write ``data`` atomically (a temp file + rename, one PUT on an object store): a reader sees the old document
    or the new one, never half. Returns where it was written."""
    if not _NAME.match(name):
        raise StoreError(f"invalid document name {name!r}: expected lower_snake_case ending in .json")
    key = f"{layout.run_prefix(run_id)}/{name}"
    try:
        layout.storage.put(key, data, temp_prefix=f".{name}.")
    except StorageError as exc:
        raise StoreError(str(exc)) from None
    return layout.location(key)


def read_document(layout: WorkspaceLayout, run_id: str, name: str) -> bytes:
    try:
        return layout.storage.get(f"{layout.run_prefix(run_id)}/{name}")
    except StorageNotFound:
        raise StoreError(f"run {run_id!r} has no {name} in {layout.describe('provenance')}") from None
    except StorageError as exc:
        raise StoreError(str(exc)) from None


def has_document(layout: WorkspaceLayout, run_id: str, name: str) -> bool:
    return layout.storage.exists(f"{layout.run_prefix(run_id)}/{name}")


def delete_documents(layout: WorkspaceLayout, run_id: str) -> None:
    layout.storage.delete_prefix(layout.run_prefix(run_id))
