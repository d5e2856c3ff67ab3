"""Excel ``.xlsx`` workbooks: one sheet laid out like the wide CSV (see :mod:`nirs_core.data.table_loader`).

The header is the sheet's first non-empty row. Which column is spectral, target, id, partition or metadata is
table_loader's rule (``spectral_columns``, ``parts_from_table``); this module only turns cells into typed columns,
so a bad cell is named by file, sheet, row and column letter. Fully empty rows are skipped (as blank CSV lines
are), and so are columns with neither a header nor a value.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from nirs_core.data.errors import DataError, EmptyDatasetError, SpectraFileError
from nirs_core.data.parts import SpectraParts
from nirs_core.data.table_loader import ColumnRoles, parts_from_table, spectral_columns

XLSX_SUFFIXES = (".xlsx", ".xlsm")
_UNREADABLE = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error)


def get_column_letter(number: int) -> str:
    """The spreadsheet name of 1-based column ``number`` (1 -> A, 27 -> AA), as Excel shows it."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class _Sheet:
    """The non-empty rows of one sheet: the header row and the data rows with their sheet row numbers."""

    path: Path
    name: str
    header: list[str]
    columns: list[int]  # sheet column index (0-based) of each header entry
    rows: list[tuple[int, tuple[Any, ...]]]

    def where(self, row: int, column: int) -> str:
        return (f"{self.path}: sheet {self.name!r}, row {row}, column {get_column_letter(column + 1)} "
                f"({self.header[self.columns.index(column)]!r})")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as the text a CSV would hold: ``12`` for the number 12.0 (Excel has no integer type)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _number(value: Any) -> float | None:
    """The cell's number (a numeric cell, or text that reads as one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _rows(path: Path, sheet: str | None) -> tuple[str, list[tuple[int, tuple[Any, ...]]]]:
    import openpyxl  # loaded with the first workbook: importing the loaders stays cheap
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (*_UNREADABLE, InvalidFileException)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except unreadable as exc:
        raise SpectraFileError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataError(f"{path}: no sheet {sheet!r}; sheets: {book.sheetnames}")
        name = sheet if sheet is not None else book.sheetnames[0]
        rows = [(number, row) for number, row in enumerate(book[name].iter_rows(values_only=True), start=1)
                if not all(_is_empty(v) for v in row)]
    except unreadable as exc:
        raise SpectraFileError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()
    return name, rows


def _sheet(path: Path, sheet: str | None) -> _Sheet:
    name, rows = _rows(path, sheet)
    if not rows:
        raise EmptyDatasetError(f"{path}: sheet {name!r} is empty (no header row)")
    (header_row, cells), data = rows[0], rows[1:]
    header, columns = [], []
    width = max(len(row) for _, row in rows)  # read-only sheets pad rows to the sheet's width; others may not
    for j in range(width):
        cell = cells[j] if j < len(cells) else None
        if not _is_empty(cell):
            header.append(_text(cell))
            columns.append(j)
            continue
        filled = next((number for number, row in data if j < len(row) and not _is_empty(row[j])), None)
        if filled is not None:
            raise SpectraFileError(f"{path}: sheet {name!r}, row {filled}, column {get_column_letter(j + 1)}: a "
                                   f"value in a column with no header (row {header_row} is the header)")
    return _Sheet(path, name, header, columns, data)


def _cells(sheet: _Sheet, column: int) -> list[tuple[int, Any]]:
    return [(number, row[column] if column < len(row) else None) for number, row in sheet.rows]


def _spectral(sheet: _Sheet, column: int) -> pa.Array:
    values = []
    for number, cell in _cells(sheet, column):
        value = _number(cell)
        if value is None:
            got = "an empty cell" if _is_empty(cell) else repr(cell)
            raise SpectraFileError(f"{sheet.where(number, column)}: expected a number, got {got}")
        values.append(value)
    return pa.array(values, pa.float64())


def _target(sheet: _Sheet, column: int) -> pa.Array:
    """Numbers (empty = not measured), or class labels when the column holds no number at all."""
    cells = _cells(sheet, column)
    if not any(_number(cell) is not None for _, cell in cells):
        return pa.array([_text(cell) for _, cell in cells], pa.string())
    for number, cell in cells:
        if not _is_empty(cell) and _number(cell) is None:
            raise SpectraFileError(f"{sheet.where(number, column)}: expected a number (the column holds numbers), "
                                   f"got {cell!r}")
    return pa.array([None if _is_empty(cell) else _number(cell) for _, cell in cells], pa.float64())


def read_xlsx_parts(
    path: str | Path, roles: ColumnRoles, *, sheet: str | None = None, wavelengths: Sequence[float] | None = None,
    wavelength_unit: str | None = None,
) -> SpectraParts:
    """Read one sheet of an ``.xlsx`` workbook (default: the first) as a wide table.

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook (read-only mode; formulas give their cached values).
    roles : ColumnRoles
        The target, id, partition and metadata columns, as for CSV.
    sheet : str, optional
        The sheet's name; default the first sheet.
    wavelengths, wavelength_unit
        As for CSV: the axis when the headers are not numbers, and its unit.

    Raises
    ------
    SpectraFileError
        An unreadable (truncated, corrupt, not xlsx) file, or a bad cell: the message names file, sheet, row and
        column.
    DataError
        No such sheet (the sheets are listed), or a named column missing (``MissingColumnError``).
    """
    path = Path(path)
    table = _sheet(path, sheet)
    spectral = set(spectral_columns(table.header, roles)[0])
    targets = set(roles.targets)
    arrays = [_spectral(table, j) if name in spectral else _target(table, j) if name in targets
              else pa.array([_text(cell) for _, cell in _cells(table, j)], pa.string())
              for name, j in zip(table.header, table.columns, strict=True)]
    arrow = pa.Table.from_arrays(arrays, names=table.header) if arrays else pa.table({})
    return parts_from_table(path, arrow, roles, delimiter=None, wavelengths=wavelengths,
                            wavelength_unit=wavelength_unit)
