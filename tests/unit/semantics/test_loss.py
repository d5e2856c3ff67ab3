"""The views' loss and higher-is-better SQL are generated from the metrics' one Python definition."""

from __future__ import annotations

import re

import datafusion
import numpy as np
import pyarrow as pa
import pytest

from nirs_core import metrics
from semantics.catalog import V_PREPROCESSING_EFFECT, V_TOP_CHAINS
from semantics.kinds import Node, Project, ViewSpec
from semantics.loss import higher_is_better_sql, loss_sql, sql_list

ALL_METRICS = sorted({*metrics.REGRESSION_METRICS, *metrics.CLASSIFICATION_METRICS, "mean_nrmse"})


def _listed(predicate: str) -> set[str]:
    (inside,) = re.fullmatch(r"rank_metric IN \((.*)\)", predicate).groups()
    return {name.strip().strip("'") for name in inside.split(",")}


def test_the_higher_is_better_list_is_the_python_set():
    assert _listed(higher_is_better_sql("rank_metric")) == metrics.HIGHER_IS_BETTER


def test_adding_a_metric_to_the_python_set_changes_the_sql(monkeypatch):
    before = loss_sql("metric", "value"), higher_is_better_sql("rank_metric")
    monkeypatch.setattr(metrics, "HIGHER_IS_BETTER", metrics.HIGHER_IS_BETTER | {"auc"})
    after = loss_sql("metric", "value"), higher_is_better_sql("rank_metric")
    assert after != before and all("'auc'" in text for text in after)
    assert _listed(after[1]) == metrics.HIGHER_IS_BETTER | {"auc"}


def test_sql_list_sorts_and_quotes():
    assert sql_list({"rpd", "o'k", "r2"}) == "('o''k', 'r2', 'rpd')"


def _columns(node: Node) -> dict[str, str | None]:
    """Every projected column expression under ``node`` (name -> expr)."""
    found: dict[str, str | None] = {}
    if isinstance(node, Project):
        found.update({c.name: c.expr for c in node.columns})
    for child in ("input", "left", "right"):
        if hasattr(node, child):
            found.update(_columns(getattr(node, child)))
    return found


@pytest.mark.parametrize("view", [V_TOP_CHAINS, V_PREPROCESSING_EFFECT], ids=lambda v: v.name)
def test_views_ranking_by_a_metric_use_the_generated_loss(view: ViewSpec):
    columns = _columns(view.root)
    assert columns["loss"] == loss_sql("metric", "value")


def test_the_sql_loss_equals_the_python_loss_for_every_metric():
    values = np.array([-2.5, -0.25, 0.0, 0.75, 3.0])
    rows = pa.table({"metric": [m for m in ALL_METRICS for _ in values], "value": np.tile(values, len(ALL_METRICS))})
    ctx = datafusion.SessionContext()
    ctx.register_record_batches("scores", [rows.to_batches()])
    got = ctx.sql(f"SELECT metric, value, {loss_sql('metric', 'value')} AS loss FROM scores").to_arrow_table()
    for metric, value, sql_loss in zip(*(got.column(c).to_pylist() for c in ("metric", "value", "loss")),
                                       strict=True):
        assert sql_loss == metrics.loss(metric, np.float64(value)), metric
    assert metrics.loss("bias", np.float64(-0.25)) == 0.25 and metrics.loss("r2", np.float64(0.75)) == -0.75
