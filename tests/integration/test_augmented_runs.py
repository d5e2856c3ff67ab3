"""A run with augment steps: synthetic rows only ever come from training rows (checked on sample ids), CV
predictions exist for the real validation rows only, the counts are recorded, and the bundle predicts without them."""

from __future__ import annotations

import numpy as np
import pytest

import nirdag
from nirdag.bundle.archive import read_bundle
from nirs_core.data.synthetic import synthetic
from nirs_core.operators import SNV
from nirs_modelling import augmentation
from relspec.plan import FOLD_FINAL

SPEC = {
    "name": "augmented",
    "target": "y",
    "seed": 4,
    "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
        {"op": "snv"},
        {"augment": {"kind": "shift", "max_shift": 1.0}},
        {"augment": {"kind": "mixup", "fraction": 0.5, "n_bins": 4}},
        {"model": {"op": "pls", "n_components": {"_range_": [2, 8]}}},
    ],
}


@pytest.fixture(scope="module")
def data():
    return synthetic(150, 60, seed=2)  # every spectrum distinct, so a row of a training block names its sample


@pytest.fixture(scope="module")
def augmented(data, tmp_path_factory):
    calls: list[tuple[str, np.ndarray, int]] = []
    real = augmentation.augment_training

    def recording(refs, fold_id, X, Y):
        out = real(refs, fold_id, X, Y)
        calls.append((fold_id, X.copy(), out[0].shape[0] - X.shape[0]))
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(augmentation, "augment_training", recording)
        run = nirdag.run(SPEC, data, workspace=tmp_path_factory.mktemp("aug") / "ws", seed=4, cache=False)
    return run, nirdag.compile(SPEC, data, seed=4), calls


def _ids(plan_rows, data) -> set[str]:
    return set(data.sample_ids[list(plan_rows)])


def test_only_each_folds_training_rows_are_augmented(augmented, data):
    run, plan, calls = augmented
    by_row = {row.tobytes(): sid for row, sid in zip(SNV().fit_transform(data.spectra), data.sample_ids, strict=True)}
    folds = {f.fold_id: f for f in (*plan.folds, plan.final_fold)}
    test_ids = _ids(plan.test_rows, data)
    assert {fold_id for fold_id, _, _ in calls} == set(folds)
    for fold_id, X, n_synthetic in calls:
        seen = [by_row[row.tobytes()] for row in X]
        assert sorted(seen) == sorted(_ids(folds[fold_id].train_rows, data))  # exactly the fold's train rows
        assert not set(seen) & (_ids(folds[fold_id].val_rows, data) | test_ids)
        n = len(folds[fold_id].train_rows)
        assert n_synthetic == n + round(0.5 * n)
    (finding,) = [f for f in run.validation.findings if f.code == "augmentation"]
    assert f"{FOLD_FINAL}: 120 real + 180 synthetic" in finding.message


def test_cv_predictions_exist_only_for_real_validation_rows(augmented, data):
    run, plan, _ = augmented
    rows = run.sql(f"SELECT DISTINCT fold_id, partition, sample_id FROM predictions WHERE run_id = '{run.run_id}'")
    got = {(f, p): set() for f, p in zip(rows["fold_id"].to_pylist(), rows["partition"].to_pylist(), strict=True)}
    for f, p, s in zip(*(rows[c].to_pylist() for c in ("fold_id", "partition", "sample_id")), strict=True):
        got[(f, p)].add(s)
    for fold in plan.folds:
        assert got[(fold.fold_id, "val")] == _ids(fold.val_rows, data)
    assert got[(FOLD_FINAL, "train")] == _ids(plan.final_fold.train_rows, data)
    assert set().union(*(v for (_, p), v in got.items() if p == "test")) == _ids(plan.test_rows, data)


def test_the_bundle_predicts_as_the_refit_without_augmenters(augmented, data, tmp_path):
    run, _, _ = augmented
    bundle = run.export(tmp_path / "aug.nirdag")
    chain = read_bundle(bundle).manifest.chain
    assert "augment:shift" in chain.preprocessing and not any("augment" in s.op for s in chain.steps)
    stored = run.sql(
        f"SELECT sample_id, y_pred FROM predictions WHERE run_id = '{run.run_id}' AND chain_id = "
        f"'{chain.chain_id}' AND fold_id = 'fold_final' AND partition = 'test' ORDER BY sample_id"
    )
    test = data.select("test", copy=True)
    out = nirdag.predict(bundle, test)
    predicted = dict(zip(out["sample_id"].to_pylist(), out["y_pred"].to_pylist(), strict=True))
    np.testing.assert_allclose(
        [predicted[s] for s in stored["sample_id"].to_pylist()], stored["y_pred"].to_numpy(), rtol=1e-12, atol=1e-12
    )


def test_an_augmented_run_repeats_bit_for_bit_on_another_executor(augmented, data, tmp_path):
    run, _, _ = augmented
    again = nirdag.run(SPEC, data, workspace=tmp_path / "ws", seed=4, cache=False, executor="threads", workers=2)
    query = "SELECT chain_id, fold_id, partition, sample_id, y_pred FROM predictions ORDER BY 1, 2, 3, 4"
    first, second = run.sql(query), again.sql(query)
    assert first.column("chain_id").equals(second.column("chain_id"))
    np.testing.assert_array_equal(first["y_pred"].to_numpy(), second["y_pred"].to_numpy())
