"""Run documents: typed msgspec artifacts (JSON) stored next to the tables, under ``provenance/<run_id>/``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from datafusion_engine.errors import StoreError
from nirs_core.files import write_atomic

PROVENANCE_DIR = "provenance"
_NAME = re.compile(r"^[a-z][a-z0-9_]*\.json$")


def run_dir(root: Path, run_id: str) -> Path:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise StoreError(f"invalid run id {run_id!r}")
    return root / PROVENANCE_DIR / run_id


def write_document(root: Path, run_id: str, name: str, data: bytes) -> Path:
    """Write ``data`` atomically (temp file + rename): a reader sees the old file or the new one, never half."""
    if not _NAME.match(name):
        raise StoreError(f"invalid document name {name!r}: expected lower_snake_case ending in .json")
    return write_atomic(run_dir(root, run_id) / name, data, prefix=f".{name}.")


def read_document(root: Path, run_id: str, name: str) -> bytes:
    path = run_dir(root, run_id) / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"run {run_id!r} has no {name} in {root / PROVENANCE_DIR}") from None


def delete_documents(root: Path, run_id: str) -> None:
    shutil.rmtree(run_dir(root, run_id), ignore_errors=True)
