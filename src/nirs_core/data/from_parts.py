"""Validate what a loader read (SpectraParts) into a SpectraDataset: the one place loader output is checked."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from nirs_core.data.columns import PARTITION_LABELS, normalise_partition
from nirs_core.data.dataset import SpectraDataset, WavelengthUnit
from nirs_core.data.errors import DataError
from nirs_core.data.parts import SpectraParts

NonFinite = Literal["error", "drop"]


class NonFiniteRowsDropped(UserWarning):
    """Rows whose spectra held NaN or inf were dropped on request (``on_nonfinite="drop"``)."""


def guess_unit(axis: np.ndarray) -> WavelengthUnit:
    """``cm-1`` when every value is >= 3,000 (NIR wavenumbers 3,800-14,000), else ``nm`` (NIR 350-3,000 nm)."""
    return "cm-1" if float(np.min(axis)) >= 3000.0 else "nm"


def _axis(parts: SpectraParts, p: int) -> tuple[np.ndarray, WavelengthUnit]:
    if parts.wavelengths is None:
        return np.arange(p, dtype=np.float64), "index"
    axis = np.asarray(parts.wavelengths, dtype=np.float64)
    unit = parts.wavelength_unit or guess_unit(axis)
    if unit not in ("nm", "cm-1", "index"):
        raise DataError(f"{parts.source}: wavelength unit {unit!r} is not one of 'nm', 'cm-1'")
    return axis, unit  # type: ignore[return-value]


def _finite_rows(parts: SpectraParts, X: np.ndarray, ids: np.ndarray, on_nonfinite: NonFinite) -> np.ndarray:
    bad = ~np.isfinite(X).all(axis=1)
    if not bad.any():
        return np.arange(X.shape[0])
    rows = np.flatnonzero(bad)
    where = ", ".join(f"{ids[r]} (row {r + 1})" for r in rows[:5]) + (" ..." if rows.size > 5 else "")
    if on_nonfinite == "error":
        raise DataError(f"{parts.source}: {rows.size} spectra contain NaN or inf: {where}; fix the file or pass "
                        "on_nonfinite='drop' to drop them")
    warnings.warn(f"{parts.source}: dropped {rows.size} spectra containing NaN or inf: {where}",
                  NonFiniteRowsDropped, stacklevel=3)
    return np.flatnonzero(~bad)


def dataset_from_parts(parts: SpectraParts, *, name: str | None = None, on_nonfinite: NonFinite = "error"
                       ) -> SpectraDataset:
    """A validated SpectraDataset from a loader's output; errors name ``parts.source``."""
    X = np.asarray(parts.spectra)
    if X.ndim != 2:
        raise DataError(f"{parts.source}: spectra must be a 2D matrix, got shape {X.shape}")
    n, p = X.shape
    ids = np.asarray(parts.sample_ids).astype(str) if parts.sample_ids is not None else \
        np.arange(1, n + 1).astype(str)
    partition = np.full(n, "train")
    if parts.partition is not None:
        partition, unknown = normalise_partition(np.asarray(parts.partition))
        if unknown:
            raise DataError(f"{parts.source}: partition labels {unknown} are not train/test labels; accepted (any "
                            f"case): {', '.join(PARTITION_LABELS)}")
    for label, column in (("sample ids", ids), ("partition labels", partition),
                          *((f"target {k!r}", v) for k, v in parts.targets.items()),
                          *((f"metadata {k!r}", v) for k, v in parts.metadata.items())):
        if len(column) != n:
            raise DataError(f"{parts.source}: {len(column)} {label} for {n} spectra")
    keep = _finite_rows(parts, X, ids, on_nonfinite)
    if keep.size != n:
        X = X[keep]
    axis, unit = _axis(parts, p)
    try:
        dataset = SpectraDataset(
            name=name or parts.source, sample_ids=ids[keep], spectra=X, wavelengths=axis, wavelength_unit=unit,
            targets={k: np.asarray(v)[keep] for k, v in parts.targets.items()}, partition=partition[keep],
            metadata={k: np.asarray(v)[keep] for k, v in parts.metadata.items()},
        )
    except DataError as exc:
        raise type(exc)(f"{parts.source}: {exc}") from None
    dataset.load_notes = parts.notes
    return dataset
