"""The tags every generated node carries: what kind of node it is and the identity of the step it computes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from datafusion_engine.schemas import NodeKind

NODE_KIND_TAG = "nirdag.node_kind"
STEP_TAG = "nirdag.step"
_KINDS = frozenset(get_args(NodeKind))


def node_tags(kind: NodeKind, step: str | None = None) -> dict[str, str]:
    """The tags of a node of ``kind`` computing ``step`` (a full identity: hoisted node id, group id)."""
    return {NODE_KIND_TAG: kind, **({STEP_TAG: step} if step is not None else {})}


def kind_of(tags: Mapping[str, Any]) -> NodeKind:
    """The kind a node was tagged with; ``result`` for a node built without the tag (an adapter's own)."""
    kind = tags.get(NODE_KIND_TAG)
    return kind if kind in _KINDS else "result"
