"""The node cache as a Hamilton lifecycle adapter: tagged nodes are served from the workspace cache or computed.

The driver factory tags every cacheable node with its kind and key (``cache_tags``); result nodes carry no tags and
always run. Values cross the disk through a closed codec: a numpy array, or a ``FoldSweep`` record of arrays and
scalars. Nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hamilton.lifecycle import NodeExecutionMethod

from datafusion_engine.cache_store import CacheStore, Entry, Scalar
from datafusion_engine.errors import CacheError
from datafusion_engine.schemas import CacheStatus
from nirs_modelling.results import FoldSweep
from relspec.hashing import short
from relspec.policy import CachedNodeKind

KIND_TAG = "nirdag.cache_kind"
KEY_TAG = "nirdag.cache_key"

_ARRAY = "ndarray"
_RECORDS: dict[str, type] = {"FoldSweep": FoldSweep}  # the only record types an entry may hold
_SCALARS = (str, int, float, bool, type(None))


def cache_tags(kind: CachedNodeKind, key: str) -> dict[str, str]:
    """The tags that make a generated node cacheable under ``key``."""
    return {KIND_TAG: kind, KEY_TAG: key}


def _split(value: Any, node: str) -> tuple[str, dict[str, Scalar], dict[str, np.ndarray]]:
    """A value as (type name, scalar fields, array fields); a CacheError for anything the codec does not know."""
    if isinstance(value, np.ndarray):
        return _ARRAY, {}, {"value": value}
    name = type(value).__name__
    if _RECORDS.get(name) is not type(value):
        raise CacheError(f"node {node!r} returned a {type(value).__qualname__}, which the cache cannot store "
                         f"(it stores numpy arrays and {sorted(_RECORDS)} records)")
    scalars, arrays = {}, {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if isinstance(item, np.ndarray):
            arrays[field.name] = item
        elif isinstance(item, _SCALARS):
            scalars[field.name] = item
        else:
            raise CacheError(f"field {field.name!r} of node {node!r} ({name}) is a {type(item).__qualname__}; a "
                             "cached record holds only numpy arrays and scalars")
    return name, scalars, arrays


def _join(entry: Entry) -> Any | None:
    """The value of an entry, or None when the entry does not match today's record types (treated as a miss)."""
    if entry.value_type == _ARRAY:
        return entry.arrays.get("value") if set(entry.arrays) == {"value"} and not entry.scalars else None
    record = _RECORDS.get(entry.value_type)
    if record is None:
        return None
    names = {f.name for f in dataclasses.fields(record)}
    if names != set(entry.scalars) | set(entry.arrays) or set(entry.scalars) & set(entry.arrays):
        return None
    return record(**entry.scalars, **entry.arrays)


@dataclass(frozen=True)
class CacheOutcome:
    status: CacheStatus
    key: str  # display form (8 characters)


class NodeCache(NodeExecutionMethod):
    """Serves nodes whose tagged kind is in ``kinds`` from ``store``; computes and stores them on a miss."""

    def __init__(self, store: CacheStore, kinds: Collection[CachedNodeKind]):
        self.store = store
        self.kinds = frozenset(kinds)
        self._outcomes: dict[str, CacheOutcome] = {}
        self._lock = threading.Lock()

    def outcome(self, node_name: str) -> CacheOutcome | None:
        """Whether the last execution of ``node_name`` was a hit or a miss (None: not served by the cache)."""
        with self._lock:
            return self._outcomes.get(node_name)

    @property
    def outcomes(self) -> Mapping[str, CacheOutcome]:
        with self._lock:
            return dict(self._outcomes)

    def _record(self, node_name: str, status: CacheStatus, key: str) -> None:
        with self._lock:
            self._outcomes[node_name] = CacheOutcome(status, short(key))

    def run_to_execute_node(self, *, node_name: str, node_tags: dict[str, Any], node_callable: Any,
                            node_kwargs: dict[str, Any], **_: Any) -> Any:
        kind, key = node_tags.get(KIND_TAG), node_tags.get(KEY_TAG)
        if kind not in self.kinds or key is None:
            return node_callable(**node_kwargs)
        entry = self.store.get(kind, key)
        value = _join(entry) if entry is not None else None
        if value is not None:
            self._record(node_name, "hit", key)
            return value
        result = node_callable(**node_kwargs)
        value_type, scalars, arrays = _split(result, node_name)
        self.store.put(kind, key, node=node_name, value_type=value_type, scalars=scalars, arrays=arrays)
        self._record(node_name, "miss", key)
        return result


def cache_status(node_tags: Mapping[str, Any], cache: NodeCache | None, node_name: str) -> CacheOutcome | None:
    """The cache outcome of a node for the events table: hit/miss from the cache, else ``off`` or ``uncached``."""
    served = cache.outcome(node_name) if cache is not None else None
    if served is not None:
        return served
    key = node_tags.get(KEY_TAG)
    if key is None:
        return None
    serving = cache is not None and node_tags.get(KIND_TAG) in cache.kinds  # it failed before being stored
    return CacheOutcome("miss" if serving else "off", short(key))
