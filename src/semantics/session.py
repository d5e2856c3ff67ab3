"""A workspace session with the catalog views the execution policy names, compiled and registered."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from datafusion_engine import QueryError, Workspace, WorkspaceSession
from datafusion_engine.errors import NoResultsYet
from datafusion_engine.scan_metrics import ScanMetrics, execute_with_metrics, scan_metrics
from datafusion_engine.schemas import TABLE_SCHEMAS
from datafusion_engine.session import plain_strings
from datafusion_engine.sql_limits import DEFAULT_LIMITS, QueryLimits
from relspec.policy import ExecutionPolicy
from semantics.catalog import CATALOG
from semantics.compiler import CompiledView, check_policy, compile_view, plan_fingerprint, requirements
from semantics.errors import ViewError
from semantics.kinds import ViewSpec

_NOT_FOUND = re.compile(r"table '(?:\w+\.)*(\w+)' not found")


def _catalog_view(name: str) -> ViewSpec:
    for view in CATALOG:
        if view.name == name:
            return view
    raise ViewError(f"no catalog view {name!r}; views are {', '.join(v.name for v in CATALOG)}")


@dataclass(frozen=True)
class ViewSession:
    """Read-only SQL over a workspace's tables and its catalog views.

    A view is compiled (and registered on the session) the first time a query names it, so a query of one view
    or of the raw tables compiles none of the others; ``views`` (name -> CompiledView) compiles every view the
    session can have, for listings and the run's provenance.
    """

    session: WorkspaceSession

    @property
    def root(self) -> Path:
        return self.session.root

    @property
    def tables(self) -> dict[str, Path]:
        return self.session.tables

    @property
    def views(self) -> dict[str, CompiledView]:
        _ensure_views(self.session, _available(self.session))
        return dict(self.session.views)

    @property
    def view_names(self) -> list[str]:
        """The views this session can serve (their tables exist), compiled or not."""
        return _available(self.session)

    def _named_in(self, text: str) -> None:
        names = _available(self.session)
        if names:
            found = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text.lower()))
            _ensure_views(self.session, [n for n in names if n in found])

    def sql(self, query: str, *, limits: QueryLimits = DEFAULT_LIMITS, all_runs: bool = False) -> pa.Table:
        """Read-only SQL within ``limits``; tables of runs show completed runs only unless ``all_runs``. A table or
        view that does not exist is reported with the ones that do."""
        self._named_in(query)
        try:
            return self.session.sql(query, limits=limits, all_runs=all_runs)
        except QueryError as exc:
            raise self._explained(exc) from None

    def _explained(self, exc: QueryError) -> QueryError:
        """A "table not found" error with the tables and views that exist; NoResultsYet for a workspace table
        that no run has written yet."""
        found = _NOT_FOUND.search(str(exc))
        if found is None:
            return exc
        existing = f"tables: {', '.join(sorted(self.session.tables)) or 'none'}; views: " \
                   f"{', '.join(sorted(self.view_names)) or 'none'}"
        name = found.group(1)
        if name in TABLE_SCHEMAS and name not in self.session.tables:
            finished = "runs" in self.session.tables and self.session.query(
                "SELECT run_id FROM runs WHERE status = 'completed' LIMIT 1").num_rows > 0
            why = "no finished run wrote it" if finished else "no run has finished yet"
            return NoResultsYet(f"table {name!r} has not been written in {self.root} yet: {why}; {existing}")
        return QueryError(f"{exc}; {existing}")

    def query(self, sql: str, **params: object) -> pa.Table:
        """One of nirdag's own named queries, its values bound as ``$name`` parameters (see semantics.queries)."""
        self._named_in(sql)
        return self.session.query(sql, **params)

    def sql_with_metrics(self, query: str, *, limits: QueryLimits = DEFAULT_LIMITS,
                         all_runs: bool = False) -> tuple[pa.Table, ScanMetrics]:
        """Run a read-only query and measure what it scanned (files in the tables vs files opened, rows read).
        The text limits and the memory pool apply; the query is collected whole (no time or row limit)."""
        self._named_in(query)
        try:
            df = self.session.dataframe(query, limits=limits, all_runs=all_runs)
        except QueryError as exc:
            raise self._explained(exc) from None
        plan_text = df.optimized_logical_plan().display_indent()
        try:
            table, executed, seconds = execute_with_metrics(self.session.ctx, df)
        except Exception as exc:  # DataFusion raises plain Exceptions for execution errors
            raise QueryError(" ".join(str(exc).split())) from None
        read = {name: self.session.delta[name] for name in self.session.delta if f"TableScan: {name}" in plan_text}
        fingerprint = plan_fingerprint(plan_text, {name: t.version() for name, t in read.items()})
        metrics = scan_metrics(query, fingerprint, plan_text, executed, table.num_rows, seconds, read)
        return plain_strings(table), metrics


def open_session(workspace: Workspace, *, as_of: int | dt.datetime | None = None,
                 policy: ExecutionPolicy | None = None) -> ViewSession:
    """The workspace's session (optionally as of a Delta version or time) with the policy's catalog views registered.

    Without a policy the default ExecutionPolicy applies (every view, every metric function). A view the policy
    names but whose UDFs or tables it does not declare raises ViewPolicyError; a view whose tables have not been
    written yet is not registered. The workspace's shared session keeps its compiled views: they are compiled once
    per session, not once per query.
    """
    session = workspace.require().session(as_of=as_of, policy=policy)
    _available(session)  # a view the policy names but does not declare the needs of is refused here, not later
    return ViewSession(session=session)


def _available(session: WorkspaceSession) -> list[str]:
    """The policy's views whose tables the session has (each checked against the policy), in policy order."""
    names = []
    for name in session.policy.views:
        spec = _catalog_view(name)
        check_policy(spec, session.policy)
        tables, _functions = requirements(spec, session.policy)
        if all(t in session.tables for t in tables):
            names.append(name)
    return names


def _ensure_views(session: WorkspaceSession, names: list[str]) -> None:
    """Compile and register the views of ``names`` this session does not hold yet (once per session)."""
    for name in names:
        if name not in session.views:
            view = compile_view(_catalog_view(name), session)
            session.register_view(name, view.dataframe)
            session.views[name] = view


def view_columns(workspace: Workspace) -> list[tuple[ViewSpec, list[str]]]:
    """Each catalog view available in the workspace with its column names, in catalog order."""
    views = open_session(workspace).views
    return [(v, views[v.name].dataframe.schema().names) for v in CATALOG if v.name in views]
