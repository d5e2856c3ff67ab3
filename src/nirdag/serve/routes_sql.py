"""``POST /sql``: one read-only statement over the workspace's tables and views, through the same gate as ``nirdag
query`` (DDL, DML and other statements refused, the text bounded) within the server's row and time limits."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from nirdag.serve.encode import MEDIA_TYPES, negotiate, table_response
from nirdag.serve.state import ServerState

router = APIRouter(tags=["sql"])


class SqlRequest(BaseModel):
    """The statement to answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sql: str = Field(description="One read-only SQL statement, e.g. SELECT * FROM v_ranked_chains LIMIT 5.")


_ANSWERS = {200: {"description": "the result rows", "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "text/csv": {"schema": {"type": "string"}},
    MEDIA_TYPES["arrow"]: {"schema": {"type": "string", "format": "binary"}}}}}


@router.post("/sql", summary="Read-only SQL over the workspace", response_class=Response, responses=_ANSWERS)
def sql(request: Request, body: SqlRequest) -> Response:
    """The result as JSON records (exactly as ``nirdag query --format json`` prints them), CSV or Arrow IPC, by
    ``Accept``. A refused statement, a result over the row limit or a query over the time limit is a 400 with
    its one-line reason. Result tables show completed runs only, as ``nirdag query`` does by default."""
    state: ServerState = request.app.state.nirdag
    encoding = negotiate(request.headers.get("accept"))
    limits = state.config
    table = state.workspace.sql(body.sql, timeout=limits.sql_timeout, max_rows=limits.sql_max_rows)
    return table_response(table, encoding, filename="query")
