"""Conventional id and partition columns are found when none is named, cal/val labels are partitions everywhere,
and a missing column is reported with the table's non-spectral columns, the spectral range and a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nirs_core.data import dataset_from_parts, load_parts
from nirs_core.data.errors import DataError, MissingColumnError

WAVELENGTHS = [1100 + 2 * i for i in range(6)]


def _csv(path: Path, columns: dict[str, list]) -> Path:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


def _table(tmp_path: Path, n: int = 8, **extra: list) -> Path:
    rng = np.random.default_rng(0)
    spectra = {str(w): list(np.round(rng.random(n), 4)) for w in WAVELENGTHS}
    return _csv(tmp_path / "data.csv", {**extra, "oil": list(range(n)), **spectra})


def test_sample_id_and_partition_are_detected_and_reported(tmp_path):
    ids = [f"s{i}" for i in range(8)]
    path = _table(tmp_path, sample_id=ids, partition=["train"] * 5 + ["test"] * 3)
    parts = load_parts(path, targets=["oil"])
    ds = dataset_from_parts(parts)
    assert ds.sample_ids.tolist() == ids
    assert ds.rows("test").tolist() == [5, 6, 7]
    assert ds.load_notes == ("id column 'sample_id'", "partition column 'partition'")
    assert "sample_id" not in ds.metadata.column_names and ds.n_wavelengths == 6


@pytest.mark.parametrize("labels", [["Cal"] * 5 + ["Val"] * 3, ["calibration"] * 5 + [" Validation "] * 3,
                                    ["TRAIN"] * 5 + ["Test"] * 3])
def test_cal_val_labels_in_any_case_are_train_and_test(tmp_path, labels):
    ds = dataset_from_parts(load_parts(_table(tmp_path, Set=labels), targets=["oil"]))
    assert ds.rows("train").tolist() == [0, 1, 2, 3, 4] and ds.rows("test").tolist() == [5, 6, 7]
    assert ds.load_notes == ("partition column 'Set'",)


def test_columns_that_do_not_look_like_ids_or_partitions_stay_metadata(tmp_path):
    path = _table(tmp_path, id=["a", "a", "b", "c", "d", "e", "f", "g"], split=["x"] * 8)
    ds = dataset_from_parts(load_parts(path, targets=["oil"]))
    assert ds.load_notes == ()
    assert ds.sample_ids.tolist() == [str(i) for i in range(1, 9)]
    assert {"id", "split"} <= set(ds.metadata.column_names) and ds.rows("test").size == 0


def test_a_named_partition_column_wins_over_a_conventional_one(tmp_path):
    path = _table(tmp_path, sample_id=[f"s{i}" for i in range(8)], batch=["train"] * 4 + ["test"] * 4,
                  partition=["train"] * 8)
    ds = dataset_from_parts(load_parts(path, targets=["oil"], partition_column="batch"))
    assert ds.rows("test").tolist() == [4, 5, 6, 7]
    assert ds.load_notes == ("id column 'sample_id'",)


def test_unknown_partition_labels_list_the_accepted_ones(tmp_path):
    path = _table(tmp_path, grp=["train"] * 4 + ["holdout"] * 4)
    with pytest.raises(DataError, match=r"partition labels \['holdout'\] are not train/test labels; accepted.*cal"):
        dataset_from_parts(load_parts(path, targets=["oil"], partition_column="grp"))


def test_a_missing_column_lists_other_columns_first_then_the_spectral_range(tmp_path):
    path = _table(tmp_path, sample_id=[f"s{i}" for i in range(8)])
    with pytest.raises(MissingColumnError) as info:
        load_parts(path, targets=["Oil"])
    message = str(info.value)
    assert "missing column(s) ['Oil'] (did you mean 'oil'?)" in message
    assert "columns found: sample_id, oil and 6 spectral columns 1100..1110" in message
