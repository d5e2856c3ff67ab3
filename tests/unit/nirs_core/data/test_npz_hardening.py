"""Regression tests of issue 20 item 6: NPZ (and MATLAB, which shares array_parts) archives that used to escape
with bare numpy errors or wrong messages stop with a typed error naming the file and the array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

import nirdag
from nirs_core.data.errors import DataError, EmptyDatasetError, SpectraFileError

X = np.arange(12.0).reshape(4, 3) / 10 + 0.05


def _npz(tmp_path: Path, **arrays: np.ndarray) -> Path:
    path = tmp_path / "lab.npz"
    np.savez(path, **arrays)
    return path


def test_text_wavelengths_with_a_unit_are_read_as_the_axis(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_npz(tmp_path, X=X, wavelengths=np.array(["900 nm", "902 nm", "904 nm"])))
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.0, 904.0])
    assert ds.wavelength_unit == "nm"


def test_text_wavelengths_that_are_not_numbers_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"lab.npz: array 'wavelengths' holds 'red'"):
        nirdag.load_dataset(_npz(tmp_path, X=X, wavelengths=np.array(["red", "green", "blue"])))


def test_byte_string_arrays_are_decoded(tmp_path: Path) -> None:
    path = _npz(tmp_path, X=X, sample_ids=np.array([b"a", b"b", b"c", b"d"]), y=np.array([b"x", b"y", b"x", b"y"]),
                wavelength_unit=np.array(b"cm-1"), wavelengths=np.array([5000.0, 4998.0, 4996.0]),
                partition=np.array([b"train", b"train", b"test", b"test"]))
    ds = nirdag.load_dataset(path)
    assert ds.sample_ids.tolist() == ["a", "b", "c", "d"]
    assert ds.target("y").tolist() == ["x", "y", "x", "y"]
    assert ds.wavelength_unit == "cm-1"
    assert ds.partition.tolist() == ["train", "train", "test", "test"]


def test_bytes_that_are_not_utf8_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"array 'sample_ids' holds bytes that are not UTF-8"):
        nirdag.load_dataset(_npz(tmp_path, X=X, sample_ids=np.array([b"\xff", b"b", b"c", b"d"])))


def test_an_empty_x_train_is_an_empty_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(EmptyDatasetError, match=r"spectra have shape \(0, 0\)"):
        nirdag.load_dataset(_npz(tmp_path, X_train=np.empty((0, 0))))


def test_y_test_without_y_train_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"y_test without y_train"):
        nirdag.load_dataset(_npz(tmp_path, X_train=X, X_test=X, y_test=np.arange(4.0)))


def test_y_test_without_x_test_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"y_test without X_test and y_train"):
        nirdag.load_dataset(_npz(tmp_path, X_train=X, y_test=np.arange(4.0)))


def test_a_zero_byte_file_is_a_spectra_file_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    with pytest.raises(SpectraFileError, match=r"empty.npz: empty file \(0 bytes\)"):
        nirdag.load_dataset(path)


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", b"not an archive at all", b"\x93NUMPY"])
def test_a_truncated_or_foreign_file_is_a_spectra_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(SpectraFileError, match=r"bad.npz: not a readable .npz archive"):
        nirdag.load_dataset(path)


def test_a_single_npy_array_saved_as_npz_is_named(tmp_path: Path) -> None:
    path = tmp_path / "one.npz"
    with path.open("wb") as fh:
        np.save(fh, X)
    with pytest.raises(SpectraFileError, match=r"a single .npy array, not an .npz archive"):
        nirdag.load_dataset(path)


def test_a_2d_wavelengths_array_is_named_with_its_shape(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"array 'wavelengths' has shape \(1, 3\)"):
        nirdag.load_dataset(_npz(tmp_path, X=X, wavelengths=np.array([[900.0, 902.0, 904.0]])))


def test_a_1d_x_train_names_x_train_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"X_train has shape \(3,\); expected a 2D") as caught:
        nirdag.load_dataset(_npz(tmp_path, X_train=np.arange(3.0)))
    assert "X_test" not in str(caught.value)


def test_x_train_alone_loads_every_row_as_train(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_npz(tmp_path, X_train=X, y_train=np.arange(4.0)))
    assert ds.partition.tolist() == ["train"] * 4


def test_both_x_and_x_train_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"\['X', 'X_train'\] all hold spectra"):
        nirdag.load_dataset(_npz(tmp_path, X=X, X_train=X))


def test_x_test_without_x_train_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"\['X_test'\] belong to the split form, which needs X_train"):
        nirdag.load_dataset(_npz(tmp_path, X=X, X_test=X))


def test_an_empty_wavelength_unit_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"array 'wavelength_unit' has shape \(0,\)"):
        nirdag.load_dataset(_npz(tmp_path, X=X, wavelength_unit=np.array([], dtype=str)))


def test_complex_targets_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"y has shape \(4,\) of complex128"):
        nirdag.load_dataset(_npz(tmp_path, X=X, y=np.ones(4) * 1j))


def test_matlab_files_get_the_same_checks(tmp_path: Path) -> None:
    path = tmp_path / "lab.mat"
    scipy.io.savemat(path, {"X_train": X, "y_test": np.arange(4.0)})
    with pytest.raises(DataError, match=r"lab.mat: y_test without X_test and y_train"):
        nirdag.load_dataset(path)
    scipy.io.savemat(path, {"X": X, "wavelengths": np.array(["900 nm", "902 nm", "904 nm"])})
    ds = nirdag.load_dataset(path)
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.0, 904.0])


@pytest.mark.parametrize(("y_train", "y_test", "message"), [
    (np.array([], dtype="M8[s]"), np.ones(1), r"y_train has shape \(0,\) of datetime64"),
    (np.array(1.0), np.array("cm-1"), r"y_train has shape \(\) of float64"),
    (np.ones(1), np.array(["a"]), r"y_train is float64 and y_test <U1"),
])
def test_split_targets_of_the_wrong_shape_or_kind_are_named(tmp_path: Path, y_train: np.ndarray, y_test: np.ndarray,
                                                           message: str) -> None:
    # found by the fuzz guard: these escaped as a bare DTypePromotionError / ValueError of numpy.concatenate
    path = _npz(tmp_path, X_train=np.ones((1, 1)), X_test=np.ones((1, 1)), y_train=y_train, y_test=y_test)
    with pytest.raises(DataError, match=message):
        nirdag.load_dataset(path)
