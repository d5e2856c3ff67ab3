"""Run documents: typed msgspec artifacts (JSON) stored next to the tables, under ``provenance/<run_id>/``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from datafusion_engine.errors import StoreError
from datafusion_engine.layout import WorkspaceLayout
from nirs_core.files import write_atomic

_NAME = re.compile(r"^[a-z][a-z0-9_]*\.json$")


def write_document(layout: WorkspaceLayout, run_id: str, name: str, data: bytes) -> Path:
    """Write ``data`` atomically (temp file + rename): a reader sees the old file or the new one, never half."""
    if not _NAME.match(name):
        raise StoreError(f"invalid document name {name!r}: expected lower_snake_case ending in .json")
    return write_atomic(layout.run_dir(run_id) / name, data, prefix=f".{name}.")


def read_document(layout: WorkspaceLayout, run_id: str, name: str) -> bytes:
    path = layout.run_dir(run_id) / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"run {run_id!r} has no {name} in {layout.provenance_dir}") from None


def delete_documents(layout: WorkspaceLayout, run_id: str) -> None:
    shutil.rmtree(layout.run_dir(run_id), ignore_errors=True)
