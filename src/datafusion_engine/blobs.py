"""Content-addressed blobs of a workspace: ``blobs/sha256/ab/<hex>``, written atomically, verified on every read."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from datafusion_engine.errors import CorruptBlobError, StoreError
from nirs_core.files import write_atomic

_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Bytes stored once under the sha256 of their content.

    ``put`` reuses an existing blob only after re-hashing it in full (a blob changed on disk is rewritten, never
    trusted); ``get`` verifies the hash of what it read and raises CorruptBlobError when it differs.
    """

    def __init__(self, folder: Path):
        self.root = folder  # a workspace's ``WorkspaceLayout.blobs_dir``

    def path(self, digest: str) -> Path:
        if not _HEX.fullmatch(digest):
            raise StoreError(f"blob name {digest!r} is not a full lowercase sha256 hex digest")
        return self.root / digest[:2] / digest

    def _intact(self, path: Path, digest: str) -> bool:
        try:
            return sha256_hex(path.read_bytes()) == digest
        except FileNotFoundError:
            return False

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns its sha256 hex and whether a new file was written (False = deduplicated)."""
        digest = sha256_hex(data)
        path = self.path(digest)
        if self._intact(path, digest):
            return digest, False
        write_atomic(path, data, prefix=f".{digest[:8]}-")
        return digest, True

    def get(self, digest: str) -> bytes:
        """The bytes of blob ``digest``, verified against the digest."""
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CorruptBlobError(f"blob {digest} is missing from {self.root}") from None
        actual = sha256_hex(data)
        if actual != digest:
            raise CorruptBlobError(f"blob {path} is corrupted: its content hashes to sha256 {actual}, "
                                   f"expected {digest}")
        return data

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was not there."""
        path = self.path(digest)
        if not path.exists():
            return False
        path.unlink()
        return True

    def digests(self) -> Iterator[str]:
        """Every blob stored (temporary files of interrupted writes are not blobs)."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir():
                yield from (p.name for p in sorted(sub.iterdir()) if _HEX.fullmatch(p.name))
