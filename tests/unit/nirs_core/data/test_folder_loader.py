"""Unit tests of read_folder_parts on small nirs4all-style folders written into tmp_path."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs_core.data.errors import DataError, EmptyDatasetError, MissingColumnError, SpectraFileError
from nirs_core.data.folder_loader import read_folder_parts

WAVENUMBERS = [11012, 10000, 9000, 8000, 7000, 5966]


def _write(folder: Path, name: str, rows: list[list[object]] | str, sep: str = ";") -> Path:
    """Write rows (or raw text) to folder/name, gzip-compressed when the name ends in .gz."""
    text = rows if isinstance(rows, str) else "".join(sep.join(str(v) for v in row) + "\n" for row in rows)
    path = folder / name
    if name.lower().endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _matrix(n_rows: int, n_cols: int, start: float = 0.0) -> np.ndarray:
    """Absorbance-like values, distinct per cell so that row order is checked too."""
    return start + np.arange(n_rows * n_cols, dtype=np.float64).reshape(n_rows, n_cols) / 100 + 0.013


def _rows(values: np.ndarray) -> list[list[object]]:
    return [[repr(float(v)) for v in row] for row in values]


# --- layout, headers, axis ---------------------------------------------------------------------------------------


def test_headerless_cal_val_keeps_every_row(tmp_path: Path) -> None:
    cal, val = _matrix(7, 5), _matrix(3, 5, start=1.0)
    _write(tmp_path, "Xcal.csv", _rows(cal))
    _write(tmp_path, "Xval.csv", _rows(val))
    _write(tmp_path, "Ycal.csv", [[v] for v in range(7)])
    _write(tmp_path, "Yval.csv", [[v] for v in (7.5, 8.5, 9.5)])
    parts = read_folder_parts(tmp_path)
    assert parts.spectra.shape == (10, 5)
    np.testing.assert_array_equal(parts.spectra, np.vstack([cal, val]))
    assert parts.wavelengths is None and parts.wavelength_unit is None
    assert parts.partition.tolist() == ["train"] * 7 + ["test"] * 3
    assert parts.sample_ids.tolist() == [f"cal_{i}" for i in range(1, 8)] + ["val_1", "val_2", "val_3"]
    assert list(parts.targets) == ["y"]
    np.testing.assert_array_equal(parts.targets["y"], [0, 1, 2, 3, 4, 5, 6, 7.5, 8.5, 9.5])
    assert parts.source == str(tmp_path) and parts.metadata == {}


def test_monotonic_small_first_row_is_data_not_a_header(tmp_path: Path) -> None:
    first = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    rows = [first] + [[round(0.05 * i + 0.01 * j, 3) for j in range(9)] for i in range(6)]
    _write(tmp_path, "Xcal.csv", rows)
    parts = read_folder_parts(tmp_path)
    assert parts.spectra.shape == (7, 9)
    np.testing.assert_array_equal(parts.spectra[0], first)
    assert parts.wavelengths is None


def test_axis_like_first_row_is_data_when_the_next_rows_are_as_large(tmp_path: Path) -> None:
    # Raw detector counts: the first row is monotonic and in range, but not ten times larger than the rest.
    rows = [[1000, 1100, 1200, 1300]] + [[1500 + 10 * i + j, 1400, 1300, 1200] for i, j in enumerate(range(5))]
    _write(tmp_path, "Xtrain.csv", rows, sep=",")
    parts = read_folder_parts(tmp_path)
    assert parts.spectra.shape == (6, 4)
    np.testing.assert_array_equal(parts.spectra[0], [1000, 1100, 1200, 1300])
    assert parts.wavelengths is None


def test_descending_wavenumber_header_becomes_a_cm1_axis(tmp_path: Path) -> None:
    train, test = _matrix(5, 6), _matrix(2, 6, start=0.5)
    _write(tmp_path, "Xtrain.csv", [WAVENUMBERS, *_rows(train)], sep=",")
    _write(tmp_path, "Xtest.csv", [WAVENUMBERS, *_rows(test)], sep=",")
    parts = read_folder_parts(tmp_path)
    np.testing.assert_array_equal(parts.wavelengths, WAVENUMBERS)
    assert parts.wavelength_unit == "cm-1"
    np.testing.assert_array_equal(parts.spectra, np.vstack([train, test]))
    assert parts.sample_ids.tolist() == [*(f"train_{i}" for i in range(1, 6)), "test_1", "test_2"]


@pytest.mark.parametrize(
    ("axis", "unit"),
    [
        ([1000, 1500, 2000, 2500], "nm"),
        ([4000.0, 5000.0, 6000.0], "cm-1"),
        ([3000, 3500, 4000], "cm-1"),
        ([2500, 3000, 3500], None),  # straddles 3000: neither unit is a safe guess
    ],
)
def test_numeric_header_unit_guess(tmp_path: Path, axis: list[float], unit: str | None) -> None:
    _write(tmp_path, "Xcal.csv", [axis, *_rows(_matrix(3, len(axis)))])
    parts = read_folder_parts(tmp_path)
    np.testing.assert_array_equal(parts.wavelengths, axis)
    assert parts.wavelength_unit == unit
    assert parts.spectra.shape == (3, len(axis))


def test_text_header_gives_no_axis(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", [["ch001", "ch002", "ch003"], *_rows(_matrix(4, 3))])
    parts = read_folder_parts(tmp_path)
    assert parts.spectra.shape == (4, 3)
    assert parts.wavelengths is None and parts.wavelength_unit is None


def test_gzip_files_are_read(tmp_path: Path) -> None:
    cal, val = _matrix(4, 3), _matrix(2, 3, start=2.0)
    _write(tmp_path, "Xcal.csv.gz", _rows(cal))
    _write(tmp_path, "Xval.csv.gz", _rows(val))
    _write(tmp_path, "Ycal.csv.gz", [[1.5], [2.5], [3.5], [4.5]])
    _write(tmp_path, "Yval.csv.gz", [[5.5], [6.5]])
    parts = read_folder_parts(tmp_path)
    np.testing.assert_array_equal(parts.spectra, np.vstack([cal, val]))
    np.testing.assert_array_equal(parts.targets["y"], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])


def test_file_names_are_case_insensitive(tmp_path: Path) -> None:
    _write(tmp_path, "xCAL.CSV", _rows(_matrix(3, 2)))
    _write(tmp_path, "YCal.Csv.GZ", [[1], [2], [3]])
    parts = read_folder_parts(tmp_path)
    assert parts.spectra.shape == (3, 2)
    assert parts.sample_ids.tolist() == ["cal_1", "cal_2", "cal_3"]


def test_only_a_training_split_is_all_train(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "README.md", "not data\n")
    assert read_folder_parts(tmp_path).partition.tolist() == ["train"] * 3


def test_tab_separator_is_detected(tmp_path: Path) -> None:
    values = _matrix(3, 4)
    _write(tmp_path, "Xcal.csv", _rows(values), sep="\t")
    np.testing.assert_array_equal(read_folder_parts(tmp_path).spectra, values)


def test_explicit_delimiter_is_used_for_every_file(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 4)), sep=",")
    # split with ';', each line is one text cell: the first is taken for a header, the second cannot be a number
    with pytest.raises(SpectraFileError, match=r"Xcal\.csv: row 2 \(data row 1\), column 1 .*: expected a number, "
                                               r"got '0\.053,0\.063,0\.073,0\.083' \(delimiter ';'\)"):
        read_folder_parts(tmp_path, delimiter=";")
    assert read_folder_parts(tmp_path, delimiter=",").spectra.shape == (3, 4)


def test_header_false_keeps_an_axis_like_first_row_as_data(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", [WAVENUMBERS, *_rows(_matrix(3, 6))])
    parts = read_folder_parts(tmp_path, header=False)
    assert parts.spectra.shape == (4, 6)
    np.testing.assert_array_equal(parts.spectra[0], WAVENUMBERS)
    assert parts.wavelengths is None


def test_header_true_takes_a_small_numeric_first_row_as_header(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", [[0.1, 0.2, 0.3], *_rows(_matrix(3, 3))])
    _write(tmp_path, "Ycal.csv", [["Prot"], [1], [2], [3]])
    parts = read_folder_parts(tmp_path, header=True)
    assert parts.spectra.shape == (3, 3)
    np.testing.assert_array_equal(parts.wavelengths, [0.1, 0.2, 0.3])
    assert parts.wavelength_unit is None  # outside both NIR ranges: no guess
    assert list(parts.targets) == ["Prot"]


def test_spaces_around_numbers_are_ignored(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", " 1.5 ; 2.5\n3.5 ;4.5 \r\n")
    np.testing.assert_array_equal(read_folder_parts(tmp_path).spectra, [[1.5, 2.5], [3.5, 4.5]])


def test_lines_longer_than_the_csv_module_field_limit_are_read(tmp_path: Path) -> None:
    wide = _matrix(2, 20_000)  # ~200 KiB per line: unsplit by ',', such a line is one over-long csv field
    _write(tmp_path, "Xcal.csv.gz", _rows(wide))
    np.testing.assert_array_equal(read_folder_parts(tmp_path).spectra, wide)


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "\n1.5;2.5\n\n3.5;4.5\n\n")
    np.testing.assert_array_equal(read_folder_parts(tmp_path).spectra, [[1.5, 2.5], [3.5, 4.5]])


# --- targets and metadata ----------------------------------------------------------------------------------------


def test_y_header_names_the_target(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", [WAVENUMBERS, *_rows(_matrix(3, 6))])
    _write(tmp_path, "Ytrain.csv", [["Prot"], [12], [12.4], [10.6]])
    parts = read_folder_parts(tmp_path)
    assert list(parts.targets) == ["Prot"]
    assert parts.targets["Prot"].dtype == np.float64
    np.testing.assert_array_equal(parts.targets["Prot"], [12, 12.4, 10.6])


def test_integer_classes_stay_float64(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "Ycal.csv", [["Prot"], [11], [12], [9]])
    assert read_folder_parts(tmp_path).targets["Prot"].dtype == np.float64


def test_text_labels_are_kept_as_strings_across_splits(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "Xval.csv", _rows(_matrix(2, 2)))
    # numeric in cal, text in val: the column is one target, so both splits keep their text
    _write(tmp_path, "Ycal.csv", [["variety"], [1], [2], [1]])
    _write(tmp_path, "Yval.csv", [["variety"], [" durum "], [2]])
    labels = read_folder_parts(tmp_path).targets["variety"]
    assert labels.dtype.kind == "U"
    assert labels.tolist() == ["1", "2", "1", "durum", "2"]


def test_headerless_multi_column_y_is_named_y0_y1(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Ycal.csv", [[1, 10], [2, 20]])
    targets = read_folder_parts(tmp_path).targets
    assert list(targets) == ["y0", "y1"]
    np.testing.assert_array_equal(targets["y1"], [10, 20])


def test_empty_target_cells_are_nan(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "Ycal.csv", [["a", "b"], [1, 4], ["", 5], [3, 6]])
    targets = read_folder_parts(tmp_path).targets
    assert np.isnan(targets["a"][1]) and targets["a"][2] == 3


def test_metadata_sample_id_stays_metadata_and_ids_number_rows(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", [WAVENUMBERS, *_rows(_matrix(4, 6))])
    _write(tmp_path, "Xtest.csv", [WAVENUMBERS, *_rows(_matrix(2, 6))])
    _write(tmp_path, "Mtrain.csv", [["Sample_ID", "Rep", "Date"], ["BGE1", "Mesure_1", "04/11/24"],
                                    ["BGE1", "Mesure_2", ""], ["BGE2", "Mesure_1", ""], ["BGE2", "Mesure_2", ""]])
    _write(tmp_path, "Mtest.csv", [["Sample_ID", "Rep", "Date"], ["BGE10", "Mesure_1", ""], ["BGE10", "Mesure_2", ""]])
    parts = read_folder_parts(tmp_path)
    assert parts.sample_ids.tolist() == ["train_1", "train_2", "train_3", "train_4", "test_1", "test_2"]
    assert list(parts.metadata) == ["Sample_ID", "Rep", "Date"]
    assert parts.metadata["Sample_ID"].tolist() == ["BGE1", "BGE1", "BGE2", "BGE2", "BGE10", "BGE10"]
    assert parts.metadata["Date"].tolist() == ["04/11/24", "", "", "", "", ""]
    assert all(column.dtype.kind == "U" for column in parts.metadata.values())


def test_numeric_looking_metadata_keeps_its_text(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Mcal.csv", [["Year", "Resolution"], ["2023", "6.19435"], ["007", " 3"]])
    metadata = read_folder_parts(tmp_path).metadata
    assert metadata["Year"].tolist() == ["2023", "007"]
    assert metadata["Resolution"].tolist() == ["6.19435", " 3"]


def test_split_without_metadata_file_gets_empty_strings(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Xval.csv", _rows(_matrix(1, 2)))
    _write(tmp_path, "Mcal.csv", [["site"], ["A"], ["B"]])
    assert read_folder_parts(tmp_path).metadata["site"].tolist() == ["A", "B", ""]


# --- errors ------------------------------------------------------------------------------------------------------


def test_ragged_row_names_file_line_and_counts(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1;0.2;0.3\n0.4;0.5;0.6\n0.7;0.8\n0.9;1.0;1.1\n")
    with pytest.raises(SpectraFileError, match=r"Xcal\.csv: row 3 has 2 fields but row 1 has 3"):
        read_folder_parts(tmp_path)


def test_ragged_row_after_the_sniffed_lines_is_found(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1,0.2\n" * 8 + "0.1,0.2,0.3\n")
    with pytest.raises(SpectraFileError, match=r"Xcal\.csv: row 9 has 3 fields but row 1 has 2 \(delimiter ','\)"):
        read_folder_parts(tmp_path)


def test_non_numeric_cell_names_file_row_column_and_text(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1;0.2;0.3\n0.4;0.5;abc\n0.7;0.8;0.9\n")
    with pytest.raises(SpectraFileError, match=r"Xcal\.csv: row 2 \(data row 2\), column 3: expected a number, "
                                               r"got 'abc'"):
        read_folder_parts(tmp_path)


def test_non_numeric_cell_under_a_header_names_the_column_and_file_line(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", "1000,1002,1004\n0.1,0.2,0.3\n\n0.4,n/a,0.6\n")
    with pytest.raises(SpectraFileError, match=r"Xtrain\.csv: row 4 \(data row 2\), column 2 \('1002'\): "
                                               r"expected a number, got 'n/a'"):
        read_folder_parts(tmp_path)


def test_first_bad_cell_is_reported_in_reading_order(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1;0.2;0.3;0.4\n0.1;0.2;0.3;x2\nx3;0.2;0.3;0.4\n")
    with pytest.raises(SpectraFileError, match=r"row 2 \(data row 2\), column 4: expected a number, got 'x2'"):
        read_folder_parts(tmp_path)


def test_empty_spectra_cell_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1;0.2;0.3\n0.4;;0.6\n")
    with pytest.raises(SpectraFileError, match=r"Xcal\.csv: row 2 \(data row 2\), column 2: empty cell"):
        read_folder_parts(tmp_path)


def test_trailing_delimiter_is_explained(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "0.1;0.2;\n0.4;0.5;\n")
    with pytest.raises(SpectraFileError, match=r"column 3: empty cell.*every row ends with the delimiter"):
        read_folder_parts(tmp_path)


def test_x_y_row_count_mismatch_names_both_files_and_counts(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(5, 2)))
    _write(tmp_path, "Ycal.csv", [[1], [2], [3], [4]])
    with pytest.raises(DataError, match=r"Xcal\.csv has 5 data rows but Ycal\.csv has 4$"):
        read_folder_parts(tmp_path)


def test_headerless_label_y_mismatch_suggests_header_false(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "Ycal.csv", [["durum"], ["soft"], ["durum"]])
    with pytest.raises(DataError, match=r"has 3 data rows but Ycal\.csv has 2; .*pass header=False"):
        read_folder_parts(tmp_path)
    assert read_folder_parts(tmp_path, header=False).targets["y"].tolist() == ["durum", "soft", "durum"]


def test_x_m_row_count_mismatch_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", _rows(_matrix(3, 2)))
    _write(tmp_path, "Mtrain.csv", [["site"], ["A"], ["B"], ["C"], ["D"]])
    with pytest.raises(DataError, match=r"Xtrain\.csv has 3 data rows but Mtrain\.csv has 4"):
        read_folder_parts(tmp_path)


def test_different_wavelength_counts_between_splits(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(3, 5)))
    _write(tmp_path, "Xval.csv", _rows(_matrix(2, 4)))
    with pytest.raises(DataError, match=r"Xcal\.csv and Xval\.csv have different numbers of wavelengths \(5 and 4\)"):
        read_folder_parts(tmp_path)


def test_different_axes_between_splits_name_the_first_differing_column(tmp_path: Path) -> None:
    other = [*WAVENUMBERS[:2], 8999, 7999, *WAVENUMBERS[4:]]
    _write(tmp_path, "Xtrain.csv", [WAVENUMBERS, *_rows(_matrix(3, 6))])
    _write(tmp_path, "Xtest.csv", [other, *_rows(_matrix(2, 6))])
    with pytest.raises(DataError, match=r"Xtrain\.csv and Xtest\.csv have different headers: column 3 is '9000' "
                                        r"in one and '8999' in the other"):
        read_folder_parts(tmp_path)


def test_equal_axes_written_differently_match(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", [[1000, 1500, 2000], *_rows(_matrix(2, 3))])
    _write(tmp_path, "Xtest.csv", [["1000.0", "1.5e3", "2000"], *_rows(_matrix(2, 3))])
    np.testing.assert_array_equal(read_folder_parts(tmp_path).wavelengths, [1000, 1500, 2000])


def test_header_in_one_split_only_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", [WAVENUMBERS, *_rows(_matrix(3, 6))])
    _write(tmp_path, "Xtest.csv", _rows(_matrix(2, 6)))
    with pytest.raises(DataError, match=r"Xtrain\.csv and Xtest\.csv: only one of them has a header row"):
        read_folder_parts(tmp_path)


def test_empty_file_is_an_empty_dataset(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "")
    with pytest.raises(EmptyDatasetError, match=r"Xcal\.csv: file is empty"):
        read_folder_parts(tmp_path)


def test_header_only_file_is_an_empty_dataset(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", "ch1;ch2\n")
    with pytest.raises(EmptyDatasetError, match=r"Xcal\.csv: no data rows after the header"):
        read_folder_parts(tmp_path)


def test_folder_without_x_lists_the_files_found(tmp_path: Path) -> None:
    _write(tmp_path, "Ycal.csv", [[1]])
    _write(tmp_path, "spectra.csv", [[1]])
    with pytest.raises(EmptyDatasetError, match=r"no X file .*files found: \['Ycal\.csv', 'spectra\.csv'\]"):
        read_folder_parts(tmp_path)


def test_mixing_cal_val_with_train_test_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Xtest.csv", _rows(_matrix(2, 2)))
    with pytest.raises(DataError, match=r"mixes cal/val and train/test files \(\['Xcal\.csv', 'Xtest\.csv'\]\)"):
        read_folder_parts(tmp_path)


def test_y_missing_for_one_split_names_the_missing_file(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Xval.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Ycal.csv", [[1], [2]])
    with pytest.raises(MissingColumnError, match=r"Yval\.csv \(or \.csv\.gz\) is missing for Xval\.csv"):
        read_folder_parts(tmp_path)


def test_y_without_its_x_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Yval.csv", [[1], [2]])
    with pytest.raises(DataError, match=r"Yval\.csv has no matching Xval\.csv"):
        read_folder_parts(tmp_path)


def test_metadata_without_column_names_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Mcal.csv", [[1, 2023], [2, 2024]])
    with pytest.raises(DataError, match=r"Mcal\.csv: the first row is all numbers; .*header row of column names"):
        read_folder_parts(tmp_path)


def test_metadata_columns_must_match_between_splits(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(1, 2)))
    _write(tmp_path, "Xval.csv", _rows(_matrix(1, 2)))
    _write(tmp_path, "Mcal.csv", [["site"], ["A"]])
    _write(tmp_path, "Mval.csv", [["place"], ["B"]])
    with pytest.raises(DataError, match=r"Mcal\.csv and Mval\.csv have different metadata columns"):
        read_folder_parts(tmp_path)


def test_two_files_for_one_role_and_split_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Xcal.csv.gz", _rows(_matrix(2, 2)))
    with pytest.raises(DataError, match=r"Xcal\.csv and Xcal\.csv\.gz are both the Xcal file"):
        read_folder_parts(tmp_path)


def test_target_names_must_match_between_splits(tmp_path: Path) -> None:
    _write(tmp_path, "Xtrain.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Xtest.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Ytrain.csv", [["Prot"], [1], [2]])
    _write(tmp_path, "Ytest.csv", [[1], [2]])
    with pytest.raises(DataError, match=r"Ytrain\.csv has targets \['Prot'\] but Ytest\.csv has \['y'\]"):
        read_folder_parts(tmp_path)


def test_duplicate_target_names_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Xcal.csv", _rows(_matrix(2, 2)))
    _write(tmp_path, "Ycal.csv", [["Prot", "Prot"], [1, 2], [3, 4]])
    with pytest.raises(SpectraFileError, match=r"Ycal\.csv: target names must be non-empty and distinct"):
        read_folder_parts(tmp_path)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        read_folder_parts(tmp_path / "missing")
    with pytest.raises(DataError, match="delimiter must be one character"):
        read_folder_parts(tmp_path, delimiter=";;")


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Xcal.csv").write_bytes(b"0.1;0.2\n")
    (tmp_path / "Mcal.csv").write_bytes("site\nB\xe9ziers\n".encode("latin-1"))
    with pytest.raises(SpectraFileError, match=r"Mcal\.csv: not a UTF-8 text file"):
        read_folder_parts(tmp_path)


# --- properties --------------------------------------------------------------------------------------------------


def _matrices(elements: st.SearchStrategy[float]) -> st.SearchStrategy[list[list[float]]]:
    return st.integers(1, 6).flatmap(
        lambda n_cols: st.lists(st.lists(elements, min_size=n_cols, max_size=n_cols), min_size=1, max_size=8)
    )


def _round_trip(rows: list[list[float]], sep: str, header: bool | None) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), "Xcal.csv", [[repr(v) for v in row] for row in rows], sep=sep)
        return read_folder_parts(folder, header=header).spectra


@settings(max_examples=150, deadline=None)
@given(rows=_matrices(st.floats(allow_nan=False, allow_infinity=False)), sep=st.sampled_from([";", ","]))
def test_any_finite_matrix_round_trips_exactly_without_header(rows: list[list[float]], sep: str) -> None:
    spectra = _round_trip(rows, sep, header=False)
    assert spectra.shape == (len(rows), len(rows[0]))
    assert [repr(v) for v in spectra.ravel().tolist()] == [repr(v) for row in rows for v in row]


@settings(max_examples=150, deadline=None)
@given(rows=_matrices(st.floats(-99.0, 99.0, allow_nan=False)), sep=st.sampled_from([";", ","]))
def test_spectra_like_matrix_is_never_taken_for_a_header(rows: list[list[float]], sep: str) -> None:
    spectra = _round_trip(rows, sep, header=None)
    assert spectra.shape == (len(rows), len(rows[0]))
    assert [repr(v) for v in spectra.ravel().tolist()] == [repr(v) for row in rows for v in row]


def _comma(values: np.ndarray) -> list[list[object]]:
    return [[repr(float(v)).replace(".", ",") for v in row] for row in values]


def test_decimal_commas_are_detected_per_file(tmp_path: Path) -> None:
    cal, val = _matrix(7, 5), _matrix(3, 5, start=1.0)
    axis = [1100.5, 1200.5, 1300.5, 1400.5, 1500.5]
    _write(tmp_path, "Xcal.csv", [[str(a).replace(".", ",") for a in axis], *_comma(cal)])
    _write(tmp_path, "Xval.csv", [[str(a) for a in axis], *_rows(val)])  # this file writes points
    _write(tmp_path, "Ycal.csv", [["fat", "grade"], *[[f"{v},5", "low"] for v in range(7)]])
    _write(tmp_path, "Yval.csv", [["fat", "grade"], *[[f"{v}.5", "high"] for v in range(3)]])
    parts = read_folder_parts(tmp_path)
    np.testing.assert_array_equal(parts.spectra, np.vstack([cal, val]))
    np.testing.assert_array_equal(parts.wavelengths, axis)
    np.testing.assert_array_equal(parts.targets["fat"], [*(v + 0.5 for v in range(7)), 0.5, 1.5, 2.5])
    assert parts.targets["grade"].tolist() == ["low"] * 7 + ["high"] * 3


def test_a_bad_cell_in_a_decimal_comma_file_is_named(tmp_path: Path) -> None:
    cal = _comma(_matrix(7, 5))
    cal[4][2] = "x"
    _write(tmp_path, "Xcal.csv", cal)
    _write(tmp_path, "Ycal.csv", [[v] for v in range(7)])
    with pytest.raises(SpectraFileError, match=r"row 5 \(data row 5\), column 3: expected a number, got 'x'"):
        read_folder_parts(tmp_path)
