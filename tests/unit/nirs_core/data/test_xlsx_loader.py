"""The xlsx loader: a sheet laid out like the wide CSV reads as the same dataset; bad cells are named by file,
sheet, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from tests.unit.nirs_core.data.format_writers import AXIS_NM, FAT, IDS, PARTITION, SPECTRA, write_reference_csv

import nirdag
from nirs_core.data import SpectraDataset, detect_format
from nirs_core.data.errors import DataError, EmptyDatasetError, MissingColumnError, SpectraFileError

ROLES = {"targets": ["fat"], "id_column": "id", "partition_column": "partition"}


def _rows() -> list[list[object]]:
    header: list[object] = ["id", "partition", "fat", *(float(w) for w in AXIS_NM)]
    return [header, *([IDS[i], PARTITION[i], float(FAT[i]), *map(float, SPECTRA[i])] for i in range(len(IDS)))]


def _workbook(path: Path, rows: list[list[object]], *, title: str = "spectra", before: str | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    if before is not None:  # another sheet first, so the spectra are not on the default sheet
        sheet.title = before
        sheet.append(["nothing", "here"])
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def assert_same(a: SpectraDataset, b: SpectraDataset) -> None:
    np.testing.assert_array_equal(a.spectra, b.spectra)
    np.testing.assert_array_equal(a.wavelengths, b.wavelengths)
    assert a.wavelength_unit == b.wavelength_unit
    assert a.sample_ids.tolist() == b.sample_ids.tolist()
    assert a.partition.tolist() == b.partition.tolist()
    assert sorted(a.targets) == sorted(b.targets)
    for name in a.targets:
        np.testing.assert_array_equal(a.target(name), b.target(name))
    assert a.content_hash == b.content_hash


def test_xlsx_reads_as_the_same_dataset_as_the_csv(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "lab.xlsx", _rows())
    assert detect_format(book) == "xlsx"
    from_xlsx = nirdag.load_dataset(book, **ROLES)
    assert_same(from_xlsx, nirdag.load_dataset(write_reference_csv(tmp_path / "lab.csv"), **ROLES))
    assert from_xlsx.partition.tolist() == PARTITION.tolist()


def test_sheet_option_picks_the_named_sheet(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "lab.xlsx", _rows(), title="NIR", before="notes")
    ds = nirdag.load_dataset(book, sheet="NIR", **ROLES)
    np.testing.assert_array_equal(ds.spectra, SPECTRA)
    with pytest.raises(DataError, match=r"lab\.xlsx: no sheet 'Raman'; sheets: \['notes', 'NIR'\]"):
        nirdag.load_dataset(book, sheet="Raman", **ROLES)


def test_class_label_target_and_metadata_columns_follow_the_csv_rules(tmp_path: Path) -> None:
    rows = _rows()
    rows[0][2:2] = ["variety", "batch"]
    for i, row in enumerate(rows[1:]):
        row[2:2] = ["durum" if i % 2 else "spelt", 7]
    ds = nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", rows), targets=["fat", "variety"], id_column="id",
                             partition_column="partition")
    assert ds.target("variety").tolist() == ["spelt", "durum"] * 3
    assert ds.metadata.column("batch").to_pylist() == ["7"] * 6  # the number 7 reads as the text a CSV holds


def test_empty_target_cell_is_not_measured_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    rows = _rows()
    rows[2][2] = None
    rows.insert(3, [None] * len(rows[0]))
    ds = nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", rows), **ROLES)
    assert ds.n_samples == 6
    assert np.isnan(ds.target("fat")[1])


def test_text_in_a_spectral_cell_names_file_sheet_row_and_column(tmp_path: Path) -> None:
    rows = _rows()
    rows[3][4] = "n/a"  # sheet row 4, column E = wavelength 1102
    book = _workbook(tmp_path / "lab.xlsx", rows)
    with pytest.raises(SpectraFileError, match=r"lab\.xlsx: sheet 'spectra', row 4, column E \('1102'\): "
                                               r"expected a number, got 'n/a'"):
        nirdag.load_dataset(book, **ROLES)


def test_ragged_row_names_the_empty_cell(tmp_path: Path) -> None:
    rows = _rows()
    rows[5] = rows[5][:-2]
    with pytest.raises(SpectraFileError, match=r"sheet 'spectra', row 6, column G \('1106'\): expected a "
                                               r"number, got an empty cell"):
        nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", rows), **ROLES)


def test_value_in_a_column_without_header_is_named(tmp_path: Path) -> None:
    rows = _rows()
    rows[2] = [*rows[2], None, 3.5]
    with pytest.raises(SpectraFileError, match=r"sheet 'spectra', row 3, column J: a value in a column with no "
                                               r"header \(row 1 is the header\)"):
        nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", rows), **ROLES)


def test_text_in_a_numeric_target_is_named(tmp_path: Path) -> None:
    rows = _rows()
    rows[6][2] = "high"
    with pytest.raises(SpectraFileError, match=r"sheet 'spectra', row 7, column C \('fat'\): expected a number"):
        nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", rows), **ROLES)


def test_missing_named_column_is_a_missing_column_error(tmp_path: Path) -> None:
    with pytest.raises(MissingColumnError, match=r"lab\.xlsx: missing column\(s\) \['protein'\]"):
        nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", _rows()), targets=["protein"], id_column="id")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"id,fat\n1,2\n"])
def test_file_that_is_not_a_workbook_is_a_spectra_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "lab.xlsx"
    path.write_bytes(content)
    with pytest.raises(SpectraFileError, match=r"lab\.xlsx: not a readable \.xlsx workbook"):
        nirdag.load_dataset(path, **ROLES)


def test_truncated_workbook_is_a_spectra_file_error(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "lab.xlsx", _rows())
    book.write_bytes(book.read_bytes()[: book.stat().st_size // 2])
    with pytest.raises(SpectraFileError, match=r"lab\.xlsx: not a readable \.xlsx workbook"):
        nirdag.load_dataset(book, **ROLES)


def test_empty_sheet_is_an_empty_dataset(tmp_path: Path) -> None:
    with pytest.raises(EmptyDatasetError, match=r"sheet 'spectra' is empty"):
        nirdag.load_dataset(_workbook(tmp_path / "lab.xlsx", []), **ROLES)
