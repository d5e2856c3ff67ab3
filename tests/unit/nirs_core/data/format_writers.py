"""Writers of small test files in the binary formats nirdag reads but no installed package writes: Bruker OPUS
(the block layout brukeropus parses), Thermo/Galactic SPC (the published new-format layout) and MATLAB v7.3
(HDF5 behind the 512-byte MAT header, arrays stored column-major, text as uint16 ``char`` or ``cell`` references)."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

# --- OPUS -----------------------------------------------------------------------------------------------------

OPUS_MAGIC = b"\n\n\xfe\xfe"
DIRECTORY = (0, 0, 0, 13, 0, 0)
AB_DATA, AB_STATUS = (3, 3, 0, 4, 0, 0), (3, 3, 1, 4, 0, 0)
TR_DATA, TR_STATUS = (3, 3, 0, 5, 0, 0), (3, 3, 1, 5, 0, 0)
SAMPLE_ORIGIN = (0, 0, 10, 0, 0, 0)


def opus_type(code: Sequence[int]) -> int:
    """The directory's int32 of a six-integer block type (bit fields 2, 2, 6, 7, 2, 3 wide)."""
    t0, t1, t2, t3, t4, t5 = code
    return t0 | t1 << 2 | t2 << 4 | t3 << 10 | t4 << 17 | t5 << 19


def opus_params(values: Mapping[str, int | float | str]) -> bytes:
    """A parameter block: per entry a 3-letter key + NUL, int16 type (0 int, 1 float, 2 string), int16 size in
    2-byte words, the value; closed by ``END``."""
    out = bytearray()
    for key, value in values.items():
        if isinstance(value, int):
            kind, raw = 0, struct.pack("<i", value)
        elif isinstance(value, float):
            kind, raw = 1, struct.pack("<d", value)
        else:
            text = value.encode("latin-1") + b"\x00"
            kind, raw = 2, text + b"\x00" * (-len(text) % 4)
        out += key.encode("ascii") + b"\x00" + struct.pack("<hh", kind, len(raw) // 2) + raw
    return bytes(out + b"END\x00" + struct.pack("<hh", 0, 0))


def opus_bytes(blocks: Sequence[tuple[Sequence[int], bytes]]) -> bytes:
    """A whole OPUS file: magic, version, directory pointer and counts, the directory, then each block."""
    max_blocks = len(blocks) + 1
    directory_start = 24
    offset = directory_start + 12 * max_blocks
    entries, body = [(DIRECTORY, 3 * max_blocks, directory_start)], bytearray()
    for code, raw in blocks:
        raw = raw + b"\x00" * (-len(raw) % 4)
        entries.append((code, len(raw) // 4, offset + len(body)))
        body += raw
    header = OPUS_MAGIC + struct.pack("<diii", 20201020.0, directory_start, max_blocks, len(entries))
    directory = b"".join(struct.pack("<iii", opus_type(code), size, start) for code, size, start in entries)
    return header + directory + bytes(body)


def write_opus(path: Path, axis: np.ndarray, y: np.ndarray, *, sample_name: str | None = None,
               data: tuple[Sequence[int], Sequence[int]] = (AB_DATA, AB_STATUS), unit: str = "WN") -> Path:
    values = np.asarray(y, dtype=np.float32)
    status = opus_params({"DPF": 1, "NPT": int(values.size), "FXV": float(axis[0]), "LXV": float(axis[-1]),
                          "CSF": 1.0, "MXY": float(values.max()), "MNY": float(values.min()), "DXU": unit,
                          "DAT": "03/12/2026", "TIM": "10:00:00.000 (GMT+0)"})
    blocks = [(data[1], status), (data[0], values.tobytes())]
    if sample_name is not None:
        blocks.append((SAMPLE_ORIGIN, opus_params({"SNM": sample_name})))
    path.write_bytes(opus_bytes(blocks))
    return path


# --- SPC ------------------------------------------------------------------------------------------------------

SPC_MAIN = struct.Struct("<BBBbiddiBBBBi9s9sh32s130s30siiBBhf48sfifB187s")
SPC_SUB = struct.Struct("<Bbhfffiif4s")
TSPREC, TMULTI, TXYXYS, TXVALS = 0x01, 0x04, 0x40, 0x80


def _spc_main(flags: int, exponent: int, npoints: int, first: float, last: float, nsub: int, xtype: int,
              comment: str, version: int = 0x4B) -> bytes:
    return SPC_MAIN.pack(flags, version, 0, exponent, npoints, first, last, nsub, xtype, 0, 0, 0, 0, b"", b"",
                         0, b"", comment.encode("latin-1"), b"", 0, 0, 0, 0, 0, 0.0, b"", 0.0, 0, 0.0, 0, b"")


def _spc_y(y: np.ndarray, exponent: int, short: bool) -> bytes:
    if exponent == -128:
        return np.asarray(y, dtype="<f4").tobytes()
    scale = 2.0 ** ((16 if short else 32) - exponent)
    return np.round(np.asarray(y) * scale).astype("<i2" if short else "<i4").tobytes()


def write_spc(path: Path, axis: np.ndarray, Y: np.ndarray, *, layout: str = "y", exponent: int = -128,
              short: bool = False, xtype: int = 3, comment: str = "", version: int = 0x4B) -> Path:
    """An SPC file of the rows of ``Y`` on ``axis``: ``layout`` "y" (even X from first/last), "xy" (one X array)
    or "xyxy" (an X array per subfile); float32 Y (exponent -128) or scaled integers."""
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    n, p = Y.shape
    flags = (TMULTI if n > 1 or layout == "xyxy" else 0) | (TSPREC if short else 0)
    flags |= {"y": 0, "xy": TXVALS, "xyxy": TXVALS | TXYXYS | TMULTI}[layout]
    out = bytearray(_spc_main(flags, exponent, 0 if layout == "xyxy" else p, float(axis[0]), float(axis[-1]), n,
                              xtype, comment, version))
    if layout == "xy":
        out += np.asarray(axis, dtype="<f4").tobytes()
    for k, row in enumerate(Y):
        out += SPC_SUB.pack(0, exponent, k, 0.0, 0.0, 0.0, p if layout == "xyxy" else 0, 0, 0.0, b"")
        if layout == "xyxy":
            out += np.asarray(axis, dtype="<f4").tobytes()
        out += _spc_y(row, exponent, short)
    path.write_bytes(bytes(out))
    return path


# --- MATLAB v7.3 ----------------------------------------------------------------------------------------------


def _mat73_dataset(root: h5py.File, name: str, value: object) -> None:
    if isinstance(value, str):
        codes = np.frombuffer(value.encode("utf-16-le"), dtype="<u2").reshape(-1, 1)  # 1xN char -> stored Nx1
        attrs = root.create_dataset(name, data=codes).attrs
        attrs.update({"MATLAB_class": np.bytes_(b"char"), "MATLAB_int_decode": np.int32(2)})
        return
    array = np.asarray(value)
    if array.dtype.kind == "U":  # a cell array of strings, 1xN (stored Nx1 references into #refs#)
        refs = root.require_group("#refs#")
        cells = []
        for i, text in enumerate(array.ravel()):
            _mat73_dataset(refs, f"{name}_{i}", str(text))
            cells.append(refs[f"{name}_{i}"].ref)
        ds = root.create_dataset(name, data=np.asarray(cells, dtype=h5py.ref_dtype).reshape(-1, 1),
                                 dtype=h5py.ref_dtype)
        ds.attrs["MATLAB_class"] = np.bytes_(b"cell")  # fixed-length ASCII, as MATLAB writes it
        return
    matrix = np.atleast_2d(array) if array.ndim < 2 else array
    root.create_dataset(name, data=matrix.T).attrs["MATLAB_class"] = np.bytes_(b"double")


def write_mat73(path: Path, variables: Mapping[str, object]) -> Path:
    """A MATLAB v7.3 file: an HDF5 file with a 512-byte user block whose first 128 bytes are the MAT header."""
    with h5py.File(path, "w", userblock_size=512) as root:
        for name, value in variables.items():
            _mat73_dataset(root, name, value)
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Dec  3 10:00:00 2026 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\x00" * 8 + struct.pack("<H", 0x0200) + b"IM"
    with path.open("r+b") as fh:
        fh.write(header)
    return path


# --- the reference dataset every format is compared with, written as the wide CSV ---------------------------

AXIS_NM = np.array([1100.0, 1102.0, 1104.0, 1106.0, 1108.0])
SPECTRA = np.array([[k / 64 + j / 1024 for j in range(5)] for k in range(6)])  # float32-exact values
IDS = np.array(["s1", "s2", "s3", "s4", "s5", "s6"])
FAT = np.array([10.5, 12.25, 9.0, 14.75, 11.5, 13.0])
PARTITION = np.array(["train", "train", "train", "train", "test", "test"])
REFS = "name,fat,partition\ns1,10.5,train\ns2,12.25,train\ns3,9.0,train\ns4,14.75,train\ns5,11.5,test\ns6,13.0,test\n"


def write_reference_csv(path: Path, axis: np.ndarray = AXIS_NM, spectra: np.ndarray = SPECTRA,
                        ids: np.ndarray = IDS, fat: np.ndarray | None = FAT,
                        partition: np.ndarray | None = PARTITION) -> Path:
    """The wide CSV of the reference dataset: id, partition, fat, then one column per wavelength."""
    head = ["id", *(["partition"] if partition is not None else []), *(["fat"] if fat is not None else []),
            *(f"{w:g}" for w in axis)]
    lines = [",".join(head)]
    for i, row in enumerate(spectra):
        cells = [str(ids[i]), *([str(partition[i])] if partition is not None else []),
                 *([repr(float(fat[i]))] if fat is not None else []), *(repr(float(v)) for v in row)]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jcamp(path: Path, axis: np.ndarray, y: np.ndarray, title: str) -> Path:
    """A JCAMP-DX 5.01 file of one spectrum as ``##XYPOINTS=(XY..XY)`` AFFN pairs (values written exactly)."""
    pairs = "\n".join(f"{float(x)!r}, {float(v)!r}" for x, v in zip(axis, y, strict=True))
    path.write_text(f"##TITLE={title}\n##JCAMP-DX=5.01\n##DATA TYPE=NEAR INFRARED SPECTRUM\n##XUNITS=NANOMETERS\n"
                    f"##YUNITS=ABSORBANCE\n##XFACTOR=1\n##YFACTOR=1\n##FIRSTX={float(axis[0])!r}\n##LASTX={float(axis[-1])!r}\n"
                    f"##NPOINTS={len(axis)}\n##XYPOINTS=(XY..XY)\n{pairs}\n##END=\n", encoding="ascii")
    return path
