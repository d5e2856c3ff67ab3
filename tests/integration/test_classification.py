"""Classification end to end: PLS-DA and scikit-learn classifiers on a labelled Tecator (low/mid/high fat).

Real Hamilton, Delta tables and DataFusion SQL; pooled CV accuracies equal a plain scikit-learn script exactly.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

import nirdag
from nirdag.bundle.archive import read_bundle
from nirs_core.operators import PLSDA, SNV
from relspec import CompileError, SpecError

COMPONENTS = [2, 5, 9]


def _spec(model: dict, split: dict | None = None, **extra) -> dict:
    return {"target": "grade", "seed": 0, **extra, "pipeline": [
        {"split": split or {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "snv"}, {"model": model}]}


@pytest.fixture(scope="module")
def plsda_run(labelled, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("cls") / "ws"
    return nirdag.run(_spec({"op": "plsda", "n_components": COMPONENTS}), labelled, workspace=workspace)


def _pooled(run) -> dict:
    rows = run.sql("SELECT c.n_components, s.metric, s.value FROM chains c JOIN scores s USING (run_id, chain_id) "
                   f"WHERE c.run_id = '{run.run_id}' AND s.fold_id = 'cv' AND s.partition = 'val'").to_pylist()
    return {(r["n_components"], r["metric"]): r["value"] for r in rows}


def _sklearn(labelled, estimator, cv) -> tuple[float, float]:
    train = labelled.rows("train")
    X, y = labelled.spectra[train], labelled.target("grade")[train]
    pred = cross_val_predict(make_pipeline(SNV(), estimator), X, y, cv=cv)
    return accuracy_score(y, pred), balanced_accuracy_score(y, pred)


def test_plsda_pooled_cv_equals_a_plain_sklearn_script(plsda_run, labelled):
    pooled = _pooled(plsda_run)
    assert plsda_run.plan.task == "classification"
    assert plsda_run.plan.classes == ("high", "low", "mid")
    assert plsda_run.plan.refit.metric == "balanced_accuracy"
    for k in COMPONENTS:
        acc, bacc = _sklearn(labelled, PLSDA(n_components=k), KFold(5, shuffle=True, random_state=0))
        assert pooled[(k, "accuracy")] == acc
        assert pooled[(k, "balanced_accuracy")] == bacc
        assert pooled[(k, "n")] == len(labelled.rows("train"))
    assert {m for _, m in pooled} == {"accuracy", "balanced_accuracy", "n"}


def test_a_sklearn_classifier_with_stratified_folds_equals_sklearn(labelled, tmp_path):
    model = {"op": "sklearn", "estimator": "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"}
    run = nirdag.run(_spec(model, {"kind": "stratified", "n_splits": 4, "shuffle": True}, refit={"metric": "accuracy"}),
                     labelled, workspace=tmp_path / "ws")
    train = labelled.rows("train")
    grade = labelled.target("grade")
    for fold in run.plan.folds:  # stratified on the labels: every class in every validation fold
        assert set(grade[list(fold.val_rows)]) == {"high", "low", "mid"}
    acc, bacc = _sklearn(labelled, LinearDiscriminantAnalysis(), StratifiedKFold(4, shuffle=True, random_state=0))
    assert _pooled(run) == {(None, "accuracy"): acc, (None, "balanced_accuracy"): bacc, (None, "n"): len(train)}
    assert run.plan.refit.metric == "accuracy"
    assert run.best["rank_metric"] == "accuracy"


def test_sql_over_predictions_shows_the_labels(plsda_run, labelled):
    rows = plsda_run.sql(
        "SELECT sample_id, y_true, y_pred, label_true, label_pred FROM predictions "
        f"WHERE run_id = '{plsda_run.run_id}' AND partition = 'val'").to_pylist()
    assert len(rows) == len(COMPONENTS) * len(labelled.rows("train"))
    truth = dict(zip(labelled.sample_ids.tolist(), labelled.target("grade").tolist(), strict=True))
    classes = plsda_run.plan.classes
    for r in rows:
        assert r["label_true"] == truth[r["sample_id"]] == classes[int(r["y_true"])]
        assert r["label_pred"] == classes[int(r["y_pred"])]
    counts = plsda_run.sql("SELECT label_true, count(*) AS n FROM predictions WHERE partition = 'val' "
                           "AND fold_id = 'fold_0' GROUP BY label_true").to_pylist()
    assert {c["label_true"] for c in counts} <= set(classes)


def test_ranked_view_and_refit_test_accuracy(plsda_run, labelled):
    top = plsda_run.top(5).to_pylist()
    assert [r["rank"] for r in top] == [1, 2, 3]
    values = [r["cv_balanced_accuracy"] for r in top]
    assert values == sorted(values, reverse=True)
    best = plsda_run.best
    assert best["refit"] and best["rank_metric"] == "balanced_accuracy"
    pred = plsda_run.sql(f"SELECT label_true, label_pred FROM predictions WHERE chain_id = '{best['chain_id']}' AND "
                         "fold_id = 'fold_final' AND partition = 'test'").to_pylist()
    assert len(pred) == len(labelled.rows("test"))
    expected = np.mean([p["label_true"] == p["label_pred"] for p in pred])
    assert best["test_accuracy"] == pytest.approx(expected, abs=1e-15)
    # the refit equals PLSDA fitted on all train rows (labels) and applied to the test rows
    train, test = labelled.rows("train"), labelled.rows("test")
    model = make_pipeline(SNV(), PLSDA(n_components=best["n_components"]))
    sk = model.fit(labelled.spectra[train], labelled.target("grade")[train]).predict(labelled.spectra[test])
    assert best["test_accuracy"] == accuracy_score(labelled.target("grade")[test], sk)
    assert plsda_run.provenance.get("ranking").reason.startswith("descending pooled out-of-fold balanced_accuracy")


def test_bundle_predict_returns_the_stored_test_labels(plsda_run, labelled, tmp_path):
    path = plsda_run.export(tmp_path / "model.nirdag")
    test = labelled.select("test", copy=True)
    out = nirdag.predict(path, test)
    stored = {r["sample_id"]: r["label_pred"] for r in plsda_run.sql(
        f"SELECT sample_id, label_pred FROM predictions WHERE chain_id = '{plsda_run.best['chain_id']}' AND "
        "fold_id = 'fold_final' AND partition = 'test'").to_pylist()}
    got = dict(zip(out.column("sample_id").to_pylist(), out.column("y_pred").to_pylist(), strict=True))
    assert got == stored and len(got) == len(labelled.rows("test"))
    assert set(got.values()) <= {"high", "low", "mid"}
    manifest = read_bundle(path).manifest
    assert (manifest.task, manifest.classes) == ("classification", ("high", "low", "mid"))
    replayed = nirdag.replay(plsda_run.workspace, plsda_run.run_id, test)
    assert replayed.column("y_pred").to_pylist() == out.column("y_pred").to_pylist()


def test_the_cli_prints_a_ranked_classification_table(labelled, tmp_path):
    path = tmp_path / "graded.csv"
    grade = labelled.target("grade")
    lines = [",".join(["id", "set", *[f"{w:.4f}" for w in labelled.wavelengths], "grade"])]
    lines += [",".join([str(labelled.sample_ids[i]), str(labelled.partition[i]),
                        *(repr(v) for v in labelled.spectra[i].tolist()), str(grade[i])])
              for i in range(labelled.n_samples)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = tmp_path / "plsda.yaml"
    spec.write_text("target: grade\npipeline:\n  - split: {kind: stratified, n_splits: 5}\n  - op: snv\n"
                    "  - model: {op: plsda, n_components: {_range_: [2, 6]}}\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "nirdag", "run", str(spec), "--data", str(path), "--id-column", "id",
                          "--partition-column", "set", "--workspace", str(tmp_path / "ws"), "--top", "3"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert "Top 3 of 5 chains by pooled CV balanced_accuracy" in out.stdout and "3 classes" in out.stdout
    for column in ("cv_balanced_accuracy", "cv_accuracy", "test_accuracy", "plsda"):
        assert column in out.stdout


@pytest.mark.parametrize(("model", "extra", "error", "message"), [
    ({"op": "pls", "n_components": 3}, {}, CompileError,
     r"holds class labels, but `pls` is a regression model: use `\{op: plsda.* - at `\$\.pipeline\[2\]\.model\.op`"),
    ({"op": "pcr", "n_components": 3}, {}, CompileError, r"`pcr` is a regression model.*\$\.pipeline\[2\]\.model"),
    ({"op": "sklearn", "estimator": "sklearn.linear_model.Ridge"}, {}, SpecError,
     r"not a scikit-learn classifier \(it is a regressor.*- at `\$\.pipeline\[2\]\.model\.estimator`"),
    ({"op": "sklearn", "estimator": "sklearn.cluster.KMeans"}, {}, SpecError,
     r"not a scikit-learn classifier; target 'grade' is class labels - at `\$\.pipeline\[2\]\.model\.estimator`"),
    ({"op": "plsda", "n_components": 3}, {"refit": {"metric": "rmse"}}, CompileError,
     r"refit metric 'rmse' does not fit the task.*\['balanced_accuracy', 'accuracy'\] - at `\$\.refit\.metric`"),
])
def test_models_and_metrics_of_the_other_task_are_refused_on_labels(labelled, tmp_path, model, extra, error,
                                                                   message):
    with pytest.raises(error, match=message):
        nirdag.run(_spec(model, **extra), labelled, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(("model", "extra", "error", "message"), [
    ({"op": "plsda", "n_components": 3}, {}, CompileError,
     r"target 'fat' is numeric, but `plsda` classifies class labels: use `\{op: pls.* - at `\$\.pipeline\[2\]\.model"),
    ({"op": "sklearn", "estimator": "sklearn.linear_model.LogisticRegression"}, {}, SpecError,
     r"not a scikit-learn regressor \(it is a classifier: the target is numeric.*\$\.pipeline\[2\]\.model\.estimator"),
    ({"op": "pls", "n_components": 3}, {"refit": {"metric": "accuracy"}}, CompileError,
     r"refit metric 'accuracy' does not fit the task: target 'fat' is numeric.*\['rmse', 'mean_nrmse'\] - at "
     r"`\$\.refit\.metric`"),
])
def test_classifiers_and_accuracies_are_refused_on_a_numeric_target(labelled, tmp_path, model, extra, error,
                                                                   message):
    with pytest.raises(error, match=message):
        nirdag.run({**_spec(model, **extra), "target": "fat"}, labelled, workspace=tmp_path / "ws")


@pytest.mark.parametrize(("steps", "message"), [
    ([{"split": {"kind": "kfold"}}, {"y_processing": {"op": "standard"}},
      {"model": {"op": "plsda", "n_components": 2}}],
     r"`y_processing` transforms a numeric target: remove it - at `\$\.pipeline\[1\]\.y_processing`"),
    ([{"split": {"kind": "spxy"}}, {"model": {"op": "plsda", "n_components": 2}}],
     r"`spxy` measures distances on a numeric target.* - at `\$\.pipeline\[0\]\.split\.kind`"),
    ([{"split": {"kind": "stratified", "n_bins": 3}}, {"model": {"op": "plsda", "n_components": 2}}],
     r"`n_bins` .* does not apply: remove it - at `\$\.pipeline\[0\]\.split\.n_bins`"),
    ([{"split": {"kind": "kfold"}},
      {"branch": {"a": [{"model": {"op": "plsda", "n_components": 2}}],
                  "b": [{"op": "snv"}, {"model": {"op": "plsda", "n_components": 2}}]}},
      {"merge": "predictions"}, {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LogisticRegression"}}],
     r"stacking \(`merge: predictions`\) of classifiers is not supported yet - at `\$\.pipeline\[2\]\.merge`"),
])
def test_steps_that_need_a_numeric_target_are_refused_on_labels(labelled, tmp_path, steps, message):
    with pytest.raises(CompileError, match=message):
        nirdag.run({"target": "grade", "pipeline": steps}, labelled, workspace=tmp_path / "ws")
