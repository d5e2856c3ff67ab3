"""A run's numbers equal what a careful plain scikit-learn script computes with the same folds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, PowerTransformer, StandardScaler

import nirdag
from nirs_core.operators import MSC, SNV, SavitzkyGolay

SG1 = SavitzkyGolay(window_length=15, polyorder=2, deriv=1)
BRANCHES = {
    "raw": [],
    "snv": [SNV()],
    "sg1": [SG1],
    "snv_sg1": [SNV(), SG1],
}


def _chains(run) -> list[dict]:
    return run.sql(
        "SELECT c.chain_id, c.branch_name, c.n_components, s.value AS rmsecv FROM chains c "
        "JOIN scores s ON s.chain_id = c.chain_id AND s.run_id = c.run_id "
        f"WHERE c.run_id = '{run.run_id}' AND s.fold_id = 'cv' AND s.partition = 'val' AND s.metric = 'rmse'"
    ).to_pylist()


def test_every_chain_has_a_pooled_rmsecv(tecator_run):
    chains = _chains(tecator_run)
    assert len(chains) == 60
    assert {c["branch_name"] for c in chains} == set(BRANCHES)
    assert sorted({c["n_components"] for c in chains}) == list(range(1, 16))


@pytest.mark.parametrize("branch", sorted(BRANCHES))
def test_rmsecv_equals_sklearn_cross_val_predict(tecator_run, tecator, branch):
    train = tecator.rows("train")
    X, y = tecator.spectra[train], tecator.target("fat")[train]
    folds = KFold(5, shuffle=True, random_state=0)
    steps = [clone(s) for s in BRANCHES[branch]] or [FunctionTransformer()]
    for chain in (c for c in _chains(tecator_run) if c["branch_name"] == branch):
        model = make_pipeline(*steps, PLSRegression(chain["n_components"], scale=False))
        pred = cross_val_predict(model, X, y, cv=folds).ravel()
        expected = float(np.sqrt(np.mean((pred - y) ** 2)))
        assert chain["rmsecv"] == pytest.approx(expected, abs=1e-9), chain


def test_refit_rmsep_equals_sklearn_fit_on_all_train_rows(tecator_run, tecator):
    best = tecator_run.best
    train, test = tecator.rows("train"), tecator.rows("test")
    y = tecator.target("fat")
    model = make_pipeline(*[clone(s) for s in BRANCHES[best["branch_name"]]] or [FunctionTransformer()],
                          PLSRegression(best["n_components"], scale=False))
    pred = model.fit(tecator.spectra[train], y[train]).predict(tecator.spectra[test]).ravel()
    assert best["rmsep"] == pytest.approx(float(np.sqrt(np.mean((pred - y[test]) ** 2))), abs=1e-9)


def test_best_chain_has_the_lowest_rmsecv(tecator_run):
    chains = _chains(tecator_run)
    assert tecator_run.best["rmsecv"] == min(c["rmsecv"] for c in chains)
    assert tecator_run.best["refit"] is True


def _assert_rmsecv_matches(run, tecator, make_model, n_splits: int, seed: int) -> None:
    """Every chain's pooled RMSECV equals cross_val_predict of ``make_model(k)`` with the same KFold, to 1e-9."""
    rows = run.sql("SELECT c.n_components, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
                   "WHERE s.fold_id = 'cv' AND s.metric = 'rmse' ORDER BY c.n_components").to_pylist()
    assert rows
    train = tecator.rows("train")
    X, y = tecator.spectra[train], tecator.target("fat")[train]
    for row in rows:
        cv = KFold(n_splits, shuffle=True, random_state=seed)
        pred = cross_val_predict(make_model(row["n_components"]), X, y, cv=cv).ravel()
        assert row["value"] == pytest.approx(float(np.sqrt(np.mean((pred - y) ** 2))), abs=1e-9)


def test_scaled_pls_matches_sklearn_scale_true(tecator, tmp_path):
    import nirdag

    spec = {"target": "fat", "seed": 2, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}, {"op": "snv"},
        {"model": {"op": "pls", "n_components": [3, 7], "scale": True}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    _assert_rmsecv_matches(run, tecator, lambda k: make_pipeline(SNV(), PLSRegression(k, scale=True)), 4, 2)


def test_wavelength_aware_and_fitted_operators_match_sklearn(tecator, tmp_path):
    import nirdag
    from nirs_core.operators import EMSC, Crop

    spec = {"target": "fat", "seed": 5, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
        {"op": "crop", "start": 900.0, "stop": 1000.0}, {"op": "emsc", "order": 1},
        {"model": {"op": "pls", "n_components": [4, 8]}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    _assert_rmsecv_matches(run, tecator, lambda k: make_pipeline(
        Crop(900.0, 1000.0, wavelengths=tecator.wavelengths), EMSC(order=1), PLSRegression(k, scale=False)), 5, 5)


def test_crop_outside_the_axis_is_a_compile_error_naming_the_axis(tecator, tmp_path):
    import nirdag
    from relspec import CompileError

    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold"}}, {"op": "crop", "start": 2000, "stop": 2100},
                                          {"model": {"op": "pls", "n_components": 2}}]}
    with pytest.raises(CompileError, match=r"crop.*850..1050 nm"):
        nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_generated_alternatives_give_the_same_scores_as_explicit_branches(tecator, tmp_path):
    import nirdag

    head = [{"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}]
    model = {"model": {"op": "pls", "n_components": {"_range_": [2, 6]}}}
    generated = {"target": "fat", "seed": 4, "pipeline": [*head, {"_or_": [{"op": "snv"}, {"op": "msc"}]}, model]}
    explicit = {"target": "fat", "seed": 4, "pipeline": [
        *head, {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}}, model]}
    query = ("SELECT c.preprocessing, c.n_components, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
             "WHERE s.fold_id = 'cv' AND s.metric = 'rmse' ORDER BY 1, 2")
    a = nirdag.run(generated, tecator, workspace=tmp_path / "a").sql(query).to_pylist()
    b = nirdag.run(explicit, tecator, workspace=tmp_path / "b").sql(query).to_pylist()
    assert len(a) == 10 and a == b


@pytest.mark.parametrize("y_op", ["power", "minmax", "standard"])
def test_y_processing_matches_transformed_target_regressor(tecator, tmp_path, y_op):
    make_y = {"power": lambda: PowerTransformer(method="yeo-johnson"), "minmax": MinMaxScaler,
              "standard": StandardScaler}[y_op]
    spec = {"target": "fat", "seed": 3, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "msc"},
        {"y_processing": {"op": y_op}}, {"model": {"op": "pls", "n_components": [2, 6, 9]}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    _assert_rmsecv_matches(run, tecator, lambda k: make_pipeline(MSC(), TransformedTargetRegressor(
        PLSRegression(k, scale=False), transformer=make_y())), 5, 3)


def test_power_y_processing_changes_the_predictions(tecator, tmp_path):
    base = {"target": "fat", "seed": 3, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5}}, {"model": {"op": "pls", "n_components": 6}}]}
    with_y = {**base, "pipeline": [base["pipeline"][0], {"y_processing": {"op": "power"}}, base["pipeline"][1]]}
    query = "SELECT value FROM scores WHERE fold_id = 'cv' AND metric = 'rmse'"
    plain = nirdag.run(base, tecator, workspace=tmp_path / "a").sql(query).column(0).to_pylist()
    power = nirdag.run(with_y, tecator, workspace=tmp_path / "b").sql(query).column(0).to_pylist()
    assert plain != power


def test_nested_branches_score_like_the_flat_equivalent(tecator, tmp_path):
    head = [{"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}]
    model = {"model": {"op": "pls", "n_components": [3, 7]}}
    nested = {"target": "fat", "seed": 1, "pipeline": [*head, {"branch": {
        "raw": [],
        "scatter": [{"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
                    {"op": "savgol", "window_length": 11, "deriv": 1}],
    }}, model]}
    flat = {"target": "fat", "seed": 1, "pipeline": [*head, {"branch": {
        "raw": [],
        "snv": [{"op": "snv"}, {"op": "savgol", "window_length": 11, "deriv": 1}],
        "msc": [{"op": "msc"}, {"op": "savgol", "window_length": 11, "deriv": 1}],
    }}, model]}
    query = ("SELECT c.preprocessing, c.n_components, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
             "WHERE s.fold_id = 'cv' AND s.metric = 'rmse' ORDER BY 1, 2")
    a = nirdag.run(nested, tecator, workspace=tmp_path / "a")
    b = nirdag.run(flat, tecator, workspace=tmp_path / "b")
    assert a.sql(query).to_pylist() == b.sql(query).to_pylist()
    names = {r["branch_name"] for r in a.sql("SELECT DISTINCT branch_name FROM chains").to_pylist()}
    assert names == {"raw", "scatter/snv", "scatter/msc"}
    paths = sorted(tuple(c.branch_path) for c in a.plan.chains)
    assert set(paths) == {(0,), (1, 0), (1, 1)}
