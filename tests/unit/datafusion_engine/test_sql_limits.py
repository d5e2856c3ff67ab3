"""The cheap scan of SQL text refuses statements beyond the size limits before DataFusion sees them, and lets
ordinary analytical queries through."""

from __future__ import annotations

import pytest

from datafusion_engine.errors import QueryError, QueryTooComplex
from datafusion_engine.sql_limits import DEFAULT_LIMITS, QueryLimits, check_text, query_limits

ANALYTICAL = """
WITH p AS (
  SELECT chain_id, fold_id, partition, sqrt(avg((y_pred - y_true) * (y_pred - y_true))) AS rmse
  FROM predictions WHERE partition = 'val' AND fold_id <> 'fold_final' GROUP BY chain_id, fold_id, partition
  UNION ALL
  SELECT chain_id, 'cv' AS fold_id, partition, sqrt(avg((y_pred - y_true) * (y_pred - y_true)))
  FROM predictions WHERE partition = 'val' GROUP BY chain_id, partition
)
SELECT p.rmse, s.value FROM p JOIN scores s ON s.chain_id = p.chain_id AND s.fold_id = p.fold_id
WHERE s.metric = 'rmse' ORDER BY p.rmse / 2 + 1 LIMIT 10 -- a comment with + - * /
"""


def test_an_analytical_query_passes():
    check_text(ANALYTICAL)


@pytest.mark.parametrize(("text", "limit"), [
    ("SELECT " + " + ".join(["1"] * 1_002), "binary operators"),
    ("SELECT 1 WHERE " + " AND ".join(["true"] * 1_002), "binary operators"),
    (" UNION ALL ".join(["SELECT 1"] * 300), "UNION/INTERSECT/EXCEPT branches"),
    ("SELECT " + "(" * 41 + "1" + ")" * 41, "levels of parentheses"),
    ("SELECT '" + "x" * 100_001 + "'", "characters"),
])
def test_text_beyond_a_limit_is_refused_naming_it(text, limit):
    with pytest.raises(QueryTooComplex, match=limit) as caught:
        check_text(text)
    assert "\n" not in str(caught.value)


def test_operators_inside_strings_identifiers_and_comments_are_not_counted():
    plus = " + ".join(["1"] * 2_000)
    check_text(f"SELECT '{plus}' AS \"{plus}\" /* {plus} */ -- {plus}")
    check_text("SELECT 'it''s' || 'fine'")


def test_limits_are_overridable_and_validated():
    assert query_limits(timeout=None, max_rows=5).max_rows == 5
    assert query_limits(timeout=None).timeout is None
    assert query_limits() == DEFAULT_LIMITS
    with pytest.raises(QueryError, match="max_rows"):
        query_limits(max_rows=0)
    with pytest.raises(QueryError, match="timeout"):
        query_limits(timeout=-1.0)
    with pytest.raises(QueryTooComplex):
        check_text("SELECT 1 + 1 + 1", QueryLimits(max_operators=1))


def test_text_that_is_not_a_string_is_refused():
    with pytest.raises(QueryTooComplex, match="not bytes"):
        check_text(b"SELECT 1")  # type: ignore[arg-type]
