"""Reference values joined to JCAMP-DX spectra by title or file stem: the joined folder is the CSV dataset, and
a spectrum without a row, a sample on two rows or a bad cell is a typed error naming the sample or the cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.unit.nirs_core.data.format_writers import AXIS_NM, IDS, REFS, SPECTRA, write_jcamp, write_reference_csv
from tests.unit.nirs_core.data.test_xlsx_loader import assert_same

import nirdag
from nirs_core.data.errors import DataError, MissingColumnError, SpectraFileError
from nirs_core.data.loading import load_parts


def _folder(tmp_path: Path, titles: list[str] | None = None) -> Path:
    folder = tmp_path / "jdx"
    folder.mkdir()
    for i, (sample_id, row) in enumerate(zip(IDS, SPECTRA, strict=True)):
        title = titles[i] if titles else f"Wheat {sample_id}"
        write_jcamp(folder / f"{sample_id}.jdx", AXIS_NM, row, title)
    return folder


def _refs(tmp_path: Path, text: str = REFS) -> Path:
    path = tmp_path / "refs.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _csv_dataset(tmp_path: Path):
    return nirdag.load_dataset(write_reference_csv(tmp_path / "lab.csv"), targets=["fat"], id_column="id",
                               partition_column="partition")


def test_jcamp_folder_joined_on_the_title_is_the_csv_dataset(tmp_path: Path) -> None:
    titles = [f"Wheat {i}" for i in IDS]
    refs = _refs(tmp_path, REFS.replace("name,", "title,").replace("\ns", "\nWheat s"))
    ds = nirdag.load_dataset(_folder(tmp_path, titles), targets_file=refs, join_on="title")
    assert_same(ds, _csv_dataset(tmp_path))
    assert ds.metadata.column("title").to_pylist() == titles


def test_join_on_sample_id_matches_the_file_stems(tmp_path: Path) -> None:
    ds = nirdag.load_dataset(_folder(tmp_path), targets_file=_refs(tmp_path), join_on="sample_id")
    assert_same(ds, _csv_dataset(tmp_path))


def test_key_column_option_extra_rows_and_semicolon_decimal_comma(tmp_path: Path) -> None:
    text = "fat;name;moisture\n10,5;s1;1\n12,25;s2;2\n9;s3;3\n14,75;s4;4\n11,5;s5;5\n13;s6;6\n99;s99;7\n"
    parts = load_parts(_folder(tmp_path), targets_file=_refs(tmp_path, text), join_on="sample_id",
                       targets_key="name", targets=["fat"])
    np.testing.assert_array_equal(parts.targets["fat"], [10.5, 12.25, 9.0, 14.75, 11.5, 13.0])
    np.testing.assert_array_equal(parts.targets["moisture"], [1, 2, 3, 4, 5, 6])
    assert parts.partition is None


def test_replicate_scans_share_their_sample_row_and_text_columns_are_metadata_or_labels(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["A", "A", "B", "B", "C", "C"])
    refs = _refs(tmp_path, "title,fat,variety\nA,1,durum\nB,2,spelt\nC,3,durum\n")
    parts = load_parts(folder, targets_file=refs)
    np.testing.assert_array_equal(parts.targets["fat"], [1, 1, 2, 2, 3, 3])
    assert parts.metadata["variety"].tolist() == ["durum", "durum", "spelt", "spelt", "durum", "durum"]
    labels = load_parts(folder, targets_file=refs, targets=["variety"])
    assert labels.targets["variety"].tolist() == ["durum", "durum", "spelt", "spelt", "durum", "durum"]


def test_spectrum_without_a_row_is_named(tmp_path: Path) -> None:
    refs = _refs(tmp_path, "\n".join(REFS.splitlines()[:-2]) + "\n")  # no s5, s6
    with pytest.raises(DataError, match=r"jdx: 2 spectra have no row in .*refs\.csv \(matched on sample_id\): "
                                        r"'s5', 's6'"):
        nirdag.load_dataset(_folder(tmp_path), targets_file=refs, join_on="sample_id")


def test_sample_on_two_rows_is_named(tmp_path: Path) -> None:
    refs = _refs(tmp_path, REFS + "s3,9.5,train\n")
    with pytest.raises(DataError, match=r"refs\.csv: sample 's3' is on data rows 3 and 7"):
        nirdag.load_dataset(_folder(tmp_path), targets_file=refs, join_on="sample_id")


def test_bad_number_in_a_target_is_named_by_its_row_in_the_file(tmp_path: Path) -> None:
    refs = _refs(tmp_path, REFS.replace("s4,14.75", "s4,14.7x"))
    with pytest.raises(SpectraFileError, match=r"refs\.csv: row 5 \(data row 4\), column 'fat': expected a number"):
        nirdag.load_dataset(_folder(tmp_path), targets_file=refs, join_on="sample_id")


def test_titles_are_needed_to_join_on_title(tmp_path: Path) -> None:
    npz = tmp_path / "a.npz"
    np.savez(npz, X=SPECTRA)
    with pytest.raises(DataError, match=r"a\.npz: the spectra have no titles to join on; use join_on='sample_id'"):
        load_parts(npz, targets_file=_refs(tmp_path), join_on="title")


def test_missing_key_column_and_named_target_are_missing_column_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingColumnError, match=r"refs\.csv: missing column\(s\) \['sample', 'protein'\]"):
        load_parts(_folder(tmp_path), targets_file=_refs(tmp_path), targets_key="sample", targets=["protein"])
