"""The score views speak classification: every accuracy column equals scikit-learn on the stored labels.

One workspace holds a PLS-DA run (ranked by balanced accuracy), an LDA run (ranked by accuracy) and a PLS regression
run, so each view is read with both tasks side by side; the columns of the other task must be null.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score

import nirdag

REGRESSION = ("rmse", "r2", "bias", "sep", "mae", "rpd", "rpiq")
CLASSIFICATION = ("accuracy", "balanced_accuracy")
APPROX = {"rel": 1e-12, "abs": 1e-15}


def _cls_spec(model: dict, split: dict, **extra) -> dict:
    return {"target": "grade", "seed": 0, **extra, "pipeline": [
        {"split": split}, {"branch": {"raw": [], "snv": [{"op": "snv"}]}}, {"model": model}]}


@pytest.fixture(scope="module")
def runs(labelled, tmp_path_factory) -> dict:
    workspace = tmp_path_factory.mktemp("clsviews") / "ws"
    plsda = _cls_spec({"op": "plsda", "n_components": [2, 5, 9]}, {"kind": "kfold", "n_splits": 5, "shuffle": True},
                      refit={"top_k": 2})
    lda = _cls_spec({"op": "sklearn", "estimator": "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"},
                    {"kind": "stratified", "n_splits": 4, "shuffle": True}, refit={"metric": "accuracy"})
    pls = {"target": "fat", "seed": 0, "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                                    {"model": {"op": "pls", "n_components": [3, 6]}}]}
    return {name: nirdag.run(spec, labelled, workspace=workspace)
            for name, spec in (("plsda", plsda), ("lda", lda), ("pls", pls))}


class Labels:
    """A run's stored prediction rows (labels), with scikit-learn scores of any selection of them."""

    def __init__(self, run):
        t = run.sql("SELECT chain_id, fold_id, partition, label_true, label_pred FROM predictions "
                    f"WHERE run_id = '{run.run_id}'")
        self.chain, self.fold, self.partition, self.true, self.pred = (
            np.asarray(t[c].to_pylist()) for c in ("chain_id", "fold_id", "partition", "label_true", "label_pred"))
        self.cv_folds = sorted(f for f in np.unique(self.fold) if f != "fold_final")

    def mask(self, chain: str, partition: str, fold: str | None = None) -> np.ndarray:
        mine = (self.chain == chain) & (self.partition == partition)
        return mine if fold is None else mine & (self.fold == fold)

    def scores(self, mask: np.ndarray) -> dict[str, float]:
        assert mask.any()
        true, pred = self.true[mask], self.pred[mask]
        return {"accuracy": accuracy_score(true, pred), "balanced_accuracy": balanced_accuracy_score(true, pred),
                "n": float(mask.sum())}

    def pooled(self, chain: str) -> dict[str, float]:
        """Out-of-fold: the validation rows of every CV fold together."""
        return self.scores(self.mask(chain, "val") & (self.fold != "fold_final"))


@pytest.fixture(scope="module")
def labels(runs) -> dict[str, Labels]:
    return {name: Labels(runs[name]) for name in ("plsda", "lda")}


def _view(run, name: str, where: str = "true") -> list[dict]:
    return run.sql(f"SELECT * FROM {name} WHERE run_id = '{run.run_id}' AND {where}").to_pylist()


def _assert_null(row: dict, columns) -> None:
    assert {c: row[c] for c in columns} == dict.fromkeys(columns)


@pytest.mark.parametrize("name", ["plsda", "lda"])
def test_chain_scores_of_classifiers_equal_sklearn_on_the_stored_labels(runs, labels, name):
    run, stored = runs[name], labels[name]
    rows = _view(run, "v_chain_scores")
    assert len(rows) == len(run.plan.chains) and sum(r["refit"] for r in rows) == run.plan.refit.top_k
    for row in rows:
        chain = row["chain_id"]
        assert row["rank_metric"] == run.plan.rank_metric
        folds = [stored.scores(stored.mask(chain, "val", f)) for f in stored.cv_folds]
        assert row["n_folds"] == len(folds) == len(run.plan.folds)
        for metric, value in stored.pooled(chain).items():
            if metric == "n":
                continue
            assert row[f"cv_{metric}"] == pytest.approx(value, **APPROX)
            assert row[f"mean_fold_{metric}"] == pytest.approx(np.mean([f[metric] for f in folds]), **APPROX)
            assert row[f"sd_fold_{metric}"] == pytest.approx(np.std([f[metric] for f in folds], ddof=1), **APPROX)
        if row["refit"]:
            test = stored.scores(stored.mask(chain, "test", "fold_final"))
            assert row["test_accuracy"] == pytest.approx(test["accuracy"], **APPROX)
            assert row["test_balanced_accuracy"] == pytest.approx(test["balanced_accuracy"], **APPROX)
        else:
            _assert_null(row, ["test_accuracy", "test_balanced_accuracy"])
        _assert_null(row, [f"{p}{m}" for p in ("cv_", "mean_fold_") for m in REGRESSION]
                     + ["sd_fold_rmse", "rmsep"] + [f"test_{m}" for m in REGRESSION[1:]])


def test_fold_scores_of_classifiers_one_row_per_chain_fold_partition(runs, labels):
    run, stored = runs["plsda"], labels["plsda"]
    rows = _view(run, "v_fold_scores")
    # every CV fold scores its validation rows and the test rows; the two refit chains their train and test rows
    assert len(rows) == 6 * 5 * 2 + 2 * 2
    for row in rows:
        expected = stored.scores(stored.mask(row["chain_id"], row["partition"], row["fold_id"]))
        assert row["n"] == expected["n"]
        assert row["accuracy"] == pytest.approx(expected["accuracy"], **APPROX)
        assert row["balanced_accuracy"] == pytest.approx(expected["balanced_accuracy"], **APPROX)
        _assert_null(row, REGRESSION)


def test_refit_of_classifiers_scores_test_and_train_rows(runs, labels):
    run, stored = runs["plsda"], labels["plsda"]
    rows = _view(run, "v_refit")
    refit = run.sql(f"SELECT chain_id FROM chains WHERE run_id = '{run.run_id}' AND refit")["chain_id"]
    assert sorted(r["chain_id"] for r in rows) == sorted(refit.to_pylist()) and len(rows) == 2
    assert run.best["chain_id"] in {r["chain_id"] for r in rows}
    for row in rows:
        test = stored.scores(stored.mask(row["chain_id"], "test", "fold_final"))
        train = stored.scores(stored.mask(row["chain_id"], "train", "fold_final"))
        assert row["rank_metric"] == "balanced_accuracy"
        assert row["n_test"] == test["n"] == 43
        for metric in CLASSIFICATION:
            assert row[f"test_{metric}"] == pytest.approx(test[metric], **APPROX)
            assert row[f"train_{metric}"] == pytest.approx(train[metric], **APPROX)
        _assert_null(row, ["rmsep", "rmsec", *(f"test_{m}" for m in REGRESSION[1:])])


def test_regression_rows_have_null_classification_columns(runs):
    run = runs["pls"]
    for row in _view(run, "v_chain_scores"):
        assert row["rank_metric"] == "rmse" and row["cv_rmse"] > 0
        _assert_null(row, [f"{p}{m}" for p in ("cv_", "mean_fold_", "sd_fold_", "test_") for m in CLASSIFICATION])
    for row in _view(run, "v_fold_scores"):
        assert row["rmse"] > 0
        _assert_null(row, CLASSIFICATION)
    (refit,) = _view(run, "v_refit")
    assert refit["rmsep"] > 0 and refit["rank_metric"] == "rmse"
    _assert_null(refit, [f"{p}{m}" for p in ("test_", "train_") for m in CLASSIFICATION])


def test_runs_view_names_each_runs_rank_metric_and_best_chain(runs, labels):
    listed = {r["run_id"]: r for r in runs["pls"].sql("SELECT * FROM v_runs").to_pylist()}
    assert set(listed) == {run.run_id for run in runs.values()}
    for name in ("plsda", "lda"):
        run, stored = runs[name], labels[name]
        row = listed[run.run_id]
        metric = run.plan.rank_metric
        pooled = {c.chain_id: stored.pooled(c.chain_id)[metric] for c in run.plan.chains}
        assert row["rank_metric"] == metric == {"plsda": "balanced_accuracy", "lda": "accuracy"}[name]
        assert row["best_chain_id"] == run.best["chain_id"]
        assert row["best_cv_value"] == pytest.approx(max(pooled.values()), **APPROX)
        assert pooled[row["best_chain_id"]] == pytest.approx(max(pooled.values()), **APPROX)
        assert row["best_rmsecv"] is None and row["n_chains"] == len(run.plan.chains)
        (shown,) = nirdag.Workspace(run.workspace).run_summary(run.run_id).to_pylist()
        assert (shown["rank_metric"], shown["best_cv_value"], shown["best_chain_id"]) == (
            metric, row["best_cv_value"], row["best_chain_id"])
    pls = listed[runs["pls"].run_id]
    assert pls["rank_metric"] == "rmse" and pls["best_chain_id"] == runs["pls"].best["chain_id"]
    assert pls["best_cv_value"] == pls["best_rmsecv"] == pytest.approx(runs["pls"].best["rmsecv"], rel=1e-12)


def test_preprocessing_effect_ranks_steps_by_the_best_rank_metric_value(runs, labels):
    run, stored = runs["plsda"], labels["plsda"]
    chains = run.sql(f"SELECT chain_id, preprocessing FROM chains WHERE run_id = '{run.run_id}'").to_pylist()
    by_step: dict[str, list[float]] = {}
    for chain in chains:
        for step in chain["preprocessing"].split(" > "):
            by_step.setdefault(step, []).append(stored.pooled(chain["chain_id"])["balanced_accuracy"])
    rows = sorted(_view(run, "v_preprocessing_effect"), key=lambda r: r["rank"])
    assert [r["step"] for r in rows] == sorted(by_step, key=lambda s: -max(by_step[s])) and len(rows) == 2
    for row in rows:
        values = by_step[row["step"]]
        assert row["rank_metric"] == "balanced_accuracy" and row["n_chains"] == len(values) == 3
        assert row["best_cv_value"] == pytest.approx(max(values), **APPROX)
        assert row["mean_cv_value"] == pytest.approx(np.mean(values), **APPROX)
        assert row["worst_cv_value"] == pytest.approx(min(values), **APPROX)
        _assert_null(row, ["best_rmsecv", "mean_rmsecv", "worst_rmsecv"])
    (pls,) = _view(runs["pls"], "v_preprocessing_effect")
    assert pls["rank_metric"] == "rmse" and pls["best_rmsecv"] == pls["best_cv_value"] == pytest.approx(
        runs["pls"].best["rmsecv"], rel=1e-12)
    assert pls["worst_rmsecv"] == pls["worst_cv_value"] >= pls["mean_rmsecv"] == pls["mean_cv_value"]


def test_aggregated_views_leave_classification_rows_out(runs):
    """A class code has no average: the group views read the regression run's predictions only."""
    for view in ("v_aggregated_predictions", "v_aggregated_scores"):
        counts = {r["run_id"]: r["n"] for r in runs["pls"].sql(
            f"SELECT run_id, count(*) AS n FROM {view} WHERE group_column = 'subset' GROUP BY run_id").to_pylist()}
        assert list(counts) == [runs["pls"].run_id] and counts[runs["pls"].run_id] > 0


def test_views_list_the_classification_columns(runs):
    listed = {v["view"]: (v["description"], v["columns"].split(", "))
              for v in nirdag.Workspace(runs["pls"].workspace).views().to_pylist()}
    expected = {
        "v_chain_scores": {"rank_metric", "cv_accuracy", "cv_balanced_accuracy", "mean_fold_accuracy",
                           "mean_fold_balanced_accuracy", "sd_fold_accuracy", "sd_fold_balanced_accuracy",
                           "test_accuracy", "test_balanced_accuracy"},
        "v_fold_scores": {"accuracy", "balanced_accuracy"},
        "v_refit": {"rank_metric", "test_accuracy", "test_balanced_accuracy", "train_accuracy",
                    "train_balanced_accuracy"},
        "v_runs": {"rank_metric", "best_cv_value"},
        "v_preprocessing_effect": {"rank_metric", "best_cv_value", "mean_cv_value", "worst_cv_value"},
    }
    for view, columns in expected.items():
        description, listed_columns = listed[view]
        assert columns <= set(listed_columns)
        assert "accuracy" in description
