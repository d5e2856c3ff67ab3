"""Compile a view spec (a tree of view kinds) to a DataFusion DataFrame, under the session's execution policy.

Each kind maps to one DataFrame API call. Column roles flow with the columns (scan -> project -> aggregate -> join),
so joins find their keys from roles. The compiled view carries the tables and UDFs it reads, its join decisions and
a fingerprint: sha256 of the optimised logical plan text and the Delta versions of the tables read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import msgspec
from datafusion import DataFrame, Expr, col
from datafusion import functions as f

from datafusion_engine import WorkspaceSession
from datafusion_engine.schemas import TABLE_ROLES, ColumnRole
from relspec.policy import ALL_METRICS, ExecutionPolicy, MetricFunction, TableName
from semantics.errors import ViewError, ViewPolicyError
from semantics.joins import JoinDecision, infer_join
from semantics.kinds import (
    Aggregate,
    BuiltinAggregate,
    Filter,
    Join,
    Measure,
    Node,
    Project,
    Rank,
    Scan,
    Union,
    Unnest,
    ViewSpec,
)

Roles = dict[str, ColumnRole]
_BUILTIN: dict[BuiltinAggregate, Callable[[Expr, Expr | None], Expr]] = {
    "min": lambda e, w: f.min(e, filter=w), "max": lambda e, w: f.max(e, filter=w),
    "avg": lambda e, w: f.avg(e, filter=w), "sum": lambda e, w: f.sum(e, filter=w),
    "count": lambda e, w: f.count(e, filter=w), "stddev": lambda e, w: f.stddev(e, filter=w),
}


@dataclass(frozen=True)
class CompiledView:
    """A view compiled against one session: its DataFrame and what it depends on.

    It holds its session: the Delta scans reach the SessionContext through a weak FFI reference, so a DataFrame
    whose context was dropped fails at execution ("TaskContextProvider went out of scope").
    """

    spec: ViewSpec
    session: WorkspaceSession
    dataframe: DataFrame
    tables: tuple[TableName, ...]
    functions: tuple[MetricFunction, ...]
    joins: tuple[JoinDecision, ...]
    versions: dict[str, int]

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def plan(self) -> str:
        """The optimised logical plan, as text (optimised on first use: a query of the view does not need it)."""
        return self.dataframe.optimized_logical_plan().display_indent()

    @cached_property
    def fingerprint(self) -> str:
        return plan_fingerprint(self.plan, self.versions)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Scan):
        return ()
    if isinstance(node, Join):
        return (node.left, node.right)
    if isinstance(node, Union):
        return node.inputs
    return (node.input,)


def _walk(node: Node) -> list[Node]:
    out = [node]
    for child in _children(node):
        out.extend(_walk(child))
    return out


def requirements(spec: ViewSpec, policy: ExecutionPolicy) -> tuple[tuple[TableName, ...], tuple[MetricFunction, ...]]:
    """The tables a view scans (with `runs` when completed-runs gating applies) and the metric UDFs it calls."""
    nodes = _walk(spec.root)
    tables: set[TableName] = {n.table for n in nodes if isinstance(n, Scan)}
    if policy.scan.completed_runs_only and any("run_id" in TABLE_ROLES[t].values() for t in tables):
        tables.add("runs")
    measures = [m for n in nodes if isinstance(n, Aggregate) for m in n.measures]
    functions = {m.function for m in measures if m.function in ALL_METRICS}
    return tuple(sorted(tables)), tuple(sorted(functions))


def check_policy(spec: ViewSpec, policy: ExecutionPolicy) -> None:
    """Refuse a view that depends on a UDF or table the execution policy does not declare."""
    tables, functions = requirements(spec, policy)
    missing = [u for u in functions if u not in policy.udf_requirements]
    if missing:
        raise ViewPolicyError(
            f"view {spec.name!r} needs the SQL function(s) {', '.join(missing)}, which the execution policy does not "
            f"declare (udf_requirements: {', '.join(policy.udf_requirements) or 'none'})")
    outside = [t for t in tables if t not in policy.scan.tables]
    if outside:
        raise ViewPolicyError(
            f"view {spec.name!r} scans table(s) {', '.join(outside)}, which the execution policy's scan policy does "
            f"not allow (scan.tables: {', '.join(policy.scan.tables) or 'none'})")


class _Compiler:
    def __init__(self, spec: ViewSpec, session: WorkspaceSession):
        self.spec = spec
        self.session = session
        self.joins: list[JoinDecision] = []

    def error(self, text: str) -> ViewError:
        return ViewError(f"view {self.spec.name!r}: {text}")

    def expr(self, df: DataFrame, text: str) -> Expr:
        try:
            return df.parse_sql_expr(text)
        except Exception as exc:  # DataFusion raises plain Exceptions for parse/plan errors
            raise self.error(f"bad expression {text!r}: {' '.join(str(exc).split())}") from None

    def node(self, node: Node) -> tuple[DataFrame, Roles]:
        handlers = {Scan: self.scan, Project: self.project, Filter: self.filter, Aggregate: self.aggregate,
                    Rank: self.rank, Join: self.join, Union: self.union, Unnest: self.unnest}
        try:
            return handlers[type(node)](node)
        except ViewError:
            raise
        except Exception as exc:  # planning errors of DataFusion become a typed error naming the view and kind
            kind = type(node).__struct_config__.tag
            raise self.error(f"{kind} step failed: {' '.join(str(exc).split())}") from None

    def scan(self, node: Scan) -> tuple[DataFrame, Roles]:
        if node.table not in self.session.tables:
            raise self.error(f"table {node.table!r} has not been written in {self.session.root} yet")
        df = self.session.ctx.table(node.table)
        roles = dict(TABLE_ROLES[node.table])
        if node.table != "runs" and "run_id" in roles.values() and self.session.policy.scan.completed_runs_only:
            completed = self.session.ctx.table("runs").filter(col("status") == "completed").select(col("run_id"))
            df = df.join(completed, on="run_id", how="semi")
        return df, roles

    def project(self, node: Project) -> tuple[DataFrame, Roles]:
        df, roles = self.node(node.input)
        exprs, out = [], {}
        for c in node.columns:
            source = c.expr if c.expr is not None else c.name
            if c.expr is None:  # a plain column keeps its table qualifier
                exprs.append(col(c.name))
            else:
                exprs.append(self.expr(df, c.expr).alias(c.name))
            if source in roles:  # a plain column reference keeps its role under its new name
                out[c.name] = roles[source]
        return df.select(*exprs), out

    def filter(self, node: Filter) -> tuple[DataFrame, Roles]:
        df, roles = self.node(node.input)
        return df.filter(self.expr(df, node.predicate)), roles

    def measure(self, df: DataFrame, m: Measure) -> Expr:
        args = [self.expr(df, a) for a in m.args]
        where = self.expr(df, m.where) if m.where is not None else None
        if m.function in _BUILTIN:
            if len(args) != 1:
                raise self.error(f"measure {m.name!r}: {m.function} takes one argument, got {len(args)}")
            return _BUILTIN[m.function](args[0], where).alias(m.name)
        function = self.session.functions.get(m.function)
        if function is None:
            raise ViewPolicyError(f"view {self.spec.name!r} calls {m.function}(), which this session did not "
                                  f"register (udf_requirements: {', '.join(self.session.policy.udf_requirements)})")
        call = function(*args)
        return (call.filter(where).build() if where is not None else call).alias(m.name)

    def aggregate(self, node: Aggregate) -> tuple[DataFrame, Roles]:
        df, roles = self.node(node.input)
        measures = [self.measure(df, m) for m in node.measures]
        out = df.aggregate([col(g) for g in node.group_by], measures)
        return out, {g: roles[g] for g in node.group_by if g in roles}

    def rank(self, node: Rank) -> tuple[DataFrame, Roles]:
        df, roles = self.node(node.input)
        order = [self.expr(df, k.expr).sort(ascending=not k.descending) for k in node.order_by]
        window = f.row_number if node.function == "row_number" else f.rank
        ranked = window(partition_by=[col(p) for p in node.partition_by], order_by=order)
        return df.with_column(node.name, ranked), roles

    def join(self, node: Join) -> tuple[DataFrame, Roles]:
        left, left_roles = self.node(node.left)
        right, right_roles = self.node(node.right)
        decision = infer_join(self.spec.name, node.on, node.how, (left_roles, left.schema()),
                              (right_roles, right.schema()))
        self.joins.append(decision)
        # Right keys get private names, so the joined schema never holds a name twice (aliased columns lose their
        # table qualifier, and DataFusion cannot coalesce unqualified duplicate keys).
        private = [f"__right_{k}" for k in decision.right_keys]
        for key, name in zip(decision.right_keys, private, strict=True):
            right = right.with_column_renamed(key, name)
        if node.how == "semi":
            return left.join(right, left_on=list(decision.left_keys), right_on=private, how="semi"), left_roles
        clash = sorted(set(left.schema().names) & set(right.schema().names))
        if clash:
            raise self.error(f"join would hold two columns named {', '.join(clash)}; project them apart first")
        joined = left.join(right, left_on=list(decision.left_keys), right_on=private, how=node.how).drop(*private)
        kept = {k: r for k, r in right_roles.items() if k not in decision.right_keys}
        return joined, {**left_roles, **kept}

    def union(self, node: Union) -> tuple[DataFrame, Roles]:
        if not node.inputs:
            raise self.error("a union needs at least one input")
        parts = [self.node(n) for n in node.inputs]
        df, roles = parts[0]
        for other, other_roles in parts[1:]:
            df = df.union(other)
            roles = {k: r for k, r in roles.items() if other_roles.get(k) == r}
        return df, roles


    def unnest(self, node: Unnest) -> tuple[DataFrame, Roles]:
        df, roles = self.node(node.input)
        if node.column not in df.schema().names:
            raise self.error(f"unnest: no column {node.column!r} (columns: {', '.join(df.schema().names)})")
        entries = "__entries"
        rest = [col(c) for c in df.schema().names if c != node.column]
        if node.key is None:  # a list column: one row per element
            exploded = df.select(*rest, col(node.column).alias(node.value)).unnest_columns(node.value)
            return exploded, {k: r for k, r in roles.items() if k != node.column}
        exploded = df.select(*rest, f.map_entries(col(node.column)).alias(entries)).unnest_columns(entries)
        out = exploded.select(*rest, f.get_field(col(entries), "key").alias(node.key),
                              f.get_field(col(entries), "value").alias(node.value))
        return out, {k: r for k, r in roles.items() if k != node.column}


def plan_fingerprint(plan_text: str, versions: dict[str, int]) -> str:
    """sha256 of the optimised logical plan text and the Delta versions read (scan lines carry no version)."""
    payload = msgspec.json.encode({"plan": plan_text, "versions": versions}, order="sorted")
    return hashlib.sha256(payload).hexdigest()


def compile_view(spec: ViewSpec, session: WorkspaceSession) -> CompiledView:
    """Compile ``spec`` against ``session`` after checking it against the session's execution policy."""
    check_policy(spec, session.policy)
    tables, functions = requirements(spec, session.policy)
    compiler = _Compiler(spec, session)
    df, _roles = compiler.node(spec.root)
    return CompiledView(spec=spec, session=session, dataframe=df, tables=tables, functions=functions,
                        joins=tuple(compiler.joins), versions={t: session.versions[t] for t in tables})

