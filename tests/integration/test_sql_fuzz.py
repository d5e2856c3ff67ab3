"""Fuzz guard over SQL text: whatever a user types, only nirdag's typed errors (NirdagError subclasses) escape,
and the workspace is unchanged (no DDL, DML or COPY gets through, no file is written).

A small example count by default; a long run: ``NIRDAG_FUZZ_EXAMPLES=5000 .venv/bin/pytest
tests/integration/test_sql_fuzz.py -q -p no:cacheprovider``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nirdag
from datafusion_engine import Workspace
from nirs_core.errors import NirdagError

EXAMPLES = int(os.environ.get("NIRDAG_FUZZ_EXAMPLES", "40"))
TABLES = ["runs", "chains", "predictions", "scores", "spectra", "datasets", "v_ranked_chains", "nonesuch"]
STATEMENTS = ["DROP TABLE", "CREATE TABLE", "CREATE VIEW", "CREATE EXTERNAL TABLE", "INSERT INTO", "VALUES",
              "DELETE FROM", "UPDATE", "SET", "TRUNCATE", "ALTER TABLE", "COPY", "TO", "EXPLAIN ANALYZE", "SHOW",
              "DESCRIBE", "PREPARE", "EXECUTE", "DEALLOCATE", "BEGIN", "COMMIT"]
KEYWORDS = ["SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "UNION ALL", "JOIN", "ON", "AS", "WITH",
            "CASE", "WHEN", "THEN", "END", "NOT", "NULL", "IN", "EXISTS", "DISTINCT", "OVER", "PARTITION BY",
            *STATEMENTS]
SYMBOLS = ["(", ")", ",", ";", "*", "+", "-", "/", "%", "=", "<", ">", "<>", "||", ".", "'", '"', "--", "/*", "*/",
           "$1", "?", "::", "[", "]"]
ATOMS = ["1", "0", "-1", "1e308", "'x'", "'/etc/passwd'", "NULL", "y_pred", "run_id", "rmse(y_true, y_pred)",
         "count(*)", "sqrt(-1)", "1/0", "'\u00e9\u4e2d\U0001f600'", "\x00"]

tokens = st.lists(st.sampled_from(KEYWORDS + SYMBOLS + ATOMS + TABLES), max_size=40).map(" ".join)
nested = st.integers(1, 80).map(lambda n: "SELECT " + "(" * n + "1" + ")" * n)
long_expr = st.tuples(st.integers(1, 25_000), st.sampled_from([" + ", " AND ", " || ", " UNION ALL SELECT "])).map(
    lambda t: "SELECT " + t[1].join(["1"] * t[0]))
statements = st.tuples(st.sampled_from(STATEMENTS), st.sampled_from(TABLES), tokens).map(" ".join)
queries = st.one_of(tokens, nested, long_expr, statements, st.text(max_size=200),
                    st.builds("SELECT * FROM {} {}".format, st.sampled_from(TABLES), tokens))


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def fuzzed(tecator_run, tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(tecator_run.workspace, root)
    return Workspace(root)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
@given(text=queries)
def test_only_typed_errors_escape_and_nothing_changes(fuzzed, text, tmp_path_factory):
    before = _snapshot(fuzzed.root)
    try:
        result = nirdag.query(text, fuzzed, timeout=5.0, max_rows=10_000)
    except NirdagError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, pa.Table)
    assert _snapshot(fuzzed.root) == before
