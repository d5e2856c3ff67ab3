"""Anything fitted (MSC reference, PLS centring and weights) sees only the fold's training rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import nirdag
from hamilton_pipeline import execute_plan
from nirs_core.data import SpectraDataset

SPEC = {
    "name": "leak_check",
    "target": "fat",
    "seed": 3,
    "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
        {"branch": {"msc": [{"op": "msc"}], "snv_msc": [{"op": "snv"}, {"op": "msc"}]}},
        {"model": {"op": "pls", "n_components": [2, 6, 10]}},
    ],
}


def _with(dataset: SpectraDataset, *, rows: np.ndarray, dx: float = 0.0, scale: float = 1.0,
          dy: float = 0.0) -> SpectraDataset:
    X = np.array(dataset.spectra)
    X[rows] = X[rows] * scale + dx
    y = np.array(dataset.target("fat"))
    y[rows] += dy
    return SpectraDataset(
        name="perturbed", sample_ids=dataset.sample_ids, spectra=X, wavelengths=dataset.wavelengths,
        wavelength_unit=dataset.wavelength_unit, targets={"fat": y}, partition=dataset.partition,
    )


def _predictions(dataset: SpectraDataset, fold_id: str, partition: str) -> dict[tuple[str, str], float]:
    plan = nirdag.compile(SPEC, dataset)
    table = execute_plan(plan, dataset).predictions
    mask = pa.compute.and_(pa.compute.equal(table["fold_id"], fold_id), pa.compute.equal(table["partition"],
                                                                                        partition))
    rows = table.filter(mask).to_pylist()
    return {(r["chain_id"], r["sample_id"]): r["y_pred"] for r in rows}


@pytest.fixture(scope="module")
def fold0(tecator):
    plan = nirdag.compile(SPEC, tecator)
    fold = plan.folds[0]
    return np.asarray(fold.train_rows), np.asarray(fold.val_rows), np.asarray(plan.test_rows)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], abs=1e-9) for k in a)


def test_changing_val_targets_leaves_the_fold_predictions_unchanged(tecator, fold0):
    _, val, _ = fold0
    base = _predictions(tecator, "fold_0", "val")
    assert _same(base, _predictions(_with(tecator, rows=val, dy=25.0), "fold_0", "val"))


def test_changing_val_spectra_leaves_the_fold_test_predictions_unchanged(tecator, fold0):
    _, val, _ = fold0
    base = _predictions(tecator, "fold_0", "test")
    assert _same(base, _predictions(_with(tecator, rows=val, scale=3.0, dx=0.7), "fold_0", "test"))


def test_changing_test_rows_leaves_out_of_fold_predictions_unchanged(tecator, fold0):
    *_, test = fold0
    base = _predictions(tecator, "fold_1", "val")
    assert _same(base, _predictions(_with(tecator, rows=test, scale=2.0, dx=0.3, dy=9.0), "fold_1", "val"))


def test_control_changing_fold_training_rows_does_change_predictions(tecator, fold0):
    train, _, _ = fold0
    base = _predictions(tecator, "fold_0", "val")
    assert not _same(base, _predictions(_with(tecator, rows=train[:20], scale=1.5, dx=0.2), "fold_0", "val"))
