"""Canonical content hash of a dataset, streamed over numpy/Arrow buffers without extra copies."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

_DOMAIN = b"nirdag.dataset.v1\x00"
_FLOAT_TARGET = b"f"
_LABEL_TARGET = b"s"
_REPLICATES = b"r"


def _update_floats(h: hashlib._Hash, values: np.ndarray) -> None:
    """Float64 little-endian bytes; on a little-endian machine a C-contiguous float64 array is read in place."""
    h.update(np.ascontiguousarray(values, dtype="<f8").data)


def update_strings(h: hashlib._Hash, strings: pa.Array) -> None:
    """Hash strings unambiguously: all utf-8 lengths (int64 LE), then the concatenated bytes, from the buffers."""
    if not pa.types.is_string(strings.type):
        strings = strings.cast(pa.string())
    if strings.null_count:
        raise ValueError("strings to hash contain nulls")
    _, offsets_buf, data_buf = strings.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[strings.offset: strings.offset + len(strings) + 1]
    h.update(np.diff(offsets).astype("<i8").tobytes())
    if data_buf is not None and len(strings):
        h.update(memoryview(data_buf)[int(offsets[0]): int(offsets[-1])])


def dataset_hash(
    *, spectra: np.ndarray, wavelengths: np.ndarray, unit: str, sample_ids: pa.Array,
    targets: Mapping[str, pa.Array], partition: pa.Array, replicates: tuple[str, np.ndarray] | None = None,
) -> str:
    """Full sha256 hex over the canonical content of a dataset (metadata and name are not part of it; a declared
    replicate column, its name and values, is: it changes every split)."""
    h = hashlib.sha256(_DOMAIN)
    h.update(np.asarray(spectra.shape, dtype="<i8").tobytes())
    _update_floats(h, spectra)
    _update_floats(h, wavelengths)
    h.update(unit.encode())
    update_strings(h, sample_ids)
    for name in sorted(targets):
        column = targets[name]
        update_strings(h, pa.array([name]))
        if pa.types.is_floating(column.type):
            h.update(_FLOAT_TARGET)
            _update_floats(h, column.to_numpy(zero_copy_only=False))
        else:
            h.update(_LABEL_TARGET)
            update_strings(h, column)
    update_strings(h, partition)
    if replicates is not None:  # absent from the bytes of a dataset without the declaration (its hash unchanged)
        h.update(_REPLICATES)
        update_strings(h, pa.array([replicates[0]]))
        update_strings(h, pa.array(replicates[1].tolist(), type=pa.string()))
    return h.hexdigest()
