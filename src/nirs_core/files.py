"""Atomic file writes: a reader sees the old file or the whole new one, never a half-written file.

It lives on the ground floor so every layer writes files the same way, including the bundle code that
``nirdag.predict`` loads without any engine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, prefix: str, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file ``<prefix><random>.tmp`` in the same folder.

    The folder is created when missing. The temporary file is flushed (and, with ``fsync``, synced to disk) and
    renamed over ``path`` (atomic on POSIX); when anything fails it is removed and the error propagates. Callers
    whose files are verified on every read and recomputed when bad (the node cache) pass ``fsync=False``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
