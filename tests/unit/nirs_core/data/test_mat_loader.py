"""The MATLAB loader: v5 (scipy.io) and v7.3 (HDF5) files with NPZ-named variables read as the same dataset as
the CSV; truncated files, missing and ill-shaped variables are typed errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from tests.unit.nirs_core.data.format_writers import (
    AXIS_NM,
    FAT,
    IDS,
    PARTITION,
    SPECTRA,
    write_mat73,
    write_reference_csv,
)
from tests.unit.nirs_core.data.test_xlsx_loader import ROLES, assert_same

import nirdag
from nirs_core.data import detect_format
from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.mat_loader import mat_version, read_mat_parts


def _variables() -> dict[str, object]:
    return {"X": SPECTRA, "y": FAT, "wavelengths": AXIS_NM, "sample_ids": IDS, "partition": PARTITION,
            "target_names": np.array(["fat"])}


def _v5(path: Path, variables: dict[str, object]) -> Path:
    # savemat writes str arrays as char matrices and object arrays as cells: write the ids as a cell {'s1', ...}
    # (target_names stays a char matrix: both forms of text are read)
    cells = {k: np.asarray(v, dtype=object) if isinstance(v, np.ndarray) and v.dtype.kind == "U"
             and k != "target_names" else v for k, v in variables.items()}
    scipy.io.savemat(path, cells)
    return path


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_mat_reads_as_the_same_dataset_as_the_csv(tmp_path: Path, version: str) -> None:
    path = tmp_path / "lab.mat"
    (_v5 if version == "5" else write_mat73)(path, _variables())
    assert detect_format(path) == "mat"
    assert mat_version(path) == version
    assert_same(nirdag.load_dataset(path), nirdag.load_dataset(write_reference_csv(tmp_path / "lab.csv"), **ROLES))


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_split_variables_put_train_rows_first(tmp_path: Path, version: str) -> None:
    path = tmp_path / "split.mat"
    (_v5 if version == "5" else write_mat73)(path, {
        "X_train": SPECTRA[:4], "y_train": FAT[:4], "X_test": SPECTRA[4:], "y_test": FAT[4:],
        "wavelengths": AXIS_NM, "wavelength_unit": "nm"})
    ds = nirdag.load_dataset(path)
    assert ds.partition.tolist() == PARTITION.tolist()
    np.testing.assert_array_equal(ds.spectra, SPECTRA)
    np.testing.assert_array_equal(ds.target("y"), FAT)
    assert ds.wavelength_unit == "nm"


def test_v73_matrices_are_transposed_back(tmp_path: Path) -> None:
    # MATLAB stores the 6x5 X column-major: the HDF5 dataset is 5x6, read back as 6x5.
    path = write_mat73(tmp_path / "t.mat", {"X": SPECTRA})
    np.testing.assert_array_equal(read_mat_parts(path).spectra, SPECTRA)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_row_vector_targets_and_2d_targets(tmp_path: Path, version: str) -> None:
    path = tmp_path / "y.mat"
    Y = np.column_stack([FAT, FAT * 2])
    (_v5 if version == "5" else write_mat73)(path, {"X": SPECTRA, "y": Y, "target_names": np.array(["fat", "moist"])})
    parts = read_mat_parts(path)
    np.testing.assert_array_equal(parts.targets["moist"], FAT * 2)
    (_v5 if version == "5" else write_mat73)(path, {"X": SPECTRA, "y": FAT.reshape(1, -1)})  # a 1x6 row vector
    np.testing.assert_array_equal(read_mat_parts(path).targets["y"], FAT)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_missing_spectra_variable_lists_the_variables_found(tmp_path: Path, version: str) -> None:
    path = tmp_path / "lab.mat"
    (_v5 if version == "5" else write_mat73)(path, {"spectra_raw": SPECTRA, "fat": FAT})
    with pytest.raises(SpectraFileError, match=r"lab\.mat: no 'X', 'spectra' or 'X_train' variable; variables "
                                               r"found: \['fat', 'spectra_raw'\]"):
        nirdag.load_dataset(path)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_y_of_the_wrong_length_gives_its_shape(tmp_path: Path, version: str) -> None:
    path = tmp_path / "lab.mat"
    (_v5 if version == "5" else write_mat73)(path, {"X": SPECTRA, "y": np.column_stack([FAT[:5], FAT[:5]])})
    with pytest.raises(DataError, match=r"lab\.mat: y has shape \(5, 2\), expected \(6,\) or \(6, n_targets\)"):
        nirdag.load_dataset(path)


def test_text_spectra_are_a_data_error(tmp_path: Path) -> None:
    path = _v5(tmp_path / "lab.mat", {"X": np.array(["ab", "cd"])})
    with pytest.raises(DataError, match=r"lab\.mat: spectra must be a 2D numeric array"):
        nirdag.load_dataset(path)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_truncated_file_is_a_spectra_file_error(tmp_path: Path, version: str) -> None:
    path = tmp_path / "lab.mat"
    (_v5 if version == "5" else write_mat73)(path, _variables())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SpectraFileError, match=r"lab\.mat: not a readable MATLAB"):
        nirdag.load_dataset(path)


@pytest.mark.parametrize("content", [b"", b"MATLAB", b"not a mat file at all " * 10])
def test_short_or_foreign_file_is_a_spectra_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "lab.mat"
    path.write_bytes(content)
    with pytest.raises(SpectraFileError, match=r"lab\.mat: "):
        nirdag.load_dataset(path)


def test_v73_header_without_hdf5_data_is_named(tmp_path: Path) -> None:
    path = write_mat73(tmp_path / "lab.mat", _variables())
    path.write_bytes(path.read_bytes()[:600])
    with pytest.raises(SpectraFileError, match=r"lab\.mat: not a readable MATLAB v7\.3 \(HDF5\) file"):
        nirdag.load_dataset(path)
    path.write_bytes(path.read_bytes()[:128] + b"\x00" * 400)
    with pytest.raises(SpectraFileError, match=r"header says v7\.3 but no HDF5 data follows"):
        nirdag.load_dataset(path)


def test_struct_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lab.mat"
    scipy.io.savemat(path, {"X": {"data": SPECTRA}})
    with pytest.raises(DataError, match=r"lab\.mat: variable 'X' is a MATLAB struct"):
        nirdag.load_dataset(path)
