"""The `nirdag artifacts` verbs: statistics and clean-up of the fitted objects of a workspace (see `nirdag.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import nirdag
from nirdag.cli_data import flag
from nirdag.cli_storage import WorkspaceOpt

_out = Console(width=None if sys.stdout.isatty() else 160)


def _say(text: str) -> None:
    """Print plain text (no markup, no wrapping: paths and hashes stay whole)."""
    _out.print(text, markup=False, highlight=False, soft_wrap=True)


artifacts_app = typer.Typer(help="Fitted objects of a workspace: statistics and clean-up of the blobs.",
                            no_args_is_help=True, rich_markup_mode=None)


@artifacts_app.command("stats")
def artifacts_stats(workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Artifact rows, blobs referenced and on disk, bytes saved by deduplication, orphans."""
    s = nirdag.Workspace(workspace).artifact_stats()
    _say(f"{s.rows} artifact rows ({s.runs} runs, {s.chains} chains) -> {s.blobs_referenced} blobs referenced; "
         f"{s.blob_files} blob files, {s.bytes_on_disk} bytes on disk ({s.bytes_referenced} bytes without "
         f"deduplication); {s.orphans} orphans")


@artifacts_app.command("orphans")
def artifacts_orphans(workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Blobs that no artifact row references (left by deleted runs)."""
    found = nirdag.Workspace(workspace).orphans()
    for digest, size in found:
        _say(f"{digest}  {size} bytes")
    _say(f"{len(found)} orphan blobs")


@artifacts_app.command("cleanup")
def artifacts_cleanup(workspace: WorkspaceOpt = Path("workspace"),
                      dry_run: Annotated[bool, flag("--dry-run", help="Only list what would be deleted.")] = False,
                      ) -> None:
    """Delete orphan blobs (do not run while a run is writing into the workspace)."""
    found = nirdag.Workspace(workspace).cleanup(dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    _say(f"{verb} {len(found)} orphan blobs ({sum(size for _, size in found)} bytes)")


@artifacts_app.command("purge")
def artifacts_purge(dataset: Annotated[str, typer.Option("--dataset", help="dataset_hash whose runs' fitted objects "
                                                         "are dropped.")],
                    workspace: WorkspaceOpt = Path("workspace"),
                    dry_run: Annotated[bool, flag("--dry-run", help="Only count what would go.")] = False) -> None:
    """Drop the fitted objects of every run on a dataset (the runs and their scores stay)."""
    rows, blobs = nirdag.Workspace(workspace).purge(dataset, dry_run=dry_run)
    _say(f"{'would remove' if dry_run else 'removed'} {rows} artifact rows and {len(blobs)} blobs")
