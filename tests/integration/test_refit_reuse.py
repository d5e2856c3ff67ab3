"""The refit takes the CV folds' fitted objects from the fold nodes: one PLS fit per (group, fold) and one refit, with
results bit-identical to fitting the folds again."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

import nirdag
from nirs_core.data.synthetic import synthetic
from nirs_core.operators import PLSSweep
from nirs_modelling import compute

SPEC = {"name": "reuse", "target": "y", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
    {"model": {"op": "pls", "n_components": [2, 4, 6]}}]}


@pytest.fixture(scope="module")
def data():
    return synthetic(120, 80, seed=3)


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    fit = PLSSweep.fit

    def counted(self, X, y):
        calls.append(X.shape[0])
        return fit(self, X, y)

    monkeypatch.setattr(PLSSweep, "fit", counted)
    return calls


def _run(data, tmp_path, name: str, **spec):
    return nirdag.run({**SPEC, **spec}, data, workspace=tmp_path / name, seed=0, cache=False)


def test_one_fit_per_group_and_fold_and_one_refit(data, tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    result = _run(data, tmp_path, "ws")
    n_train = len(result.plan.final_fold.train_rows)
    # 2 groups x 5 folds in CV, then the best chain's group refit once on all train rows: its folds are reused
    assert len(calls) == 2 * 5 + 1
    assert calls[-1] == n_train


def test_reused_fold_fits_equal_refitted_ones(data, tmp_path, monkeypatch):
    kept = _run(data, tmp_path, "kept")
    monkeypatch.setattr(compute, "FOLD_FITS_BUDGET", 0)  # the fold nodes keep nothing: the refit fits them again
    calls = _counting(monkeypatch)
    again = _run(data, tmp_path, "again")
    assert len(calls) == 2 * 5 + 1 + 5
    for table in ("predictions", "scores"):
        a, b = (r.sql(f"SELECT * EXCLUDE (run_id) FROM {table}") for r in (kept, again))
        order = [(c, "ascending") for c in a.column_names if not c.startswith(("y_", "value"))]
        assert a.sort_by(order).equals(b.sort_by(order)), table
    X = data.spectra[:7]
    for fold_mean in (False, True):
        np.testing.assert_array_equal(
            nirdag.replay(kept.handle, kept.run_id, X, fold_mean=fold_mean).column("y_pred").to_numpy(),
            nirdag.replay(again.handle, again.run_id, X, fold_mean=fold_mean).column("y_pred").to_numpy())


def test_fold_fits_are_not_kept_for_models_of_unknown_size_or_past_the_budget(data, monkeypatch):
    sweep = nirdag.compile(SPEC, data, seed=0)
    assert compute.fold_fits_kept(sweep, data.n_wavelengths)
    forest = nirdag.compile({**SPEC, "pipeline": [*SPEC["pipeline"][:2], {"model": {
        "op": "sklearn", "estimator": "sklearn.ensemble.RandomForestRegressor", "params": {"n_estimators": 5}}}]},
        data, seed=0)
    assert not compute.fold_fits_kept(forest, data.n_wavelengths)
    monkeypatch.setattr(compute, "FOLD_FITS_BUDGET", 1024)
    assert not compute.fold_fits_kept(sweep, data.n_wavelengths)


def test_pls_without_copies_equals_scikit_learn_and_leaves_its_input_alone(data):
    X, y = data.spectra[:60], data.target("y")[:60]
    before = X.copy()
    pls = PLSSweep(8).fit(X, y)
    np.testing.assert_array_equal(X, before)  # copy=True (the default) never writes the caller's array
    for k in (1, 4, 8):
        ref = PLSRegression(k, scale=False).fit(X, y).predict(X[:10]).ravel()
        np.testing.assert_allclose(pls.predict_all(X[:10], select=[k - 1])[0, :, 0], ref, rtol=1e-9, atol=1e-12)
    owned = np.array(X)
    in_place = PLSSweep(8, copy=False).fit(owned, y)
    np.testing.assert_array_equal(in_place.coef_all_, pls.coef_all_)
    np.testing.assert_allclose(owned.mean(axis=0), 0.0, atol=1e-12)  # copy=False centred the array it was given
    frozen = np.array(X)
    frozen.setflags(write=False)
    np.testing.assert_array_equal(PLSSweep(8, copy=False).fit(frozen, y).coef_all_, pls.coef_all_)
