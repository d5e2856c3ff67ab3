"""Regression tests of issue 20 item 6 (options): every option of ``load_dataset`` a format does not read is
refused with an UnusedOptionError naming the option and the format; the axis options are honoured where the
format has no axis of its own to state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.io
from deltalake import write_deltalake
from tests.unit.nirs_core.data.format_writers import (
    AXIS_NM,
    SPECTRA,
    write_jcamp,
    write_opus,
    write_reference_csv,
    write_spc,
)

import nirdag
from nirs_core.data.errors import UnusedOptionError
from nirs_core.data.load_options import OPTIONS_READ

X = np.arange(12.0).reshape(4, 3) / 10 + 0.05
# a value for each option that some format does not read
GIVEN = {"id_column": "id", "partition_column": "set", "metadata_columns": ["site"], "detect_columns": False,
         "wavelengths": [1.0, 2.0, 3.0], "wavelength_unit": "nm", "delimiter": ";", "decimal": ",",
         "header": True, "sheet": "data"}


def _files(tmp_path: Path) -> dict[str, Path]:
    npz = tmp_path / "a.npz"
    np.savez(npz, X=X)
    mat = tmp_path / "a.mat"
    scipy.io.savemat(mat, {"X": X})
    parquet = tmp_path / "a.parquet"
    pq.write_table(pa.table({"900": [0.1, 0.2], "902": [0.3, 0.4]}), parquet)
    delta = tmp_path / "delta"
    write_deltalake(str(delta), pa.table({"900": [0.1, 0.2], "902": [0.3, 0.4]}))
    folder = tmp_path / "n4a"
    folder.mkdir()
    (folder / "Xcal.csv").write_text("0.1;0.2;0.3\n0.4;0.5;0.6\n", encoding="utf-8")
    jdx = write_jcamp(tmp_path / "a.jdx", AXIS_NM[:3], SPECTRA[0, :3], "s1")
    opus = tmp_path / "a.0"
    write_opus(opus, np.array([5000.0, 4998.0, 4996.0]), np.array([0.1, 0.2, 0.3]))
    spc = tmp_path / "a.spc"
    write_spc(spc, np.array([900.0, 902.0, 904.0]), np.array([[0.1, 0.2, 0.3]]))
    return {"csv": write_reference_csv(tmp_path / "a.csv"), "parquet": parquet, "delta": delta, "npz": npz,
            "mat": mat, "nirs4all": folder, "jcamp": jdx, "opus": opus, "spc": spc}


def test_every_format_refuses_each_option_it_does_not_read(tmp_path: Path) -> None:
    files = _files(tmp_path)
    refused = 0
    for fmt, path in files.items():
        for option, value in GIVEN.items():
            if option in OPTIONS_READ[fmt]:
                continue
            with pytest.raises(UnusedOptionError, match=rf"{option}=.*not read by format {fmt!r}"):
                nirdag.load_dataset(path, format=fmt, **{option: value})
            refused += 1
    assert refused >= 40  # the table is not empty: npz alone refuses 7 options


def test_partition_column_for_npz_is_refused_with_where_the_partition_comes_from(tmp_path: Path) -> None:
    with pytest.raises(UnusedOptionError, match=r"partition_column='set': not read by format 'npz' .*'partition' "
                                                r"array or X_train/X_test"):
        nirdag.load_dataset(_files(tmp_path)["npz"], partition_column="set")


@pytest.mark.parametrize("fmt", ["npz", "mat", "nirs4all"])
def test_wavelengths_and_unit_are_honoured_for_formats_without_a_stated_axis(tmp_path: Path, fmt: str) -> None:
    ds = nirdag.load_dataset(_files(tmp_path)[fmt], wavelengths=[5000.0, 4998.0, 4996.0], wavelength_unit="cm-1")
    np.testing.assert_array_equal(ds.wavelengths, [5000.0, 4998.0, 4996.0])
    assert ds.wavelength_unit == "cm-1"
    assert "axis from wavelengths=" in ds.load_notes


def test_join_options_without_a_targets_file_are_refused(tmp_path: Path) -> None:
    files = _files(tmp_path)
    with pytest.raises(UnusedOptionError, match=r"join_on='sample_id' go\(es\) with targets_file"):
        nirdag.load_dataset(files["jcamp"], join_on="sample_id")
    with pytest.raises(UnusedOptionError, match=r"targets_key='name' go\(es\) with targets_file"):
        nirdag.load_dataset(files["csv"], targets_key="name")


def test_a_targets_file_for_a_delta_table_is_refused(tmp_path: Path) -> None:
    refs = write_reference_csv(tmp_path / "refs.csv")
    with pytest.raises(UnusedOptionError, match=r"targets_file=.*not read by format 'delta'"):
        nirdag.load_dataset(_files(tmp_path)["delta"], targets_file=refs)


def test_not_spectral_is_accepted_by_formats_without_columns(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_files(tmp_path)["npz"], not_spectral=["fat"])  # what `nirdag predict` passes
    assert ds.n_samples == 4
