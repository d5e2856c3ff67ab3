"""The semantic views' numbers equal a numpy computation on the same prediction rows."""

from __future__ import annotations

import numpy as np
import pytest

import nirdag


def _predictions(run, partition: str):
    t = run.sql(f"SELECT chain_id, fold_id, y_true, y_pred FROM predictions WHERE partition = '{partition}'")
    return (np.asarray(t["chain_id"].to_pylist()), np.asarray(t["fold_id"].to_pylist()),
            t["y_true"].to_numpy(), t["y_pred"].to_numpy())


def _rmse(y, p):
    return float(np.sqrt(np.mean((p - y) ** 2)))


def test_chain_scores_pooled_and_mean_of_folds(tecator_run):
    chain, fold, y, p = _predictions(tecator_run, "val")
    rows = tecator_run.sql("SELECT * FROM v_chain_scores").to_pylist()
    assert len(rows) == 60
    for row in rows[:15]:
        mine = chain == row["chain_id"]
        assert row["cv_rmse"] == pytest.approx(_rmse(y[mine], p[mine]), rel=1e-12)
        per_fold = [_rmse(y[mine & (fold == f)], p[mine & (fold == f)]) for f in np.unique(fold[mine])]
        assert row["mean_fold_rmse"] == pytest.approx(np.mean(per_fold), rel=1e-12)
        assert row["sd_fold_rmse"] == pytest.approx(np.std(per_fold, ddof=1), rel=1e-9)
        r2 = 1 - np.sum((p[mine] - y[mine]) ** 2) / np.sum((y[mine] - y[mine].mean()) ** 2)
        assert row["cv_r2"] == pytest.approx(r2, rel=1e-12)
    refit = [r for r in rows if r["refit"]]
    assert len(refit) == 1 and refit[0]["rmsep"] == pytest.approx(tecator_run.best["rmsep"], rel=1e-12)


def test_fold_scores_one_row_per_chain_fold_partition(tecator_run):
    rows = tecator_run.sql("SELECT * FROM v_fold_scores WHERE partition = 'val'").to_pylist()
    assert len(rows) == 60 * 5 and all(r["n"] in (34.0, 35.0) for r in rows)


def test_runs_view_names_the_best_chain(tecator_run):
    (row,) = tecator_run.sql(f"SELECT * FROM v_runs WHERE run_id = '{tecator_run.run_id}'").to_pylist()
    assert row["best_chain_id"] == tecator_run.best["chain_id"] and row["n_chains"] == 60
    assert row["status"] == "completed" and row["seconds"] > 0


def test_views_are_listed_with_their_columns(tecator_run):
    listed = nirdag.Workspace(tecator_run.workspace).views().to_pylist()
    names = [v["view"] for v in listed]
    assert names == ["v_ranked_chains", "v_chain_scores", "v_fold_scores", "v_runs"]
    assert "cv_rmse" in listed[1]["columns"]
