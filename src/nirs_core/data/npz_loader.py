"""NumPy ``.npz`` archives, arrays named as in :mod:`nirs_core.data.array_parts`, read with ``allow_pickle=False``."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from nirs_core.data.array_parts import parts_from_arrays
from nirs_core.data.errors import SpectraFileError
from nirs_core.data.parts import SpectraParts

# What numpy and zipfile raise on a file that is empty, truncated, corrupt or not an archive at all.
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def read_npz_parts(path: str | Path) -> SpectraParts:
    """Read an ``.npz`` archive: ``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``sample_ids``,
    ``partition``, ``target_names``, ``wavelength_unit``; or ``X_train``/``y_train``/``X_test``/``y_test``.

    Raises
    ------
    SpectraFileError
        The file is missing, empty, truncated, not a zip archive of arrays (a single ``.npy`` array too), or holds
        object arrays (which would need pickle).
    DataError
        An array of the wrong shape or kind; the message names it.
    """
    path = Path(path)
    if path.is_dir():
        raise SpectraFileError(f"{path}: is a directory, expected an .npz archive")
    try:
        if path.stat().st_size == 0:
            raise SpectraFileError(f"{path}: empty file (0 bytes), expected an .npz archive")
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise SpectraFileError(f"{path}: a single .npy array, not an .npz archive of named arrays "
                                   "(save with numpy.savez(path, X=..., y=...))")
        with loaded as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except _UNREADABLE as exc:
        raise SpectraFileError(f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    return parts_from_arrays(str(path), arrays)
