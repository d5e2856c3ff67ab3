"""The split kinds loo, repeated_kfold, contiguous_blocks and shuffle_split, and the OPLS model, in real runs: the
engine's out-of-fold predictions and scores equal scikit-learn's with the same scheme."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, LeaveOneOut, RepeatedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

import nirdag
from nirs_core.data import SpectraDataset
from nirs_core.operators import CARS, LWPLS, SNV, KernelPLS, VIPSelect
from relspec import CompileError


@pytest.fixture(scope="module")
def small(tecator) -> SpectraDataset:
    """The first 40 train rows and 10 test rows of Tecator (LOO fits one model per train row)."""
    rows = np.concatenate([tecator.rows("train")[:40], tecator.rows("test")[:10]])
    mask = np.zeros(tecator.n_samples, dtype=bool)
    mask[rows] = True
    return tecator.select(mask=mask, copy=True)


def _spec(split: dict, components: list[int] | int = (2, 4)) -> dict:
    return {"target": "fat", "pipeline": [{"split": split}, {"op": "snv"},
                                          {"model": {"op": "pls", "n_components": list(components)}}]}


def _val_predictions(run, n_components: int) -> list[dict]:
    return run.sql(
        "SELECT p.fold_id, p.sample_id, p.y_true, p.y_pred FROM predictions p JOIN chains c "
        "ON c.chain_id = p.chain_id AND c.run_id = p.run_id "
        f"WHERE p.run_id = '{run.run_id}' AND p.partition = 'val' AND c.n_components = {n_components}"
    ).to_pylist()


def _pooled_rmse(run, n_components: int) -> float:
    rows = run.sql(
        "SELECT s.value FROM scores s JOIN chains c ON c.chain_id = s.chain_id AND c.run_id = s.run_id "
        f"WHERE s.run_id = '{run.run_id}' AND s.fold_id = 'cv' AND s.metric = 'rmse' AND c.n_components = "
        f"{n_components}").to_pylist()
    return rows[0]["value"]


def test_loo_equals_leave_one_out_cross_val_predict(small, tmp_path):
    run = nirdag.run(_spec({"kind": "loo"}), small, workspace=tmp_path / "ws", seed=0)
    train = small.rows("train")
    X, y, ids = small.spectra[train], small.target("fat")[train], small.sample_ids[train]
    assert len(run.plan.folds) == train.size
    for k in (2, 4):
        expected = cross_val_predict(make_pipeline(SNV(), PLSRegression(k, scale=False)), X, y,
                                     cv=LeaveOneOut()).ravel()
        got = {r["sample_id"]: r["y_pred"] for r in _val_predictions(run, k)}
        assert len(got) == train.size
        assert np.abs(np.array([got[i] for i in ids]) - expected).max() < 1e-9
        assert _pooled_rmse(run, k) == pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), abs=1e-9)


def test_repeated_kfold_keeps_predictions_per_repeat_and_pools_them(small, tmp_path):
    split = {"kind": "repeated_kfold", "n_splits": 4, "n_repeats": 3}
    run = nirdag.run(_spec(split, [3]), small, workspace=tmp_path / "ws", seed=7)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    expected_folds = list(RepeatedKFold(n_splits=4, n_repeats=3, random_state=7).split(X))
    assert [f.fold_id for f in run.plan.folds] == [f"fold_{i}" for i in range(12)]
    assert [list(f.val_rows) for f in run.plan.folds] == [train[va].tolist() for _, va in expected_folds]
    rows = _val_predictions(run, 3)
    assert len(rows) == 3 * train.size  # every row once per repeat
    squared = []
    for i, (tr, va) in enumerate(expected_folds):
        model = make_pipeline(SNV(), PLSRegression(3, scale=False)).fit(X[tr], y[tr])
        pred = {r["sample_id"]: r["y_pred"] for r in rows if r["fold_id"] == f"fold_{i}"}
        expected = model.predict(X[va]).ravel()
        assert np.abs(np.array([pred[s] for s in small.sample_ids[train[va]]]) - expected).max() < 1e-9
        squared.append((expected - y[va]) ** 2)
    per_repeat_mse = [np.concatenate(squared[r * 4:(r + 1) * 4]).mean() for r in range(3)]
    assert _pooled_rmse(run, 3) == pytest.approx(np.sqrt(np.mean(per_repeat_mse)), abs=1e-9)


def test_shuffle_split_runs_and_stacking_on_it_is_refused(small, tmp_path):
    run = nirdag.run(_spec({"kind": "shuffle_split", "n_splits": 6, "test_size": 0.25}, [2]), small,
                     workspace=tmp_path / "ws", seed=1)
    assert len(run.plan.folds) == 6 and all(len(f.val_rows) == 10 for f in run.plan.folds)
    assert len(_val_predictions(run, 2)) == 60
    stacked = {"target": "fat", "pipeline": [
        {"split": {"kind": "shuffle_split"}},
        {"branch": {"a": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 2}}],
                    "b": [{"model": {"op": "pls", "n_components": 3}}]}},
        {"merge": "predictions"}, {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LinearRegression"}}]}
    with pytest.raises(CompileError, match=r"'shuffle_split'.*\$\.pipeline\[0\]\.split\.kind"):
        nirdag.compile(stacked, small)


def test_an_opls_sweep_scores_as_plain_scikit_learn_pls_cross_validation(small, tmp_path):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "contiguous_blocks", "n_splits": 4}}, {"op": "snv"},
                                          {"model": {"op": "opls", "n_components": [1, 3, 5]}}]}
    run = nirdag.run(spec, small, workspace=tmp_path / "ws", seed=0)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    for k in (1, 3, 5):
        pls = make_pipeline(SNV(), PLSRegression(k, scale=False, tol=1e-15, max_iter=5000))
        expected = cross_val_predict(pls, X, y, cv=KFold(4, shuffle=False)).ravel()
        assert _pooled_rmse(run, k) == pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), rel=1e-8)
    assert run.best["preprocessing"] == "snv" and run.best["rmsep"] is not None


@pytest.mark.parametrize("model", [{"op": "lwpls", "bandwidth": 0.5}, {"op": "kernel_pls", "gamma": 0.02}],
                         ids=lambda m: m["op"])
def test_lwpls_and_kernel_pls_runs_score_as_their_estimators_in_cross_val_predict(small, tmp_path, model):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "contiguous_blocks", "n_splits": 4}}, {"op": "snv"},
                                          {"model": {**model, "n_components": [2, 4]}}]}
    run = nirdag.run(spec, small, workspace=tmp_path / "ws", seed=0)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    cls = LWPLS if model["op"] == "lwpls" else KernelPLS
    params = {k: v for k, v in model.items() if k != "op"}
    for k in (2, 4):
        expected = cross_val_predict(make_pipeline(SNV(), cls(n_components=k, **params)), X, y,
                                     cv=KFold(4, shuffle=False))
        assert _pooled_rmse(run, k) == pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), rel=1e-9)
    path = run.export(tmp_path / "model.nirdag")
    predicted = nirdag.predict(path, small.spectra[small.rows("test")]).column("y_pred").to_numpy()
    assert np.all(np.isfinite(predicted))


def test_an_oplsda_run_scores_as_two_class_plsda(tecator, tmp_path):
    fat = tecator.target("fat")
    grade = np.where(fat > np.median(fat[tecator.rows("train")]), "fatty", "lean")
    data = SpectraDataset(name="two_grades", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                          wavelengths=tecator.wavelengths, wavelength_unit="nm", partition=tecator.partition,
                          targets={"grade": grade})
    runs = {op: nirdag.run({"target": "grade", "pipeline": [
        {"split": {"kind": "stratified", "n_splits": 4}}, {"op": "snv"},
        {"model": {"op": op, "n_components": [2, 5]}}]}, data, workspace=tmp_path / op, seed=2)
        for op in ("oplsda", "plsda")}
    scores = {op: run.sql(f"SELECT chain_id, metric, value FROM scores WHERE fold_id = 'cv' AND run_id = "
                          f"'{run.run_id}' ORDER BY metric, value").column("value").to_pylist()
              for op, run in runs.items()}
    assert scores["oplsda"] == pytest.approx(scores["plsda"], abs=1e-12)


def test_vip_selection_is_decided_per_fold_as_in_a_scikit_learn_pipeline(small, tmp_path):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "contiguous_blocks", "n_splits": 4}}, {"op": "snv"},
                                          {"op": "vip_select", "n_components": 4, "n_keep": 15},
                                          {"model": {"op": "pls", "n_components": [3]}}]}
    run = nirdag.run(spec, small, workspace=tmp_path / "ws", seed=0)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    pipeline = make_pipeline(SNV(), VIPSelect(n_components=4, n_keep=15), PLSRegression(3, scale=False))
    expected = cross_val_predict(pipeline, X, y, cv=KFold(4, shuffle=False)).ravel()
    assert _pooled_rmse(run, 3) == pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), rel=1e-9)


def test_cars_is_decided_per_fold_with_the_run_seed_as_in_a_scikit_learn_pipeline(small, tmp_path):
    spec = {"target": "fat", "seed": 5, "pipeline": [
        {"split": {"kind": "contiguous_blocks", "n_splits": 4}}, {"op": "snv"},
        {"op": "cars", "n_components": 3, "n_runs": 12, "cv_folds": 3, "min_keep": 6},
        {"model": {"op": "pls", "n_components": [3]}}]}
    run = nirdag.run(spec, small, workspace=tmp_path / "ws", seed=5)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    cars = CARS(n_components=3, n_runs=12, cv_folds=3, min_keep=6, random_state=5)
    pipeline = make_pipeline(SNV(), cars, PLSRegression(3, scale=False))
    expected = cross_val_predict(pipeline, X, y, cv=KFold(4, shuffle=False)).ravel()
    assert _pooled_rmse(run, 3) == pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), rel=1e-9)
