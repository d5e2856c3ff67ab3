"""The on-disk node cache of a workspace: verified, atomically written entries of named numpy arrays, LRU-bounded.

An entry is one file (or object)
``<root>/v1/<kind>/<ab>/<key>.entry``: an 8-byte magic, the header length (8 bytes, little
endian), a msgspec JSON header, the raw bytes of the arrays, and the sha256 of everything before it (32 bytes). No
pickle anywhere: only numeric dtypes are written or read, and arrays come back read-only through ``np.frombuffer``.
A file is written under a temporary name and renamed into place, and a read checks the digest, magic, header, key
and sizes, so neither a killed writer nor a corrupted file can serve a wrong value: a bad entry is a miss, and it
is removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from datafusion_engine.errors import CacheError
from nirs_core.storage import LocalStorage, Storage, StorageNotFound, StoredObject, open_storage

MAGIC = b"NIRDAGC1"
LAYOUT = "v1"
SUFFIX = ".entry"
TEMP_PREFIX = ".tmp-"
DEFAULT_MAX_BYTES = 2 * 1024**3
STALE_TEMP_SECONDS = 3600.0
_NUMERIC_KINDS = frozenset("biufc")  # bool, signed, unsigned, float, complex: never object or structured dtypes
_LENGTH = struct.Struct("<Q")
_DIGEST = 32  # bytes of the trailing sha256

Scalar = str | int | float | bool | None


class ArrayMeta(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    dtype: str
    shape: tuple[int, ...]
    offset: int
    nbytes: int


class EntryHeader(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What an entry holds and how to check it; written before the array bytes."""

    key: str
    kind: str
    node: str
    value_type: str
    scalars: dict[str, Scalar]
    arrays: tuple[ArrayMeta, ...]
    payload_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class Entry:
    """A decoded entry: the value's type name, its scalar fields and its read-only arrays."""

    value_type: str
    scalars: Mapping[str, Scalar]
    arrays: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class CacheStats:
    """What a cache folder holds: entries (and bytes) per node kind, leftover temp files, last use."""

    root: Path | str
    entries: int
    bytes: int
    by_kind: Mapping[str, tuple[int, int]]  # kind -> (entries, bytes)
    temp_files: int
    oldest_use: dt.datetime | None
    newest_use: dt.datetime | None


def _check_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.hasobject:
        raise CacheError(f"{where}: dtype {dtype} is not a plain numeric dtype (the cache stores no objects)")


def _encode(header_fields: dict[str, object], arrays: Mapping[str, np.ndarray]) -> bytes:
    metas, chunks, offset = [], [], 0
    for name, array in arrays.items():
        _check_dtype(array.dtype, f"array {name!r}")
        data = np.ascontiguousarray(array).tobytes()
        metas.append(ArrayMeta(name, array.dtype.str, tuple(array.shape), offset, len(data)))
        chunks.append(data)
        offset += len(data)
    payload = b"".join(chunks)
    header = EntryHeader(**header_fields, arrays=tuple(metas), payload_bytes=len(payload),
                         created_at=dt.datetime.now(dt.UTC))
    encoded = msgspec.json.encode(header)
    body = MAGIC + _LENGTH.pack(len(encoded)) + encoded + payload
    return body + hashlib.sha256(body).digest()


def _decode(data: bytes, key: str) -> Entry | None:
    """The entry in ``data`` if it is whole and is the entry of ``key``; None otherwise."""
    start = len(MAGIC) + _LENGTH.size
    view = memoryview(data)
    if len(data) < start + _DIGEST or not data.startswith(MAGIC):
        return None
    body = view[:-_DIGEST]
    if hashlib.sha256(body).digest() != view[-_DIGEST:]:
        return None
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    try:
        header = msgspec.json.decode(body[start:start + length], type=EntryHeader)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    payload = body[start + length:]
    if header.key != key or len(payload) != header.payload_bytes:
        return None
    arrays = {}
    for meta in header.arrays:
        try:
            dtype = np.dtype(meta.dtype)
            _check_dtype(dtype, meta.name)
            count = int(np.prod(meta.shape, dtype=np.int64))
            if count * dtype.itemsize != meta.nbytes or meta.offset + meta.nbytes > len(payload):
                return None
            arrays[meta.name] = np.frombuffer(payload, dtype=dtype, count=count, offset=meta.offset).reshape(
                meta.shape)
        except (TypeError, ValueError, CacheError):
            return None
    return Entry(header.value_type, header.scalars, arrays)


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


class CacheStore:
    """The cache folder of a workspace (``<workspace>/cache``), bounded to ``max_bytes`` by LRU eviction.

    ``location`` is a folder or a :class:`~nirs_core.storage.Storage` (the cache is under its ``prefix``). On an
    object store an entry's time cannot be touched, so eviction there goes by write time, not last use.
    """

    def __init__(self, location: str | Path | Storage, max_bytes: int = DEFAULT_MAX_BYTES, *, prefix: str = ""):
        if max_bytes < 0:
            raise CacheError(f"the cache size cap must be >= 0 bytes, got {max_bytes}")
        self.storage = open_storage(location)
        self.prefix = prefix
        self.root: Path | str = Path(self.storage.url(prefix)) if self.storage.is_local else self.storage.url(prefix)
        self.max_bytes = max_bytes
        self._bytes: int | None = None  # running estimate of the folder size, scanned on first write
        self._lock = threading.Lock()

    def _base(self) -> str:
        return f"{self.prefix}/{LAYOUT}" if self.prefix else LAYOUT

    def key_of(self, kind: str, key: str) -> str:
        """The storage key of an entry."""
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise CacheError(f"a cache key is a full sha256 hex digest, got {key!r}")
        if not kind.isidentifier():
            raise CacheError(f"a cache node kind is an identifier, got {kind!r}")
        return f"{self._base()}/{kind}/{key[:2]}/{key}{SUFFIX}"

    def path_of(self, kind: str, key: str) -> Path | str:
        """Where an entry is: a Path in a folder, a URI in an object store."""
        url = self.storage.url(self.key_of(kind, key))
        return Path(url) if self.storage.is_local else url

    def get(self, kind: str, key: str) -> Entry | None:
        """The verified entry of ``key``, or None (absent, truncated, corrupted: a bad file is removed)."""
        where = self.key_of(kind, key)
        try:
            data = self.storage.get(where)
        except StorageNotFound:
            return None
        entry = _decode(data, key)
        if entry is None:
            self.storage.delete(where)
            return None
        self.storage.touch(where)  # last use, for LRU eviction (evicted meanwhile: the value read is still whole)
        return entry

    def put(self, kind: str, key: str, *, node: str, value_type: str, scalars: Mapping[str, Scalar],
            arrays: Mapping[str, np.ndarray]) -> int:
        """Write an entry atomically (temp file + rename); returns its size (0 if larger than the cap)."""
        where = self.key_of(kind, key)
        data = _encode({"key": key, "kind": kind, "node": node, "value_type": value_type,
                        "scalars": dict(scalars)}, arrays)
        if len(data) > self.max_bytes:
            return 0
        # no fsync: a torn entry fails its digest on read and is recomputed; prune() removes stale temp files
        self.storage.put(where, data, fsync=False, temp_prefix=f"{TEMP_PREFIX}{key}-{os.getpid()}-")
        self._account(len(data))
        return len(data)

    def _account(self, added: int) -> None:
        with self._lock:
            if self._bytes is None:
                self._bytes = self.stats().bytes
            else:
                self._bytes += added
            over = self._bytes > self.max_bytes
        if over:
            self.prune()

    def _stats(self) -> Iterator[tuple[str, StoredObject]]:
        """Every file of ``<kind>/<ab>/`` folders with its name (a file removed meanwhile is skipped)."""
        depth = self._base().count("/") + 4
        for item in self.storage.list(self._base()):
            if item.key.count("/") + 1 == depth:
                yield item.key.rpartition("/")[2], item

    def prune(self) -> int:
        """Remove stale temp files, then the least recently used entries until the folder fits the cap.

        Returns the number of entries removed.
        """
        now, entries, removed = time.time(), [], 0
        for name, info in self._stats():
            if name.startswith(TEMP_PREFIX):
                if now - info.modified > STALE_TEMP_SECONDS:
                    self.storage.delete(info.key)
            elif name.endswith(SUFFIX):
                entries.append((info.modified, info.size, info.key))
        total = sum(size for _, size, _ in entries)
        for _, size, where in sorted(entries):
            if total <= self.max_bytes:
                break
            self.storage.delete(where)
            total -= size
            removed += 1
        with self._lock:
            self._bytes = total
        return removed

    def stats(self) -> CacheStats:
        by_kind: dict[str, list[int]] = {}
        temps, uses = 0, []
        for name, info in self._stats():
            if name.startswith(TEMP_PREFIX):
                temps += 1
            elif name.endswith(SUFFIX):
                kind = info.key.split("/")[-3]
                counts = by_kind.setdefault(kind, [0, 0])
                counts[0] += 1
                counts[1] += info.size
                uses.append(info.modified)
        return CacheStats(
            root=self.root, entries=sum(c[0] for c in by_kind.values()), bytes=sum(c[1] for c in by_kind.values()),
            by_kind={k: (c[0], c[1]) for k, c in sorted(by_kind.items())}, temp_files=temps,
            oldest_use=_when(min(uses)) if uses else None, newest_use=_when(max(uses)) if uses else None,
        )

    def clear(self) -> CacheStats:
        """Remove every entry and temp file; returns what was there. CacheError when some could not be removed
        (a read-only workspace): nothing is reported removed that was not."""
        before = self.stats()
        failed: list[str] = []
        if not isinstance(self.storage, LocalStorage):
            self.storage.delete_prefix(self._base())
            with self._lock:
                self._bytes = 0
            return before
        target = self.storage.path(self._base())
        if target.exists():
            if sys.version_info >= (3, 12):
                shutil.rmtree(target, onexc=lambda _f, path, exc: failed.append(f"{path}: {exc}"))
            else:  # Python 3.11: the same callback under its old name
                shutil.rmtree(target, onerror=lambda _f, path, info: failed.append(f"{path}: {info[1]}"))
        with self._lock:
            self._bytes = 0
        if failed:
            raise CacheError(f"cache {self.root}: {len(failed)} entries could not be removed (read-only?), e.g. "
                             f"{failed[0]}")
        return before

