"""One entry point for spectra files and folders: detect the format, read SpectraParts, validate a dataset."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from nirs_core.data.dataset import SpectraDataset
from nirs_core.data.errors import DataError, MissingColumnError, SpectraFileError
from nirs_core.data.folder_loader import read_folder_parts
from nirs_core.data.from_parts import NonFinite, dataset_from_parts
from nirs_core.data.jcamp import JCAMP_SUFFIXES, read_jcamp_parts
from nirs_core.data.load_options import check_options
from nirs_core.data.mat_loader import read_mat_parts
from nirs_core.data.npz_loader import read_npz_parts
from nirs_core.data.opus import is_opus_name, read_opus_parts
from nirs_core.data.parts import SpectraParts
from nirs_core.data.reference_join import JoinOn, join_reference_values
from nirs_core.data.spc import SPC_SUFFIXES, read_spc_parts
from nirs_core.data.table_loader import ColumnRoles, read_csv_parts, read_parquet_parts
from nirs_core.data.xlsx_loader import XLSX_SUFFIXES, read_xlsx_parts

FileFormat = Literal["csv", "parquet", "npz", "nirs4all", "jcamp", "xlsx", "mat", "opus", "spc"]
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "parquet", "npz", "nirs4all", "jcamp", "xlsx", "mat", "opus", "spc")
_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".npz": "npz",
    **dict.fromkeys(JCAMP_SUFFIXES, "jcamp"), **dict.fromkeys(XLSX_SUFFIXES, "xlsx"), ".mat": "mat",
    **dict.fromkeys(SPC_SUFFIXES, "spc"),
}
# Folders of one spectrum per file, by what their files are called (OPUS files are numbered: sample.0, sample.1).
_FOLDER_FORMATS: tuple[tuple[FileFormat, str, Callable[[Path], bool]], ...] = (
    ("jcamp", "JCAMP-DX", lambda p: p.suffix.lower() in JCAMP_SUFFIXES),
    ("spc", "SPC", lambda p: p.suffix.lower() in SPC_SUFFIXES),
    ("opus", "OPUS", is_opus_name),
)


def detect_format(path: Path) -> FileFormat | Literal["delta"]:
    """The format of a file (by suffix) or a folder (by what it holds)."""
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return "delta"
        names = [p.name.lower() for p in path.iterdir()]
        if any(n.startswith("x") and (n.endswith(".csv") or n.endswith(".csv.gz")) for n in names):
            return "nirs4all"
        files = [p for p in path.iterdir() if p.is_file()]
        for fmt, _, accepts in _FOLDER_FORMATS:
            if any(accepts(p) for p in files):
                return fmt
        kinds = ", ".join(name for _, name, _ in _FOLDER_FORMATS)
        raise DataError(f"{path}: a folder of neither nirs4all X/Y/M files, {kinds} files nor a Delta table; "
                        f"it holds {sorted(names)[:10]}")
    if not path.exists():
        raise SpectraFileError(f"{path}: file not found")
    suffix = path.suffixes[-2] if path.suffix == ".gz" and len(path.suffixes) > 1 else path.suffix
    if is_opus_name(path):
        return "opus"
    try:
        return _SUFFIXES[suffix.lower()]
    except KeyError:
        raise DataError(f"{path}: unknown file type {suffix!r}; name the format, one of {list(FILE_FORMATS)}") from None


def load_parts(
    path: str | Path, *, format: FileFormat | None = None, targets: Sequence[str] = (), id_column: str | None = None,
    partition_column: str | None = None, metadata_columns: Sequence[str] = (),
    wavelengths: Sequence[float] | None = None, wavelength_unit: str | None = None, delimiter: str | None = None,
    header: bool | None = None, decimal: str | None = None, sheet: str | None = None,
    targets_file: str | Path | None = None, join_on: JoinOn = "title", targets_key: str | None = None,
    detect_columns: bool = True, not_spectral: Sequence[str] = (),
) -> SpectraParts:
    """Read ``path`` in ``format`` (detected when None).

    ``detect_columns``: a wide table's conventional id and partition columns are used when none is named
    (:mod:`nirs_core.data.table_loader`); ``not_spectral``: columns a wide table may have that are never spectra.

    Column options apply to wide tables (CSV, Parquet, xlsx; ``sheet`` picks an xlsx sheet, default the first).
    ``targets_file`` joins a CSV of reference values to the spectra (see
    :mod:`nirs_core.data.reference_join`): each spectrum's ``title`` or ``sample_id`` (``join_on``) is looked up
    in the CSV's ``targets_key`` column (default its first); ``targets`` then names columns of that CSV.

    An option the format does not read is an ``UnusedOptionError`` (:mod:`nirs_core.data.load_options`);
    ``wavelengths``/``wavelength_unit`` replace the axis of npz, mat and nirs4all files (a note says so).
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt not in FILE_FORMATS:
        raise DataError(f"{path}: format {fmt!r} is not a file format of nirs_core.data; formats are "
                        f"{list(FILE_FORMATS)} (Delta tables load through nirdag.load_dataset)")
    check_options(str(path), fmt, {
        "id_column": id_column, "partition_column": partition_column, "metadata_columns": metadata_columns,
        "detect_columns": detect_columns, "wavelengths": wavelengths, "wavelength_unit": wavelength_unit,
        "delimiter": delimiter, "header": header, "decimal": decimal, "sheet": sheet, "targets_file": targets_file,
        "join_on": join_on, "targets_key": targets_key})
    table_targets = () if targets_file is not None else tuple(targets)
    roles = ColumnRoles(table_targets, id_column, partition_column, tuple(metadata_columns), detect=detect_columns,
                        not_spectral=tuple(not_spectral))
    parts = _read(path, fmt, roles,
                  wavelengths=wavelengths, wavelength_unit=wavelength_unit, delimiter=delimiter, header=header,
                  decimal=decimal, sheet=sheet)
    if targets_file is not None:
        parts = join_reference_values(parts, targets_file, join_on=join_on, key_column=targets_key,
                                      targets=targets)
    missing = [t for t in targets if t not in parts.targets]
    if missing:
        raise MissingColumnError(f"{path}: no target(s) {missing}; targets found: {sorted(parts.targets)}")
    return parts


def _read(path: Path, fmt: FileFormat, roles: ColumnRoles, *, wavelengths: Sequence[float] | None,
          wavelength_unit: str | None, delimiter: str | None, header: bool | None, decimal: str | None,
          sheet: str | None) -> SpectraParts:
    if fmt == "csv":
        return read_csv_parts(path, roles, delimiter=delimiter, wavelengths=wavelengths,
                              wavelength_unit=wavelength_unit, decimal=decimal)
    if fmt == "parquet":
        return read_parquet_parts(path, roles, wavelengths=wavelengths, wavelength_unit=wavelength_unit)
    if fmt == "xlsx":
        return read_xlsx_parts(path, roles, sheet=sheet, wavelengths=wavelengths, wavelength_unit=wavelength_unit)
    if fmt == "nirs4all":
        return _with_axis(read_folder_parts(path, header=header, delimiter=delimiter), wavelengths, wavelength_unit)
    if fmt in ("npz", "mat"):
        parts = read_npz_parts(path) if fmt == "npz" else read_mat_parts(path)
        return _with_axis(parts, wavelengths, wavelength_unit)
    readers = {"jcamp": read_jcamp_parts, "opus": read_opus_parts, "spc": read_spc_parts}
    return readers[fmt](path)


def _with_axis(parts: SpectraParts, wavelengths: Sequence[float] | None, unit: str | None) -> SpectraParts:
    """``parts`` with the axis and unit the caller gave in place of the file's (a note says which were replaced)."""
    if wavelengths is None and unit is None:
        return parts
    notes = [*parts.notes]
    if wavelengths is not None:
        notes.append("axis from wavelengths=" + (" (the file's own axis replaced)" if parts.wavelengths is not None
                                                 else ""))
    if unit is not None and parts.wavelength_unit not in (None, unit) and wavelengths is None:
        notes.append(f"wavelength_unit={unit!r} (the file says {parts.wavelength_unit!r})")
    return replace(parts, wavelengths=np.asarray(wavelengths, dtype=np.float64) if wavelengths is not None
                   else parts.wavelengths, wavelength_unit=unit if unit is not None else
                   None if wavelengths is not None else parts.wavelength_unit, notes=tuple(notes))


def load_csv(
    path: str | Path, *, targets: Sequence[str], id_column: str | None = None, partition_column: str | None = None,
    metadata_columns: Sequence[str] = (), wavelengths: Sequence[float] | None = None,
    wavelength_unit: str | None = None, delimiter: str | None = None, name: str | None = None,
    on_nonfinite: NonFinite = "error", decimal: str | None = None,
) -> SpectraDataset:
    """Load a wide CSV/TSV (see :mod:`nirs_core.data.table_loader` for how columns get their roles; the delimiter and
    a decimal comma are detected unless given)."""
    parts = load_parts(path, format="csv", targets=targets, id_column=id_column, partition_column=partition_column,
                       metadata_columns=metadata_columns, wavelengths=wavelengths, wavelength_unit=wavelength_unit,
                       delimiter=delimiter, decimal=decimal)
    return dataset_from_parts(parts, name=name or Path(path).name.split(".")[0], on_nonfinite=on_nonfinite)
