"""Spectra read one file at a time (JCAMP-DX, OPUS, SPC): the files of a folder, unique ids, one shared axis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nirs_core.data.errors import DataError, EmptyDatasetError

Axis = tuple[np.ndarray, str | None]  # values and unit ("nm", "cm-1" or None)


def files_in(folder: Path, accepts: Callable[[Path], bool], what: str) -> list[Path]:
    """The files directly in ``folder`` (not recursively) that ``accepts``, in name order."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and accepts(p))
    if not files:
        raise EmptyDatasetError(f"{folder}: no {what} in this folder")
    return files


def check_unique_ids(files: Sequence[Path], ids: Sequence[str]) -> None:
    """One file per sample id; the second file of a repeated id is named."""
    seen: dict[str, Path] = {}
    for file, sample_id in zip(files, ids, strict=True):
        if sample_id in seen:
            raise DataError(f"{file}: sample id {sample_id!r} is also that of {seen[sample_id]}; "
                            "expected one file per sample id")
        seen[sample_id] = file


def axis_mismatch(axis: Axis, ref: Axis) -> str | None:
    """Why ``axis`` differs from the reference axis, or None when they agree within 1e-9 relative."""
    (values, unit), (ref_values, ref_unit) = axis, ref
    if unit != ref_unit:
        return f"x unit {unit!r} differs from {ref_unit!r}"
    if values.size != ref_values.size:
        return f"{values.size} points differ from {ref_values.size}"
    bad = np.flatnonzero(np.abs(values - ref_values) > 1e-9 * np.maximum(np.abs(values), np.abs(ref_values)))
    if bad.size:
        return f"x[{bad[0]}] = {float(values[bad[0]])!r} differs from {float(ref_values[bad[0]])!r}"
    return None


def shared_axis(files: Sequence[Path], axes: Sequence[Axis]) -> Axis:
    """The axis every file shares (the first file's); a file whose axis differs is named with the reason."""
    for file, axis in zip(files[1:], axes[1:], strict=True):
        reason = axis_mismatch(axis, axes[0])
        if reason is not None:
            raise DataError(f"{file}: x axis differs from that of {files[0]}: {reason}; "
                            "expected all spectra on the same axis")
    return axes[0]
