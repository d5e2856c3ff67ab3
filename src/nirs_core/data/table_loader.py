"""Wide tables (CSV/TSV, optionally gzipped, and Parquet): one row per sample, one column per wavelength.

Column roles: the target and metadata columns are the ones named by the caller; so are the id and partition
columns, or, when the caller names none (and ``detect``), the conventional ones: an id column named ``sample_id``,
``id`` or ``sample`` (any case) whose values are unique, a partition column named ``partition``, ``set`` or
``split`` whose values are all partition labels (train/test, cal/val, calibration/validation...). What was detected
is reported in ``SpectraParts.notes``. The spectral columns are the columns whose header is a number (the header is
then the wavelength). When no header is a number, every column not named or detected is spectral (and the axis is
the column index unless given).
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from nirs_core.data.axis_headers import axis_from_headers, check_unit, is_header_number
from nirs_core.data.columns import (
    ID_NAMES,
    PARTITION_NAMES,
    conventional,
    describe_columns,
    did_you_mean,
    is_partition_column,
)
from nirs_core.data.errors import EmptyDatasetError, MissingColumnError, SpectraFileError
from nirs_core.data.parts import SpectraParts

DELIMITERS = (",", ";", "\t")
DECIMALS = (".", ",")
COMMA_NUMBER = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")
POINT_NUMBER = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
SPECTRUM_COLUMNS = ("spectrum", "spectra")


class AxisFromColumnIndex(UserWarning):
    """No spectral header of a wide table is a wavelength: the axis is the column index (0, 1, 2...)."""


@dataclass(frozen=True)
class ColumnRoles:
    """Which columns of a wide table are what (names as in the header)."""

    targets: tuple[str, ...] = ()
    id_column: str | None = None
    partition_column: str | None = None
    metadata_columns: tuple[str, ...] = ()
    detect: bool = True  # find conventional id / partition columns when none is named
    # columns that are never spectra when the table has them (kept as metadata), e.g. a model's targets when
    # predicting a file that also holds reference values
    not_spectral: tuple[str, ...] = ()

    def named(self) -> list[str]:
        return [*self.targets, *(c for c in (self.id_column, self.partition_column) if c), *self.metadata_columns]


def _open_text(path: Path) -> io.TextIOBase:
    opener = gzip.open if path.suffix == ".gz" else open
    # utf-8-sig: a byte-order mark (as spreadsheet exports write) is not part of the first header
    return opener(path, "rt", newline="", encoding="utf-8-sig")  # type: ignore[operator]


def _first_line(path: Path) -> str:
    try:
        with _open_text(path) as fh:
            return fh.readline()
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SpectraFileError(f"{path}: not a readable UTF-8 text file ({exc})") from None


def numeric_share(cells: Iterable[str]) -> float:
    """Share of the non-empty cells that are numbers, written with a decimal point or a decimal comma."""
    values = [c.strip() for c in cells if c.strip()]
    numbers = sum(_is_number(c) or bool(COMMA_NUMBER.match(c)) for c in values)
    return numbers / len(values) if values else 0.0


def detect_delimiter(path: Path, line: str) -> str:
    """The candidate delimiter that splits the header (tab for ``.tsv``): the one whose first data row reads best
    as numbers (``0,81;0,82`` splits on ',' too), then the one giving the most fields."""
    if ".tsv" in path.suffixes:
        return "\t"
    with _open_text(path) as fh:
        fh.readline()
        data = fh.readline().rstrip("\r\n")
    counts = {d: line.count(d) for d in DELIMITERS}
    split = [d for d in DELIMITERS if counts[d]]
    if not split:
        return ","
    return max(split, key=lambda d: (numeric_share(next(csv.reader([data], delimiter=d), [])), counts[d]))


def detect_decimal(path: Path, delimiter: str) -> str:
    """``,`` when the delimiter is not a comma and the first data rows write numbers with a decimal comma and none
    with a decimal point (``0,8124;0,8131``, as spreadsheets in many locales export); else ``.``."""
    if delimiter == ",":
        return "."
    with _open_text(path) as fh:
        rows = csv.reader(fh, delimiter=delimiter)
        next(rows, None)
        cells = [c.strip() for row in itertools.islice(rows, 5) for c in row]
    comma = sum(bool(COMMA_NUMBER.match(c)) for c in cells)
    point = sum(bool(POINT_NUMBER.match(c)) for c in cells)
    return "," if comma and not point else "."


def _point(text: str, decimal: str) -> str:
    return text.replace(",", ".") if decimal == "," else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _file_line(path: Path, delimiter: str, data_index: int) -> int:
    """File line number (header = 1) of the ``data_index``-th data row; blank lines are skipped like Arrow does."""
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        seen = -1
        for row in reader:
            if row:
                seen += 1
                if seen == data_index:
                    return reader.line_num
    return data_index + 2


def _to_float(path: Path, delimiter: str | None, column: pa.ChunkedArray, name: str, *, empty_is_nan: bool,
              decimal: str = ".") -> np.ndarray:
    """Float64 values of a column; the first cell that is not a number is named by file, row and column."""
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    column = pc.utf8_trim_whitespace(column.cast(pa.string()))
    if decimal == ",":
        column = pc.replace_substring(column, ",", ".")
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
            row = f"row {_file_line(path, delimiter, i)} (data row {i + 1})" if delimiter else f"row {i + 1}"
            read = " (decimal comma read as a point)" if decimal == "," else ""
            raise SpectraFileError(f"{path}: {row}, column {name!r}: expected a number, got {cell!r}{read}") from None
    raise SpectraFileError(f"{path}: column {name!r} could not be read as numbers")


def target_values(path: Path, delimiter: str | None, column: pa.ChunkedArray, name: str, decimal: str = "."
                  ) -> np.ndarray:
    """Numeric targets as float64 (empty = NaN); a column with no number at all is kept as class labels."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return _to_float(path, delimiter, column, name, empty_is_nan=True)
    cells = [c.strip() for c in column.to_pylist() if c is not None and c.strip()]
    if cells and not any(_is_number(_point(c, decimal)) for c in cells):
        return np.asarray([("" if c is None else c.strip()) for c in column.to_pylist()], dtype=str)
    return _to_float(path, delimiter, column, name, empty_is_nan=True, decimal=decimal)


def _strings(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(["" if v is None else str(v) for v in column.to_pylist()], dtype=str)


def _check_unique(path: Path, header: Sequence[str]) -> None:
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise SpectraFileError(f"{path}: duplicate column names in the header: {twice}")


def _check_named(path: Path, header: Sequence[str], roles: ColumnRoles, decimal: str = ".") -> None:
    missing = [c for c in roles.named() if c not in header]
    if missing:
        spectral = [c for c in header if is_header_number(c, decimal)]
        hints = "".join(did_you_mean(m, [c for c in header if c not in spectral]) for m in missing[:1])
        raise MissingColumnError(f"{path}: missing column(s) {missing}{hints}; columns found: "
                                 f"{describe_columns(header, spectral)}")


def detect_roles(table: pa.Table, roles: ColumnRoles) -> tuple[ColumnRoles, tuple[str, ...]]:
    """``roles`` with the conventional id and partition columns filled in where the caller named none (see the
    module docstring), and notes saying what was found (``id column 'sample_id'``)."""
    if not roles.detect:
        return roles, ()
    header, taken, notes = table.column_names, roles.named(), []
    id_column, partition_column = roles.id_column, roles.partition_column
    if id_column is None:
        for name in conventional(header, ID_NAMES, taken):
            values = _strings(table.column(name))
            if all(v.strip() for v in values) and len(set(values)) == len(values):
                id_column = name
                notes.append(f"id column {name!r}")
                break
    if partition_column is None:
        for name in conventional(header, PARTITION_NAMES, [*taken, *([id_column] if id_column else [])]):
            if is_partition_column(table.column(name).to_pylist()):
                partition_column = name
                notes.append(f"partition column {name!r}")
                break
    return replace(roles, id_column=id_column, partition_column=partition_column), tuple(notes)


def spectral_columns(header: Sequence[str], roles: ColumnRoles, decimal: str = ".") -> tuple[list[str], bool]:
    """The spectral columns of a header (see the module docstring) and whether their headers are numbers (the
    axis)."""
    numeric = [c for c in header if c not in roles.named() and is_header_number(c, decimal)]
    return numeric or [c for c in header if c not in roles.named()], bool(numeric)


def parts_from_table(
    path: Path, table: pa.Table, roles: ColumnRoles, *, delimiter: str | None,
    wavelengths: Sequence[float] | None, wavelength_unit: str | None, decimal: str = ".",
) -> SpectraParts:
    """Split a wide table into SpectraParts according to ``roles`` (see the module docstring); ``decimal`` is the
    decimal separator of text cells and numeric headers."""
    header = table.column_names
    _check_unique(path, header)
    _check_named(path, header, roles, decimal)
    roles, notes = detect_roles(table, roles)
    present = tuple(c for c in roles.not_spectral if c in header and c not in roles.named())
    if present:
        roles = replace(roles, metadata_columns=(*roles.metadata_columns, *present))
        notes = (*notes, f"non-spectral column(s) {', '.join(map(repr, present))}")
    if table.num_rows == 0:
        raise EmptyDatasetError(f"{path}: no data rows")
    spectral, numeric = spectral_columns(header, roles, decimal)
    if not spectral:
        raise EmptyDatasetError(f"{path}: no spectral columns (all columns are ids, targets, partition or metadata)")
    metadata = [c for c in header if c not in spectral and c not in roles.named()] + list(roles.metadata_columns)
    X = np.column_stack([_to_float(path, delimiter, table.column(c), c, empty_is_nan=False, decimal=decimal)
                         for c in spectral])
    X.setflags(write=False)
    axis, unit = _table_axis(path, spectral, numeric, wavelengths, wavelength_unit, decimal)
    return SpectraParts(
        source=str(path), spectra=X, wavelengths=axis, wavelength_unit=unit,
        sample_ids=_strings(table.column(roles.id_column)) if roles.id_column else None,
        targets={t: target_values(path, delimiter, table.column(t), t, decimal) for t in roles.targets},
        metadata={m: _strings(table.column(m)) for m in metadata},
        partition=_strings(table.column(roles.partition_column)) if roles.partition_column else None, notes=notes,
    )


def _table_axis(path: Path, spectral: Sequence[str], numeric: bool, wavelengths: Sequence[float] | None,
                unit: str | None, decimal: str) -> tuple[np.ndarray | None, str | None]:
    """The axis: ``wavelengths`` when given, else the numeric headers (their unit, if written, is the axis's);
    when neither, None, with a warning that the axis is the column index."""
    if wavelengths is not None:
        return np.asarray(wavelengths, dtype=np.float64), unit
    if numeric:
        axis, found = axis_from_headers(str(path), spectral, decimal)
        return axis, check_unit(str(path), unit, found)
    shown = ", ".join(map(repr, spectral[:3])) + (", ..." if len(spectral) > 3 else "")
    warnings.warn(f"{path}: no spectral header is a wavelength ({shown}): the axis is the column index 0.."
                  f"{len(spectral) - 1}; give it with wavelengths= (headers such as 900 or '900 nm' are read)",
                  AxisFromColumnIndex, stacklevel=2)
    return None, unit


def read_csv_parts(
    path: str | Path, roles: ColumnRoles, *, delimiter: str | None = None,
    wavelengths: Sequence[float] | None = None, wavelength_unit: str | None = None, decimal: str | None = None,
) -> SpectraParts:
    """Read a wide CSV/TSV (``.gz`` allowed) as strings, then type each column by its role.

    ``delimiter`` and ``decimal`` (``.`` or ``,``) are detected when None: a decimal comma only with another
    delimiter than the comma, when the first data rows hold comma numbers and no point numbers."""
    path = Path(path)
    table, delimiter, decimal = read_csv_table(path, delimiter=delimiter, decimal=decimal)
    return parts_from_table(path, table, roles, delimiter=delimiter, wavelengths=wavelengths,
                            wavelength_unit=wavelength_unit, decimal=decimal)


def read_csv_table(path: Path, *, delimiter: str | None = None, decimal: str | None = None
                   ) -> tuple[pa.Table, str, str]:
    """A CSV/TSV read as string columns, with its delimiter and decimal separator (detected when None)."""
    line = _first_line(path)
    if not line.strip():
        raise EmptyDatasetError(f"{path}: file is empty (no header row)")
    try:
        delimiter = delimiter or detect_delimiter(path, line)
        if decimal is not None and (decimal not in DECIMALS or decimal == delimiter):
            raise SpectraFileError(f"{path}: decimal separator {decimal!r} must be one of {list(DECIMALS)} and "
                                   f"differ from the delimiter {delimiter!r}")
        decimal = decimal or detect_decimal(path, delimiter)
    except (UnicodeDecodeError, EOFError, OSError) as exc:  # a bad byte in the first rows, a truncated .gz
        raise SpectraFileError(f"{path}: not a readable UTF-8 text file ({exc})") from None
    header = [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
        )
    except pa.ArrowInvalid as exc:
        raise SpectraFileError(f"{path}: malformed CSV: {exc}") from None
    return table, delimiter, decimal


def read_parquet_parts(
    path: str | Path, roles: ColumnRoles, *, wavelengths: Sequence[float] | None = None,
    wavelength_unit: str | None = None,
) -> SpectraParts:
    """Read a Parquet file: wide (numeric column names) or with a list column ``spectrum``/``spectra``."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SpectraFileError(f"{path}: not a readable Parquet file ({exc})") from None
    list_column = next((c for c in SPECTRUM_COLUMNS if c in table.column_names), None)
    if list_column is None:
        return parts_from_table(path, table, roles, delimiter=None, wavelengths=wavelengths,
                                wavelength_unit=wavelength_unit)
    return _parts_with_list_column(path, table, list_column, roles, wavelengths, wavelength_unit)


def _parts_with_list_column(path: Path, table: pa.Table, list_column: str, roles: ColumnRoles,
                            wavelengths: Sequence[float] | None, wavelength_unit: str | None) -> SpectraParts:
    _check_unique(path, table.column_names)
    _check_named(path, [c for c in table.column_names if c != list_column], roles)
    roles, notes = detect_roles(table.drop_columns([list_column]), roles)
    spectra = table.column(list_column).combine_chunks()
    if len(spectra) == 0:
        raise EmptyDatasetError(f"{path}: no data rows")
    if spectra.null_count:
        bad = int(np.flatnonzero(spectra.is_null().to_numpy(zero_copy_only=False))[0])
        raise SpectraFileError(f"{path}: row {bad + 1}: column {list_column!r} is null (no spectrum)")
    lengths = pc.list_value_length(spectra).to_numpy(zero_copy_only=False)
    if (lengths != lengths[0]).any():
        bad = int(np.flatnonzero(lengths != lengths[0])[0])
        raise SpectraFileError(f"{path}: row {bad + 1}: spectrum has {lengths[bad]} values, row 1 has {lengths[0]}")
    X = spectra.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(spectra), int(lengths[0]))
    X.setflags(write=False)
    rest = table.drop_columns([list_column])
    others = [c for c in rest.column_names if c not in roles.named()]
    return SpectraParts(
        source=str(path), spectra=X,
        wavelengths=np.asarray(wavelengths, dtype=np.float64) if wavelengths is not None else None,
        wavelength_unit=wavelength_unit,
        sample_ids=_strings(rest.column(roles.id_column)) if roles.id_column else None,
        targets={t: target_values(path, None, rest.column(t), t) for t in roles.targets},
        metadata={m: _strings(rest.column(m)) for m in [*others, *roles.metadata_columns]},
        partition=_strings(rest.column(roles.partition_column)) if roles.partition_column else None, notes=notes,
    )
