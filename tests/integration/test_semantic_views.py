"""Every catalog view's numbers equal a numpy computation on the same prediction rows (a real Tecator run)."""

from __future__ import annotations

import numpy as np
import pytest

import nirdag
from relspec.policy import ALL_VIEWS


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Reference metrics written out in numpy (e = p - y)."""
    e = p - y
    sep = np.std(e, ddof=1)
    q1, q3 = np.percentile(y, [25, 75])
    rmse = float(np.sqrt(np.mean(e**2)))
    return {"rmse": rmse, "r2": float(1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2)), "bias": float(e.mean()),
            "sep": float(sep), "mae": float(np.abs(e).mean()), "rpd": float(np.std(y, ddof=1) / sep),
            "rpiq": float((q3 - q1) / rmse)}


class Rows:
    """A run's prediction rows as numpy arrays, with a selector by column values."""

    def __init__(self, run, where: str):
        t = run.sql(f"SELECT chain_id, fold_id, sample_id, y_true, y_pred FROM predictions "
                    f"WHERE run_id = '{run.run_id}' AND {where}")
        self.chain, self.fold = (np.asarray(t[c].to_pylist()) for c in ("chain_id", "fold_id"))
        self.sample = np.asarray(t["sample_id"].to_pylist())
        self.y, self.p = t["y_true"].to_numpy(), t["y_pred"].to_numpy()

    def scores(self, mask: np.ndarray) -> dict[str, float]:
        return _scores(self.y[mask], self.p[mask])


@pytest.fixture(scope="module")
def val(tecator_run) -> Rows:
    return Rows(tecator_run, "partition = 'val'")


@pytest.fixture(scope="module")
def pooled_rmse(val) -> dict[str, float]:
    return {c: val.scores(val.chain == c)["rmse"] for c in np.unique(val.chain)}


def _view(run, name: str, where: str = "true") -> list[dict]:
    return run.sql(f"SELECT * FROM {name} WHERE run_id = '{run.run_id}' AND {where}").to_pylist()


def test_chain_scores_pooled_mean_of_folds_and_test(tecator_run, val):
    rows = _view(tecator_run, "v_chain_scores")
    assert len(rows) == 60
    final = Rows(tecator_run, "fold_id = 'fold_final' AND partition = 'test'")
    for row in rows:
        mine = val.chain == row["chain_id"]
        pooled = val.scores(mine)
        folds = [val.scores(mine & (val.fold == f)) for f in np.unique(val.fold[mine])]
        for metric, value in pooled.items():
            assert row[f"cv_{metric}"] == pytest.approx(value, rel=1e-9)
            assert row[f"mean_fold_{metric}"] == pytest.approx(np.mean([f[metric] for f in folds]), rel=1e-9)
        assert row["sd_fold_rmse"] == pytest.approx(np.std([f["rmse"] for f in folds], ddof=1), rel=1e-9)
        if row["refit"]:
            test = final.scores(final.chain == row["chain_id"])
            assert row["rmsep"] == pytest.approx(test["rmse"], rel=1e-9)
            assert row["test_r2"] == pytest.approx(test["r2"], rel=1e-9)
        else:
            assert row["rmsep"] is None


def test_ranked_chains_follow_numpy_rmsecv(tecator_run, pooled_rmse):
    rows = sorted(_view(tecator_run, "v_ranked_chains"), key=lambda r: r["rank"])
    assert [r["rank"] for r in rows] == list(range(1, 61))
    for row in rows:
        assert row["rmsecv"] == pytest.approx(pooled_rmse[row["chain_id"]], rel=1e-9)
    assert rows[0]["chain_id"] == min(pooled_rmse, key=pooled_rmse.get)


def test_top_chains_rank_each_metric_in_its_direction(tecator_run, val):
    per_chain = {c: val.scores(val.chain == c) for c in np.unique(val.chain)}
    best = {"rmse": min(per_chain, key=lambda c: per_chain[c]["rmse"]),
            "r2": max(per_chain, key=lambda c: per_chain[c]["r2"]),
            "rpd": max(per_chain, key=lambda c: per_chain[c]["rpd"]),
            "bias": min(per_chain, key=lambda c: abs(per_chain[c]["bias"]))}
    for metric, chain in best.items():
        (top,) = _view(tecator_run, "v_top_chains", f"metric = '{metric}' AND rank = 1")
        assert top["chain_id"] == chain
        assert top["value"] == pytest.approx(per_chain[chain][metric], rel=1e-9)
        assert top["dataset_hash"] == tecator_run.dataset_hash and top["target"] == "fat"


def test_fold_scores_one_row_per_chain_fold_partition(tecator_run, val):
    rows = _view(tecator_run, "v_fold_scores", "partition = 'val'")
    assert len(rows) == 60 * 5
    for row in rows[:40]:
        mine = (val.chain == row["chain_id"]) & (val.fold == row["fold_id"])
        assert row["n"] == mine.sum()
        for metric, value in val.scores(mine).items():
            assert row[metric] == pytest.approx(value, rel=1e-9)


def test_refit_scores_on_test_and_train(tecator_run):
    (row,) = _view(tecator_run, "v_refit")
    assert row["chain_id"] == tecator_run.best["chain_id"]
    test = Rows(tecator_run, "fold_id = 'fold_final' AND partition = 'test'")
    train = Rows(tecator_run, "fold_id = 'fold_final' AND partition = 'train'")
    assert row["rmsep"] == pytest.approx(test.scores(test.chain == row["chain_id"])["rmse"], rel=1e-9)
    assert row["test_bias"] == pytest.approx(test.scores(test.chain == row["chain_id"])["bias"], rel=1e-9)
    assert row["rmsec"] == pytest.approx(train.scores(train.chain == row["chain_id"])["rmse"], rel=1e-9)
    assert row["n_test"] == 43


def test_preprocessing_effect_summarises_chains_per_step(tecator_run, pooled_rmse):
    """Each step (snv, savgol(...), raw) over every chain that uses it, whatever else the chain does."""
    chains = tecator_run.sql(f"SELECT chain_id, preprocessing FROM chains WHERE run_id = '{tecator_run.run_id}'")
    by_step: dict[str, list[float]] = {}
    for chain, pre in zip(chains["chain_id"].to_pylist(), chains["preprocessing"].to_pylist(), strict=True):
        for step in pre.split(" > "):
            by_step.setdefault(step, []).append(pooled_rmse[chain])
    rows = sorted(_view(tecator_run, "v_preprocessing_effect"), key=lambda r: r["rank"])
    assert {r["step"] for r in rows} == set(by_step) == {
        "raw", "snv", "savgol(window_length=15, polyorder=2, deriv=1)"}
    for row in rows:
        values = by_step[row["step"]]
        assert row["n_chains"] == len(values)
        assert row["best_rmsecv"] == pytest.approx(min(values), rel=1e-9)
        assert row["mean_rmsecv"] == pytest.approx(np.mean(values), rel=1e-9)
        assert row["worst_rmsecv"] == pytest.approx(max(values), rel=1e-9)
    assert {r["step"]: r["n_chains"] for r in rows}["snv"] == 30  # the snv and snv_sg1 branches
    assert [r["best_rmsecv"] for r in rows] == sorted(r["best_rmsecv"] for r in rows)


def test_runs_view_names_the_best_chain_and_dataset(tecator_run, pooled_rmse):
    (row,) = _view(tecator_run, "v_runs")
    assert row["best_chain_id"] == min(pooled_rmse, key=pooled_rmse.get) == tecator_run.best["chain_id"]
    assert row["best_rmsecv"] == pytest.approx(min(pooled_rmse.values()), rel=1e-9)
    assert row["rank_metric"] == "rmse" and row["best_cv_value"] == row["best_rmsecv"]
    assert row["n_chains"] == 60 and row["dataset"] == "tecator"
    assert row["status"] == "completed" and row["seconds"] > 0


def test_aggregated_predictions_average_over_the_subset_metadata(tecator_run, tecator, val):
    subset = dict(zip(tecator.sample_ids.tolist(), tecator.metadata["subset"].to_pylist(), strict=True))
    chain = tecator_run.best["chain_id"]
    rows = _view(tecator_run, "v_aggregated_predictions",
                 f"chain_id = '{chain}' AND partition = 'val' AND group_column = 'subset'")
    groups = np.asarray([subset[s] for s in val.sample])
    assert rows
    for row in rows:
        mine = (val.chain == chain) & (val.fold == row["fold_id"]) & (groups == row["group_value"])
        assert row["n_samples"] == mine.sum()
        assert row["y_pred"] == pytest.approx(val.p[mine].mean(), rel=1e-12)
        assert row["y_true"] == pytest.approx(val.y[mine].mean(), rel=1e-12)


def test_views_are_listed_with_their_columns(tecator_run):
    listed = nirdag.Workspace(tecator_run.workspace).views().to_pylist()
    assert [v["view"] for v in listed] == list(ALL_VIEWS)
    columns = {v["view"]: v["columns"].split(", ") for v in listed}
    assert {"cv_rmse", "mean_fold_rmse", "rmsep"} <= set(columns["v_chain_scores"])
    assert {"group_column", "group_value", "y_pred"} <= set(columns["v_aggregated_predictions"])
    assert columns["v_ranked_chains"][-1] == "rank"
