"""Content-addressed blobs of a workspace: ``blobs/sha256/ab/<hex>``, written atomically, verified on every read."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from datafusion_engine.errors import CorruptBlobError, StoreError
from nirs_core.storage import Storage, StorageError, StorageNotFound

_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Bytes stored once under the sha256 of their content, in a workspace's storage under ``prefix``.

    ``put`` reuses an existing blob only after re-hashing it in full (a blob changed in the store is rewritten,
    never trusted); ``get`` verifies the hash of what it read and raises CorruptBlobError when it differs. Two
    writers storing the same blob concurrently write the same bytes, so either PUT may win.
    """

    def __init__(self, storage: Storage, prefix: str):
        self.storage = storage
        self.prefix = prefix  # a workspace's ``WorkspaceLayout.blobs_prefix``
        self.root = storage.url(prefix)  # where, for messages

    def key(self, digest: str) -> str:
        if not _HEX.fullmatch(digest):
            raise StoreError(f"blob name {digest!r} is not a full lowercase sha256 hex digest")
        return f"{self.prefix}/{digest[:2]}/{digest}"

    def path(self, digest: str) -> Path | str:
        """Where blob ``digest`` is stored: a Path in a folder, a URI in an object store."""
        url = self.storage.url(self.key(digest))
        return Path(url) if self.storage.is_local else url

    def _intact(self, key: str, digest: str) -> bool:
        try:
            return sha256_hex(self.storage.get(key)) == digest
        except StorageNotFound:
            return False

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns its sha256 hex and whether a new file was written (False = deduplicated)."""
        digest = sha256_hex(data)
        key = self.key(digest)
        try:
            if self._intact(key, digest):
                return digest, False
            self.storage.put(key, data, temp_prefix=f".{digest[:8]}-")
        except StorageError as exc:
            raise StoreError(str(exc)) from None
        return digest, True

    def get(self, digest: str) -> bytes:
        """The bytes of blob ``digest``, verified against the digest."""
        key = self.key(digest)
        try:
            data = self.storage.get(key)
        except StorageNotFound:
            raise CorruptBlobError(f"blob {digest} is missing from {self.root}") from None
        except StorageError as exc:
            raise StoreError(str(exc)) from None
        actual = sha256_hex(data)
        if actual != digest:
            raise CorruptBlobError(f"blob {self.path(digest)} is corrupted: its content hashes to sha256 {actual}, "
                                   f"expected {digest}")
        return data

    def size(self, digest: str) -> int:
        try:
            return self.storage.size(self.key(digest))
        except StorageNotFound:
            raise CorruptBlobError(f"blob {digest} is missing from {self.root}") from None

    def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was not there."""
        return self.storage.delete(self.key(digest))

    def digests(self) -> Iterator[str]:
        """Every blob stored (temporary files of interrupted writes are not blobs), in sorted order."""
        names = (item.key.rpartition("/")[2] for item in self.storage.list(self.prefix))
        yield from sorted(name for name in names if _HEX.fullmatch(name))
