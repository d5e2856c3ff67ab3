"""Fitted objects to and from bytes with skops (never pickle), loading only an explicit allow-list of types.

skops is imported on first use: ``import skops.io`` costs ~0.6-1.3 s, which commands that never touch a fitted
object (query, runs, --help) should not pay.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import sys
import threading
import zipfile
from types import ModuleType
from typing import Any

from nirdag.bundle.errors import BundleError, UntrustedTypeError
from nirs_core.operators.registry import class_path, estimator_classes

# skops trusts scikit-learn's estimators and the numpy/builtin types they hold; on top of that we trust our own
# estimators (the operator registry's, the models, FeatureConcat and EPO) and the few scikit-learn internals a
# supported model holds (a fitted tree's Tree).
_EXTRA_TRUSTED = ("sklearn.tree._tree.Tree",)
_PICKLE_PROTOCOLS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")

TRUSTED_TYPES: tuple[str, ...] = (*sorted(class_path(c) for c in estimator_classes()), *_EXTRA_TRUSTED)


@functools.cache
def _skops() -> ModuleType:
    import skops.io  # heavy (see module docstring); the only import of skops in nirdag

    return skops.io


def _import_quietly() -> None:
    with contextlib.suppress(Exception):  # the first dumps/loads imports it again and reports any failure
        _skops()


def import_in_background() -> None:
    """Start importing skops on a daemon thread: a run calls this before its engine, so skops' ~0.7 s of imports
    (it lists every scikit-learn estimator) overlap the engine's numeric work instead of following it. The first
    :func:`dumps` or :func:`loads` waits for the import to finish."""
    if "skops.io" not in sys.modules:
        threading.Thread(target=_import_quietly, name="nirdag-skops-import", daemon=True).start()


_EPOCH = (1980, 1, 1, 0, 0, 0)


def _renumbered(node: Any, ids: dict[int, int]) -> Any:
    """skops' schema with its memory-address ``__id__`` values (and the array file names derived from them)
    replaced by numbers in order of first appearance: the same object state gives the same schema in any process."""
    if isinstance(node, list):
        return [_renumbered(n, ids) for n in node]
    if not isinstance(node, dict):
        return node
    out, is_node = {}, "__loader__" in node  # attribute names live in "content" dicts, never beside __loader__
    for key, value in node.items():
        if is_node and key == "__id__" and isinstance(value, int):
            value = ids.setdefault(value, len(ids))
        elif is_node and key == "file" and isinstance(value, str):
            stem, _, ext = value.partition(".")
            value = f"{ids.setdefault(int(stem), len(ids))}.{ext}"
        else:
            value = _renumbered(value, ids)
        out[key] = value
    return out


def dumps(obj: Any) -> bytes:
    """Canonical skops bytes of a fitted object: equal objects give equal bytes (so blobs deduplicate).

    skops names arrays after memory addresses and stamps the time; the archive is rewritten with renumbered ids,
    sorted members and a fixed timestamp. The result is an ordinary skops file.
    """
    raw = zipfile.ZipFile(io.BytesIO(_skops().dumps(obj)))
    ids: dict[int, int] = {}
    schema = _renumbered(json.loads(raw.read("schema.json")), ids)
    names = {n: n if n == "schema.json" else f"{ids[int(n.partition('.')[0])]}.{n.partition('.')[2]}"
             for n in raw.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for old, new in sorted(names.items(), key=lambda item: item[1]):
            data = json.dumps(schema, indent=2).encode() if old == "schema.json" else raw.read(old)
            archive.writestr(zipfile.ZipInfo(new, date_time=_EPOCH), data)
    return out.getvalue()


def _refuse_non_skops(data: bytes, where: str) -> None:
    if data[:2] in _PICKLE_PROTOCOLS or data[:1] in (b"(", b"c", b"]", b"}"):
        raise UntrustedTypeError(f"{where} is a pickle stream; pickled objects are refused (only skops files load)")
    if data[:4] != b"PK\x03\x04":
        raise UntrustedTypeError(f"{where} is not a skops file (expected a zip archive, got {data[:8]!r}...)")


def untrusted_types(data: bytes, where: str) -> list[str]:
    """The types in ``data`` outside skops' defaults and our allow-list."""
    _refuse_non_skops(data, where)
    try:
        found = _skops().get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many kinds on malformed input: all mean "not a valid skops file"
        raise BundleError(f"{where} is not a valid skops file: {type(exc).__name__}: {exc}") from None
    return [t for t in found if t not in TRUSTED_TYPES]


def loads(data: bytes, where: str) -> Any:
    """Load a fitted object; any type outside the allow-list fails with the list of those types."""
    bad = untrusted_types(data, where)
    if bad:
        raise UntrustedTypeError(f"{where} holds untrusted types {sorted(bad)}; only nirdag operators and the "
                                 "scikit-learn/numpy types they use are loaded")
    sio = _skops()
    try:
        return sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    except Exception as exc:  # the trust boundary: any failure of a malformed file becomes one typed error
        raise BundleError(f"{where} cannot be loaded by skops: {type(exc).__name__}: {exc}") from None
