"""Delta tables registered in a DataFusion session: natively for a folder, as their Parquet files for an object store.

deltalake 1.6's table provider, handed to DataFusion 55 through FFI, does not see the object stores registered
on the session ("No suitable object store found for s3://bucket/"), so a table of an object-store workspace is
registered as exactly the Parquet files its Delta log lists at the version read, through an ``AmazonS3`` store
made from the workspace's own options and the table's Arrow schema (a file written before a column was added
reads it as null). nirdag's tables are not partitioned and deltalake writes no deletion vectors, so those files
are the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from datafusion import SessionContext
from datafusion.object_store import AmazonS3
from deltalake import DeltaTable

from nirs_core.storage import ObjectStorage, is_true

if TYPE_CHECKING:
    from datafusion_engine.layout import WorkspaceLayout


def register_store(ctx: SessionContext, storage: ObjectStorage) -> None:
    """Give ``ctx`` the object store of ``storage``'s bucket, with its credentials and endpoint."""
    o = storage.options
    store = AmazonS3(bucket_name=storage.bucket, region=o.get("AWS_REGION", "us-east-1"),
                     access_key_id=o.get("AWS_ACCESS_KEY_ID"), secret_access_key=o.get("AWS_SECRET_ACCESS_KEY"),
                     session_token=o.get("AWS_SESSION_TOKEN"), endpoint=o.get("AWS_ENDPOINT_URL"),
                     allow_http=is_true(o.get("AWS_ALLOW_HTTP")))
    ctx.register_object_store("s3://", store, storage.bucket)


def attach_store(ctx: SessionContext, layout: WorkspaceLayout) -> None:
    """Give a second context the object store of the workspace (its views read the same files); a folder: nothing."""
    if isinstance(layout.storage, ObjectStorage):
        register_store(ctx, layout.storage)


def arrow_schema(table: DeltaTable) -> pa.Schema:
    """The table's schema as a pyarrow schema (deltalake returns an arro3 one)."""
    return pa.schema(table.schema().to_arrow())


def register_delta(ctx: SessionContext, name: str, table: DeltaTable, layout: WorkspaceLayout,
                   registered: set[str] | None = None) -> None:
    """Register ``table`` (at the version it was loaded at) as ``name`` on ``ctx``.

    ``registered`` (the buckets whose store ``ctx`` already has) avoids registering a store once per table.
    """
    if layout.is_local:
        ctx.register_table(name, table)
        return
    storage = layout.storage
    assert isinstance(storage, ObjectStorage)
    if registered is None or storage.bucket not in registered:
        register_store(ctx, storage)
        if registered is not None:
            registered.add(storage.bucket)
    schema = arrow_schema(table)
    files = table.file_uris()
    if not files:
        ctx.register_view(name, ctx.from_arrow(schema.empty_table()))
        return
    df = None
    for uri in files:
        part = ctx.read_parquet(uri, schema=schema)
        df = part if df is None else df.union(part)
    ctx.register_view(name, df)
