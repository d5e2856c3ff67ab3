"""DataFusion session over a workspace's Delta tables (native provider) and read-only SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from datafusion import AggregateUDF, DataFrame, SessionConfig, SessionContext, SQLOptions
from deltalake import DeltaTable

from datafusion_engine.errors import QueryError, StoreError
from datafusion_engine.layout import WorkspaceLayout
from datafusion_engine.metrics import metric_udafs
from datafusion_engine.upgrade import upgrade_table
from relspec.policy import ExecutionPolicy, MetricFunction

_READ_ONLY = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(False)


AsOf = int | dt.datetime | None


def _table_as_of(name: str, path: Path, as_of: AsOf) -> DeltaTable:
    """The table at ``as_of``; read at its newest version, a table written by an older nirdag is upgraded first."""
    table = DeltaTable(path)
    if as_of is None:
        if upgrade_table(name, table, path.parent):
            table = DeltaTable(path)
        return table
    try:
        table.load_as_version(as_of)
    except Exception as exc:  # deltalake raises plain errors for versions/timestamps it does not have
        raise StoreError(f"table {name!r} has no version as of {as_of}: {' '.join(str(exc).split())}") from None
    return table


def _config(policy: ExecutionPolicy) -> SessionConfig:
    """DataFusion's configuration from the policy: the join strategy is the optimizer's hash-join preference.

    File scans are not split into byte ranges: each Delta data file is read by one partition, so the scan metrics'
    "files opened" counts files (split files counted once per range); parallelism comes from the files (every run
    merges its own). On 1M rows in one file this cost nothing measurable on 2 cores.
    """
    prefer_hash = "true" if policy.join_strategy == "hash" else "false"
    return (SessionConfig().set("datafusion.optimizer.prefer_hash_join", prefer_hash)
            .set("datafusion.optimizer.repartition_file_scans", "false"))


class WorkspaceSession:
    """A DataFusion SessionContext with every written table of the workspace registered by name.

    ``as_of`` reads every table as of a Delta version (int) or a point in time (datetime): time travel.
    ``policy`` (default: the default ExecutionPolicy) decides which metric functions are registered (exactly its
    ``udf_requirements``) and the join strategy. ``versions`` holds the Delta version each table is read at;
    ``views`` the views registered on this session by name (the semantic layer compiles and fills them).
    Open one through :meth:`datafusion_engine.Workspace.session`, which reuses it while it is current.
    """

    def __init__(self, layout: WorkspaceLayout, *, as_of: AsOf = None, policy: ExecutionPolicy | None = None):
        if not layout.root.is_dir():
            raise StoreError(f"workspace {layout.root} does not exist; run a pipeline into it first")
        self.layout = layout
        self.root = layout.root
        self.as_of = as_of
        self.policy = policy if policy is not None else ExecutionPolicy()
        self.ctx = SessionContext(_config(self.policy))
        self.functions: dict[MetricFunction, AggregateUDF] = {}
        for name, function in metric_udafs().items():
            if name in self.policy.udf_requirements:
                self.ctx.register_udaf(function)
                self.functions[name] = function
        self.tables = layout.existing_tables()
        self.delta: dict[str, DeltaTable] = {}
        for name, path in self.tables.items():
            self.delta[name] = _table_as_of(name, path, as_of)
            self.ctx.register_table(name, self.delta[name])
        self.versions: dict[str, int] = {name: table.version() for name, table in self.delta.items()}
        self.views: dict[str, object] = {}

    def is_current(self) -> bool:
        """True while no table of the workspace was created or committed to since this session opened (always
        False for a time-travel session, which is never shared)."""
        return self.as_of is None and self.layout.latest_versions() == self.versions

    def query(self, sql: str, **params: object) -> pa.Table:
        """Run one of nirdag's own read-only queries: ``sql`` is constant text naming its values as ``$name``
        placeholders, bound from ``params`` by DataFusion (values never enter the SQL text)."""
        try:
            df = self.ctx.sql_with_options(sql, _READ_ONLY, param_values=params)
            return plain_strings(df.to_arrow_table())
        except Exception as exc:  # DataFusion raises plain Exceptions for planning and execution errors
            raise QueryError(_one_line(exc)) from None

    def dataframe(self, query: str) -> DataFrame:
        """Plan a read-only query; DDL, DML and statements are refused with a one-line QueryError."""
        try:
            return self.ctx.sql_with_options(query, _READ_ONLY)
        except Exception as exc:  # DataFusion raises plain Exceptions for planning errors
            raise QueryError(_one_line(exc)) from None

    def sql(self, query: str) -> pa.Table:
        """Run a read-only query and return the result as a pyarrow Table (string views as plain strings)."""
        df = self.dataframe(query)
        try:
            table = df.to_arrow_table()
        except Exception as exc:
            raise QueryError(_one_line(exc)) from None
        return plain_strings(table)

    def register_view(self, name: str, df: DataFrame) -> None:
        self.ctx.register_view(name, df)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def plain_strings(table: pa.Table) -> pa.Table:
    """Cast string_view columns to string so results print, serialise and compare like ordinary Arrow."""
    fields = [pa.field(f.name, pa.string(), f.nullable) if f.type == pa.string_view() else f for f in table.schema]
    return table.cast(pa.schema(fields))
