"""Limits of the user's read-only SQL, and the cheap scan of its text that enforces the size limits before
DataFusion parses it (a long flat statement crashes DataFusion's planner, and planning time grows quadratically).

The defaults, measured with DataFusion 55 on 2 cores (plan + execute a constant query): 1,000 binary operators
0.66 s (500: 0.16 s), 256 UNION ALL branches 0.04 s (1,000: 0.45 s); 20,000 operators or 10,000 branches crash the
process. DataFusion's parser itself refuses nesting deeper than 50. A hand-written analytical query uses tens of
each; a generated one with an IN list of 1,000 full 64-character ids is about 70,000 characters.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from datafusion_engine.errors import QueryError, QueryTooComplex

_Positive = Annotated[int, msgspec.Meta(ge=1)]
_Seconds = Annotated[float, msgspec.Meta(gt=0)]


class QueryLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How much one user query may be and do. ``None`` for ``timeout``, ``max_rows`` or ``max_bytes`` lifts that
    limit; the text limits always apply (beyond them DataFusion may crash the process)."""

    max_chars: _Positive = 100_000
    max_operators: _Positive = 1_000
    max_set_operations: _Positive = 256
    max_depth: _Positive = 40
    timeout: _Seconds | None = 60.0
    max_rows: _Positive | None = 1_000_000
    max_bytes: _Positive | None = 1 << 30


DEFAULT_LIMITS = QueryLimits()


def query_limits(*, timeout: float | None = DEFAULT_LIMITS.timeout, max_rows: int | None = DEFAULT_LIMITS.max_rows,
                 max_bytes: int | None = DEFAULT_LIMITS.max_bytes) -> QueryLimits:
    """The default limits with these per-query ones (``None`` lifts one), validated: a bad value is a one-line
    QueryTooComplex naming it."""
    try:
        return msgspec.convert({"timeout": timeout, "max_rows": max_rows, "max_bytes": max_bytes}, QueryLimits)
    except msgspec.ValidationError as exc:
        raise QueryError(f"bad query limit: {exc}") from None


# Removed before counting: '...' strings (with '' escapes), "..." identifiers, -- and /* */ comments.
_NOISE = re.compile(r"'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|--[^\n]*|/\*.*?(?:\*/|\Z)", re.DOTALL)
_OPERATOR = re.compile(r"<>|!=|<=|>=|\|\||[-+*/%=<>]|\b(?:AND|OR)\b", re.IGNORECASE)
_SET_OPERATION = re.compile(r"\b(?:UNION|INTERSECT|EXCEPT)\b", re.IGNORECASE)


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth = max(depth - 1, 0)
    return deepest


def check_text(query: str, limits: QueryLimits = DEFAULT_LIMITS) -> None:
    """Refuse a statement beyond the text limits with a one-line QueryTooComplex naming the limit; a cheap scan
    (linear in the text), run before DataFusion sees it."""
    if not isinstance(query, str):
        raise QueryTooComplex(f"a query is SQL text, not {type(query).__name__}")
    if len(query) > limits.max_chars:
        raise QueryTooComplex(f"query is {len(query):,} characters, over the limit of {limits.max_chars:,}; "
                              "split it into smaller queries")
    if "\x00" in query:
        raise QueryTooComplex("query holds a NUL character")
    code = _NOISE.sub(" ", query)
    counts = (("binary operators", len(_OPERATOR.findall(code)), limits.max_operators),
              ("UNION/INTERSECT/EXCEPT branches", len(_SET_OPERATION.findall(code)) + 1, limits.max_set_operations),
              ("levels of parentheses", _depth(code), limits.max_depth))
    for what, found, limit in counts:
        if found > limit:
            raise QueryTooComplex(f"query has {found:,} {what}, over the limit of {limit:,} (beyond it DataFusion's "
                                  "planner slows down quadratically and can crash); split it or aggregate in SQL")


SESSION_MEMORY_BYTES = 512 << 20
"""The memory pool of every DataFusion session (spilling to disk is off): a sort or join that needs more fails with
QueryOutOfMemory instead of taking gigabytes (the issue's ORDER BY over a cross join peaked at 2.2 GB)."""
