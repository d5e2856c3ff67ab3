"""Reference values from a CSV joined to spectra read without them (JCAMP-DX, OPUS, SPC) by sample name.

The CSV (delimiter and decimal comma detected as for the wide CSV) has one row per sample: its key column
(``key_column``, default the first column) holds the names matched against each spectrum's ``title``
(``metadata["title"]``) or ``sample_id``; a ``partition`` column, if any, is the partition (``train``/``test``); the
other columns are targets when they hold numbers (or are named in ``targets``: class labels), else metadata.
Several spectra may share a name (replicate scans), each gets the row's values; rows no spectrum names are
ignored (a reference table often covers more samples than were scanned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from nirs_core.data.errors import DataError, MissingColumnError
from nirs_core.data.parts import SpectraParts
from nirs_core.data.table_loader import read_csv_table, target_values

JoinOn = Literal["title", "sample_id"]
JOIN_ON: tuple[JoinOn, ...] = ("title", "sample_id")
PARTITION_COLUMN = "partition"


def _spectrum_keys(parts: SpectraParts, join_on: JoinOn) -> np.ndarray:
    if join_on == "title":
        if "title" not in parts.metadata:
            raise DataError(f"{parts.source}: the spectra have no titles to join on; use join_on='sample_id'")
        return np.char.strip(np.asarray(parts.metadata["title"]).astype(str))
    if join_on == "sample_id":
        if parts.sample_ids is None:
            raise DataError(f"{parts.source}: the spectra have no sample ids to join on; use join_on='title'")
        return np.asarray(parts.sample_ids).astype(str)
    raise DataError(f"join_on {join_on!r} is not one of {list(JOIN_ON)}")


def _row_of_key(path: Path, keys: list[str], key_column: str) -> dict[str, int]:
    rows: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key:
            raise DataError(f"{path}: data row {i + 1}: empty {key_column!r} (every row needs a sample name)")
        if key in rows:
            raise DataError(f"{path}: sample {key!r} is on data rows {rows[key] + 1} and {i + 1}; expected one row "
                            "per sample")
        rows[key] = i
    return rows


def _matched_rows(parts: SpectraParts, path: Path, spectrum_keys: np.ndarray, rows: dict[str, int],
                  join_on: JoinOn) -> np.ndarray:
    missing = [k for k in dict.fromkeys(spectrum_keys.tolist()) if k not in rows]
    if missing:
        shown = ", ".join(repr(k) for k in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DataError(f"{parts.source}: {len(missing)} spectra have no row in {path} (matched on {join_on}): "
                        f"{shown}")
    return np.asarray([rows[k] for k in spectrum_keys.tolist()], dtype=np.int64)


def join_reference_values(
    parts: SpectraParts, targets_file: str | Path, *, join_on: JoinOn = "title", key_column: str | None = None,
    targets: Sequence[str] = (), delimiter: str | None = None, decimal: str | None = None,
) -> SpectraParts:
    """``parts`` with the targets, partition and metadata of the reference CSV's matching rows.

    Parameters
    ----------
    parts : SpectraParts
        Spectra as read (their own targets are kept; a CSV target of the same name is an error).
    targets_file : str or pathlib.Path
        The reference CSV.
    join_on : {"title", "sample_id"}
        What of each spectrum is matched against the key column: its ``title`` (JCAMP ``##TITLE``, OPUS sample
        name, SPC comment) or its sample id (the file stem).
    key_column : str, optional
        The CSV column of sample names; default its first column.
    targets : sequence of str
        Columns to take as targets even when they hold no number (class labels).
    delimiter, decimal : str, optional
        As for the wide CSV; detected unless given.

    Raises
    ------
    DataError
        A spectrum without a row, a name on two rows, an empty name, a target already in ``parts``.
    MissingColumnError
        ``key_column`` or a named target is not a column of the CSV.
    """
    path = Path(targets_file)
    table, delimiter, decimal = read_csv_table(path, delimiter=delimiter, decimal=decimal)
    header = table.column_names
    key = key_column if key_column is not None else header[0]
    missing = [c for c in (key, *targets) if c not in header]
    if missing:
        raise MissingColumnError(f"{path}: missing column(s) {missing}; columns found: {header[:12]}")
    keys = [("" if v is None else v.strip()) for v in table.column(key).to_pylist()]
    rows = _matched_rows(parts, path, _spectrum_keys(parts, join_on), _row_of_key(path, keys, key), join_on)
    new_targets, metadata, partition = {}, dict(parts.metadata), parts.partition
    for name in header:
        if name == key:
            continue
        # Typed over the whole column (so a bad cell is named by its row in the file), then picked.
        text = np.asarray([("" if v is None else v.strip()) for v in table.column(name).to_pylist()], dtype=str)[rows]
        if name == PARTITION_COLUMN:
            partition = np.char.lower(text)
            continue
        values = target_values(path, delimiter, table.column(name), name, decimal)[rows]
        if name in targets or values.dtype.kind == "f":
            if name in parts.targets:
                raise DataError(f"{path}: target {name!r} is already read from {parts.source}")
            new_targets[name] = values
        else:
            metadata[name] = text
    return replace(parts, targets={**parts.targets, **new_targets}, metadata=metadata, partition=partition)
