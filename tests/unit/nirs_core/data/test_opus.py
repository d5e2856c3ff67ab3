"""The OPUS loader (through brukeropus): a folder of OPUS files joined with reference values by sample name is
the CSV dataset; truncated, foreign and absorbance-less files are typed errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.unit.nirs_core.data.format_writers import (
    IDS,
    REFS,
    SPECTRA,
    TR_DATA,
    TR_STATUS,
    write_opus,
    write_reference_csv,
)

import nirdag
from nirs_core.data import detect_format
from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.opus import read_opus_parts

AXIS_CM = np.array([9000.0, 8750.0, 8500.0, 8250.0, 8000.0])


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "opus"
    folder.mkdir()
    for sample_id, row in zip(IDS, SPECTRA, strict=True):
        write_opus(folder / f"{sample_id}.0", AXIS_CM, row, sample_name=sample_id)
    return folder


def test_folder_of_opus_files_joined_on_title_is_the_csv_dataset(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    refs = tmp_path / "refs.csv"
    refs.write_text(REFS, encoding="utf-8")
    assert detect_format(folder) == "opus"
    ds = nirdag.load_dataset(folder, targets_file=refs, join_on="title")
    csv = nirdag.load_dataset(write_reference_csv(tmp_path / "lab.csv", axis=AXIS_CM), targets=["fat"],
                              id_column="id", partition_column="partition")
    assert ds.sample_ids.tolist() == [f"{i}.0" for i in IDS]  # the file names: the suffix counts repeats
    assert ds.wavelength_unit == "cm-1"
    np.testing.assert_array_equal(ds.spectra, csv.spectra)
    np.testing.assert_array_equal(ds.wavelengths, csv.wavelengths)
    np.testing.assert_array_equal(ds.target("fat"), csv.target("fat"))
    assert ds.partition.tolist() == csv.partition.tolist()


def test_one_file_is_one_spectrum_titled_by_its_sample_name(tmp_path: Path) -> None:
    path = write_opus(tmp_path / "wheat_01.0", AXIS_CM, SPECTRA[2], sample_name="wheat 01")
    assert detect_format(path) == "opus"
    parts = read_opus_parts(path)
    np.testing.assert_array_equal(parts.spectra, SPECTRA[2:3])
    assert parts.metadata["title"].tolist() == ["wheat 01"]
    no_name = read_opus_parts(write_opus(tmp_path / "wheat_02.3", AXIS_CM, SPECTRA[2]))
    assert no_name.metadata["title"].tolist() == ["wheat_02"]


def test_micrometre_axis_becomes_wavenumbers(tmp_path: Path) -> None:
    parts = read_opus_parts(write_opus(tmp_path / "a.0", np.array([1.0, 1.5, 2.0]), SPECTRA[0][:3], unit="MI"))
    np.testing.assert_allclose(parts.wavelengths, [10000.0, 10000.0 / 1.5, 5000.0])
    assert parts.wavelength_unit == "cm-1"


def test_file_without_absorbance_lists_the_blocks_found(tmp_path: Path) -> None:
    path = write_opus(tmp_path / "t.0", AXIS_CM, SPECTRA[0], data=(TR_DATA, TR_STATUS))
    with pytest.raises(SpectraFileError, match=r"t\.0: no absorbance \(AB\) block; data blocks found: \['t'\]"):
        nirdag.load_dataset(path)


@pytest.mark.parametrize("keep", [4, 20, 60, -8])
def test_truncated_file_is_a_spectra_file_error(tmp_path: Path, keep: int) -> None:
    path = write_opus(tmp_path / "a.0", AXIS_CM, SPECTRA[0], sample_name="a")
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(SpectraFileError, match=r"a\.0: (not a readable OPUS file|truncated: the .* block ends "
                                               r"at byte)"):
        nirdag.load_dataset(path)


def test_foreign_file_with_an_opus_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.0"
    path.write_text("not opus", encoding="utf-8")
    with pytest.raises(SpectraFileError, match=r"notes\.0: not an OPUS file"):
        nirdag.load_dataset(path)


def test_files_on_different_axes_name_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_opus(folder / "s7.0", AXIS_CM + 1.0, SPECTRA[0])
    with pytest.raises(DataError, match=r"s7\.0: x axis differs from that of .*s1\.0"):
        read_opus_parts(folder)
