"""Reads of the `artifacts` table (the index of fitted-object blobs) and the ref counts derived from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from datafusion import Expr, SessionContext
from deltalake import DeltaTable

from datafusion_engine.object_tables import register_delta
from datafusion_engine.schemas import TABLE_SCHEMAS

if TYPE_CHECKING:
    from datafusion_engine.layout import WorkspaceLayout


def read_artifacts(layout: WorkspaceLayout, where: Expr | None = None) -> pa.Table:
    """Rows of the workspace's artifacts table matching the filter ``where`` (a DataFusion expression such as
    ``col("run_id") == lit(run_id)``); empty, with the table's schema, when the table does not exist yet.

    A fresh context reads the table's newest version: the store calls this between its own writes.
    """
    schema = TABLE_SCHEMAS["artifacts"]
    if not layout.has_table("artifacts"):
        return schema.empty_table()
    ctx = SessionContext()
    register_delta(ctx, "artifacts", DeltaTable(layout.table("artifacts"), storage_options=layout.delta_options),
                   layout)
    df = ctx.table("artifacts")
    table = (df if where is None else df.filter(where)).to_arrow_table()
    return table.select(schema.names).cast(schema)


def recounted(rows: pa.Table) -> pa.Table:
    """``rows`` (every row sharing their blobs) with ``ref_count`` = the number of rows per blob."""
    if rows.num_rows == 0:
        return rows
    counts = rows.group_by("blob_sha256").aggregate([("artifact_id", "count")])
    lookup = dict(zip(counts.column("blob_sha256").to_pylist(), counts.column("artifact_id_count").to_pylist(),
                      strict=True))
    values = pa.array([lookup[b] for b in rows.column("blob_sha256").to_pylist()], pa.int64())
    index = rows.schema.get_field_index("ref_count")
    return rows.set_column(index, rows.schema.field(index), values)


def blobs_of(rows: pa.Table) -> list[str]:
    return sorted(set(pc.unique(rows.column("blob_sha256")).to_pylist())) if rows.num_rows else []
