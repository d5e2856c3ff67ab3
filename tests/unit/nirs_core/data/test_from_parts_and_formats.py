"""Unit tests of dataset_from_parts validation and of the .npz, Parquet, format-detection and delimited loaders."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nirs_core.data import NonFiniteRowsDropped, SpectraParts, dataset_from_parts, detect_format, load_csv
from nirs_core.data.errors import DataError, MissingColumnError, SpectraFileError
from nirs_core.data.loading import load_parts
from nirs_core.data.npz_loader import read_npz_parts

X = np.arange(12.0).reshape(3, 4) / 10 + 0.05


def _parts(**overrides: Any) -> SpectraParts:
    args: dict[str, Any] = {"source": "lab.csv", "spectra": X.copy(), "sample_ids": np.array(["p1", "p2", "p3"]),
                            "targets": {"fat": np.array([1.0, 2.0, 3.0])}}
    args.update(overrides)
    return SpectraParts(**args)


def _with_holes() -> np.ndarray:
    spectra = X.copy()
    spectra[1, 2] = np.nan
    spectra[2, 0] = -np.inf
    return spectra


# --- dataset_from_parts -------------------------------------------------------------------------------------


def test_nonfinite_rows_are_an_error_listing_ids_and_rows() -> None:
    with pytest.raises(DataError, match=r"lab\.csv: 2 spectra contain NaN or inf: p2 \(row 2\), p3 \(row 3\)"):
        dataset_from_parts(_parts(spectra=_with_holes()))


def test_drop_removes_nonfinite_rows_and_warns_with_their_ids() -> None:
    parts = _parts(spectra=_with_holes(), metadata={"inst": np.array(["A", "B", "C"])},
                   partition=np.array(["train", "test", "test"]))
    with pytest.warns(NonFiniteRowsDropped, match=r"dropped 2 spectra.*p2 \(row 2\), p3 \(row 3\)"):
        ds = dataset_from_parts(parts, on_nonfinite="drop")
    assert ds.sample_ids.tolist() == ["p1"]
    np.testing.assert_array_equal(ds.spectra, X[:1])
    np.testing.assert_array_equal(ds.target("fat"), [1.0])
    assert ds.partition.tolist() == ["train"]
    assert ds.metadata.column("inst").to_pylist() == ["A"]


def test_drop_of_finite_data_keeps_every_row_without_warning(recwarn: pytest.WarningsRecorder) -> None:
    ds = dataset_from_parts(_parts(), on_nonfinite="drop")
    assert ds.n_samples == 3
    assert not [w for w in recwarn if issubclass(w.category, NonFiniteRowsDropped)]


@pytest.mark.parametrize(("overrides", "named"), [
    ({"sample_ids": np.array(["p1", "p2"])}, "2 sample ids for 3 spectra"),
    ({"targets": {"fat": np.array([1.0, 2.0, 3.0, 4.0])}}, "4 target 'fat' for 3 spectra"),
    ({"metadata": {"inst": np.array(["A"])}}, "1 metadata 'inst' for 3 spectra"),
    ({"partition": np.array(["train"] * 5)}, "5 partition labels for 3 spectra"),
])
def test_length_mismatch_names_the_source_and_the_column(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(DataError, match=rf"^lab\.csv: {named}"):
        dataset_from_parts(_parts(**overrides))


def test_missing_axis_gives_an_index_axis() -> None:
    ds = dataset_from_parts(_parts())
    assert ds.wavelength_unit == "index"
    np.testing.assert_array_equal(ds.wavelengths, [0.0, 1.0, 2.0, 3.0])


def test_missing_ids_and_partition_number_rows_from_one_as_train() -> None:
    ds = dataset_from_parts(_parts(sample_ids=None))
    assert ds.sample_ids.tolist() == ["1", "2", "3"]
    assert ds.partition.tolist() == ["train"] * 3
    assert ds.name == "lab.csv"


@pytest.mark.parametrize(("axis", "unit"), [
    ([2999.0, 3100.0, 3200.0, 3300.0], "nm"),
    ([3000.0, 3100.0, 3200.0, 3300.0], "cm-1"),
    ([10000.0, 9000.0, 8000.0, 7000.0], "cm-1"),
    ([1000.0, 1500.0, 2000.0, 2500.0], "nm"),
])
def test_unit_is_guessed_from_the_axis_values(axis: list[float], unit: str) -> None:
    assert dataset_from_parts(_parts(wavelengths=np.array(axis))).wavelength_unit == unit


def test_given_unit_wins_over_the_guess() -> None:
    ds = dataset_from_parts(_parts(wavelengths=np.array([4000.0, 4100.0, 4200.0, 4300.0]), wavelength_unit="nm"))
    assert ds.wavelength_unit == "nm"


def test_validation_errors_of_the_dataset_name_the_source() -> None:
    with pytest.raises(DataError, match=r"^lab\.csv: .*not unique"):
        dataset_from_parts(_parts(sample_ids=np.array(["p1", "p1", "p3"])))


# --- .npz ---------------------------------------------------------------------------------------------------


def test_npz_with_x_y_axis_ids_and_partition(tmp_path: Path) -> None:
    path = tmp_path / "lab.npz"
    np.savez(path, X=X, y=np.array([1.0, 2.0, 3.0]), wavelengths=np.array([1100.0, 1200.0, 1300.0, 1400.0]),
             sample_ids=np.array(["a", "b", "c"]), partition=np.array(["train", "test", "train"]))
    ds = dataset_from_parts(load_parts(path, targets=["y"]))
    np.testing.assert_array_equal(ds.spectra, X)
    np.testing.assert_array_equal(ds.target("y"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ds.wavelengths, [1100.0, 1200.0, 1300.0, 1400.0])
    assert ds.wavelength_unit == "nm"
    assert ds.sample_ids.tolist() == ["a", "b", "c"]
    assert ds.partition.tolist() == ["train", "test", "train"]


def test_npz_train_test_split_puts_train_rows_first(tmp_path: Path) -> None:
    path = tmp_path / "split.npz"
    np.savez(path, X_train=X, y_train=np.array([1.0, 2.0, 3.0]), X_test=X[:2] + 10, y_test=np.array([8.0, 9.0]))
    parts = read_npz_parts(path)
    np.testing.assert_array_equal(parts.spectra, np.vstack([X, X[:2] + 10]))
    assert parts.partition.tolist() == ["train"] * 3 + ["test"] * 2
    np.testing.assert_array_equal(parts.targets["y"], [1.0, 2.0, 3.0, 8.0, 9.0])


def test_npz_2d_y_is_split_by_target_names(tmp_path: Path) -> None:
    path = tmp_path / "multi.npz"
    np.savez(path, X=X, y=np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]),
             target_names=np.array(["fat", "protein"]))
    parts = read_npz_parts(path)
    assert list(parts.targets) == ["fat", "protein"]
    np.testing.assert_array_equal(parts.targets["protein"], [10.0, 20.0, 30.0])


def test_npz_with_too_few_target_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "multi.npz"
    np.savez(path, X=X, y=np.ones((3, 2)), target_names=np.array(["fat"]))
    with pytest.raises(DataError, match="1 target_names for 2 target columns"):
        read_npz_parts(path)


def test_npz_without_x_lists_the_arrays_found(tmp_path: Path) -> None:
    path = tmp_path / "nox.npz"
    np.savez(path, data=X, labels=np.ones(3))
    with pytest.raises(SpectraFileError,
                       match=r"no 'X', 'spectra' or 'X_train' array; arrays found: \['data', 'labels'\]"):
        read_npz_parts(path)


def test_npz_2d_y_with_the_wrong_row_count_gives_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "bad_y.npz"
    np.savez(path, X=X, y=np.ones((2, 2)))
    with pytest.raises(DataError, match=r"y has shape \(2, 2\), expected \(3,\)"):
        read_npz_parts(path)


def test_npz_1d_y_with_the_wrong_length_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "short_y.npz"
    np.savez(path, X=X, y=np.array([1.0, 2.0]))
    with pytest.raises(DataError, match=r"y has shape \(2,\)"):
        read_npz_parts(path)


def test_npz_1d_y_of_twice_the_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long_y.npz"
    np.savez(path, X=X, y=np.arange(6.0))
    with pytest.raises(DataError, match=r"y has shape \(6,\)"):
        read_npz_parts(path)


class _MakesADirectoryWhenUnpickled:
    """Unpickling this object would create ``marker``: proof that the loader ran pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    objects = np.empty(1, dtype=object)
    objects[0] = _MakesADirectoryWhenUnpickled(marker)
    path = tmp_path / "pickled.npz"
    np.savez(path, X=X, extra=objects)
    with pytest.raises(SpectraFileError, match=r"not a readable \.npz archive"):
        read_npz_parts(path)
    assert not marker.exists()


def test_file_that_is_not_an_npz_archive_is_a_spectra_file_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.npz"
    path.write_text("not a zip", encoding="utf-8")
    with pytest.raises(SpectraFileError, match=r"fake\.npz"):
        read_npz_parts(path)


# --- Parquet ------------------------------------------------------------------------------------------------


def test_wide_parquet_numeric_names_are_the_axis_and_string_target_is_labels(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "grade": ["high", "low"], "900": [0.1, 0.2], "902.5": [0.3, 0.4],
                             "inst": ["A", "B"]}), path)
    ds = dataset_from_parts(load_parts(path, targets=["grade"], id_column="id"))
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.5])
    assert ds.wavelength_unit == "nm"
    np.testing.assert_array_equal(ds.spectra, [[0.1, 0.3], [0.2, 0.4]])
    assert ds.is_label_target("grade") and ds.target("grade").tolist() == ["high", "low"]
    assert ds.sample_ids.tolist() == ["a", "b"]
    assert ds.metadata.column_names == ["inst"]


def test_parquet_spectrum_list_column(tmp_path: Path) -> None:
    path = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"sid": ["a", "b", "c"], "spectrum": X.tolist(), "fat": [1.0, 2.0, 3.0],
                             "set": ["train", "TEST", "train"]}), path)
    ds = dataset_from_parts(load_parts(path, targets=["fat"], id_column="sid", partition_column="set"))
    np.testing.assert_array_equal(ds.spectra, X)
    assert ds.wavelength_unit == "index"
    assert ds.partition.tolist() == ["train", "test", "train"]
    np.testing.assert_array_equal(ds.target("fat"), [1.0, 2.0, 3.0])


def test_parquet_list_column_takes_a_given_axis(tmp_path: Path) -> None:
    path = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"spectrum": X.tolist()}), path)
    ds = dataset_from_parts(load_parts(path, wavelengths=[5000.0, 4900.0, 4800.0, 4700.0]))
    assert ds.wavelength_unit == "cm-1"
    assert ds.wavelengths.tolist() == [5000.0, 4900.0, 4800.0, 4700.0]


def test_ragged_parquet_spectrum_names_the_row_and_lengths(tmp_path: Path) -> None:
    path = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({"spectrum": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0]]}), path)
    with pytest.raises(SpectraFileError, match=r"row 3: spectrum has 2 values, row 1 has 3"):
        load_parts(path)


@pytest.mark.parametrize("layout", ["wide", "list"])
def test_parquet_missing_named_column_is_a_missing_column_error(tmp_path: Path, layout: str) -> None:
    path = tmp_path / f"{layout}.parquet"
    columns = {"fat": [1.0, 2.0]} | ({"900": [0.1, 0.2]} if layout == "wide" else {"spectrum": [[0.1], [0.2]]})
    pq.write_table(pa.table(columns), path)
    with pytest.raises(MissingColumnError, match=r"missing column\(s\) \['protein'\]"):
        load_parts(path, targets=["fat", "protein"])


# --- detect_format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [
    ("a.csv", "csv"), ("a.csv.gz", "csv"), ("a.tsv", "csv"), ("A.CSV", "csv"), ("a.parquet", "parquet"),
    ("a.npz", "npz"), ("a.jdx", "jcamp"), ("a.xlsx", "xlsx"), ("A.XLSM", "xlsx"), ("a.mat", "mat"),
    ("a.spc", "spc"), ("A.SPC", "spc"), ("wheat_01.0", "opus"), ("wheat.1001", "opus"),
])
def test_file_format_is_detected_from_the_suffix(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert detect_format(path) == fmt


def test_unknown_suffix_is_a_data_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "spectra.xls"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"unknown file type '\.xls'"):
        detect_format(path)


def test_missing_file_is_a_spectra_file_error(tmp_path: Path) -> None:
    with pytest.raises(SpectraFileError, match="not found"):
        detect_format(tmp_path / "absent.csv")


@pytest.mark.parametrize(("files", "fmt"), [
    (["Xcal.csv", "Ycal.csv"], "nirs4all"),
    (["Xtrain.csv.gz"], "nirs4all"),
    (["s1.jdx", "s2.dx"], "jcamp"),
    (["s1.spc", "notes.txt"], "spc"),
    (["wheat_01.0", "wheat_01.1"], "opus"),
    (["_delta_log/", "part-0.parquet"], "delta"),
])
def test_folder_format_is_detected_from_its_files(tmp_path: Path, files: list[str], fmt: str) -> None:
    for name in files:
        (tmp_path / name).mkdir() if name.endswith("/") else (tmp_path / name).write_bytes(b"")
    assert detect_format(tmp_path) == fmt


def test_folder_of_anything_else_is_a_data_error_listing_it(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_bytes(b"")
    with pytest.raises(DataError, match=r"neither nirs4all.*\['readme\.txt'\]"):
        detect_format(tmp_path)


# --- delimited files ----------------------------------------------------------------------------------------

EXPECTED = np.array([[0.1, 0.2], [0.3, 0.4]])


def test_load_csv_reads_a_tsv(tmp_path: Path) -> None:
    path = tmp_path / "lab.tsv"
    path.write_text("id\tfat\t900\t902\na\t1\t0.1\t0.2\nb\t2\t0.3\t0.4\n", encoding="utf-8")
    ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.spectra, EXPECTED)
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.0])


def test_load_csv_detects_a_semicolon_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "lab.csv"
    path.write_text("id;fat;900;902\na;1;0.1;0.2\nb;2;0.3;0.4\n", encoding="utf-8")
    ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.spectra, EXPECTED)
    assert ds.sample_ids.tolist() == ["a", "b"]
    np.testing.assert_array_equal(ds.target("fat"), [1.0, 2.0])


def test_load_csv_reads_a_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "lab.csv.gz"
    path.write_bytes(gzip.compress(b"id,fat,900,902\na,1,0.1,0.2\nb,2,0.3,0.4\n"))
    ds = load_csv(path, targets=["fat"], id_column="id")
    np.testing.assert_array_equal(ds.spectra, EXPECTED)
    assert ds.name == "lab"
