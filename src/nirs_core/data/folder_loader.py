"""Loader for the nirs4all folder convention: X/Y/M files per split (Xcal, Yval, Mtrain...) in one folder."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nirs_core.data.errors import DataError, EmptyDatasetError, MissingColumnError, SpectraFileError
from nirs_core.data.parts import SpectraParts
from nirs_core.data.table_loader import COMMA_NUMBER, POINT_NUMBER, numeric_share

_FILE_NAME = re.compile(r"(?P<role>[xym])(?P<split>cal|val|train|test)\.csv(?:\.gz)?", re.IGNORECASE)
# Each family lists its training split first: that is also the order in which splits are concatenated.
_FAMILIES = (("cal", "val"), ("train", "test"))
_PARTITION = {"cal": "train", "train": "train", "val": "test", "test": "test"}
_DELIMITERS = (";", ",", "\t")  # on a tie the earlier one wins; `;` first: the convention's own files use it
_SNIFF_ROWS = 6  # the header candidate and the five rows it is compared with
_AXIS_RANGE = (100.0, 100_000.0)
_UNIT_SPLIT = 3000.0  # NIR in nm stays below ~2600; NIR in cm-1 stays above ~3800
# Arrow needs a whole line inside one block (default 1 MiB); wide spectra files can have lines of several MiB.
_BLOCK_SIZE = 1 << 24


@dataclass(frozen=True)
class _Head:
    """The first non-blank rows of a file, split with the delimiter chosen for it."""

    path: Path
    delimiter: str
    rows: list[list[str]]  # numbers written with a decimal comma are given here with a point
    first_line: int  # 1-based physical line of rows[0]
    decimal: str = "."  # "," when the file writes 0,81 (with another delimiter than the comma)


@dataclass(frozen=True)
class _Cells:
    """A file read as strings, cells as written: one Arrow column per field, the header row (if any) apart."""

    head: _Head
    header: list[str] | None
    columns: list[pa.ChunkedArray]
    n_rows: int


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers; blank lines are skipped exactly as Arrow skips them."""
    try:
        with (gzip.open(path, "rt", encoding="utf-8-sig", newline="") if _is_gzip(path)
              else path.open(encoding="utf-8-sig", newline="")) as fh:
            for number, line in enumerate(fh, start=1):
                text = line.rstrip("\r\n")
                if text:
                    yield number, text
    except UnicodeDecodeError as exc:
        raise SpectraFileError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise SpectraFileError(f"{path}: cannot be read ({exc})") from None


def _fields(path: Path, line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except csv.Error as exc:  # the csv module refuses fields over 128 KiB: a wide line left unsplit
        raise SpectraFileError(f"{path}: a field is too long with delimiter {delimiter!r} ({exc}); "
                               "is that the file's delimiter?") from None


def _detect_delimiter(path: Path, lines: list[str]) -> str:
    """The candidate that splits the first line, preferring one that splits every sniffed line alike, most fields first.

    A candidate absent from the first line is trivially "consistent" (one field everywhere), so it only wins when
    no candidate splits the line (a one-column file); a ragged file still gets its delimiter, and a ragged-row error.
    """
    def score(delimiter: str) -> tuple[bool, bool, float, int]:
        try:
            rows = [_fields(path, line, delimiter) for line in lines]
        except SpectraFileError:  # a field over 128 KiB: this candidate does not split a wide spectra line
            return False, False, 0.0, 1
        counts = [len(row) for row in rows]
        # 0,81;0,82 splits alike on ';' and on ',': the delimiter is the one whose cells read as numbers
        return counts[0] > 1, len(set(counts)) == 1, numeric_share(c for row in rows for c in row), counts[0]

    return max(_DELIMITERS, key=score)


def _head(path: Path, delimiter: str | None) -> _Head:
    lines = list(islice(_lines(path), _SNIFF_ROWS))
    if not lines:
        raise EmptyDatasetError(f"{path}: file is empty")
    texts = [text for _, text in lines]
    chosen = delimiter or _detect_delimiter(path, texts)
    rows = [_fields(path, text, chosen) for text in texts]
    decimal = _detect_decimal(rows, chosen)
    if decimal == ",":
        rows = [[_with_point(cell) for cell in row] for row in rows]
    return _Head(path, chosen, rows, lines[0][0], decimal)


def _detect_decimal(rows: list[list[str]], delimiter: str) -> str:
    """``,`` when the delimiter is not a comma and the sniffed rows write numbers with a decimal comma and none
    with a decimal point; else ``.``."""
    if delimiter == ",":
        return "."
    cells = [cell.strip() for row in rows for cell in row]
    comma = sum(bool(COMMA_NUMBER.match(c)) for c in cells)
    point = sum(bool(POINT_NUMBER.match(c)) for c in cells)
    return "," if comma and not point else "."


def _with_point(cell: str) -> str:
    return cell.replace(",", ".") if COMMA_NUMBER.match(cell.strip()) else cell


def _points(values: pa.ChunkedArray, decimal: str) -> pa.ChunkedArray:
    """Text cells with a decimal comma written with a point (what Arrow casts)."""
    return pc.replace_substring(values, ",", ".") if decimal == "," else values


def _number(cell: str) -> float | None:
    """The cell as a number, or None; used only to sniff headers (Arrow converts the data itself)."""
    text = cell.strip()
    if not text or "_" in text:  # Python accepts "1_000", Arrow does not: never call numeric what Arrow rejects
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _has_text(row: list[str]) -> bool:
    """True when a non-empty cell is not a number; empty cells do not vote."""
    return any(cell.strip() and _number(cell) is None for cell in row)


def _numeric_row(row: list[str]) -> np.ndarray | None:
    values = [_number(cell) for cell in row]
    return None if any(v is None for v in values) else np.asarray(values, dtype=np.float64)


def _looks_like_axis(values: np.ndarray) -> bool:
    steps = np.diff(values)
    monotonic = bool(np.all(steps > 0) or np.all(steps < 0))
    return monotonic and bool(np.all((values >= _AXIS_RANGE[0]) & (values <= _AXIS_RANGE[1])))


def _x_header_detected(rows: list[list[str]]) -> bool:
    """Whether the first row of an X file is a header; a numeric row is one only if it must be a wavelength axis.

    Keeping a header as data costs one visible bad sample (or an error), dropping a data row is silent, so an
    all-numeric first row is a header only when it is a strictly monotonic axis in [100, 100000] and the next
    rows are at least ten times smaller (absorbances or reflectances, not raw counts).
    """
    if _has_text(rows[0]):
        return True
    axis = _numeric_row(rows[0])
    if axis is None or len(rows) < 2 or not _looks_like_axis(axis):
        return False
    following = np.asarray([_number(cell) for row in rows[1:] for cell in row], dtype=np.float64)  # None -> NaN
    if np.all(np.isnan(following)):
        return False
    return float(np.nanmedian(np.abs(following))) < float(axis.min()) / 10


def _file_line(cells: _Cells, data_index: int) -> int:
    """1-based physical line of the ``data_index``-th data row (0-based), for error messages."""
    skip = 1 if cells.header is not None else 0
    for i, (number, _) in enumerate(_lines(cells.head.path)):
        if i - skip == data_index:
            return number
    return cells.head.first_line + skip + data_index


def _ragged_error(head: _Head, expected: int) -> SpectraFileError | None:
    for number, text in _lines(head.path):
        found = len(_fields(head.path, text, head.delimiter))
        if found != expected:
            return SpectraFileError(
                f"{head.path}: row {number} has {found} fields but row {head.first_line} has {expected} "
                f"(delimiter {head.delimiter!r})"
            )
    return None


def _arrow_table(head: _Head, has_header: bool, value_type: pa.DataType) -> pa.Table:
    """Every field of the file as ``value_type``; raises Arrow's own errors (ragged row, bad number)."""
    names = [f"c{j}" for j in range(len(head.rows[0]))]
    with pa.input_stream(str(head.path), compression="gzip" if _is_gzip(head.path) else None) as stream:
        return pacsv.read_csv(
            stream,
            # skip_rows counts blank lines too, so skip through the header's physical line
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=head.first_line if has_header else 0,
                                           block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(delimiter=head.delimiter),
            # only an empty cell is missing: "nan" is a number and "NA" is text, as for pc.cast
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, value_type), null_values=[""],
                                                 strings_can_be_null=False, decimal_point=head.decimal),
        )


def _read_cells(head: _Head, has_header: bool) -> _Cells:
    try:
        table = _arrow_table(head, has_header, pa.string())
    except (pa.ArrowInvalid, OSError) as exc:
        raise (_ragged_error(head, len(head.rows[0]))
               or SpectraFileError(f"{head.path}: malformed CSV: {exc}")) from None
    if table.num_rows == 0:
        raise EmptyDatasetError(f"{head.path}: no data rows after the header")
    header = [cell.strip() for cell in head.rows[0]] if has_header else None
    return _Cells(head, header, table.columns, table.num_rows)


def _castable(values: pa.ChunkedArray) -> bool:
    try:
        pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _first_bad_row(values: pa.ChunkedArray) -> int:
    """Index of the first cell Arrow cannot read as a number, by bisection (values[:lo] casts, values[:hi] not)."""
    lo, hi = 0, len(values)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _castable(values.slice(0, mid)):
            lo = mid
        else:
            hi = mid
    return lo


def _bad_cell_error(cells: _Cells) -> SpectraFileError:
    """Name the first bad cell in reading order: later columns are searched only above the best row so far."""
    trimmed = [_points(pc.utf8_trim_whitespace(values), cells.head.decimal)  # as Arrow trims and reads numbers
               for values in cells.columns]
    row, col = cells.n_rows, 0
    for j, values in enumerate(trimmed):
        above = values.slice(0, row)
        if not _castable(above):
            row, col = _first_bad_row(above), j
    if row == cells.n_rows:
        return SpectraFileError(f"{cells.head.path}: could not be read as numbers")
    text = trimmed[col][row].as_py()
    where = f"{cells.head.path}: row {_file_line(cells, row)} (data row {row + 1}), column {col + 1}"
    if cells.header is not None:
        where += f" ({cells.header[col]!r})"
    if text:
        return SpectraFileError(f"{where}: expected a number, got {text!r} (delimiter {cells.head.delimiter!r})")
    hint = ""
    if col == len(trimmed) - 1 and pc.all(pc.equal(trimmed[col], "")).as_py():
        hint = "; every row ends with the delimiter, so the last column is empty"
    return SpectraFileError(f"{where}: empty cell; spectra need a value in every column{hint}")


@dataclass(frozen=True)
class _XFile:
    path: Path
    spectra: np.ndarray
    header: list[str] | None
    axis: np.ndarray | None  # the header as numbers, when every header cell is one


def _read_x(path: Path, header: bool | None, delimiter: str | None) -> _XFile:
    """Spectra parsed by Arrow straight to float64; only a failed parse re-reads the text to say what is wrong."""
    head = _head(path, delimiter)
    has_header = _x_header_detected(head.rows) if header is None else header
    try:
        table = _arrow_table(head, has_header, pa.float64())
    except (pa.ArrowInvalid, OSError):
        table = None  # a ragged row, a bad number or unreadable bytes: the text read below names it
    if table is None or table.num_rows == 0 or any(column.null_count for column in table.columns):
        raise _bad_cell_error(_read_cells(head, has_header))
    names = [cell.strip() for cell in head.rows[0]] if has_header else None
    axis = _numeric_row(names) if names is not None else None
    return _XFile(path, np.column_stack([column.to_numpy() for column in table.columns]), names, axis)


def _check_names(path: Path, names: list[str], what: str) -> None:
    if any(not name for name in names) or len(set(names)) != len(names):
        raise SpectraFileError(f"{path}: {what} names must be non-empty and distinct, got {names[:12]}")


def _read_y(path: Path, header: bool | None, delimiter: str | None) -> _Cells:
    head = _head(path, delimiter)
    cells = _read_cells(head, _has_text(head.rows[0]) if header is None else header)
    if cells.header is not None:
        _check_names(path, cells.header, "target")
    return cells


def _target_names(cells: _Cells) -> list[str]:
    if cells.header is not None:
        return cells.header
    return ["y"] if len(cells.columns) == 1 else [f"y{j}" for j in range(len(cells.columns))]


def _read_m(path: Path, delimiter: str | None) -> _Cells:
    head = _head(path, delimiter)
    if _numeric_row(head.rows[0]) is not None:
        raise DataError(f"{path}: the first row is all numbers; a metadata file needs a header row of column names")
    cells = _read_cells(head, True)
    _check_names(path, cells.header or [], "metadata column")
    return cells


def _scan(folder: Path) -> dict[tuple[str, str], Path]:
    """Recognised files keyed by (role, split), e.g. ("X", "cal"); names and extensions are case-insensitive."""
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.iterdir()):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        key = (match["role"].upper(), match["split"].lower())
        if key in found:
            raise DataError(f"{folder}: {found[key].name} and {path.name} are both the {key[0]}{key[1]} file; "
                            "keep one")
        found[key] = path
    return found


def _splits(folder: Path, found: dict[tuple[str, str], Path]) -> list[str]:
    """The splits to read, training split first, after checking the folder's layout."""
    if not any(role == "X" for role, _ in found):
        listing = sorted(p.name for p in folder.iterdir())
        raise EmptyDatasetError(f"{folder}: no X file (Xcal/Xval or Xtrain/Xtest, .csv or .csv.gz); "
                                f"files found: {listing[:20]}" + (" ..." if len(listing) > 20 else ""))
    families = [family for family in _FAMILIES if any(split in family for _, split in found)]
    if len(families) > 1:
        raise DataError(f"{folder}: mixes cal/val and train/test files ({sorted(p.name for p in found.values())}); "
                        "use one naming scheme")
    splits = [split for split in families[0] if ("X", split) in found]
    for (_, split), path in found.items():
        if split not in splits:
            raise DataError(f"{folder}: {path.name} has no matching X{split}.csv or X{split}.csv.gz")
    with_y = [split for split in splits if ("Y", split) in found]
    if with_y and len(with_y) != len(splits):
        missing = next(split for split in splits if split not in with_y)
        raise MissingColumnError(f"{folder}: targets are given for {[found['Y', s].name for s in with_y]} but "
                                 f"Y{missing}.csv (or .csv.gz) is missing for {found['X', missing].name}")
    return splits


def _check_rows(x: _XFile, other: _Cells, hint_header: bool) -> None:
    n_x, n_other = len(x.spectra), other.n_rows
    if n_x == n_other:
        return
    hint = ""
    if hint_header and other.header is not None and n_other == n_x - 1:
        hint = "; its first row was read as a header: pass header=False if it is data"
    raise DataError(f"{x.path.parent}: {x.path.name} has {n_x} data rows but {other.head.path.name} has "
                    f"{n_other}{hint}")


def _guess_unit(axis: np.ndarray) -> Literal["nm", "cm-1"] | None:
    """Unit of a header axis: all >= 3000 and descending or above 3000 -> cm-1; all in [100, 3000] -> nm.

    An axis straddling 3000 (or outside [100, 100000], possible with ``header=True``) gets None.
    """
    lo, hi = float(np.min(axis)), float(np.max(axis))
    descending = axis.size > 1 and axis[0] > axis[-1]
    if lo >= _UNIT_SPLIT and (descending or hi > _UNIT_SPLIT):
        return "cm-1"
    if lo >= _AXIS_RANGE[0] and hi <= _UNIT_SPLIT:
        return "nm"
    return None


def _common_axis(xs: list[_XFile]) -> np.ndarray | None:
    """The wavelength axis shared by every split (None without a numeric header), or a DataError naming both files."""
    first = xs[0]
    for other in xs[1:]:
        pair = f"{first.path.parent}: {first.path.name} and {other.path.name}"
        if first.spectra.shape[1] != other.spectra.shape[1]:
            raise DataError(f"{pair} have different numbers of wavelengths "
                            f"({first.spectra.shape[1]} and {other.spectra.shape[1]})")
        if (first.header is None) != (other.header is None):
            raise DataError(f"{pair}: only one of them has a header row; pass header=True or header=False")
        if first.header is None or other.header is None:
            continue
        # numeric headers compare as numbers ("5966" equals "5966.0"), text headers as text
        numeric = first.axis is not None and other.axis is not None
        differ = np.flatnonzero(np.not_equal(first.axis, other.axis) if numeric
                                else np.asarray(first.header) != np.asarray(other.header))
        if differ.size:
            i = int(differ[0])
            raise DataError(f"{pair} have different headers: column {i + 1} is {first.header[i]!r} "
                            f"in one and {other.header[i]!r} in the other")
    return first.axis


def _targets(ys: list[_Cells]) -> dict[str, np.ndarray]:
    """Targets over all splits: a column that is numeric everywhere is float64 (empty -> NaN), else str labels."""
    names = _target_names(ys[0])
    for other in ys[1:]:
        if _target_names(other) != names:
            raise DataError(f"{ys[0].head.path.parent}: {ys[0].head.path.name} has targets {names} but "
                            f"{other.head.path.name} has {_target_names(other)}")
    targets: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        column = pc.utf8_trim_whitespace(
            pa.chunked_array([chunk for y in ys for chunk in y.columns[j].chunks], pa.string()))
        numbers = pa.chunked_array([chunk for y in ys for chunk in _points(
            pc.utf8_trim_whitespace(y.columns[j]), y.head.decimal).chunks], pa.string())
        missing = pc.if_else(pc.equal(numbers, ""), pa.scalar(None, pa.string()), numbers)
        if _castable(missing):
            targets[name] = pc.cast(missing, pa.float64()).to_numpy()
        else:
            targets[name] = column.to_numpy().astype(str)
    return targets


def _metadata(folder: Path, ms: dict[str, _Cells], sizes: dict[str, int]) -> dict[str, np.ndarray]:
    """Metadata over all splits, text as written; a split without an M file gets empty strings."""
    if not ms:
        return {}
    first = next(iter(ms.values()))
    for other in ms.values():
        if other.header != first.header:
            raise DataError(f"{folder}: {first.head.path.name} and {other.head.path.name} have different "
                            f"metadata columns ({first.header} and {other.header})")
    metadata: dict[str, np.ndarray] = {}
    for j, name in enumerate(first.header or []):
        parts = [ms[split].columns[j].to_numpy().astype(str) if split in ms else np.full(n, "")
                 for split, n in sizes.items()]
        metadata[name] = np.concatenate(parts)
    return metadata


def _assemble(folder: Path, xs: dict[str, _XFile], ys: dict[str, _Cells], ms: dict[str, _Cells]) -> SpectraParts:
    """Concatenate the checked splits (dicts ordered training split first) into one SpectraParts."""
    axis = _common_axis(list(xs.values()))
    sizes = {split: len(x.spectra) for split, x in xs.items()}
    return SpectraParts(
        source=str(folder),
        spectra=np.concatenate([x.spectra for x in xs.values()]),
        wavelengths=axis,
        wavelength_unit=_guess_unit(axis) if axis is not None else None,
        sample_ids=np.concatenate([np.char.add(f"{split}_", np.arange(1, n + 1).astype(str))
                                   for split, n in sizes.items()]),
        targets=_targets(list(ys.values())) if ys else {},
        metadata=_metadata(folder, ms, sizes),
        partition=np.concatenate([np.full(n, _PARTITION[split]) for split, n in sizes.items()]),
    )


def read_folder_parts(folder: str | Path, *, header: bool | None = None, delimiter: str | None = None
                      ) -> SpectraParts:
    """Read a nirs4all-style folder: ``X{split}``, optional ``Y{split}`` and ``M{split}`` CSV files per split.

    Splits are ``cal``/``val`` or ``train``/``test`` (not both); ``cal``/``train`` rows come first, with partition
    ``"train"``, then ``val``/``test`` rows, partition ``"test"``. File names are case-insensitive, ending in
    ``.csv`` or ``.csv.gz``. Sample ids are ``{split}_{row}`` (``cal_1``...); an M column such as ``Sample_ID``
    names the physical sample, shared by repetitions, so it stays metadata.

    Parameters
    ----------
    folder : str or Path
        The folder holding the files.
    header : bool or None
        Whether X and Y files start with a header row; None detects it per file: a row with a non-numeric cell is
        a header; an all-numeric X row is one only if it is a strictly monotonic axis within [100, 100000] whose
        smallest value exceeds ten times the median magnitude of the next rows. M files always have a header.
    delimiter : str or None
        Field separator of every file; None detects ``;``, ``,`` or tab per file from its first lines.

    Returns
    -------
    SpectraParts
        A numeric X header is the wavelength axis, unit ``"cm-1"`` when all values are >= 3000 (and the axis
        descends or exceeds 3000: NIR wavenumbers), ``"nm"`` when all lie in [100, 3000] (NIR wavelengths), else
        None; the caller may override it. A text header (``ch001``...) gives no axis. Targets are named by the Y
        header, else ``y`` or ``y0, y1...``: float64 when numeric in every split (empty cells NaN), else str
        labels. Metadata columns are str as written; a split without an M file gets empty strings.

    Raises
    ------
    EmptyDatasetError
        No X file (the message lists the files found), or an empty file.
    SpectraFileError
        A ragged row, a non-numeric or empty spectra cell (file, row and column named), unreadable text.
    MissingColumnError
        Y files for some splits but not all.
    DataError
        Mixed naming schemes, row counts differing within a split, wavelength counts or headers differing
        between splits, a metadata file without column names.
    """
    folder = Path(folder)
    if delimiter is not None and len(delimiter) != 1:
        raise DataError(f"delimiter must be one character (such as ';', ',' or a tab), got {delimiter!r}")
    found = _scan(folder)
    splits = _splits(folder, found)
    xs = {split: _read_x(found["X", split], header, delimiter) for split in splits}
    ys = {split: _read_y(found["Y", split], header, delimiter) for split in splits if ("Y", split) in found}
    ms = {split: _read_m(found["M", split], delimiter) for split in splits if ("M", split) in found}
    for split, x in xs.items():
        if split in ys:
            _check_rows(x, ys[split], header is None)
        if split in ms:
            _check_rows(x, ms[split], False)
    return _assemble(folder, xs, ys, ms)
