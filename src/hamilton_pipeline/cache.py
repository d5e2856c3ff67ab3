"""The node cache as a Hamilton lifecycle adapter: tagged nodes are served from the workspace cache or computed.

The driver factory tags every cacheable node with its kind and key (``cache_tags``); result nodes carry no tags and
always run. Values cross the disk through a closed codec: a numpy array, or a ``FoldSweep`` record of arrays and
scalars (its in-memory fitted objects are not stored: a hit comes back without them), with its ``FoldRecord`` of
arrays stored as ``record.<field>`` arrays. Nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hamilton.lifecycle import NodeExecutionMethod

from datafusion_engine.cache_store import CacheStore, Entry, Scalar
from datafusion_engine.errors import CacheError
from datafusion_engine.schemas import CacheStatus
from nirs_modelling.results import FoldRecord, FoldSweep
from relspec.hashing import short
from relspec.policy import AdmissionCosts, CacheAdmission, CachedNodeKind

KIND_TAG = "nirdag.cache_kind"
KEY_TAG = "nirdag.cache_key"

_ARRAY = "ndarray"
_RECORDS: dict[str, type] = {"FoldSweep": FoldSweep}  # the only record types an entry may hold
_NESTED: dict[str, type] = {"FoldRecord": FoldRecord}  # records of arrays a record may hold (by annotation)
_SCALARS = (str, int, float, bool, type(None))
DEFAULT_COSTS = AdmissionCosts()


def worth_storing(compute_seconds: float, nbytes: int, costs: AdmissionCosts = DEFAULT_COSTS) -> bool:
    """Whether to store a node computed in ``compute_seconds`` whose arrays hold ``nbytes``: only when computing it
    again costs more than writing it now and reading it back once, at the disk's ``costs`` (a hoisted SNV of
    20,000 spectra, 0.4 s to compute against ~1 s to write and read 160 MB, is recomputed; a PLS fold fit is
    stored)."""
    return costs.worth_storing(compute_seconds, nbytes)


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
        if field.name in getattr(value, "TRANSIENT", ()):  # in-memory only (fitted objects: never pickled)
            continue
        item = getattr(value, field.name)
        if type(item) in _NESTED.values():  # a record of arrays inside the record: its arrays as "field.name"
            arrays.update({f"{field.name}.{f.name}": getattr(item, f.name) for f in dataclasses.fields(item)})
        elif isinstance(item, np.ndarray):
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
    fields = {f.name: f for f in dataclasses.fields(record) if f.name not in getattr(record, "TRANSIENT", ())}
    nested = {name: _NESTED[f.type] for name, f in fields.items() if f.type in _NESTED}
    names = {f"{name}.{sub.name}" for name, cls in nested.items() for sub in dataclasses.fields(cls)}
    names |= set(fields) - set(nested)
    if names != set(entry.scalars) | set(entry.arrays) or set(entry.scalars) & set(entry.arrays):
        return None
    values: dict[str, Any] = {**entry.scalars, **{k: v for k, v in entry.arrays.items() if "." not in k}}
    for name, cls in nested.items():
        values[name] = cls(**{sub.name: entry.arrays[f"{name}.{sub.name}"] for sub in dataclasses.fields(cls)})
    return record(**values)


@dataclass(frozen=True)
class CacheOutcome:
    status: CacheStatus
    key: str  # display form (8 characters)
    read_seconds: float | None = None  # looking the entry up (and reading it back on a hit)
    write_seconds: float | None = None  # storing the computed value (None: nothing stored)


class NodeCache(NodeExecutionMethod):
    """Serves nodes whose tagged kind is in ``kinds`` from ``store``; computes them on a miss and stores them
    (``admission="all"``) or only those worth storing (``"cost"``: :func:`worth_storing`; the others are
    ``skipped``)."""

    def __init__(self, store: CacheStore, kinds: Collection[CachedNodeKind], admission: CacheAdmission = "cost",
                 costs: AdmissionCosts = DEFAULT_COSTS):
        self.store = store
        self.kinds = frozenset(kinds)
        self.admission = admission
        self.costs = costs
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

    def _record(self, node_name: str, status: CacheStatus, key: str, read: float,
                write: float | None = None) -> None:
        with self._lock:
            self._outcomes[node_name] = CacheOutcome(status, short(key), read, write)

    def run_to_execute_node(self, *, node_name: str, node_tags: dict[str, Any], node_callable: Any,
                            node_kwargs: dict[str, Any], **_: Any) -> Any:
        kind, key = node_tags.get(KIND_TAG), node_tags.get(KEY_TAG)
        if kind not in self.kinds or key is None:
            return node_callable(**node_kwargs)
        start = time.perf_counter()
        entry = self.store.get(kind, key)
        value = _join(entry) if entry is not None else None
        read = time.perf_counter() - start
        if value is not None:
            self._record(node_name, "hit", key, read)
            return value
        start = time.perf_counter()
        result = node_callable(**node_kwargs)
        seconds = time.perf_counter() - start
        value_type, scalars, arrays = _split(result, node_name)
        if self.admission == "all" or worth_storing(seconds, sum(a.nbytes for a in arrays.values()), self.costs):
            start = time.perf_counter()
            self.store.put(kind, key, node=node_name, value_type=value_type, scalars=scalars, arrays=arrays)
            self._record(node_name, "miss", key, read, time.perf_counter() - start)
        else:
            self._record(node_name, "skipped", key, read)
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
