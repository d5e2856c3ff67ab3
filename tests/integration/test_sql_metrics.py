"""Chemometric metric functions in SQL agree with numpy (and with the stored scores) to 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

from nirs_core.metrics import regression_scores

METRICS = ("rmse", "mae", "bias", "sep", "r2", "rpd", "rpiq")


def test_sql_metrics_equal_numpy_per_chain_and_fold(tecator_run):
    cols = ", ".join(f"{m}(y_true, y_pred) AS {m}" for m in METRICS)
    grouped = tecator_run.sql(
        f"SELECT chain_id, fold_id, {cols} FROM predictions WHERE partition = 'val' GROUP BY chain_id, fold_id"
    ).to_pylist()
    raw = tecator_run.sql("SELECT chain_id, fold_id, y_true, y_pred FROM predictions WHERE partition = 'val'")
    chain, fold = np.asarray(raw["chain_id"].to_pylist()), np.asarray(raw["fold_id"].to_pylist())
    y, p = raw["y_true"].to_numpy(), raw["y_pred"].to_numpy()
    assert len(grouped) == 60 * 5
    for row in grouped[:40]:
        mask = (chain == row["chain_id"]) & (fold == row["fold_id"])
        expected = regression_scores(y[mask], p[mask][None, :])
        for m in METRICS:
            assert row[m] == pytest.approx(float(expected[m][0]), rel=1e-12, abs=1e-12), m


def test_sql_metrics_equal_the_stored_pooled_scores(tecator_run):
    best = tecator_run.best["chain_id"]
    sql = tecator_run.sql(
        "SELECT " + ", ".join(f"{m}(y_true, y_pred) AS {m}" for m in METRICS)
        + f" FROM predictions WHERE partition = 'val' AND chain_id = '{best}'"
    ).to_pylist()[0]
    stored = {r["metric"]: r["value"] for r in tecator_run.sql(
        f"SELECT metric, value FROM scores WHERE chain_id = '{best}' AND fold_id = 'cv'").to_pylist()}
    for m in METRICS:
        assert sql[m] == pytest.approx(stored[m], rel=1e-12), m


def test_metric_of_an_empty_group_is_null(tecator_run):
    row = tecator_run.sql("SELECT rmse(y_true, y_pred) AS r FROM predictions WHERE 1 = 0").to_pylist()
    assert row == [{"r": None}]
