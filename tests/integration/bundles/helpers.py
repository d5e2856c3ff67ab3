"""Helpers of the bundle tests: stored predictions of a run, table columns as arrays."""

from __future__ import annotations

import numpy as np

from nirdag.api import RunResult


def stored(run: RunResult, chain_id: str, fold_id: str, partition: str = "test") -> dict[str, float]:
    rows = run.sql(f"SELECT sample_id, y_pred FROM predictions WHERE run_id = '{run.run_id}' AND chain_id = "
                   f"'{chain_id}' AND fold_id = '{fold_id}' AND partition = '{partition}'").to_pylist()
    return {r["sample_id"]: r["y_pred"] for r in rows}


def column(table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=np.float64)
