"""Strict loader for wide spectra CSV files: one row per sample, one column per wavelength."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nirdag.data.dataset import SpectraDataset, WavelengthUnit
from nirdag.data.errors import EmptyDatasetError, MissingColumnError, SpectraFileError


def _read_header(path: Path, delimiter: str) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh, delimiter=delimiter), None)
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise SpectraFileError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    if not header:
        raise EmptyDatasetError(f"{path}: file is empty (no header row)")
    return [c.strip() for c in header]


def _file_line(path: Path, delimiter: str, data_index: int) -> int:
    """File line number (header = 1) of the ``data_index``-th data row; blank lines are skipped like Arrow does."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        seen = -1
        for row in reader:
            if row:
                seen += 1
                if seen == data_index:
                    return reader.line_num
    return data_index + 2


def _numeric_column(path: Path, table: pa.Table, name: str, delimiter: str, *, empty_is_nan: bool) -> np.ndarray:
    """Convert one string column to float64, naming file, row and column of the first bad cell.

    Surrounding whitespace is ignored. Empty cells are NaN when ``empty_is_nan`` (targets), errors otherwise.
    """
    column = pc.utf8_trim_whitespace(table.column(name))
    if empty_is_nan:
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    try:
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for i, cell in enumerate(column.to_pylist()):
        try:
            pc.cast(pa.array([cell], pa.string()), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise SpectraFileError(
                f"{path}: row {_file_line(path, delimiter, i)} (data row {i + 1}), column {name!r}: "
                f"expected a number, got {cell!r}"
            ) from None
    raise SpectraFileError(f"{path}: column {name!r} could not be read as numbers")


def _column_values(path: Path, table: pa.Table, columns: Sequence[str], delimiter: str, *,
                   empty_is_nan: bool = False) -> np.ndarray:
    stacked = np.column_stack(
        [_numeric_column(path, table, c, delimiter, empty_is_nan=empty_is_nan) for c in columns]
    )
    stacked.setflags(write=False)  # handed to SpectraDataset without a copy
    return stacked


def load_csv(
    path: str | Path,
    *,
    targets: Sequence[str],
    id_column: str | None = None,
    partition_column: str | None = None,
    wavelengths: Sequence[float] | None = None,
    wavelength_unit: WavelengthUnit | None = None,
    delimiter: str = ",",
    name: str | None = None,
) -> SpectraDataset:
    """Load a wide CSV: every column that is not the id, a target or the partition is a spectral column.

    Spectral column names are parsed as the wavelength axis unless ``wavelengths`` is given; if they are not
    numbers and no axis is given, the axis is the column index (unit ``index``). Rows without a partition column
    are all ``train``. Empty target cells become NaN.

    Raises
    ------
    SpectraFileError
        Unreadable file or a non-numeric cell (the message names file, row and column).
    MissingColumnError
        A named target/id/partition column is absent.
    EmptyDatasetError
        No data rows or no spectral columns.
    """
    path = Path(path)
    header = _read_header(path, delimiter)
    required = [*targets, *(c for c in (id_column, partition_column) if c is not None)]
    missing = [c for c in required if c not in header]
    if missing:
        raise MissingColumnError(f"{path}: missing column(s) {missing}; columns found: {header[:12]}"
                                 + (" ..." if len(header) > 12 else ""))
    if len(set(header)) != len(header):
        raise SpectraFileError(f"{path}: duplicate column names in the header")
    spectral = [c for c in header if c not in required]
    if not spectral:
        raise EmptyDatasetError(f"{path}: no spectral columns (all columns are ids, targets or partition)")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}),
        )
    except pa.ArrowInvalid as exc:
        raise SpectraFileError(f"{path}: malformed CSV: {exc}") from None
    if table.num_rows == 0:
        raise EmptyDatasetError(f"{path}: no data rows after the header")
    X = _column_values(path, table, spectral, delimiter)
    ys = {t: _column_values(path, table, [t], delimiter, empty_is_nan=True)[:, 0] for t in targets}
    ids = (np.asarray(table.column(id_column).to_pylist(), dtype=str) if id_column
           else np.asarray([str(i + 1) for i in range(table.num_rows)]))
    if partition_column:
        part = np.char.lower(np.char.strip(np.asarray(table.column(partition_column).to_pylist(), dtype=str)))
    else:
        part = np.full(table.num_rows, "train")
    axis, unit = _axis(spectral, wavelengths, wavelength_unit)
    return SpectraDataset(
        name=name or path.stem, sample_ids=ids, spectra=X, wavelengths=axis, wavelength_unit=unit,
        targets=ys, partition=part,
    )


def _axis(
    columns: Sequence[str], wavelengths: Sequence[float] | None, unit: WavelengthUnit | None
) -> tuple[np.ndarray, WavelengthUnit]:
    if wavelengths is not None:
        return np.asarray(wavelengths, dtype=np.float64), unit or "nm"
    try:
        return np.asarray([float(c) for c in columns]), unit or "nm"
    except ValueError:
        return np.arange(len(columns), dtype=np.float64), "index"
