"""The replicate declaration of a dataset: validated, part of its identity, kept by every derived dataset, and
read by `nirdag.load_dataset(sample_column=)` from a wide table."""

from __future__ import annotations

import numpy as np
import pytest

import nirdag
from nirs_core.data import SpectraDataset
from nirs_core.data.errors import DataError, MissingColumnError


def _dataset(sample: list[str], partition: list[str] | None = None, **kw) -> SpectraDataset:
    n = len(sample)
    return SpectraDataset(name="d", sample_ids=[f"r{i}" for i in range(n)], spectra=np.arange(n * 3.0).reshape(n, 3),
                          wavelengths=[1.0, 2.0, 3.0], wavelength_unit="nm", targets={"y": np.arange(n, dtype=float)},
                          partition=partition or ["train"] * n, metadata={"sample": np.asarray(sample)}, **kw)


def test_declared_groups_are_read_and_enter_the_identity():
    plain = _dataset(["a", "a", "b", "b"])
    declared = plain.with_replicates("sample")
    assert declared.replicate_groups.tolist() == ["a", "a", "b", "b"]
    assert plain.replicate_groups is None
    assert declared.content_hash != plain.content_hash
    assert declared.with_replicates(None).content_hash == plain.content_hash  # no declaration: the old identity
    regrouped = _dataset(["a", "b", "b", "b"], replicates="sample")
    assert regrouped.content_hash != declared.content_hash
    schema = declared.schema()
    assert schema.replicate_column == "sample" and schema.replicate_groups == ("a", "a", "b", "b")


def test_derived_datasets_keep_the_declaration():
    declared = _dataset(["a", "a", "b", "b"], replicates="sample")
    assert declared.with_label_targets(["y"]).replicate_column == "sample"
    assert declared.slice(0, 2).replicate_groups.tolist() == ["a", "a"]
    assert declared.select(mask=[True, False, True, False], copy=True).replicate_groups.tolist() == ["a", "b"]


def test_a_missing_column_is_refused_naming_it():
    with pytest.raises(MissingColumnError, match=r"replicate \(sample\) column 'cup' is not one of its metadata "
                                                 r"columns \['sample'\]"):
        _dataset(["a", "b"]).with_replicates("cup")


def test_an_empty_cell_is_refused_naming_the_rows():
    with pytest.raises(DataError, match=r"empty on 1 rows, e.g. sample ids \['r1'\]"):
        _dataset(["a", " ", "b"], replicates="sample")


def test_a_sample_in_both_partitions_is_refused():
    with pytest.raises(DataError, match=r"1 samples .* both the train and the test partition, e\.g\. \['b'\]"):
        _dataset(["a", "b", "b", "c"], ["train", "train", "test", "test"], replicates="sample")


def test_load_dataset_reads_the_sample_column_of_a_csv(tmp_path):
    path = tmp_path / "reps.csv"
    rows = ["sample_id,cup,fat,1000,1002"] + [f"s{i},c{i // 2},{i // 2}.5,{i}.1,{i}.2" for i in range(6)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dataset = nirdag.load_dataset(path, targets=["fat"], sample_column="cup")
    assert dataset.replicate_column == "cup"
    assert dataset.replicate_groups.tolist() == ["c0", "c0", "c1", "c1", "c2", "c2"]
    assert dataset.n_wavelengths == 2
    with pytest.raises(MissingColumnError, match="'pot'"):
        nirdag.load_dataset(path, targets=["fat"], sample_column="pot")
