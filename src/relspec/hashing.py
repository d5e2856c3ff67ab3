"""Canonical bytes and full-sha256 identities of specs, steps, chains and plans."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON bytes: builtins only, keys sorted (stable across processes and platforms)."""
    return msgspec.json.encode(msgspec.to_builtins(value), order="sorted")


def sha256_of(*parts: Any) -> str:
    """Full sha256 hex over the canonical bytes of ``parts`` (a tuple, so the order matters)."""
    return hashlib.sha256(canonical_bytes(list(parts))).hexdigest()


def short(hash_hex: str) -> str:
    """Display form of an identity hash (8 characters); never used as an identity."""
    return hash_hex[:8]
