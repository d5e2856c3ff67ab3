"""DataFusion session over a workspace's Delta tables (native provider) and read-only SQL."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
from datafusion import AggregateUDF, DataFrame, RuntimeEnvBuilder, SessionConfig, SessionContext, SQLOptions, col
from deltalake import DeltaTable

from datafusion_engine.bounded import one_line, run_bounded
from datafusion_engine.errors import NotAWorkspace, QueryError, StoreError
from datafusion_engine.layout import TABLES_DIR, WorkspaceLayout
from datafusion_engine.metrics import metric_udafs
from datafusion_engine.object_tables import attach_store, register_delta
from datafusion_engine.schemas import TABLE_SCHEMAS
from datafusion_engine.sql_limits import DEFAULT_LIMITS, SESSION_MEMORY_BYTES, QueryLimits, check_text
from datafusion_engine.upgrade import upgrade_table
from relspec.policy import ExecutionPolicy, MetricFunction, SessionSettings

_READ_ONLY = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(False)


AsOf = int | dt.datetime | None


def _table_as_of(name: str, layout: WorkspaceLayout, as_of: AsOf) -> DeltaTable | None:
    """The table at ``as_of``; read at its newest version, a table written by an older nirdag is upgraded first.
    None when ``as_of`` is a time before the table was created (deltalake would give version 0)."""
    table = DeltaTable(layout.table(name), storage_options=layout.delta_options)
    if as_of is None:
        if upgrade_table(name, table, layout):
            table = DeltaTable(layout.table(name), storage_options=layout.delta_options)
        return table
    try:
        table.load_as_version(as_of)
    except Exception as exc:  # deltalake raises plain errors for versions/timestamps it does not have
        raise StoreError(f"table {name!r} has no version as of {as_of}: {' '.join(str(exc).split())}") from None
    if isinstance(as_of, dt.datetime) and table.version() == 0 and _created_at(table) > _aware(as_of):
        return None
    return table


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _created_at(table: DeltaTable) -> dt.datetime:
    """The time of a table's first commit (version 0)."""
    first = min(table.history(), key=lambda commit: commit["version"])
    return dt.datetime.fromtimestamp(first["timestamp"] / 1000, tz=dt.UTC)


def _runtime() -> RuntimeEnvBuilder:
    """A bounded memory pool and no disk manager: a plan that does not fit fails (QueryOutOfMemory) rather than
    taking gigabytes of memory or of temporary files."""
    return RuntimeEnvBuilder().with_fair_spill_pool(SESSION_MEMORY_BYTES).with_disk_manager_disabled()


def run_scoped(name: str) -> bool:
    """Whether a table's rows belong to a run (it has a run id column and is not ``runs`` itself): readers see its
    rows of completed runs only unless they ask for every run (the rule of the views' scan policy)."""
    return name != "runs" and "run_id" in TABLE_SCHEMAS[name].names


def _config(policy: ExecutionPolicy) -> SessionConfig:
    """DataFusion's configuration from the policy: the join strategy is the optimizer's hash-join preference, the
    target partitions and batch size are the policy's session settings.

    File scans are not split into byte ranges: each Delta data file is read by one partition, so the scan metrics'
    "files opened" counts files (split files counted once per range); parallelism comes from the files (every run
    merges its own). On 1M rows in one file this cost nothing measurable on 2 cores.
    """
    prefer_hash = "true" if policy.join_strategy == "hash" else "false"
    return (SessionConfig().set("datafusion.optimizer.prefer_hash_join", prefer_hash)
            .set("datafusion.optimizer.repartition_file_scans", "false")
            .with_target_partitions(target_partitions(policy.session))
            .with_batch_size(policy.session.batch_size))


def target_partitions(settings: SessionSettings) -> int:
    """The partitions a session with ``settings`` uses: the asked number, else one per CPU (DataFusion's default)."""
    return settings.target_partitions or os.cpu_count() or 1


class WorkspaceSession:
    """A DataFusion SessionContext with every written table of the workspace registered by name.

    ``as_of`` reads every table as of a Delta version (int) or a point in time (datetime): time travel.
    ``policy`` (default: the default ExecutionPolicy) decides which metric functions are registered (exactly its
    ``udf_requirements``) and the join strategy. ``versions`` holds the Delta version each table is read at;
    ``views`` the views registered on this session by name (the semantic layer compiles and fills them).
    Open one through :meth:`datafusion_engine.Workspace.session`, which reuses it while it is current.
    """

    def __init__(self, layout: WorkspaceLayout, *, as_of: AsOf = None, policy: ExecutionPolicy | None = None):
        if layout.is_local:
            root = Path(layout.root)
            if not root.is_dir():
                raise StoreError(f"workspace {layout.root} does not exist; run a pipeline into it first")
            if not (root / TABLES_DIR).is_dir() and any(root.iterdir()):  # an empty folder: nothing run yet
                raise NotAWorkspace(f"{layout.root} is not a nirdag workspace (it has no {TABLES_DIR}/ "
                                    "folder); name the folder a run wrote into, or run a pipeline into a new one")
        self.layout = layout
        self.root = layout.root
        self.as_of = as_of
        self.policy = policy if policy is not None else ExecutionPolicy()
        self.ctx = SessionContext(_config(self.policy), _runtime())
        self.functions: dict[MetricFunction, AggregateUDF] = {}
        for name, function in metric_udafs().items():
            if name in self.policy.udf_requirements:
                self.ctx.register_udaf(function)
                self.functions[name] = function
        self.delta: dict[str, DeltaTable] = {}
        existing = layout.existing_tables()
        stores: set[str] = set()
        for name in existing:
            if (table := _table_as_of(name, layout, as_of)) is not None:
                self.delta[name] = table
                register_delta(self.ctx, name, table, layout, stores)
        if as_of is not None and existing and not self.delta:
            raise StoreError(f"workspace {self.root} had no tables as of {as_of}: its first commit is later")
        self.tables = {name: url for name, url in existing.items() if name in self.delta}
        self.versions: dict[str, int] = {name: table.version() for name, table in self.delta.items()}
        self.views: dict[str, object] = {}
        self._frames: dict[str, DataFrame] = {}
        self._completed: SessionContext | None = None

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
            raise QueryError(one_line(exc)) from None

    def dataframe(self, query: str, *, limits: QueryLimits = DEFAULT_LIMITS, all_runs: bool = False) -> DataFrame:
        """Plan the user's read-only query: its text within ``limits`` (QueryTooComplex), DDL, DML and statements
        refused with a one-line QueryError. Tables of runs show completed runs only unless ``all_runs``."""
        check_text(query, limits)
        return _plan(self._user_context(all_runs), query)

    def sql(self, query: str, *, limits: QueryLimits = DEFAULT_LIMITS, all_runs: bool = False) -> pa.Table:
        """Run the user's read-only query within ``limits`` (text size, time, result rows and bytes: each passed
        limit is a one-line QueryError subclass) and return a pyarrow Table (string views as plain strings).
        Tables of runs show completed runs only, as the views do, unless ``all_runs``."""
        check_text(query, limits)
        ctx = self._user_context(all_runs)
        return plain_strings(run_bounded(lambda: _plan(ctx, query), limits))

    def register_view(self, name: str, df: DataFrame) -> None:
        self.ctx.register_view(name, df)
        self._frames[name] = df
        if self._completed is not None:
            self._completed.register_view(name, df)

    def _user_context(self, all_runs: bool) -> SessionContext:
        """The raw context when ``all_runs`` or the policy reads every run, else the completed-runs one."""
        return self.ctx if all_runs or not self.policy.scan.completed_runs_only else self._completed_runs()

    def _completed_runs(self) -> SessionContext:
        """The context of user SQL: every table of runs is a view of its rows of completed runs (the table
        semi-joined with the completed run ids), other tables and the catalog views as they are."""
        if self._completed is None:
            ctx = SessionContext(_config(self.policy), _runtime())
            attach_store(ctx, self.layout)
            for function in self.functions.values():
                ctx.register_udaf(function)
            completed = None
            if "runs" in self.delta:
                completed = self.ctx.table("runs").filter(col("status") == "completed").select(col("run_id"))
            for name in self.delta:
                df = self.ctx.table(name)
                if run_scoped(name) and completed is not None:
                    df = df.join(completed, on="run_id", how="semi")
                ctx.register_view(name, df)
            for name, df in self._frames.items():
                ctx.register_view(name, df)
            self._completed = ctx
        return self._completed


def _plan(ctx: SessionContext, query: str) -> DataFrame:
    try:
        return ctx.sql_with_options(query, _READ_ONLY)
    except Exception as exc:  # DataFusion raises plain Exceptions for planning errors
        raise QueryError(one_line(exc)) from None


def plain_strings(table: pa.Table) -> pa.Table:
    """Cast string_view columns to string so results print, serialise and compare like ordinary Arrow."""
    fields = [pa.field(f.name, pa.string(), f.nullable) if f.type == pa.string_view() else f for f in table.schema]
    return table.cast(pa.schema(fields))
