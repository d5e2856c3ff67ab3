"""Housekeeping of the artifact blobs: statistics, orphans (blobs no artifact row references), cleanup, purge.

Decisions about deleting a blob always use a fresh count of the rows referencing it, never the stored ref_count.
Cleanup must not run while a run is writing into the same workspace (its blobs land before its rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow.compute as pc
from deltalake import DeltaTable

from datafusion_engine.artifact_index import blobs_of, read_artifacts
from datafusion_engine.blobs import BlobStore
from datafusion_engine.store import TABLES_DIR, WorkspaceStore


@dataclass(frozen=True)
class ArtifactStats:
    rows: int
    runs: int
    chains: int
    blobs_referenced: int
    blob_files: int
    bytes_on_disk: int
    bytes_referenced: int  # sum of the rows' sizes: what storing every row's object separately would take
    orphans: int


def _index(store: WorkspaceStore):
    return read_artifacts(store.root / TABLES_DIR / "artifacts")


def stats(store: WorkspaceStore) -> ArtifactStats:
    rows, blobs = _index(store), BlobStore(store.root)
    files = list(blobs.digests())
    referenced = set(blobs_of(rows))

    def distinct(column: str) -> int:
        return len(pc.unique(rows.column(column))) if rows.num_rows else 0

    return ArtifactStats(
        rows=rows.num_rows, runs=distinct("run_id"), chains=distinct("chain_id"), blobs_referenced=len(referenced),
        blob_files=len(files), bytes_on_disk=sum(blobs.size(d) for d in files),
        bytes_referenced=int(pc.sum(rows.column("size_bytes")).as_py() or 0) if rows.num_rows else 0,
        orphans=len(set(files) - referenced),
    )


def orphans(store: WorkspaceStore) -> list[tuple[str, int]]:
    """Blob files that no artifact row references (digest, size in bytes)."""
    blobs = BlobStore(store.root)
    referenced = set(blobs_of(_index(store)))
    return [(d, blobs.size(d)) for d in blobs.digests() if d not in referenced]


def cleanup(store: WorkspaceStore, *, dry_run: bool = False) -> list[tuple[str, int]]:
    """Delete the orphan blobs (or only list them with ``dry_run``); returns them."""
    found = orphans(store)
    if not dry_run:
        blobs = BlobStore(store.root)
        for digest, _ in found:
            blobs.delete(digest)
    return found


def remove_unreferenced(store: WorkspaceStore, digests: Iterable[str]) -> list[str]:
    """Delete those of ``digests`` that no artifact row references (the blobs a failed run wrote)."""
    wanted = set(digests)
    if not wanted:
        return []
    referenced = set(blobs_of(_index(store)))
    blobs = BlobStore(store.root)
    return [d for d in sorted(wanted - referenced) if blobs.delete(d)]


def purge_dataset(store: WorkspaceStore, dataset_hash: str, *, dry_run: bool = False) -> tuple[int, list[str]]:
    """Remove the artifact rows of every run trained on ``dataset_hash`` and the blobs left unreferenced.

    Runs, predictions and scores stay (the runs can no longer be exported). Returns (rows, blobs) removed.
    """
    quoted = dataset_hash.replace("'", "''")
    path = store.root / TABLES_DIR / "artifacts"
    rows = read_artifacts(path, f"dataset_hash = '{quoted}'")
    blobs = blobs_of(rows)
    if dry_run or rows.num_rows == 0:
        others = set(blobs_of(read_artifacts(path, f"dataset_hash <> '{quoted}'")))
        return rows.num_rows, [b for b in blobs if b not in others]
    DeltaTable(path).delete(f"dataset_hash = '{quoted}'")
    store.refresh_ref_counts(blobs)
    return rows.num_rows, remove_unreferenced(store, blobs)
