"""Bruker OPUS binary files through ``brukeropus``: one file is one spectrum, its absorbance (AB) block."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
from brukeropus import read_opus

from nirs_core.data.errors import SpectraFileError
from nirs_core.data.file_series import Axis, files_in, shared_axis
from nirs_core.data.parts import SpectraParts

OPUS_SUFFIX = re.compile(r"\.\d+")  # OPUS numbers its files: sample.0, sample.1, ...
ABSORBANCE = "a"  # brukeropus' key of the absorbance (AB) data block
_WAVENUMBER_UNITS = ("WN", "MI", "LGW")  # x units brukeropus converts to wavenumbers (``Data.wn``)


def is_opus_name(path: Path) -> bool:
    """Whether the file name ends like an OPUS file's (``.0``, ``.1``, ``.1001``...)."""
    return OPUS_SUFFIX.fullmatch(path.suffix) is not None


def _check_complete(path: Path, blocks: list[dict]) -> None:
    """Every block the directory lists ends inside the file (brukeropus reads a cut block as a shorter one)."""
    size = path.stat().st_size
    for block in blocks:
        if block["start"] + block["size"] > size:
            raise SpectraFileError(f"{path}: truncated: the {block['type'].get_label()!r} block ends at byte "
                                   f"{block['start'] + block['size']}, the file has {size} bytes")


def read_opus_spectrum(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """The absorbance spectrum of one OPUS file: wavenumbers (cm-1), values, and the sample name (``SNM``, or the
    file stem when the file has none).

    Raises
    ------
    SpectraFileError
        Not an OPUS file, a truncated or corrupt one, no absorbance block (the data blocks found are listed), or an
        x unit that is not a wavenumber or wavelength.
    """
    if not path.is_file():
        raise SpectraFileError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    try:
        opus = read_opus(str(path))
    except (struct.error, ValueError, IndexError, KeyError, TypeError) as exc:
        raise SpectraFileError(f"{path}: not a readable OPUS file, truncated or corrupt ({exc})") from None
    if not opus:
        raise SpectraFileError(f"{path}: not an OPUS file (it does not start with the OPUS magic bytes)")
    _check_complete(path, opus.directory.toc)
    if ABSORBANCE not in opus.data_keys:
        broken = " (some data blocks are cut short: truncated or corrupt?)" if opus.unmatched_data_blocks else ""
        raise SpectraFileError(f"{path}: no absorbance (AB) block{broken}; data blocks found: "
                               f"{opus.all_data_keys}")
    data = getattr(opus, ABSORBANCE)
    if data.dxu not in _WAVENUMBER_UNITS:
        raise SpectraFileError(f"{path}: absorbance x unit {data.dxu!r} is not a wavenumber or wavelength; "
                               f"expected one of {list(_WAVENUMBER_UNITS)}")
    name = getattr(opus.params, "snm", "")  # Parameters raises AttributeError for a key the file lacks
    return np.asarray(data.wn, dtype=np.float64), np.asarray(data.y, dtype=np.float64), str(name).strip()


def read_opus_parts(path: str | Path) -> SpectraParts:
    """Read an OPUS file, or a folder of them (the files named ``*.<digits>`` directly in it, in name order).

    Sample ids are the file names (``wheat_01.0``: the number counts repeated measurements of one sample);
    ``metadata["title"]`` holds each sample name (``SNM``) or the file stem. The axis is in wavenumbers (cm-1).
    Targets are empty (join them with ``targets_file``).
    """
    path = Path(path)
    files = files_in(path, is_opus_name, "OPUS files (*.0, *.1, ...)") if path.is_dir() else [path]
    read = [read_opus_spectrum(file) for file in files]
    axes: list[Axis] = [(x, "cm-1") for x, _, _ in read]
    axis, unit = shared_axis(files, axes)
    matrix = np.vstack([y for _, y, _ in read])
    matrix.setflags(write=False)
    return SpectraParts(
        source=str(path), spectra=matrix, wavelengths=axis, wavelength_unit=unit,
        sample_ids=np.asarray([f.name for f in files], dtype=str),
        metadata={"title": np.asarray([name or f.stem for f, (_, _, name) in zip(files, read, strict=True)],
                                      dtype=str)},
    )
