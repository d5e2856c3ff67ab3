"""Regression tests of issue 20 item 10: a UTF-8 BOM is not part of the first header, and spectral headers
written with a unit (``900 nm``, ``4000 cm-1``, ``1.1 µm``) are the axis, in CSV and xlsx alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

import nirdag
from nirs_core.data.axis_headers import header_wavelength
from nirs_core.data.errors import DataError, SpectraFileError
from nirs_core.data.table_loader import AxisFromColumnIndex


def _csv(tmp_path: Path, text: str, *, bom: bool = False, name: str = "lab.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_a_utf8_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_csv(tmp_path, "id,fat,900,902\na,1,0.1,0.2\nb,2,0.3,0.4\n", bom=True),
                             targets=["fat"])
    assert ds.sample_ids.tolist() == ["a", "b"]
    assert "id column 'id'" in ds.load_notes


def test_a_bom_in_a_nirs4all_folder_is_stripped(tmp_path: Path) -> None:
    folder = tmp_path / "n4a"
    folder.mkdir()
    _csv(folder, "900;902\n0.1;0.2\n0.3;0.4\n", bom=True, name="Xcal.csv")
    _csv(folder, "fat\n1\n2\n", bom=True, name="Ycal.csv")
    ds = nirdag.load_dataset(folder)
    np.testing.assert_array_equal(ds.wavelengths, [900.0, 902.0])
    assert ds.target_names == ("fat",)


@pytest.mark.parametrize(("headers", "axis", "unit"), [
    ("900 nm,902 nm,904 nm", [900.0, 902.0, 904.0], "nm"),
    ("900nm,902nm,904NM", [900.0, 902.0, 904.0], "nm"),
    ("5000 cm-1,4998 cm-1,4996 cm-1", [5000.0, 4998.0, 4996.0], "cm-1"),
    ("5000cm⁻¹,4998cm⁻¹,4996cm⁻¹", [5000.0, 4998.0, 4996.0], "cm-1"),
    ("1.1 µm,1.2 µm,1.3 µm", [1100.0, 1200.0, 1300.0], "nm"),
    ("1.1um,1.2um,1.3um", [1100.0, 1200.0, 1300.0], "nm"),
])
def test_headers_with_a_unit_are_the_axis_and_set_its_unit(tmp_path: Path, headers: str, axis: list[float],
                                                             unit: str) -> None:
    ds = nirdag.load_dataset(_csv(tmp_path, f"id,fat,{headers}\na,1,0.1,0.2,0.3\n"), targets=["fat"])
    np.testing.assert_allclose(ds.wavelengths, axis)
    assert ds.wavelength_unit == unit
    assert ds.spectra.shape == (1, 3)


def test_unit_headers_with_a_decimal_comma(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_csv(tmp_path, "id;fat;900,5 nm;902,5 nm\na;1,5;0,1;0,2\n"), targets=["fat"])
    np.testing.assert_array_equal(ds.wavelengths, [900.5, 902.5])
    np.testing.assert_array_equal(ds.target("fat"), [1.5])


def test_headers_mixing_units_are_refused_naming_two(tmp_path: Path) -> None:
    with pytest.raises(SpectraFileError, match=r"spectral columns mix units: '900 nm' \(nm\) and '902' \(no unit\)"):
        nirdag.load_dataset(_csv(tmp_path, "fat,900 nm,902\n1,0.1,0.2\n"), targets=["fat"])


def test_a_unit_option_contradicting_the_headers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"wavelength_unit='cm-1' but the headers say 'nm'"):
        nirdag.load_dataset(_csv(tmp_path, "fat,900 nm,902 nm\n1,0.1,0.2\n"), targets=["fat"], wavelength_unit="cm-1")


def test_headers_that_are_no_wavelength_warn_that_the_axis_is_the_column_index(tmp_path: Path) -> None:
    with pytest.warns(AxisFromColumnIndex, match=r"'A900', 'A902'.*give it with wavelengths="):
        ds = nirdag.load_dataset(_csv(tmp_path, "fat,A900,A902\n1,0.1,0.2\n"), targets=["fat"])
    assert ds.wavelength_unit == "index"


def test_xlsx_headers_with_a_unit_are_the_axis(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["id", "fat", "5000 cm-1", "4998 cm-1"], ["a", 1.0, 0.1, 0.2], ["b", 2.0, 0.3, 0.4]):
        sheet.append(row)
    path = tmp_path / "lab.xlsx"
    book.save(path)
    ds = nirdag.load_dataset(path, targets=["fat"])
    np.testing.assert_array_equal(ds.wavelengths, [5000.0, 4998.0])
    assert ds.wavelength_unit == "cm-1"


@pytest.mark.parametrize(("text", "read"), [
    ("900", (900.0, None)), (" 1e3 nm ", (1000.0, "nm")), ("4000 1/cm", (4000.0, "cm-1")),
    ("4000 cm^-1", (4000.0, "cm-1")), ("A900", None), ("900 Hz", None), ("nan", None), ("900,5", None),
])
def test_header_wavelength_reads_a_number_and_a_known_unit(text: str, read: tuple[float, str | None] | None) -> None:
    assert header_wavelength(text) == read
