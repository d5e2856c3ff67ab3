"""View kinds: the closed set of relational steps a semantic view is built from, as typed msgspec specs.

A view is a tree of nodes, each tagged by its kind (``ViewKind`` is the single authority; an unknown kind is refused
when a spec is decoded). Expressions inside a node are SQL fragments over the node's input columns; aggregates are
typed ``Measure``s whose function is a closed Literal, so the metric UDFs a view needs are read off the spec.
"""

from __future__ import annotations

import typing
from typing import Literal

import msgspec

from datafusion_engine.schemas import ColumnRole
from relspec.policy import MetricFunction, TableName
from semantics.errors import ViewError

ViewKind = Literal["scan", "project", "filter", "aggregate", "rank", "join", "union", "unnest"]
BuiltinAggregate = Literal["min", "max", "avg", "sum", "count", "stddev"]
AggregateFunction = BuiltinAggregate | MetricFunction
RankFunction = Literal["row_number", "rank"]
JoinHow = Literal["inner", "left", "semi"]

_SPEC = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}
_NODE = {**_SPEC, "tag_field": "kind"}


class Column(msgspec.Struct, **_SPEC):
    """An output column: ``name`` = SQL expression ``expr`` over the input (default: the input column ``name``)."""

    name: str
    expr: str | None = None


class Measure(msgspec.Struct, **_SPEC):
    """An aggregate output column: ``function(*args) FILTER (WHERE where) AS name``; args are SQL expressions."""

    name: str
    function: AggregateFunction
    args: tuple[str, ...]
    where: str | None = None


class SortKey(msgspec.Struct, **_SPEC):
    expr: str
    descending: bool = False


class Scan(msgspec.Struct, tag="scan", **_NODE):
    """Read a workspace table (under the policy's scan rules: allowed tables, completed runs only)."""

    table: TableName


class Project(msgspec.Struct, tag="project", **_NODE):
    input: Node
    columns: tuple[Column, ...]


class Filter(msgspec.Struct, tag="filter", **_NODE):
    input: Node
    predicate: str


class Aggregate(msgspec.Struct, tag="aggregate", **_NODE):
    input: Node
    group_by: tuple[str, ...]
    measures: tuple[Measure, ...]


class Rank(msgspec.Struct, tag="rank", **_NODE):
    """Add a rank column numbering rows within each ``partition_by`` group in ``order_by`` order."""

    input: Node
    name: str
    partition_by: tuple[str, ...]
    order_by: tuple[SortKey, ...]
    function: RankFunction = "row_number"


class Join(msgspec.Struct, tag="join", **_NODE):
    """Join on the columns that carry ``on`` roles on each side (inferred from typed column roles, never names)."""

    left: Node
    right: Node
    on: tuple[ColumnRole, ...]
    how: JoinHow = "inner"


class Union(msgspec.Struct, tag="union", **_NODE):
    """All rows of every input (same column names and types, in order)."""

    inputs: tuple[Node, ...]


class Unnest(msgspec.Struct, tag="unnest", **_NODE):
    """One row per entry of ``column`` (dropped): a map gives columns ``key`` and ``value``; a list gives
    ``value`` only (``key`` is None)."""

    input: Node
    column: str
    value: str
    key: str | None = None


Node = Scan | Project | Filter | Aggregate | Rank | Join | Union | Unnest


class ViewSpec(msgspec.Struct, **_SPEC):
    """A named view: what it answers and the tree of kinds that computes it."""

    name: str
    description: str
    root: Node


def decode_view(data: bytes | str) -> ViewSpec:
    """Decode a view spec from JSON; unknown kinds and fields are refused with msgspec's path-precise message."""
    try:
        return msgspec.json.decode(data, type=ViewSpec)
    except msgspec.ValidationError as exc:
        raise ViewError(f"invalid view spec: {exc} (kinds are {', '.join(typing.get_args(ViewKind))})") from None
