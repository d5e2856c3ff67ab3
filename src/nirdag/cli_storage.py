"""Where the CLI's workspace and bundle options point: a folder, ``file://`` or ``s3://bucket/prefix``.

``nirdag --storage-option KEY=VALUE <verb>`` (repeatable, before the verb) adds options over the ``AWS_*``
environment variables; the verbs read them from the root click context (the verbs that need them take the
context), so nothing is kept in module state and nothing is written anywhere. A folder stays a ``Path`` exactly
as before; an ``s3://`` workspace becomes a :class:`datafusion_engine.Workspace` handle holding its options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import click
import typer

from nirs_core.storage import is_object_uri, parse_options

STORAGE_OPTION = "storage_option"

StorageOptionOpt = Annotated[list[str] | None, typer.Option(
    "--storage-option", metavar="KEY=VALUE",
    help="An object-store option for s3:// workspaces and bundles, over the AWS_* environment variables "
         "(AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, AWS_REGION, credentials...); repeatable; never written anywhere.")]


def storage_options(ctx: click.Context) -> dict[str, str]:
    """The ``--storage-option`` pairs given to the ``nirdag`` command (read from the root of the verb's context)."""
    return parse_options(tuple(ctx.find_root().params.get(STORAGE_OPTION) or ()))


def workspace_location(ctx: typer.Context, value: Any) -> Any:
    """A folder as a Path (as before); an ``s3://`` URI as a workspace handle with the storage options."""
    if isinstance(value, str) and is_object_uri(value):
        from datafusion_engine.workspace import Workspace

        return Workspace(value, storage_options(ctx))
    return value if isinstance(value, Path) else Path(value)


def file_location(value: Any) -> Any:
    """A file as a Path; an ``s3://bucket/key`` URI kept as text (``Path`` would fold its ``//``)."""
    if isinstance(value, str) and is_object_uri(value):
        return value
    return value if isinstance(value, Path) else Path(value)


WorkspaceOpt = Annotated[str, typer.Option(
    "--workspace", "-w", callback=workspace_location,
    help="Workspace: a folder, file:///path or s3://bucket/prefix (Delta tables).")]
FileLocationOpt = Annotated[str, typer.Option("--output", "-o", callback=lambda v: file_location(v),
                                              help="Bundle file to write: a path or s3://bucket/key.")]
