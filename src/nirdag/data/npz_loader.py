"""NumPy ``.npz`` archives: ``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``sample_ids``, ``partition``.

Also the split form ``X_train``/``y_train``/``X_test``/``y_test`` (train rows first). ``y`` may be 1D (one target,
named by ``target_names`` or ``y``) or 2D (one column per target). Archives are read with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nirdag.data.errors import DataError, SpectraFileError
from nirdag.data.parts import SpectraParts


def _targets(path: Path, y: np.ndarray | None, names: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
    if y is None:
        return {}
    y = np.asarray(y)
    Y = y[:, None] if y.ndim == 1 else y
    if Y.ndim != 2 or Y.shape[0] != n:
        raise DataError(f"{path}: y has shape {y.shape}, expected ({n},) or ({n}, n_targets)")
    labels = [str(t) for t in names] if names is not None else (["y"] if Y.shape[1] == 1 else
                                                                [f"y{i}" for i in range(Y.shape[1])])
    if len(labels) != Y.shape[1]:
        raise DataError(f"{path}: {len(labels)} target_names for {Y.shape[1]} target columns")
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
        parts = [arrays["X_train"], arrays.get("X_test", np.empty((0, arrays["X_train"].shape[1])))]
        X = np.concatenate(parts)
        partition = np.array(["train"] * len(parts[0]) + ["test"] * len(parts[1]))
        y = np.concatenate([arrays["y_train"], arrays["y_test"]]) if "y_train" in arrays and "y_test" in arrays \
            else arrays.get("y_train") if len(parts[1]) == 0 else None
    else:
        key = next((k for k in ("X", "spectra") if k in arrays), None)
        if key is None:
            raise SpectraFileError(f"{path}: no 'X' or 'spectra' array; arrays found: {sorted(arrays)}")
        X, y, partition = arrays[key], arrays.get("y"), arrays.get("partition")
    if X.ndim != 2:
        raise DataError(f"{path}: spectra must be 2D, got shape {X.shape}")
    return SpectraParts(
        source=str(path), spectra=X.astype(np.float64), wavelengths=arrays.get("wavelengths"),
        wavelength_unit=str(arrays["wavelength_unit"]) if "wavelength_unit" in arrays else None,
        sample_ids=arrays.get("sample_ids"), targets=_targets(path, y, arrays.get("target_names"), X.shape[0]),
        partition=partition,
    )
