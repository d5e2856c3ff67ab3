"""datafusion_engine: the workspace store on Delta (one writer) and read-only DataFusion SQL over it."""

from datafusion_engine.errors import QueryError, StoreError
from datafusion_engine.schemas import TABLE_SCHEMAS, RunRow, schema_from_struct
from datafusion_engine.session import WorkspaceSession
from datafusion_engine.store import WorkspaceStore
from datafusion_engine.workspace import Workspace

__all__ = ["TABLE_SCHEMAS", "QueryError", "RunRow", "StoreError", "Workspace", "WorkspaceSession", "WorkspaceStore",
           "schema_from_struct"]
