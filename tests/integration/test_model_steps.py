"""PCR and any scikit-learn regressor as the model step: same numbers as scikit-learn, seeded, strict names."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline

import nirdag
from nirs_core.operators import SNV
from relspec import CompileError, SpecError


def _spec(model: dict, seed: int = 0) -> dict:
    return {"target": "fat", "seed": seed, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "snv"}, {"model": model}]}


def _rmsecv(run) -> dict:
    rows = run.sql("SELECT c.n_components, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
                   "WHERE s.fold_id = 'cv' AND s.metric = 'rmse'").to_pylist()
    return {r["n_components"]: r["value"] for r in rows}


def _sklearn_rmsecv(tecator, *steps, seed: int = 0) -> float:
    train = tecator.rows("train")
    X, y = tecator.spectra[train], tecator.target("fat")[train]
    pred = cross_val_predict(make_pipeline(SNV(), *steps), X, y, cv=KFold(5, shuffle=True, random_state=seed))
    return float(np.sqrt(np.mean((pred.ravel() - y) ** 2)))


def test_pcr_sweep_matches_pca_plus_linear_regression(tecator, tmp_path):
    run = nirdag.run(_spec({"op": "pcr", "n_components": [3, 8, 12]}), tecator, workspace=tmp_path / "ws")
    for k, value in _rmsecv(run).items():
        expected = _sklearn_rmsecv(tecator, PCA(k, svd_solver="full"), LinearRegression())
        assert value == pytest.approx(expected, rel=1e-9)


def test_sklearn_regressor_matches_cross_val_predict(tecator, tmp_path):
    run = nirdag.run(_spec({"op": "sklearn", "estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 0.01}}),
                     tecator, workspace=tmp_path / "ws")
    assert _rmsecv(run) == {None: pytest.approx(_sklearn_rmsecv(tecator, Ridge(alpha=0.01)), rel=1e-12)}
    assert run.best["refit"] is True and run.best["rmsep"] > 0


def test_the_run_seed_reaches_a_random_estimator(tecator, tmp_path):
    model = {"op": "sklearn", "estimator": "sklearn.ensemble.RandomForestRegressor",
             "params": {"n_estimators": 10, "max_depth": 4}}
    run = nirdag.run(_spec(model, seed=7), tecator, workspace=tmp_path / "ws")
    (chain,) = run.plan.chains
    assert chain.params["random_state"] == 7
    expected = _sklearn_rmsecv(tecator, RandomForestRegressor(n_estimators=10, max_depth=4, random_state=7), seed=7)
    assert _rmsecv(run)[None] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("estimator", "error", "message"), [
    ("os.system", SpecError, "must be a scikit-learn class path"),
    ("sklearn.linear_model.Nope", SpecError, "does not exist"),
    ("sklearn.cluster.KMeans", SpecError, "not a scikit-learn regressor"),
])
def test_only_scikit_learn_regressors_are_accepted(tecator, tmp_path, estimator, error, message):
    with pytest.raises(error, match=message):
        nirdag.run(_spec({"op": "sklearn", "estimator": estimator}), tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_bad_estimator_params_fail_at_compile_time(tecator):
    with pytest.raises(CompileError, match="alpha"):
        nirdag.compile(_spec({"op": "sklearn", "estimator": "sklearn.linear_model.Ridge", "params": {"alpha": "x"}}),
                       tecator)
