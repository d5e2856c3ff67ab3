"""The views' DataFusion session settings (target partitions, batch size) change how a view is computed, not its
rows: every catalog view compared under three settings against the one-partition session."""

from __future__ import annotations

import math

import msgspec
import pytest
from datafusion import col, functions, lit

import nirdag
from datafusion_engine import Workspace
from relspec.policy import ExecutionPolicy, SessionSettings
from semantics import open_session

SPEC = {"name": "settings", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
    {"model": {"op": "pls", "n_components": [1, 2, 3]}}]}
# a mean over folds sums in the order the partitions deliver: these may differ in their last bits
AGGREGATING = {"v_chain_scores", "v_aggregated_predictions", "v_aggregated_scores"}


def _rows(workspace: Workspace, settings: SessionSettings) -> dict[str, list[tuple]]:
    session = open_session(workspace, policy=ExecutionPolicy(session=settings))
    out = {}
    for name, view in session.views.items():
        rows = [tuple(sorted(r.items())) for r in view.dataframe.to_arrow_table().to_pylist()]
        out[name] = sorted(rows, key=lambda r: repr([v for _k, v in r if not isinstance(v, float)]))
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tecator):
    ws = tmp_path_factory.mktemp("settings")
    nirdag.run(SPEC, tecator, workspace=ws, seed=0, calibration="off")
    return Workspace.of(ws)


def test_views_return_the_same_rows_under_any_session_settings(workspace):
    reference = _rows(workspace, SessionSettings(target_partitions=1))
    assert sum(len(rows) for rows in reference.values()) > 100
    for settings in (SessionSettings(target_partitions=4), SessionSettings(target_partitions=3, batch_size=64),
                     SessionSettings(target_partitions=1, batch_size=100)):
        other = _rows(workspace, settings)
        assert other.keys() == reference.keys()
        for name, rows in reference.items():
            assert len(other[name]) == len(rows), name
            if name not in AGGREGATING:
                assert other[name] == rows, (name, settings)  # bit for bit
            for mine, theirs in zip(rows, other[name], strict=True):
                assert [k for k, _ in mine] == [k for k, _ in theirs]
                assert all(_same(a, b) for (_, a), (_, b) in zip(mine, theirs, strict=True)), (name, settings)


def test_the_session_takes_its_settings_from_the_policy(workspace):
    settings = SessionSettings(target_partitions=3, batch_size=64)
    session = open_session(workspace, policy=msgspec.structs.replace(ExecutionPolicy(), session=settings)).session
    grouped = session.ctx.table("scores").aggregate([col("chain_id")], [functions.count(lit(1))])
    assert grouped.execution_plan().partition_count == 3
    batches = session.ctx.table("predictions").collect()
    assert len(batches) > 1 and max(b.num_rows for b in batches) == 64
