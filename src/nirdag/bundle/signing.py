"""Bundle signatures: HMAC-SHA256 of the manifest bytes with a key from ``NIRDAG_BUNDLE_KEY`` (or given)."""

from __future__ import annotations

import hashlib
import hmac
import os

from nirdag.bundle.errors import BundleError, TamperedBundleError
from nirdag.bundle.manifest import Signature

KEY_ENV = "NIRDAG_BUNDLE_KEY"
_MIN_KEY_BYTES = 16


def signing_key(key: str | bytes | None = None) -> bytes | None:
    """The key given, else ``$NIRDAG_BUNDLE_KEY``, else None (unsigned bundles, digest-only verification)."""
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < _MIN_KEY_BYTES:
        raise BundleError(f"the bundle signing key ({KEY_ENV}) has {len(raw)} bytes; use at least {_MIN_KEY_BYTES} "
                          "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    return raw


def sign(manifest_bytes: bytes, key: bytes | None) -> Signature:
    mac = hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest() if key is not None else None
    return Signature(manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(), hmac_sha256=mac)


def verify(manifest_bytes: bytes, signature: Signature, key: bytes | None, where: str) -> bool:
    """Check the manifest digest, and the HMAC when a key is configured; True when the HMAC was verified.

    With a key configured, an unsigned bundle is refused: the key says the user wants signed bundles only.
    """
    actual = hashlib.sha256(manifest_bytes).hexdigest()
    if not hmac.compare_digest(actual, signature.manifest_sha256):
        raise TamperedBundleError(f"{where}: manifest.json was changed (or signature.json): the manifest hashes to "
                                  f"sha256 {actual}, signature.json records {signature.manifest_sha256}")
    if key is None:
        return False
    if signature.hmac_sha256 is None:
        raise TamperedBundleError(f"{where} is not signed, but a signing key is configured ({KEY_ENV}); "
                                  "only signed bundles are accepted")
    expected = hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.hmac_sha256):
        raise TamperedBundleError(f"{where}: signature mismatch: the manifest's HMAC-SHA256 under the configured "
                                  "key differs (signed with another key, or manifest and signature were edited)")
    return True
