"""Unit tests of SpectraDataset on Arrow: zero-copy views, selection, label targets, metadata, axis checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from nirs_core.data import SpectraDataset
from nirs_core.data.errors import DataError

AXIS = np.array([900.0, 902.0, 904.0])


def _dataset(**overrides: Any) -> SpectraDataset:
    """5 samples x 3 wavelengths: rows 0-2 train, 3-4 test, a numeric and a label target, two metadata columns."""
    args: dict[str, Any] = {
        "name": "arrow",
        "sample_ids": np.array(["a", "b", "c", "d", "e"]),
        "spectra": np.arange(15.0).reshape(5, 3) / 10,
        "wavelengths": AXIS,
        "wavelength_unit": "nm",
        "targets": {"fat": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                    "grade": np.array(["high", "low", "low", "mid", "high"])},
        "partition": np.array(["train", "train", "train", "test", "test"]),
        "metadata": {"instrument": np.array(["A", "B", "A", "B", "A"]), "day": np.array([1, 2, 3, 4, 5])},
    }
    args.update(overrides)
    return SpectraDataset(**args)


def _arrow_values(ds: SpectraDataset) -> np.ndarray:
    return ds.arrow[0].column("spectrum").chunk(0).flatten().to_numpy()


# --- zero-copy spectra --------------------------------------------------------------------------------------


def test_spectra_is_a_view_of_the_arrow_spectrum_buffer() -> None:
    ds = _dataset()
    assert np.shares_memory(ds.spectra, _arrow_values(ds))
    assert ds.spectra.shape == (5, 3)
    np.testing.assert_array_equal(ds.spectra, np.arange(15.0).reshape(5, 3) / 10)


def test_spectra_view_is_read_only() -> None:
    ds = _dataset()
    assert not ds.spectra.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        ds.spectra[0, 0] = 1.0


def test_slice_shares_memory_with_the_parent_and_keeps_the_axis() -> None:
    ds = _dataset()
    part = ds.slice(1, 4)
    assert np.shares_memory(part.spectra, ds.spectra)
    assert part.sample_ids.tolist() == ["b", "c", "d"]
    np.testing.assert_array_equal(part.spectra, ds.spectra[1:4])
    np.testing.assert_array_equal(part.wavelengths, ds.wavelengths)
    assert part.wavelength_unit == "nm"


def test_slice_past_the_end_stops_at_the_last_row() -> None:
    assert _dataset().slice(3, 100).sample_ids.tolist() == ["d", "e"]


def test_slice_hash_equals_the_hash_of_the_same_rows_built_fresh() -> None:
    ds = _dataset()
    fresh = SpectraDataset(
        name="fresh", sample_ids=["b", "c"], spectra=ds.spectra[1:3].copy(), wavelengths=AXIS, wavelength_unit="nm",
        targets={"fat": [2.0, 3.0], "grade": np.array(["low", "low"])}, partition=["train", "train"],
    )
    assert ds.slice(1, 3).content_hash == fresh.content_hash


def test_contiguous_partition_select_is_zero_copy() -> None:
    ds = _dataset()
    test = ds.select("test")
    assert np.shares_memory(test.spectra, ds.spectra)
    assert test.sample_ids.tolist() == ["d", "e"]
    assert test.partition.tolist() == ["test", "test"]
    np.testing.assert_array_equal(test.wavelengths, ds.wavelengths)


def test_contiguous_ascending_ids_select_is_zero_copy() -> None:
    ds = _dataset()
    picked = ds.select(ids=["b", "c"])
    assert np.shares_memory(picked.spectra, ds.spectra)
    assert picked.sample_ids.tolist() == ["b", "c"]


def test_non_contiguous_select_without_copy_asks_for_copy_true() -> None:
    with pytest.raises(DataError, match="copy=True"):
        _dataset().select(mask=[True, False, True, False, False])


def test_non_contiguous_select_with_copy_returns_the_masked_rows() -> None:
    ds = _dataset()
    picked = ds.select(mask=[True, False, False, False, True], copy=True)
    assert picked.sample_ids.tolist() == ["a", "e"]
    np.testing.assert_array_equal(picked.spectra, ds.spectra[[0, 4]])
    np.testing.assert_array_equal(picked.target("fat"), [1.0, 5.0])
    assert picked.target("grade").tolist() == ["high", "high"]
    assert picked.partition.tolist() == ["train", "test"]
    assert not np.shares_memory(picked.spectra, ds.spectra)


def test_select_by_ids_keeps_the_order_given() -> None:
    ds = _dataset()
    assert ds.rows(ids=["d", "a", "c"]).tolist() == [3, 0, 2]
    picked = ds.select(ids=["d", "a"], copy=True)
    assert picked.sample_ids.tolist() == ["d", "a"]
    np.testing.assert_array_equal(picked.spectra, ds.spectra[[3, 0]])
    np.testing.assert_array_equal(picked.target("fat"), [4.0, 1.0])


def test_descending_ids_are_not_taken_for_a_contiguous_run() -> None:
    with pytest.raises(DataError, match="copy=True"):
        _dataset().select(ids=["c", "b"])


# --- rows() errors ------------------------------------------------------------------------------------------


def test_rows_with_two_selectors_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _dataset().rows("train", ids=["a"])


def test_rows_with_no_selector_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _dataset().rows()


def test_rows_of_an_unknown_partition_names_it() -> None:
    with pytest.raises(DataError, match="'validation'"):
        _dataset().rows("validation")  # type: ignore[arg-type]


def test_rows_of_unknown_ids_names_them() -> None:
    with pytest.raises(DataError, match=r"\['zz'\]"):
        _dataset().rows(ids=["a", "zz"])


def test_rows_with_a_mask_of_the_wrong_shape_gives_both_shapes() -> None:
    with pytest.raises(DataError, match=r"\(3,\).*\(5,\)"):
        _dataset().rows(mask=[True, False, True])


# --- class-label targets ------------------------------------------------------------------------------------


def test_string_target_is_a_label_target_with_values_preserved() -> None:
    ds = _dataset()
    assert ds.is_label_target("grade")
    assert not ds.is_label_target("fat")
    assert ds.target("grade").tolist() == ["high", "low", "low", "mid", "high"]
    assert pa.types.is_string(ds.arrow[1].schema.field("grade").type)


def test_label_order_is_part_of_the_hash() -> None:
    reordered = {"fat": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                 "grade": np.array(["low", "high", "low", "mid", "high"])}
    assert _dataset(targets=reordered).content_hash != _dataset().content_hash


def test_labels_are_not_hashed_like_their_concatenation() -> None:
    # Same concatenated bytes, different split into labels: the length prefix must tell them apart.
    a = _dataset(targets={"grade": np.array(["ab", "c", "d", "e", "f"])})
    b = _dataset(targets={"grade": np.array(["a", "bc", "d", "e", "f"])})
    assert a.content_hash != b.content_hash


# --- metadata -----------------------------------------------------------------------------------------------


def test_metadata_stays_row_aligned_after_slice_and_select() -> None:
    ds = _dataset()
    assert ds.slice(2, 5).metadata.column("instrument").to_pylist() == ["A", "B", "A"]
    assert ds.select("test").metadata.column("day").to_pylist() == [4, 5]
    picked = ds.select(ids=["e", "b"], copy=True)
    assert picked.metadata.column("instrument").to_pylist() == ["A", "B"]
    assert picked.metadata.column("day").to_pylist() == [5, 2]


def test_metadata_is_not_part_of_the_content_hash() -> None:
    other = _dataset(metadata={"instrument": np.array(["Z"] * 5), "operator": np.array(["x"] * 5)})
    assert other.content_hash == _dataset().content_hash
    assert _dataset(metadata=None).content_hash == _dataset().content_hash


def test_metadata_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(DataError, match=r"metadata column\(s\) 'instrument' \(2\), 'day' \(2\) do not have 5 values"):
        _dataset(metadata={"instrument": np.array(["A", "B"]), "day": np.array([1, 2])})


def test_one_metadata_column_of_the_wrong_length_is_a_data_error_naming_it() -> None:
    with pytest.raises(DataError, match="instrument"):
        _dataset(metadata={"instrument": np.array(["A", "B"]), "day": np.array([1, 2, 3, 4, 5])})


# --- wavelength axis ----------------------------------------------------------------------------------------


def test_non_monotonic_axis_names_the_positions() -> None:
    with pytest.raises(DataError, match=r"not strictly monotonic at positions 1-2 \(904, 902\)"):
        _dataset(wavelengths=np.array([900.0, 904.0, 902.0]))


def test_repeated_axis_value_names_the_positions() -> None:
    with pytest.raises(DataError, match=r"positions 1-2 \(902, 902\)"):
        _dataset(wavelengths=np.array([900.0, 902.0, 902.0]))


def test_descending_axis_is_accepted_in_the_order_given() -> None:
    ds = _dataset(wavelengths=np.array([9000.0, 8000.0, 7000.0]), wavelength_unit="cm-1")
    assert ds.wavelengths.tolist() == [9000.0, 8000.0, 7000.0]


def test_nan_in_the_axis_is_a_data_error() -> None:
    with pytest.raises(DataError, match="position 1 is not a finite number"):
        _dataset(wavelengths=np.array([900.0, np.nan, 904.0]))


# --- from_arrow ---------------------------------------------------------------------------------------------


def test_from_arrow_round_trip_keeps_the_hash_and_shares_the_buffers() -> None:
    ds = _dataset()
    core, targets, metadata = ds.arrow
    back = SpectraDataset.from_arrow(name="again", core=core, targets=targets, metadata=metadata,
                                     wavelengths=ds.wavelengths, wavelength_unit=ds.wavelength_unit)
    assert back.content_hash == ds.content_hash
    assert np.shares_memory(back.spectra, ds.spectra)
    assert back.metadata.equals(ds.metadata)
    assert back.target("grade").tolist() == ds.target("grade").tolist()


def test_from_arrow_validates_like_the_constructor() -> None:
    ds = _dataset()
    core, targets, metadata = ds.arrow
    with pytest.raises(DataError, match="wavelength axis has 2 values for 3"):
        SpectraDataset.from_arrow(name="bad", core=core, targets=targets, metadata=metadata,
                                  wavelengths=np.array([1.0, 2.0]), wavelength_unit="nm")
