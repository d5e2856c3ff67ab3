"""NumPy ``.npz`` archives: ``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``sample_ids``, ``partition``.

Also the split form ``X_train``/``y_train``/``X_test``/``y_test`` (train rows first). ``y`` may be 1D (one target,
named by ``target_names`` or ``y``) or 2D (one column per target). Archives are read with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.parts import SpectraParts


def _targets(path: Path, y: np.ndarray | None, names: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
    if y is None:
        return {}
    y = np.asarray(y)
    Y = y[:, None] if y.ndim == 1 else y
    if Y.ndim != 2 or Y.shape[0] != n:
        raise DataError(f"{path}: y has shape {y.shape}, expected ({n},) or ({n}, n_targets)")
    labels = [str(t) for t in np.atleast_1d(names)] if names is not None else (
        ["y"] if Y.shape[1] == 1 else [f"y{i}" for i in range(Y.shape[1])])
    if len(labels) != Y.shape[1]:
        raise DataError(f"{path}: {len(labels)} target_names for {Y.shape[1]} target columns")
    if len(set(labels)) != len(labels):
        raise DataError(f"{path}: target_names are not unique: {labels}")
    return {name: Y[:, i] for i, name in enumerate(labels)}


def read_npz_parts(path: str | Path) -> SpectraParts:
    """Read an ``.npz`` archive (see the module docstring)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except (ValueError, OSError) as exc:
        raise SpectraFileError(f"{path}: not a readable .npz archive ({exc})") from None
    if "X_train" in arrays:
        parts = [np.asarray(arrays["X_train"]), np.asarray(arrays.get("X_test", np.empty((0, 0))))]
        if parts[0].ndim != 2 or (parts[1].size and (parts[1].ndim != 2 or parts[1].shape[1] != parts[0].shape[1])):
            raise DataError(f"{path}: X_train / X_test must be 2D with the same number of columns, got "
                            f"{parts[0].shape} and {parts[1].shape}")
        parts[1] = parts[1].reshape(-1, parts[0].shape[1])
        X = np.concatenate(parts)
        partition = np.array(["train"] * len(parts[0]) + ["test"] * len(parts[1]))
        if ("y_train" in arrays) != ("y_test" in arrays) and len(parts[1]):
            raise DataError(f"{path}: give both y_train and y_test (or neither) when X_test is present")
        y = np.concatenate([arrays["y_train"], arrays["y_test"]]) if "y_test" in arrays else arrays.get("y_train")
    else:
        key = next((k for k in ("X", "spectra") if k in arrays), None)
        if key is None:
            raise SpectraFileError(f"{path}: no 'X' or 'spectra' array; arrays found: {sorted(arrays)}")
        X, y, partition = arrays[key], arrays.get("y"), arrays.get("partition")
    if X.ndim != 2 or X.dtype.kind not in "fiu":
        raise DataError(f"{path}: spectra must be a 2D numeric array, got shape {X.shape} of {X.dtype}")
    return SpectraParts(
        source=str(path), spectra=X.astype(np.float64), wavelengths=arrays.get("wavelengths"),
        wavelength_unit=str(arrays["wavelength_unit"]) if "wavelength_unit" in arrays else None,
        sample_ids=arrays.get("sample_ids"), targets=_targets(path, y, arrays.get("target_names"), X.shape[0]),
        partition=partition,
    )
