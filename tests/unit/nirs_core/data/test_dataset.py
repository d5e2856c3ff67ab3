"""Unit tests of SpectraDataset (validation, read-only arrays, content hash) and the embedded tecator set."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from nirs_core.data import SpectraDataset, tecator
from nirs_core.data.errors import DataError, EmptyDatasetError, MissingColumnError


def _parts(**overrides: Any) -> dict[str, Any]:
    """Constructor arguments of a small valid dataset (3 samples x 4 wavelengths), with overrides."""
    parts: dict[str, Any] = {
        "name": "small",
        "sample_ids": np.array(["s1", "s2", "s3"]),
        "spectra": np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2]]),
        "wavelengths": np.array([900.0, 902.0, 904.0, 906.0]),
        "wavelength_unit": "nm",
        "targets": {"fat": np.array([1.0, 2.0, 3.0]), "protein": np.array([10.0, 11.0, 12.0])},
        "partition": np.array(["train", "train", "test"]),
    }
    parts.update(overrides)
    return parts


def _dataset(**overrides: Any) -> SpectraDataset:
    return SpectraDataset(**_parts(**overrides))


@pytest.fixture(scope="module")
def tec() -> SpectraDataset:
    return tecator()


# --- content hash -------------------------------------------------------------------------------------------


def test_content_hash_is_full_sha256_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", _dataset().content_hash)


def test_equal_content_gives_equal_hash() -> None:
    # Built from fresh (equal, not identical) arrays; the display name is not part of the identity.
    assert _dataset().content_hash == _dataset(name="other name").content_hash


def test_hash_changes_when_one_spectral_value_changes() -> None:
    spectra = _parts()["spectra"].copy()
    spectra[1, 2] = np.nextafter(spectra[1, 2], np.inf)
    assert _dataset(spectra=spectra).content_hash != _dataset().content_hash


def test_hash_changes_when_wavelength_axis_changes() -> None:
    shifted = _parts()["wavelengths"] + 1.0
    assert _dataset(wavelengths=shifted).content_hash != _dataset().content_hash


def test_hash_changes_when_wavelength_unit_changes() -> None:
    assert _dataset(wavelength_unit="cm-1").content_hash != _dataset().content_hash


def test_hash_changes_when_row_order_changes() -> None:
    p = _parts()
    order = np.array([1, 0, 2])  # swap two train rows: every per-row array is permuted consistently
    permuted = _dataset(
        sample_ids=p["sample_ids"][order], spectra=p["spectra"][order],
        targets={k: v[order] for k, v in p["targets"].items()}, partition=p["partition"][order],
    )
    assert permuted.content_hash != _dataset().content_hash


def test_hash_changes_when_a_target_value_changes() -> None:
    targets = {"fat": np.array([1.0, 2.0, 3.5]), "protein": np.array([10.0, 11.0, 12.0])}
    assert _dataset(targets=targets).content_hash != _dataset().content_hash


def test_hash_changes_when_partition_changes() -> None:
    assert _dataset(partition=np.array(["train", "test", "test"])).content_hash != _dataset().content_hash


# --- read-only arrays ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("attribute", ["spectra", "wavelengths"])
def test_numeric_arrays_are_read_only(attribute: str) -> None:
    array = getattr(_dataset(), attribute)
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 123.0


def test_target_vectors_are_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        _dataset().target("fat")[0] = 123.0


def test_ids_and_partition_are_read_only() -> None:
    ds = _dataset()
    with pytest.raises(ValueError, match="read-only"):
        ds.sample_ids[0] = "zz"
    with pytest.raises(ValueError, match="read-only"):
        ds.partition[0] = "test"


def test_targets_mapping_cannot_be_extended() -> None:
    with pytest.raises(TypeError):
        _dataset().targets["new"] = np.zeros(3)  # type: ignore[index]


# --- validation ---------------------------------------------------------------------------------------------


def test_zero_rows_raise_empty_dataset_error() -> None:
    with pytest.raises(EmptyDatasetError, match="0 samples"):
        _dataset(sample_ids=np.array([], dtype=str), spectra=np.empty((0, 4)), targets={},
                 partition=np.array([], dtype=str))


def test_zero_columns_raise_empty_dataset_error() -> None:
    with pytest.raises(EmptyDatasetError, match="0 wavelengths"):
        _dataset(spectra=np.empty((3, 0)), wavelengths=np.empty(0))


def test_duplicate_sample_ids_raise_data_error_naming_the_duplicate() -> None:
    with pytest.raises(DataError, match=r"not unique.*'s1'"):
        _dataset(sample_ids=np.array(["s1", "s2", "s1"]))


def test_unknown_partition_label_raises_data_error_naming_it() -> None:
    with pytest.raises(DataError, match="validation"):
        _dataset(partition=np.array(["train", "validation", "test"]))


def test_partition_of_wrong_length_raises_data_error() -> None:
    with pytest.raises(DataError, match="partition"):
        _dataset(partition=np.array(["train", "test"]))


def test_target_of_wrong_length_raises_data_error_naming_the_target() -> None:
    with pytest.raises(DataError, match=r"target 'fat' has 2 values for 3 rows"):
        _dataset(targets={"fat": np.array([1.0, 2.0])})


def test_wavelength_axis_of_wrong_length_raises_data_error() -> None:
    with pytest.raises(DataError, match="wavelength axis"):
        _dataset(wavelengths=np.array([900.0, 902.0]))


def test_missing_target_raises_missing_column_error_listing_targets() -> None:
    with pytest.raises(MissingColumnError, match=r"'moisture'.*\['fat', 'protein'\]"):
        _dataset().target("moisture")


def test_rows_returns_ascending_indices_of_one_partition() -> None:
    ds = _dataset(partition=np.array(["test", "train", "train"]))
    assert ds.rows("train").tolist() == [1, 2]
    assert ds.rows("test").tolist() == [0]


def test_schema_carries_hash_and_partitions() -> None:
    ds = _dataset()
    schema = ds.schema()
    assert schema.dataset_hash == ds.content_hash
    assert schema.target_names == ("fat", "protein")
    assert (schema.n_samples, schema.n_wavelengths) == (3, 4)
    assert (schema.train_rows, schema.test_rows) == ((0, 1), (2,))


# --- tecator ------------------------------------------------------------------------------------------------


def test_tecator_has_215_rows_split_172_train_43_test(tec: SpectraDataset) -> None:
    assert tec.n_samples == 215
    assert tec.rows("train").size == 172
    assert tec.rows("test").size == 43
    # The first 172 rows are the training rows, the rest test.
    assert tec.rows("train").tolist() == list(range(172))


def test_tecator_axis_is_100_wavelengths_from_850_to_1050_nm(tec: SpectraDataset) -> None:
    assert tec.n_wavelengths == 100
    assert tec.wavelength_unit == "nm"
    np.testing.assert_allclose(tec.wavelengths, np.linspace(850.0, 1050.0, 100))
    assert tec.wavelengths[0] == 850.0
    assert tec.wavelengths[-1] == 1050.0


def test_tecator_has_moisture_fat_protein_targets(tec: SpectraDataset) -> None:
    assert sorted(tec.targets) == ["fat", "moisture", "protein"]
    assert np.isfinite(tec.target("fat")).all()


def test_tecator_with_extrapolation_has_240_rows_extra_in_test(tec: SpectraDataset) -> None:
    full = tecator(include_extrapolation=True)
    assert full.n_samples == 240
    assert full.rows("train").size == 172
    assert full.rows("test").size == 68
    assert full.content_hash != tec.content_hash


def test_tecator_hash_is_stable_across_loads(tec: SpectraDataset) -> None:
    assert tecator().content_hash == tec.content_hash


def test_later_edits_of_the_callers_arrays_do_not_change_the_dataset() -> None:
    X = np.arange(6.0).reshape(2, 3)
    y = np.array([1.0, 2.0])
    ds = SpectraDataset(name="t", sample_ids=["a", "b"], spectra=X, wavelengths=[1.0, 2.0, 3.0],
                        wavelength_unit="nm", targets={"y": y}, partition=["train", "train"])
    before = ds.content_hash
    X[0, 0] = 99.0
    y[0] = 42.0
    assert ds.spectra[0, 0] == 0.0 and ds.target("y")[0] == 1.0
    assert ds.content_hash == before


def test_read_only_input_is_shared_without_a_copy() -> None:
    X = np.arange(6.0).reshape(2, 3)
    X.setflags(write=False)
    ds = SpectraDataset(name="t", sample_ids=["a", "b"], spectra=X, wavelengths=[1.0, 2.0, 3.0],
                        wavelength_unit="nm", targets={}, partition=["train", "train"])
    assert np.shares_memory(ds.spectra, X)
