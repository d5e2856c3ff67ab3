"""Named arrays -> SpectraParts: the variable names NPZ archives and MATLAB files share.

``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``wavelength_unit``, ``sample_ids``, ``partition`` and
``target_names``; or the split form ``X_train``/``y_train``/``X_test``/``y_test`` (train rows first). ``y`` may be
1D (one target, named by ``target_names`` or ``y``) or 2D (one column per target).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.parts import SpectraParts

SPECTRA_NAMES = ("X", "spectra")
SPLIT_NAMES = ("X_train", "X_test", "y_train", "y_test")
# Variables that are one value per sample, per target or per wavelength: a reader whose format has no 1D arrays
# (MATLAB) flattens these, and the target arrays when one of their two dimensions is 1.
VECTOR_NAMES = ("wavelengths", "sample_ids", "partition", "target_names")
TARGET_NAMES = ("y", "y_train", "y_test")


def _targets(source: str, y: np.ndarray | None, names: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
    if y is None:
        return {}
    y = np.asarray(y)
    Y = y[:, None] if y.ndim == 1 else y
    if Y.ndim != 2 or Y.shape[0] != n:
        raise DataError(f"{source}: y has shape {y.shape}, expected ({n},) or ({n}, n_targets)")
    labels = [str(t) for t in np.atleast_1d(names)] if names is not None else (
        ["y"] if Y.shape[1] == 1 else [f"y{i}" for i in range(Y.shape[1])])
    if len(labels) != Y.shape[1]:
        raise DataError(f"{source}: {len(labels)} target_names for {Y.shape[1]} target columns")
    if len(set(labels)) != len(labels):
        raise DataError(f"{source}: target_names are not unique: {labels}")
    return {name: Y[:, i] for i, name in enumerate(labels)}


def _split(source: str, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """X, y and partition of the ``X_train``/``X_test`` form."""
    parts = [np.asarray(arrays["X_train"]), np.asarray(arrays.get("X_test", np.empty((0, 0))))]
    if parts[0].ndim != 2 or (parts[1].size and (parts[1].ndim != 2 or parts[1].shape[1] != parts[0].shape[1])):
        raise DataError(f"{source}: X_train / X_test must be 2D with the same number of columns, got "
                        f"{parts[0].shape} and {parts[1].shape}")
    parts[1] = parts[1].reshape(-1, parts[0].shape[1])
    X = np.concatenate(parts)
    partition = np.array(["train"] * len(parts[0]) + ["test"] * len(parts[1]))
    if ("y_train" in arrays) != ("y_test" in arrays) and len(parts[1]):
        raise DataError(f"{source}: give both y_train and y_test (or neither) when X_test is present")
    y = np.concatenate([arrays["y_train"], arrays["y_test"]]) if "y_test" in arrays else arrays.get("y_train")
    return X, y, partition


def parts_from_arrays(source: str, arrays: Mapping[str, np.ndarray], *, kind: str = "arrays") -> SpectraParts:
    """SpectraParts from arrays named as in the module docstring; ``kind`` names the container in errors
    (``arrays`` of an archive, ``variables`` of a MATLAB file)."""
    if "X_train" in arrays:
        X, y, partition = _split(source, arrays)
    else:
        key = next((k for k in SPECTRA_NAMES if k in arrays), None)
        if key is None:
            raise SpectraFileError(f"{source}: no 'X' or 'spectra' {kind[:-1]}; {kind} found: {sorted(arrays)}")
        X, y, partition = np.asarray(arrays[key]), arrays.get("y"), arrays.get("partition")
    if X.ndim != 2 or X.dtype.kind not in "fiu":
        raise DataError(f"{source}: spectra must be a 2D numeric array, got shape {X.shape} of {X.dtype}")
    unit = arrays.get("wavelength_unit")
    return SpectraParts(
        source=source, spectra=X.astype(np.float64), wavelengths=arrays.get("wavelengths"),
        wavelength_unit=str(np.asarray(unit).ravel()[0]) if unit is not None else None,
        sample_ids=arrays.get("sample_ids"), targets=_targets(source, y, arrays.get("target_names"), X.shape[0]),
        partition=partition,
    )
