"""Named arrays -> SpectraParts: the variable names NPZ archives and MATLAB files share.

``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``wavelength_unit``, ``sample_ids``, ``partition`` and
``target_names``; or the split form ``X_train``/``y_train``/``X_test``/``y_test`` (train rows first). ``y`` may be
1D (one target, named by ``target_names`` or ``y``) or 2D (one column per target). Every array is checked here
(shape, kind), so a bad one is a DataError naming it, never an error of numpy's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nirs_core.data.axis_headers import axis_from_headers, header_wavelength
from nirs_core.data.errors import DataError, EmptyDatasetError, SpectraFileError
from nirs_core.data.parts import SpectraParts

SPECTRA_NAMES = ("X", "spectra")
SPLIT_NAMES = ("X_train", "X_test", "y_train", "y_test")
# Variables that are one value per sample, per target or per wavelength: a reader whose format has no 1D arrays
# (MATLAB) flattens these, and the target arrays when one of their two dimensions is 1.
VECTOR_NAMES = ("wavelengths", "sample_ids", "partition", "target_names")
TARGET_NAMES = ("y", "y_train", "y_test")


def _decoded(source: str, name: str, value: np.ndarray) -> np.ndarray:
    """Byte strings (``S`` arrays) as text; an array that is not UTF-8 is named."""
    value = np.asarray(value)
    if value.dtype.kind != "S":
        return value
    try:
        return np.char.decode(value, "utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{source}: array {name!r} holds bytes that are not UTF-8 text") from None


def _vector(source: str, name: str, value: np.ndarray, kinds: str = "fiuUS") -> np.ndarray:
    value = _decoded(source, name, value)
    if value.ndim != 1 or value.dtype.kind not in kinds:
        raise DataError(f"{source}: array {name!r} has shape {value.shape} of {value.dtype}; expected a 1D array "
                        "(one value per entry) of numbers or text")
    return value


def _wavelengths(source: str, value: np.ndarray | None) -> tuple[np.ndarray | None, str | None]:
    """The axis (numbers, or text such as ``'900 nm'`` read like a table's headers) and the unit it states."""
    if value is None:
        return None, None
    axis = _vector(source, "wavelengths", value)
    if axis.dtype.kind in "fiu":
        return axis.astype(np.float64), None
    if not all(header_wavelength(str(v)) for v in axis):
        bad = next(str(v) for v in axis if not header_wavelength(str(v)))
        raise DataError(f"{source}: array 'wavelengths' holds {bad!r}; expected numbers (or text such as "
                        "'900 nm': a number with an optional unit nm, cm-1 or µm)")
    return axis_from_headers(source, [str(v) for v in axis], what="wavelength")


def _unit(source: str, value: np.ndarray | None, stated: str | None) -> str | None:
    if value is None:
        return stated
    unit = _decoded(source, "wavelength_unit", value)
    if unit.size != 1 or unit.dtype.kind != "U":
        raise DataError(f"{source}: array 'wavelength_unit' has shape {unit.shape} of {unit.dtype}; expected one "
                        "string (nm or cm-1)")
    text = str(unit.ravel()[0])
    if stated is not None and text != stated:
        raise DataError(f"{source}: wavelength_unit is {text!r} but the wavelengths say {stated!r}")
    return text


def _target_array(source: str, name: str, value: np.ndarray) -> np.ndarray:
    """A target array: 1D or 2D, numbers (as float64) or text."""
    y = _decoded(source, name, value)
    if y.ndim not in (1, 2) or y.dtype.kind not in "fiubU":
        raise DataError(f"{source}: {name} has shape {y.shape} of {y.dtype}; expected a 1D or 2D array of numbers "
                        "or text (class labels)")
    return y.astype(np.float64) if y.dtype.kind in "iub" else y


def _targets(source: str, y: np.ndarray | None, names: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
    if y is None:
        if names is not None:
            raise DataError(f"{source}: array 'target_names' without 'y'")
        return {}
    y = _target_array(source, "y", y)
    Y = y[:, None] if y.ndim == 1 else y
    if Y.ndim != 2 or Y.shape[0] != n:
        raise DataError(f"{source}: y has shape {y.shape}, expected ({n},) or ({n}, n_targets)")
    Y = Y.astype(np.float64) if Y.dtype.kind in "fiub" else Y
    labels = [str(t) for t in _vector(source, "target_names", np.atleast_1d(names))] if names is not None else (
        ["y"] if Y.shape[1] == 1 else [f"y{i}" for i in range(Y.shape[1])])
    if len(labels) != Y.shape[1]:
        raise DataError(f"{source}: {len(labels)} target_names for {Y.shape[1]} target columns")
    if len(set(labels)) != len(labels):
        raise DataError(f"{source}: target_names are not unique: {labels}")
    return {name: Y[:, i] for i, name in enumerate(labels)}


def _split(source: str, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """X, y and partition of the ``X_train``/``X_test`` form."""
    train = np.asarray(arrays["X_train"])
    if train.ndim != 2:
        raise DataError(f"{source}: X_train has shape {train.shape}; expected a 2D (samples x wavelengths) array")
    test = np.asarray(arrays["X_test"]) if "X_test" in arrays else None
    if test is not None and (test.ndim != 2 or test.shape[1] != train.shape[1]):
        raise DataError(f"{source}: X_test has shape {test.shape}; expected 2D with the {train.shape[1]} columns "
                        f"of X_train {train.shape}")
    if "y_test" in arrays and ("y_train" not in arrays or test is None):
        needed = " and ".join(n for n in ("X_test", "y_train") if n not in arrays)
        raise DataError(f"{source}: y_test without {needed}; the split form is X_train, y_train, X_test, y_test")
    if "y_train" in arrays and test is not None and len(test) and "y_test" not in arrays:
        raise DataError(f"{source}: y_train without y_test; give both (or neither) when X_test is present")
    tests = test if test is not None else np.empty((0, train.shape[1]), train.dtype)
    X = np.concatenate([train, tests]) if train.dtype.kind in "fiu" and tests.dtype.kind in "fiu" else train
    if X is train and len(tests):
        raise DataError(f"{source}: spectra must be numeric, got X_train of {train.dtype} and X_test of "
                        f"{tests.dtype}")
    partition = np.array(["train"] * len(train) + ["test"] * len(tests))
    if "y_train" not in arrays:
        return X, None, partition
    y_train = _target_array(source, "y_train", arrays["y_train"])
    if "y_test" not in arrays:
        return X, y_train, partition
    y_test = _target_array(source, "y_test", arrays["y_test"])
    if y_train.ndim != y_test.ndim or y_train.shape[1:] != y_test.shape[1:]:
        raise DataError(f"{source}: y_train has shape {y_train.shape} and y_test {y_test.shape}; expected the "
                        "same number of target columns")
    if (y_train.dtype.kind == "U") != (y_test.dtype.kind == "U"):
        raise DataError(f"{source}: y_train is {y_train.dtype} and y_test {y_test.dtype}; expected numbers in both "
                        "or text (class labels) in both")
    return X, np.concatenate([y_train, y_test]), partition


def _spectra(source: str, arrays: Mapping[str, np.ndarray], kind: str
             ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    spectra = [k for k in (*SPECTRA_NAMES, "X_train") if k in arrays]
    if len(spectra) > 1:
        raise DataError(f"{source}: {kind} {spectra} all hold spectra; keep one ('X', 'spectra' or the split form)")
    if not spectra:
        raise SpectraFileError(f"{source}: no 'X', 'spectra' or 'X_train' {kind[:-1]}; {kind} found: "
                               f"{sorted(arrays)}")
    if spectra[0] == "X_train":
        if "partition" in arrays:
            raise DataError(f"{source}: 'partition' and the X_train/X_test split both give the partition; keep one")
        return _split(source, arrays)
    stray = [k for k in SPLIT_NAMES if k in arrays]
    if stray:
        raise DataError(f"{source}: {kind} {stray} belong to the split form, which needs X_train; this file holds "
                        f"{spectra[0]!r}")
    partition = arrays.get("partition")
    return np.asarray(arrays[spectra[0]]), arrays.get("y"), (
        None if partition is None else _vector(source, "partition", partition))


def parts_from_arrays(source: str, arrays: Mapping[str, np.ndarray], *, kind: str = "arrays") -> SpectraParts:
    """SpectraParts from arrays named as in the module docstring; ``kind`` names the container in errors
    (``arrays`` of an archive, ``variables`` of a MATLAB file)."""
    X, y, partition = _spectra(source, arrays, kind)
    if X.ndim != 2 or X.dtype.kind not in "fiu":
        raise DataError(f"{source}: spectra must be a 2D numeric array, got shape {X.shape} of {X.dtype}")
    if 0 in X.shape:
        raise EmptyDatasetError(f"{source}: spectra have shape {X.shape}: no samples or no wavelengths")
    axis, stated = _wavelengths(source, arrays.get("wavelengths"))
    ids = arrays.get("sample_ids")
    return SpectraParts(
        source=source, spectra=X.astype(np.float64), wavelengths=axis,
        wavelength_unit=_unit(source, arrays.get("wavelength_unit"), stated),
        sample_ids=None if ids is None else _vector(source, "sample_ids", ids),
        targets=_targets(source, y, arrays.get("target_names"), X.shape[0]), partition=partition,
    )
