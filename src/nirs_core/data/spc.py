"""Thermo/Galactic SPC files (the new LSB format, version byte 0x4B), read from the published layout.

A file is a 512-byte main header, an optional shared X array, then ``fnsub`` subfiles, each a 32-byte subfile
header and its Y values (and, in ``-XYXY`` files, its own X values before them). Y values are float32, or
integers scaled by ``2**(exponent - 32)`` (``2**(exponent - 16)`` for 16-bit data). Without an X array the axis
is ``ffirst..flast`` in ``fnpts`` equal steps. Log blocks are not read.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.file_series import Axis, check_unique_ids, files_in, shared_axis
from nirs_core.data.parts import SpectraParts

SPC_SUFFIXES = (".spc",)
MAIN_HEADER = struct.Struct("<BBBbiddiBBBBi9s9sh32s130s30siiBBhf48sfifB187s")
MainHeader = namedtuple("MainHeader", "ftflgs fversn fexper fexp fnpts ffirst flast fnsub fxtype fytype fztype fpost "
                        "fdate fres fsource fpeakpt fspare fcmnt fcatxt flogoff fmods fprocs flevel fsampin ffactor "
                        "fmethod fzinc fwplanes fwinc fwtype freserv")
SUB_HEADER = struct.Struct("<Bbhfffiif4s")
SubHeader = namedtuple("SubHeader", "subflgs subexp subindx subtime subnext subnois subnpts subscan subwlevel subresv")
NEW_LSB, NEW_MSB, OLD = 0x4B, 0x4C, 0x4D
TSPREC, TMULTI, TXYXYS, TXVALS = 0x01, 0x04, 0x40, 0x80
FLOAT_EXPONENT = -128  # exponent byte 0x80: the Y values are float32
# fxtype codes that are spectral axes; micrometres become nanometres, arbitrary (0) leaves the unit to the values.
_X_UNITS: dict[int, str | None] = {0: None, 1: "cm-1", 2: "um", 3: "nm"}


@dataclass(frozen=True, eq=False)
class SpcFile:
    """What one SPC file holds: its subfiles' Y values on one axis, and its comment."""

    source: str
    x: np.ndarray
    x_unit: str | None  # "nm", "cm-1", "um" or None (arbitrary)
    y: np.ndarray  # (n_subfiles, n_points)
    comment: str


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


class _Reader:
    """Reads the values of a file's bytes at a moving offset, naming what was truncated."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data, self.offset = path, data, MAIN_HEADER.size

    def take(self, count: int, dtype: str, what: str) -> np.ndarray:
        size = count * np.dtype(dtype).itemsize
        if self.offset + size > len(self.data):
            raise SpectraFileError(f"{self.path}: truncated: {what} needs {size} bytes at byte {self.offset}, the "
                                   f"file has {len(self.data)} bytes")
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += size
        return values

    def sub_header(self, index: int) -> SubHeader:
        if self.offset + SUB_HEADER.size > len(self.data):
            raise SpectraFileError(f"{self.path}: truncated: subfile {index + 1}'s header at byte {self.offset} is "
                                   f"past the end of the file ({len(self.data)} bytes)")
        header = SubHeader(*SUB_HEADER.unpack_from(self.data, self.offset))
        self.offset += SUB_HEADER.size
        return header


def _y(reader: _Reader, count: int, exponent: int, short: bool, what: str) -> np.ndarray:
    if exponent == FLOAT_EXPONENT:
        return reader.take(count, "<f4", what).astype(np.float64)
    if short:
        return reader.take(count, "<i2", what) * 2.0 ** (exponent - 16)
    return reader.take(count, "<i4", what) * 2.0 ** (exponent - 32)


def _check_version(path: Path, data: bytes) -> None:
    if len(data) < MAIN_HEADER.size:
        raise SpectraFileError(f"{path}: {len(data)} bytes, shorter than the 512-byte SPC header (truncated, or "
                               "not an SPC file)")
    version = data[1]
    if version == NEW_MSB:
        raise SpectraFileError(f"{path}: big-endian SPC (version byte 0x4C) is not supported; expected 0x4B")
    if version == OLD:
        raise SpectraFileError(f"{path}: old-format SPC (version byte 0x4D) is not supported; expected 0x4B "
                               "(re-save it from a current Galactic/Thermo program)")
    if version != NEW_LSB:
        raise SpectraFileError(f"{path}: version byte 0x{version:02X} is not an SPC version; expected 0x4B")


def read_spc(path: str | Path) -> SpcFile:
    """Read one SPC file: single or multi-file, Y with an even X axis, XY (one X array) or -XYXY.

    Raises
    ------
    SpectraFileError
        Not an SPC file, an unsupported version, a truncated file (naming what is missing and where), a point
        count that is not positive, or -XYXY subfiles on different axes.
    DataError
        An x axis that is not a wavelength or wavenumber (seconds, m/z, ...).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SpectraFileError(f"{path}: is a directory, expected an SPC file") from None
    _check_version(path, data)
    head = MainHeader(*MAIN_HEADER.unpack_from(data, 0))
    flags, exponent, npoints, nsub, xtype = head.ftflgs, head.fexp, head.fnpts, head.fnsub, head.fxtype
    if xtype not in _X_UNITS:
        raise DataError(f"{path}: x axis type code {xtype} is not a wavelength or wavenumber; expected one of "
                        "0 (arbitrary), 1 (cm-1), 2 (micrometres), 3 (nm)")
    multi, xyxy = bool(flags & TMULTI), bool(flags & TXYXYS) and bool(flags & TMULTI)
    nsub = nsub if multi else 1
    if nsub < 1 or (not xyxy and npoints < 1):
        raise SpectraFileError(f"{path}: header gives {nsub} subfiles of {npoints} points; expected positive counts")
    reader = _Reader(path, data)
    x = reader.take(npoints, "<f4", "the X array").astype(np.float64) if flags & TXVALS and not xyxy else \
        np.linspace(head.ffirst, head.flast, npoints)
    axes, rows = [], []
    for k in range(nsub):
        sub = reader.sub_header(k)
        count = sub.subnpts if xyxy else npoints
        if count < 1:
            raise SpectraFileError(f"{path}: subfile {k + 1} has {count} points; expected a positive count")
        if xyxy:
            axes.append(reader.take(count, "<f4", f"subfile {k + 1}'s X values").astype(np.float64))
        y_exponent = FLOAT_EXPONENT if exponent == FLOAT_EXPONENT else sub.subexp if multi else exponent
        rows.append(_y(reader, count, y_exponent, bool(flags & TSPREC), f"subfile {k + 1}'s Y values"))
    if xyxy:
        x = _xyxy_axis(path, axes)
    return SpcFile(source=str(path), x=x, x_unit=_X_UNITS[xtype], y=np.vstack(rows), comment=_text(head.fcmnt))


def _xyxy_axis(path: Path, axes: list[np.ndarray]) -> np.ndarray:
    for k, axis in enumerate(axes[1:], start=2):
        if axis.shape != axes[0].shape or not np.allclose(axis, axes[0], rtol=1e-9, atol=0.0):
            raise SpectraFileError(f"{path}: subfile {k}'s X values differ from subfile 1's; expected every "
                                   "subfile on one axis")
    return axes[0]


def _axis(spc: SpcFile) -> Axis:
    if spc.x_unit == "um":
        return spc.x * 1000.0, "nm"
    return spc.x, spc.x_unit


def read_spc_parts(path: str | Path) -> SpectraParts:
    """Read an SPC file, or a folder of ``*.spc`` files, one sample per subfile.

    Sample ids are the file stems (``stem:k`` for the k-th subfile of a multi-file); ``metadata["title"]`` is
    the file's comment (``fcmnt``), or its stem when the comment is empty. Targets are empty (join them with
    ``targets_file``). A micrometre axis is converted to nanometres.
    """
    path = Path(path)
    files = files_in(path, lambda p: p.suffix.lower() in SPC_SUFFIXES, "SPC files (*.spc)") if path.is_dir() \
        else [path]
    check_unique_ids(files, [f.stem for f in files])
    read = [read_spc(file) for file in files]
    axis, unit = shared_axis(files, [_axis(s) for s in read])
    ids, titles = [], []
    for file, spc in zip(files, read, strict=True):
        n = spc.y.shape[0]
        ids += [file.stem] if n == 1 else [f"{file.stem}:{k}" for k in range(1, n + 1)]
        titles += [spc.comment or file.stem] * n
    matrix = np.vstack([s.y for s in read])
    matrix.setflags(write=False)
    return SpectraParts(source=str(path), spectra=matrix, wavelengths=axis, wavelength_unit=unit,
                        sample_ids=np.asarray(ids, dtype=str), metadata={"title": np.asarray(titles, dtype=str)})
