"""MATLAB ``.mat`` files, v5 (``scipy.io.loadmat``) and v7.3 (HDF5, through h5py), variables named as for NPZ.

The names are those of :mod:`nirs_core.data.array_parts`: ``X`` (or ``spectra``), ``y``, ``wavelengths``,
``wavelength_unit``, ``sample_ids``, ``partition``, ``target_names``, or ``X_train``/``y_train``/``X_test``/
``y_test``. MATLAB has no 1D arrays, so the vector variables (and a target stored as a 1xN or Nx1 matrix) are
flattened; text is a char array or a cell array of char arrays (``{'s1','s2'}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nirs_core.data.array_parts import SPECTRA_NAMES, SPLIT_NAMES, TARGET_NAMES, VECTOR_NAMES, parts_from_arrays
from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.parts import SpectraParts

if TYPE_CHECKING:
    import h5py

_KNOWN = (*SPECTRA_NAMES, *SPLIT_NAMES, *VECTOR_NAMES, *TARGET_NAMES, "wavelength_unit")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_V73 = 0x0200  # the MAT header's version field (bytes 124-125) of a v7.3 file; v5 files hold 0x0100


def mat_version(path: Path) -> str:
    """``"7.3"`` or ``"5"`` from the 128-byte MAT header (v7.3 is an HDF5 file behind a 512-byte user block)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(520)
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SpectraFileError(f"{path}: is a directory, expected a MATLAB .mat file") from None
    if len(head) < 128:
        raise SpectraFileError(f"{path}: {len(head)} bytes, shorter than the 128-byte MAT-file header "
                               "(truncated, or not a MATLAB file)")
    order = "little" if head[126:128] == b"IM" else "big"
    if int.from_bytes(head[124:126], order) != _V73:
        return "5"
    if head[512:520] != _HDF5_SIGNATURE:
        raise SpectraFileError(f"{path}: MAT-file header says v7.3 but no HDF5 data follows at byte 512 "
                               "(truncated or corrupt)")
    return "7.3"


def _cell_text(path: Path, name: str, cell: np.ndarray) -> str:
    value = np.asarray(cell)
    if value.dtype.kind != "U" or value.size > 1:
        raise DataError(f"{path}: variable {name!r}: a cell holds {value.dtype} of shape {value.shape}; "
                        "expected one string per cell")
    return str(value.ravel()[0]).rstrip() if value.size else ""


def _texts(path: Path, name: str, cells: np.ndarray) -> np.ndarray:
    texts = [_cell_text(path, name, c) for c in cells.ravel()]
    return np.asarray(texts, dtype=str).reshape(cells.shape)


def _shaped(path: Path, name: str, value: np.ndarray) -> np.ndarray:
    """A MATLAB value in the shape the NPZ naming expects (vectors flattened), with text as str arrays."""
    if value.dtype.names is not None:
        raise DataError(f"{path}: variable {name!r} is a MATLAB struct; expected a numeric matrix or text")
    if value.dtype == object:
        value = _texts(path, name, value)
    if value.dtype.kind == "U":
        value = np.char.rstrip(value)
    if name in VECTOR_NAMES or name == "wavelength_unit" or (
            name in TARGET_NAMES and value.ndim == 2 and 1 in value.shape):
        return value.ravel()
    return value


def _read_v5(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    import scipy.io  # loaded with the first .mat file: importing the loaders stays cheap
    from scipy.io.matlab import MatReadError

    try:
        found = scipy.io.loadmat(path, chars_as_strings=True)
    except (MatReadError, ValueError, OSError, TypeError) as exc:
        raise SpectraFileError(f"{path}: not a readable MATLAB v5 file ({exc})") from None
    variables, names = {}, [n for n in found if not n.startswith("__")]
    for name, value in found.items():
        if name.startswith("__") or name not in _KNOWN:
            continue
        if not isinstance(value, np.ndarray):
            raise DataError(f"{path}: variable {name!r} is a {type(value).__name__} (sparse?); expected a full "
                            "numeric matrix")
        variables[name] = _shaped(path, name, value)
    return variables, names


def _h5_value(path: Path, root: h5py.File, name: str, data: h5py.Dataset) -> np.ndarray:
    """One v7.3 variable: MATLAB writes column-major, so an n x p matrix is stored as p x n and is transposed."""
    kind = data.attrs.get("MATLAB_class", b"double")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if data.attrs.get("MATLAB_empty", 0):
        return np.empty((0, 0), dtype=str if kind in ("char", "cell") else np.float64)
    value = np.asarray(data[()]).T
    if kind == "char":
        rows = np.atleast_2d(value).astype(np.uint16)
        return np.asarray([row.tobytes().decode("utf-16-le").rstrip() for row in rows], dtype=str)
    if kind == "cell":
        cells = [_h5_value(path, root, name, root[ref]) for ref in value.ravel()]
        return np.asarray([_cell_text(path, name, c) for c in cells], dtype=str).reshape(value.shape)
    if value.dtype.names is not None:
        raise DataError(f"{path}: variable {name!r} is complex; expected real numbers")
    return value.astype(bool) if kind == "logical" else value


def _read_v73(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    import h5py

    variables = {}
    try:
        with h5py.File(path, "r") as root:
            names = [n for n in root if not n.startswith("#")]  # '#refs#' holds the cells' contents
            for name in names:
                if name not in _KNOWN:
                    continue
                item = root[name]
                if not isinstance(item, h5py.Dataset):
                    raise DataError(f"{path}: variable {name!r} is a MATLAB struct or object; expected a numeric "
                                    "matrix or text")
                variables[name] = _shaped(path, name, _h5_value(path, root, name, item))
    except (OSError, KeyError, ValueError) as exc:
        raise SpectraFileError(f"{path}: not a readable MATLAB v7.3 (HDF5) file ({exc})") from None
    return variables, names


def read_mat_parts(path: str | Path) -> SpectraParts:
    """Read a MATLAB ``.mat`` file (v5, or v7.3 detected from its header); see the module docstring for names.

    Raises
    ------
    SpectraFileError
        A truncated or corrupt file, or no ``X``/``spectra``/``X_train`` variable (the message lists the
        variables found).
    DataError
        A variable of the wrong shape or kind (struct, sparse, complex, a cell that is not text).
    """
    path = Path(path)
    variables, names = _read_v73(path) if mat_version(path) == "7.3" else _read_v5(path)
    if not any(n in variables for n in (*SPECTRA_NAMES, "X_train")):
        raise SpectraFileError(f"{path}: no 'X', 'spectra' or 'X_train' variable; variables found: {sorted(names)}")
    return parts_from_arrays(str(path), variables, kind="variables")
