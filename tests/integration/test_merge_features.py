"""`merge: features`: branch outputs side by side, exactly as scikit-learn's FeatureUnion, fitted per fold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union

import nirdag
from nirs_core.operators import MSC, SNV, Autoscale, SavitzkyGolay
from relspec import CompileError, SpecError

D1 = {"op": "savgol", "window_length": 15, "deriv": 1}


def _spec(branch: dict, *after: dict, model: dict | None = None) -> dict:
    return {"target": "fat", "seed": 1, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"branch": branch}, {"merge": "features"},
        *after, {"model": model or {"op": "pls", "n_components": [3, 6, 9]}}]}


def _assert_matches(run, tecator, union_and_after) -> None:
    train = tecator.rows("train")
    X, y = tecator.spectra[train], tecator.target("fat")[train]
    rows = run.sql("SELECT c.n_components, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
                   "WHERE s.fold_id = 'cv' AND s.metric = 'rmse'").to_pylist()
    assert len(rows) == 3
    for row in rows:
        model = make_pipeline(*union_and_after(), PLSRegression(row["n_components"], scale=False))
        pred = cross_val_predict(model, X, y, cv=KFold(5, shuffle=True, random_state=1)).ravel()
        assert row["value"] == pytest.approx(float(np.sqrt(np.mean((pred - y) ** 2))), abs=1e-9)


def test_stateless_members_are_concatenated_once_above_the_folds(tecator, tmp_path):
    run = nirdag.run(_spec({"snv": [{"op": "snv"}], "d1": [D1]}), tecator, workspace=tmp_path / "ws")
    assert [h.step.op for h in run.plan.hoisted] == ["concat"]
    assert run.best["branch_name"] == "concat(snv, d1)"
    _assert_matches(run, tecator, lambda: [make_union(SNV(), SavitzkyGolay(window_length=15, deriv=1))])


def test_fitted_members_are_fitted_on_each_folds_training_rows(tecator, tmp_path):
    run = nirdag.run(_spec({"msc": [{"op": "msc"}], "raw": []}, {"op": "autoscale"}), tecator,
                     workspace=tmp_path / "ws")
    assert not run.plan.hoisted and run.plan.groups[0].fitted_steps[0].op == "concat"
    _assert_matches(run, tecator, lambda: [make_union(MSC(), "passthrough"), Autoscale()])


def test_nested_branches_inside_the_merge_are_all_members(tecator):
    plan = nirdag.compile(_spec({"scatter": [{"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}}],
                                 "d1": [D1]}), tecator)
    (concat,) = plan.groups[0].fitted_steps
    assert len(concat.params["branches"]) == 3
    assert plan.chains[0].branch_name == "concat(scatter/snv, scatter/msc, d1)"


def test_a_bundle_of_a_concatenating_chain_predicts_the_stored_test_predictions(tecator, tmp_path):
    run = nirdag.run(_spec({"msc": [{"op": "msc"}], "d1": [D1]}), tecator, workspace=tmp_path / "ws")
    bundle = run.export(tmp_path / "m.nirdag")
    predicted = nirdag.predict(bundle, tecator).to_pylist()
    stored = {r["sample_id"]: r["y_pred"] for r in run.sql(
        f"SELECT sample_id, y_pred FROM predictions WHERE chain_id = '{run.best['chain_id']}' AND fold_id = "
        "'fold_final' AND partition = 'test'").to_pylist()}
    got = {r["sample_id"]: r["y_pred"] for r in predicted if r["sample_id"] in stored}
    assert len(got) == len(stored) > 0
    assert max(abs(got[s] - stored[s]) for s in stored) <= 1e-12


def test_a_wavelength_step_after_the_merge_is_refused(tecator):
    with pytest.raises(CompileError, match=r"crop.*reads the wavelength axis.*- at `\$\.pipeline\[3\]`"):
        nirdag.compile(_spec({"snv": [{"op": "snv"}], "d1": [D1]}, {"op": "crop", "start": 900, "stop": 1000}),
                       tecator)


def test_a_model_inside_a_features_merge_is_refused(tecator):
    with pytest.raises(SpecError, match=r"`merge: features`.*a model inside its branch"):
        nirdag.compile(_spec({"snv": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 3}}], "d1": [D1]}),
                       tecator)
