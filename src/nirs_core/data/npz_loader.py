"""NumPy ``.npz`` archives, arrays named as in :mod:`nirs_core.data.array_parts`, read with ``allow_pickle=False``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nirs_core.data.array_parts import parts_from_arrays
from nirs_core.data.errors import SpectraFileError
from nirs_core.data.parts import SpectraParts


def read_npz_parts(path: str | Path) -> SpectraParts:
    """Read an ``.npz`` archive: ``X`` (or ``spectra``), optional ``y``, ``wavelengths``, ``sample_ids``,
    ``partition``, ``target_names``, ``wavelength_unit``; or ``X_train``/``y_train``/``X_test``/``y_test``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except (ValueError, OSError) as exc:
        raise SpectraFileError(f"{path}: not a readable .npz archive ({exc})") from None
    return parts_from_arrays(str(path), arrays)
