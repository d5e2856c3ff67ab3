"""Stacking (`merge: predictions`): the meta-model learns from out-of-fold predictions only, at CV and at refit."""

from __future__ import annotations

import copy

import jsonschema
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import nirdag
from nirdag.bundle import BundleError
from relspec import CompileError, SpecError
from relspec.json_schema import spec_json_schema

BASES = {
    "snv": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 9}}],
    "msc": [{"op": "msc"}, {"model": {"op": "pls", "n_components": 7}}],
    "sg": [{"op": "savgol", "window_length": 15, "deriv": 1}, {"model": {"op": "pls", "n_components": 8}}],
}
SPEC = {"target": "fat", "seed": 1, "refit": {"top_k": 2}, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"branch": BASES},
    {"merge": "predictions"},
    {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LinearRegression"}}]}


@pytest.fixture(scope="module")
def run(tecator, tmp_path_factory):
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("stack") / "ws")


def _preds(run, chain_id: str, fold_id: str, partition: str) -> dict[str, float]:
    rows = run.sql(f"SELECT sample_id, y_pred FROM predictions WHERE chain_id = '{chain_id}' AND fold_id = "
                   f"'{fold_id}' AND partition = '{partition}'").to_pylist()
    return {r["sample_id"]: r["y_pred"] for r in rows}


def _chains(run) -> tuple[list[str], str]:
    rows = run.sql("SELECT chain_id, branch_name FROM chains").to_pylist()
    by_name = {r["branch_name"]: r["chain_id"] for r in rows}
    return [by_name[n] for n in BASES], by_name["stack"]


def test_the_stack_is_ranked_and_scored_like_any_chain(run):
    names = {r["branch_name"] for r in run.top(10).to_pylist()}
    assert names == {"snv", "msc", "sg", "stack"}
    (stack,) = [p for p in run.plan.stacks]
    assert len(stack.base_chains) == 3


def test_meta_model_is_trained_on_out_of_fold_predictions_only(run, tecator):
    """Rebuild each fold's meta-model from the stored out-of-fold base predictions: the same numbers, to 1e-9.

    Had any in-fold (training) prediction of a base model reached the meta-model, these would differ.
    """
    bases, stack = _chains(run)
    y = dict(zip(tecator.sample_ids.tolist(), tecator.target("fat").tolist(), strict=True))
    oof = [{} for _ in bases]
    for fold in run.plan.folds:
        for b, chain in enumerate(bases):
            oof[b].update(_preds(run, chain, fold.fold_id, "val"))
    for fold in run.plan.folds:
        val = _preds(run, stack, fold.fold_id, "val")
        train_ids = [s for s in oof[0] if s not in val]
        X = np.array([[oof[b][s] for b in range(len(bases))] for s in train_ids])
        meta = LinearRegression().fit(X, [y[s] for s in train_ids])
        expected = meta.predict(np.array([[oof[b][s] for b in range(len(bases))] for s in val]))
        assert np.allclose(list(val.values()), expected, rtol=0, atol=1e-9)
        tests = [_preds(run, chain, fold.fold_id, "test") for chain in bases]
        stack_test = _preds(run, stack, fold.fold_id, "test")
        expected_test = meta.predict(np.array([[t[s] for t in tests] for s in stack_test]))
        assert np.allclose(list(stack_test.values()), expected_test, rtol=0, atol=1e-9)


def test_refit_uses_all_out_of_fold_predictions_and_the_refit_base_models(run, tecator):
    bases, stack = _chains(run)
    refit = {r["chain_id"] for r in run.sql("SELECT chain_id FROM chains WHERE refit").to_pylist()}
    assert stack in refit and set(bases) <= refit  # refitting the stack refits its base chains
    y = dict(zip(tecator.sample_ids.tolist(), tecator.target("fat").tolist(), strict=True))
    oof = [{} for _ in bases]
    for fold in run.plan.folds:
        for b, chain in enumerate(bases):
            oof[b].update(_preds(run, chain, fold.fold_id, "val"))
    ids = list(oof[0])
    meta = LinearRegression().fit(np.array([[o[s] for o in oof] for s in ids]), [y[s] for s in ids])
    base_test = [_preds(run, chain, "fold_final", "test") for chain in bases]
    stack_test = _preds(run, stack, "fold_final", "test")
    expected = meta.predict(np.array([[t[s] for t in base_test] for s in stack_test]))
    assert np.allclose(list(stack_test.values()), expected, rtol=0, atol=1e-9)
    # the control: a meta-model fitted on the base models' in-sample (fold_final train) predictions differs
    in_sample = [_preds(run, chain, "fold_final", "train") for chain in bases]
    leaky = LinearRegression().fit(np.array([[t[s] for t in in_sample] for s in ids]), [y[s] for s in ids])
    assert not np.allclose(leaky.coef_, meta.coef_, atol=1e-6)


def test_meta_model_artifact_depends_on_its_base_models_in_order(run):
    bases, stack = _chains(run)
    (meta,) = run.sql(f"SELECT artifact_type, depends_on FROM artifacts WHERE chain_id = '{stack}'").to_pylist()
    assert meta["artifact_type"] == "meta_model" and len(meta["depends_on"]) == 3
    models = run.sql("SELECT chain_id, artifact_id FROM artifacts WHERE artifact_type = 'model' AND fold_id = "
                     "'fold_final'").to_pylist()
    by_chain = {r["chain_id"]: r["artifact_id"] for r in models}
    assert meta["depends_on"] == [by_chain[c] for c in bases]


def test_exporting_a_stack_is_refused_clearly(run, tmp_path):
    _, stack = _chains(run)
    with pytest.raises(BundleError, match="stacked chain"):
        run.export(tmp_path / "m.nirdag", chain=stack)


def test_the_json_schema_accepts_a_stacking_spec():
    jsonschema.validate(SPEC, spec_json_schema())


def _with(pipeline_edit) -> dict:
    spec = copy.deepcopy(SPEC)
    pipeline_edit(spec["pipeline"])
    return spec


@pytest.mark.parametrize("edit, error, message", [
    (lambda p: p.pop(1), SpecError, r"`merge` without branches - at `\$\.pipeline\[1\]`"),
    (lambda p: p[1]["branch"]["snv"].pop(), SpecError, r"ends with exactly one model; path 'snv'"),
    (lambda p: p[1]["branch"]["snv"][1]["model"].update(n_components=[3, 9]), SpecError, r"one n_components"),
    (lambda p: p.pop(2), SpecError, r"a model inside a branch must end an alternative that feeds `merge"),
    (lambda p: p.insert(3, {"op": "snv"}), SpecError, r"only the meta-model may follow"),
    (lambda p: p[3].update(model={"op": "pls", "n_components": 4}), CompileError, r"exceed its 3 inputs"),
    (lambda p: p[1].update(branch={"snv": BASES["snv"]}), SpecError, r"at least two base chains"),
])
def test_bad_stacking_specs_name_the_problem(tecator, tmp_path, edit, error, message):
    with pytest.raises(error, match=message):
        nirdag.run(_with(edit), tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
