"""The SPC reader: single and multi-file, Y and XY layouts, float and scaled-integer Y read as the same dataset
as the CSV; truncated and unsupported files are typed errors naming the file and what is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.unit.nirs_core.data.format_writers import AXIS_NM, IDS, REFS, SPECTRA, write_reference_csv, write_spc
from tests.unit.nirs_core.data.test_xlsx_loader import assert_same

import nirdag
from nirs_core.data import detect_format
from nirs_core.data.errors import DataError, EmptyDatasetError, SpectraFileError
from nirs_core.data.spc import read_spc, read_spc_parts


def _folder(tmp_path: Path, **options: object) -> Path:
    folder = tmp_path / "spc"
    folder.mkdir()
    for sample_id, row in zip(IDS, SPECTRA, strict=True):
        write_spc(folder / f"{sample_id}.spc", AXIS_NM, row, comment=f"sample {sample_id}", **options)
    return folder


@pytest.mark.parametrize("options", [
    {"layout": "y"}, {"layout": "xy"}, {"layout": "y", "exponent": 8}, {"layout": "y", "exponent": 4, "short": True},
])
def test_folder_of_spc_files_with_joined_targets_is_the_csv_dataset(tmp_path: Path, options: dict) -> None:
    folder = _folder(tmp_path, **options)
    refs = tmp_path / "refs.csv"
    refs.write_text(REFS, encoding="utf-8")
    assert detect_format(folder) == "spc"
    ds = nirdag.load_dataset(folder, targets_file=refs, join_on="sample_id")
    assert_same(ds, nirdag.load_dataset(write_reference_csv(tmp_path / "lab.csv"), targets=["fat"],
                                        id_column="id", partition_column="partition"))
    assert ds.metadata.column("title").to_pylist()[0] == "sample s1"


@pytest.mark.parametrize("layout", ["y", "xy", "xyxy"])
def test_multi_file_holds_one_sample_per_subfile(tmp_path: Path, layout: str) -> None:
    path = write_spc(tmp_path / "run.spc", AXIS_NM, SPECTRA, layout=layout)
    assert detect_format(path) == "spc"
    parts = read_spc_parts(path)
    np.testing.assert_array_equal(parts.spectra, SPECTRA)
    np.testing.assert_array_equal(parts.wavelengths, AXIS_NM)
    assert parts.wavelength_unit == "nm"
    assert parts.sample_ids.tolist() == [f"run:{k}" for k in range(1, 7)]


@pytest.mark.parametrize(("xtype", "unit", "scale"), [(1, "cm-1", 1.0), (2, "nm", 1000.0), (0, None, 1.0)])
def test_x_unit_codes(tmp_path: Path, xtype: int, unit: str | None, scale: float) -> None:
    parts = read_spc_parts(write_spc(tmp_path / "a.spc", AXIS_NM, SPECTRA[0], xtype=xtype))
    assert parts.wavelength_unit == unit
    np.testing.assert_allclose(parts.wavelengths, AXIS_NM * scale)


def test_non_spectral_x_axis_is_a_data_error(tmp_path: Path) -> None:
    path = write_spc(tmp_path / "trace.spc", AXIS_NM, SPECTRA[0], xtype=4)  # seconds
    with pytest.raises(DataError, match=r"trace\.spc: x axis type code 4 is not a wavelength or wavenumber"):
        read_spc(path)


@pytest.mark.parametrize("cut", [100, 512 + 16, 512 + 32 + 8])
def test_truncated_file_names_what_is_missing(tmp_path: Path, cut: int) -> None:
    path = write_spc(tmp_path / "a.spc", AXIS_NM, SPECTRA[:2])
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(SpectraFileError, match=r"a\.spc: .*(shorter than the 512-byte SPC header|truncated: "
                                               r"subfile 1)"):
        read_spc(path)


def test_truncated_second_subfile_is_named(tmp_path: Path) -> None:
    path = write_spc(tmp_path / "a.spc", AXIS_NM, SPECTRA[:2])
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(SpectraFileError, match=r"a\.spc: truncated: subfile 2's Y values needs 20 bytes at byte "
                                               r"596, the file has 612 bytes"):
        read_spc(path)


@pytest.mark.parametrize(("version", "message"), [
    (0x4D, "old-format SPC"), (0x4C, "big-endian SPC"), (0x20, "version byte 0x20 is not an SPC version"),
])
def test_unsupported_versions_are_named(tmp_path: Path, version: int, message: str) -> None:
    path = write_spc(tmp_path / "a.spc", AXIS_NM, SPECTRA[0], version=version)
    with pytest.raises(SpectraFileError, match=message):
        read_spc(path)


def test_files_on_different_axes_are_refused_naming_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    write_spc(folder / "s7.spc", AXIS_NM + 1.0, SPECTRA[0])
    with pytest.raises(DataError, match=r"s7\.spc: x axis differs from that of .*s1\.spc"):
        read_spc_parts(folder)


def test_empty_folder_is_an_empty_dataset(tmp_path: Path) -> None:
    with pytest.raises(EmptyDatasetError, match=r"no SPC files"):
        read_spc_parts(tmp_path)
