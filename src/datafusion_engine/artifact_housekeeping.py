"""Housekeeping of the artifact blobs: statistics, orphans (blobs no artifact row references), cleanup, purge.

Decisions about deleting a blob always use a fresh count of the rows referencing it, never the stored ref_count.
Cleanup must not run while a run is writing into the same workspace (its blobs land before its rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow.compute as pc
from datafusion import col, lit

from datafusion_engine.artifact_index import blobs_of, read_artifacts
from datafusion_engine.store import delete_where_equal
from datafusion_engine.workspace import Workspace


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


def _index(workspace: Workspace):
    return read_artifacts(workspace.layout)


def stats(workspace: Workspace) -> ArtifactStats:
    rows, blobs = _index(workspace), workspace.blobs
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


def orphans(workspace: Workspace) -> list[tuple[str, int]]:
    """Blob files that no artifact row references (digest, size in bytes)."""
    referenced = set(blobs_of(_index(workspace)))
    return [(d, workspace.blobs.size(d)) for d in workspace.blobs.digests() if d not in referenced]


def cleanup(workspace: Workspace, *, dry_run: bool = False) -> list[tuple[str, int]]:
    """Delete the orphan blobs (or only list them with ``dry_run``); returns them."""
    found = orphans(workspace)
    if not dry_run:
        for digest, _ in found:
            workspace.blobs.delete(digest)
    return found


def remove_unreferenced(workspace: Workspace, digests: Iterable[str]) -> list[str]:
    """Delete those of ``digests`` that no artifact row references (the blobs a failed run wrote)."""
    wanted = set(digests)
    if not wanted:
        return []
    referenced = set(blobs_of(_index(workspace)))
    return [d for d in sorted(wanted - referenced) if workspace.blobs.delete(d)]


def purge_dataset(workspace: Workspace, dataset_hash: str, *, dry_run: bool = False) -> tuple[int, list[str]]:
    """Remove the artifact rows of every run trained on ``dataset_hash`` and the blobs left unreferenced.

    Runs, predictions and scores stay (the runs can no longer be exported). Returns (rows, blobs) removed.
    """
    rows = read_artifacts(workspace.layout, col("dataset_hash") == lit(dataset_hash))
    blobs = blobs_of(rows)
    if dry_run or rows.num_rows == 0:
        others = set(blobs_of(read_artifacts(workspace.layout, col("dataset_hash") != lit(dataset_hash))))
        return rows.num_rows, [b for b in blobs if b not in others]
    delete_where_equal(workspace.layout, "artifacts", "dataset_hash", [dataset_hash])
    workspace.store.refresh_ref_counts(blobs)
    return rows.num_rows, remove_unreferenced(workspace, blobs)
