"""The spec's split schemes reach the plan's folds and the engine (real runs into a Delta workspace)."""

from __future__ import annotations

import numpy as np
import pytest

import nirdag
from nirs_core.data import SpectraDataset
from nirs_core.operators import KennardStoneKFold
from relspec import CompileError


def _spec(split: dict) -> dict:
    return {"target": "fat", "pipeline": [{"split": split}, {"op": "snv"},
                                          {"model": {"op": "pls", "n_components": [2, 5]}}]}


@pytest.fixture(scope="module")
def with_repetitions(tecator) -> SpectraDataset:
    """Tecator with a fake 'physical sample' column: consecutive pairs of rows are repetitions."""
    groups = np.asarray([f"g{i // 2}" for i in range(tecator.n_samples)])
    return SpectraDataset(name="tec_reps", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                          wavelengths=tecator.wavelengths, wavelength_unit="nm", targets=dict(tecator.targets),
                          partition=tecator.partition, metadata={"sample": groups})


def test_group_kfold_never_splits_repetitions(with_repetitions, tmp_path):
    run = nirdag.run(_spec({"kind": "group_kfold", "groups": "sample", "n_splits": 4}), with_repetitions,
                     workspace=tmp_path / "ws", seed=3)
    groups = with_repetitions.metadata.column("sample").to_numpy(zero_copy_only=False)
    for fold in run.plan.folds:
        assert not set(groups[list(fold.train_rows)]) & set(groups[list(fold.val_rows)])
    assert run.best["rmsecv"] > 0


def test_kennard_stone_folds_are_those_of_the_operator(tecator):
    plan = nirdag.compile(_spec({"kind": "kennard_stone", "n_splits": 5}), tecator)
    train = tecator.rows("train")
    expected = [train[va].tolist() for _, va in KennardStoneKFold(5).split(tecator.spectra[train])]
    assert [list(f.val_rows) for f in plan.folds] == expected


def test_unknown_group_column_names_the_metadata_columns(tecator, tmp_path):
    with pytest.raises(CompileError, match=r"'batch'.*metadata columns are \['subset'\]"):
        nirdag.run(_spec({"kind": "group_kfold", "groups": "batch"}), tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("kind", ["kfold", "stratified", "spxy"])
def test_every_train_row_is_validated_exactly_once(tecator, kind):
    plan = nirdag.compile(_spec({"kind": kind, "n_splits": 4}), tecator, seed=1)
    val = np.sort(np.concatenate([f.val_rows for f in plan.folds]))
    assert val.tolist() == tecator.rows("train").tolist()
