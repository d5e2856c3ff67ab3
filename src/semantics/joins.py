"""Join inference from typed column roles: each role a join names must be carried by exactly one column per side."""

from __future__ import annotations

from typing import Literal

import msgspec
import pyarrow as pa

from datafusion_engine.schemas import ColumnRole
from semantics.errors import JoinInferenceError

JoinConfidence = Literal["exact", "coerced"]  # exact: key types equal; coerced: DataFusion casts one side
_ARTIFACT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


class RoleCandidates(msgspec.Struct, **_ARTIFACT):
    """The columns carrying one role on each side of a join."""

    role: ColumnRole
    left: tuple[str, ...]
    right: tuple[str, ...]


class JoinDecision(msgspec.Struct, **_ARTIFACT):
    """An inferred join: the roles asked for, the key columns found, how sure, and what was considered."""

    view: str
    how: str
    roles: tuple[ColumnRole, ...]
    left_keys: tuple[str, ...]
    right_keys: tuple[str, ...]
    confidence: JoinConfidence
    candidates: tuple[RoleCandidates, ...]
    reason: str


def _carriers(roles: dict[str, ColumnRole], role: ColumnRole) -> tuple[str, ...]:
    return tuple(sorted(name for name, r in roles.items() if r == role))


def _describe(roles: dict[str, ColumnRole]) -> str:
    return ", ".join(f"{name} ({role})" for name, role in sorted(roles.items())) or "no columns with a role"


def infer_join(view: str, on: tuple[ColumnRole, ...], how: str, left: tuple[dict[str, ColumnRole], pa.Schema],
               right: tuple[dict[str, ColumnRole], pa.Schema]) -> JoinDecision:
    """The key columns for joining on roles ``on``; raises JoinInferenceError when a role has 0 or 2+ carriers."""
    (left_roles, left_schema), (right_roles, right_schema) = left, right
    if not on:
        raise JoinInferenceError(f"view {view!r}: a join must name at least one column role to join on")
    candidates = tuple(RoleCandidates(role=r, left=_carriers(left_roles, r), right=_carriers(right_roles, r))
                       for r in on)
    problems = []
    for c in candidates:
        for side, found, roles in (("left", c.left, left_roles), ("right", c.right, right_roles)):
            if not found:
                problems.append(f"no column with role {c.role!r} on the {side} side (it has: {_describe(roles)})")
            elif len(found) > 1:
                problems.append(f"role {c.role!r} is ambiguous on the {side} side: candidates {', '.join(found)}")
    if problems:
        raise JoinInferenceError(f"view {view!r}: cannot infer the join on {', '.join(on)}: " + "; ".join(problems))
    left_keys = tuple(c.left[0] for c in candidates)
    right_keys = tuple(c.right[0] for c in candidates)
    same = all(_plain(left_schema.field(a).type) == _plain(right_schema.field(b).type)
               for a, b in zip(left_keys, right_keys, strict=True))
    pairs = ", ".join(f"{a} = {b} ({c.role})" for a, b, c in zip(left_keys, right_keys, candidates, strict=True))
    return JoinDecision(
        view=view, how=how, roles=on, left_keys=left_keys, right_keys=right_keys,
        confidence="exact" if same else "coerced", candidates=candidates,
        reason=f"each role has exactly one column on each side: {pairs}",
    )


def _plain(arrow_type: pa.DataType) -> pa.DataType:
    """String views and strings compare as the same key type."""
    return pa.string() if arrow_type in (pa.string_view(), pa.large_string()) else arrow_type
