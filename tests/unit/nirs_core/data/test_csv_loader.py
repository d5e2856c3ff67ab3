"""Unit tests of load_csv on small CSV files: axis parsing, error messages naming file/row/column, round trip."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nirs_core.data import load_csv, tecator
from nirs_core.data.errors import EmptyDatasetError, MissingColumnError, SpectraFileError
from nirs_core.data.table_loader import AxisFromColumnIndex


def _write(tmp_path: Path, text: str, name: str = "spectra.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_numeric_headers_become_the_wavelength_axis(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900,902.5,905\na,1.5,0.1,0.2,0.3\nb,2,0.4,0.5,0.6\n")
    ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.5, 905.0])
    assert ds.wavelength_unit == "nm"
    np.testing.assert_array_equal(ds.spectra, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    np.testing.assert_array_equal(ds.target("fat"), [1.5, 2.0])
    assert ds.sample_ids.tolist() == ["a", "b"]
    assert ds.name == "spectra"


def test_rows_without_partition_column_are_all_train(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900,902\na,1,0.1,0.2\nb,2,0.3,0.4\n")
    ds = load_csv(path, targets=["fat"], id_column="id")
    assert ds.partition.tolist() == ["train", "train"]


def test_non_numeric_headers_give_an_index_axis_and_say_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,ch1,ch2,ch3\na,1,0.1,0.2,0.3\n")
    with pytest.warns(AxisFromColumnIndex, match=r"'ch1', 'ch2', 'ch3'.*axis is the column index 0..2"):
        ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.wavelengths, [0.0, 1.0, 2.0])
    assert ds.wavelength_unit == "index"


def test_explicit_wavelengths_override_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "fat,ch1,ch2\n1,0.1,0.2\n")
    ds = load_csv(path, targets=["fat"], wavelengths=[4000.0, 4002.0], wavelength_unit="cm-1")
    np.testing.assert_array_equal(ds.wavelengths, [4000.0, 4002.0])
    assert ds.wavelength_unit == "cm-1"
    assert ds.sample_ids.tolist() == ["1"]  # no id column: ids are the 1-based data row numbers


def test_partition_column_is_read_case_insensitively(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,set,fat,900\na, Train ,1,0.1\nb,TEST,2,0.2\n")
    ds = load_csv(path, targets=["fat"], id_column="id", partition_column="set")
    assert ds.partition.tolist() == ["train", "test"]
    assert ds.n_wavelengths == 1  # the partition column is not spectral


def test_non_numeric_cell_names_file_row_and_column(tmp_path: Path) -> None:
    # "oops" is on line 4 of the file (header = row 1).
    path = _write(tmp_path, "id,fat,900,902\na,1,0.1,0.2\nb,2,0.3,0.4\nc,3,oops,0.6\n")
    with pytest.raises(SpectraFileError) as info:
        load_csv(path, targets=["fat"], id_column="id")
    message = str(info.value)
    assert str(path) in message
    assert "row 4" in message
    assert "'900'" in message
    assert "'oops'" in message


def test_target_column_without_numbers_is_class_labels(tmp_path: Path) -> None:
    ds = load_csv(_write(tmp_path, "id,grade,900\na,high,0.1\nb,low,0.2\n"), targets=["grade"], id_column="id")
    assert ds.is_label_target("grade") and ds.target("grade").tolist() == ["high", "low"]


def test_non_numeric_cell_in_a_numeric_target_names_the_target_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900\na,12.5,0.1\nb,high,0.2\n")
    with pytest.raises(SpectraFileError, match=r"row 3.*'fat'"):
        load_csv(path, targets=["fat"], id_column="id")


def test_missing_target_column_raises_missing_column_error_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900,902\na,1,0.1,0.2\n")
    with pytest.raises(MissingColumnError, match=r"'protein'") as info:
        load_csv(path, targets=["fat", "protein"], id_column="id")
    assert str(path) in str(info.value)
    assert "'fat'" not in str(info.value).split("columns found")[0]  # only the absent one is reported missing


def test_missing_id_column_raises_missing_column_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "fat,900\n1,0.1\n")
    with pytest.raises(MissingColumnError, match="'sample'"):
        load_csv(path, targets=["fat"], id_column="sample")


def test_header_only_file_raises_empty_dataset_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900,902\n")
    with pytest.raises(EmptyDatasetError, match="no data rows"):
        load_csv(path, targets=["fat"], id_column="id")


def test_empty_file_raises_empty_dataset_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    with pytest.raises(EmptyDatasetError, match="empty"):
        load_csv(path, targets=["fat"])


def test_file_without_spectral_columns_raises_empty_dataset_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat\na,1\n")
    with pytest.raises(EmptyDatasetError, match="no spectral columns"):
        load_csv(path, targets=["fat"], id_column="id")


def test_missing_file_raises_spectra_file_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(SpectraFileError, match="not found") as info:
        load_csv(path, targets=["fat"])
    assert str(path) in str(info.value)


def test_csv_written_from_tecator_loads_back_with_the_same_hash(tmp_path: Path) -> None:
    original = tecator()
    target_names = sorted(original.targets)
    path = tmp_path / "tecator_roundtrip.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        # repr() of a float round-trips exactly, so the header parses back to the very same axis.
        writer.writerow(["sample", "set", *target_names, *(repr(float(w)) for w in original.wavelengths)])
        for i in range(original.n_samples):
            writer.writerow([
                original.sample_ids[i], original.partition[i],
                *(repr(float(original.target(t)[i])) for t in target_names),
                *(repr(float(v)) for v in original.spectra[i]),
            ])
    loaded = load_csv(path, targets=target_names, id_column="sample", partition_column="set")
    np.testing.assert_array_equal(loaded.wavelengths, original.wavelengths)
    assert loaded.wavelength_unit == "nm"
    assert loaded.content_hash == original.content_hash


def test_row_number_counts_file_lines_across_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900,902\na,1.5,0.1,0.2\n\nb,2,0.3,oops\n")
    with pytest.raises(SpectraFileError, match=r"row 4 \(data row 2\), column '902'.*'oops'"):
        load_csv(path, targets=["fat"], id_column="id")


def test_empty_target_cell_is_nan_but_empty_spectral_cell_is_an_error(tmp_path: Path) -> None:
    ds = load_csv(_write(tmp_path, "id,fat,900,902\na,,0.1,0.2\nb,2,0.3,0.4\n"), targets=["fat"], id_column="id")
    assert np.isnan(ds.target("fat")[0]) and ds.target("fat")[1] == 2.0
    with pytest.raises(SpectraFileError, match=r"row 2 .*column '900'.*got ''"):
        load_csv(_write(tmp_path, "id,fat,900,902\na,1,,0.2\n", "holes.csv"), targets=["fat"], id_column="id")


def test_cells_with_spaces_are_numbers_and_odd_numerals_name_their_cell(tmp_path: Path) -> None:
    ds = load_csv(_write(tmp_path, "id,fat,900,902\na,1, 7 ,0.5\n"), targets=["fat"], id_column="id")
    assert ds.spectra.tolist() == [[7.0, 0.5]]
    with pytest.raises(SpectraFileError, match=r"row 2 .*column '902'.*'1_000'"):
        load_csv(_write(tmp_path, "id,fat,900,902\na,1,7,1_000\n", "odd.csv"), targets=["fat"], id_column="id")


def test_decimal_commas_with_semicolons_are_detected(tmp_path: Path) -> None:
    path = _write(tmp_path, "id;fat;grade;batch;900;902,5;905\na;1,5;low;b,1;0,1;0,2;3e-1\nb;2;high;b,2;0,4;0,5;0,6\n")
    ds = load_csv(path, targets=["fat", "grade"], id_column="id")
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.5, 905.0])
    np.testing.assert_array_equal(ds.spectra, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    np.testing.assert_array_equal(ds.target("fat"), [1.5, 2.0])
    assert ds.target("grade").tolist() == ["low", "high"]
    assert ds.metadata.column("batch").to_pylist() == ["b,1", "b,2"]  # metadata text is left as written


def test_decimal_points_with_semicolons_stay_points_and_a_given_decimal_wins(tmp_path: Path) -> None:
    points = _write(tmp_path, "id;fat;900;902\na;1.5;0.1;0.2\nb;2;0.3;0.4\n")
    np.testing.assert_array_equal(load_csv(points, targets=["fat"], id_column="id").spectra, [[0.1, 0.2], [0.3, 0.4]])
    # the first five data rows hold integers only: nothing to detect; an explicit comma reads a later 6,5
    rows = "".join(f"r{i};{i};{i};{i}\n" for i in range(5))
    ints = _write(tmp_path, f"id;fat;900;902\n{rows}z;9;5;6,5\n", name="ints.csv")
    with pytest.raises(SpectraFileError, match=r"row 7 \(data row 6\), column '902': expected a number, got '6,5'"):
        load_csv(ints, targets=["fat"], id_column="id")
    assert load_csv(ints, targets=["fat"], id_column="id", decimal=",").spectra[5].tolist() == [5.0, 6.5]


def test_a_decimal_separator_equal_to_the_delimiter_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,fat,900\na,1,0.1\n")
    with pytest.raises(SpectraFileError, match=r"decimal separator ',' must be one of \['\.', ','\] and differ from "
                                               r"the delimiter ','"):
        load_csv(path, targets=["fat"], id_column="id", decimal=",")
    with pytest.raises(SpectraFileError, match=r"decimal separator ':'"):
        load_csv(path, targets=["fat"], id_column="id", decimal=":")


def test_a_bad_cell_in_a_decimal_comma_file_says_how_it_was_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "id;fat;900;902\na;1,5;0,1;0,2\nb;2;0,3;x\n")
    with pytest.raises(SpectraFileError, match=r"row 3 \(data row 2\), column '902': expected a number, got 'x' "
                                               r"\(decimal comma read as a point\)"):
        load_csv(path, targets=["fat"], id_column="id")


def test_more_decimal_commas_than_semicolons_still_split_on_semicolons(tmp_path: Path) -> None:
    path = _write(tmp_path, "id;fat;900,5;902,5;905,5\na;1,5;0,1;0,2;0,3\nb;2,25;0,4;0,5;0,6\n")
    ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.wavelengths, [900.5, 902.5, 905.5])
    np.testing.assert_array_equal(ds.target("fat"), [1.5, 2.25])
    np.testing.assert_array_equal(ds.spectra, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
