"""Hostile SQL of issue 20 ends in well under 10 s with a one-line typed error and never kills the process: a long
flat statement (refused before DataFusion parses it; today it segfaults), a cross join past the row limit, a sort
past the memory pool, a slow plan past the time limit."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import nirdag
from datafusion_engine.errors import QueryOutOfMemory, QueryTimeout, QueryTooComplex, ResultTooLarge

_SCRIPT = """
import sys, nirdag
from nirs_core.errors import NirdagError
try:
    nirdag.query(sys.stdin.read(), sys.argv[1])
except NirdagError as exc:
    print(type(exc).__name__, exc)
"""

CROSS_3 = "SELECT * FROM predictions a, predictions b, predictions c"
SORT_CROSS = "SELECT a.y_pred, b.y_pred FROM predictions a, predictions b ORDER BY a.y_pred + b.y_pred"
SLOW = ("SELECT count(*) FROM predictions a, predictions b, (SELECT * FROM predictions LIMIT 3) c "
        "WHERE a.y_pred + b.y_pred + c.y_pred > 1e9")


@pytest.mark.parametrize("text", [
    "SELECT " + " + ".join(["1"] * 20_000),
    " UNION ALL ".join(["SELECT 1"] * 10_000),
], ids=["20000-terms", "10000-unions"])
def test_a_statement_that_crashed_the_process_is_a_typed_error(tecator_run, text):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tecator_run.workspace)], input=text, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("QueryTooComplex query ") and done.stdout.count("\n") == 1
    assert time.perf_counter() - start < 10


def test_five_thousand_terms_are_refused_at_once(tecator_run):
    start = time.perf_counter()
    with pytest.raises(QueryTooComplex, match="4,999 binary operators, over the limit of 1,000"):
        tecator_run.sql("SELECT " + " + ".join(["1"] * 5_000))
    assert time.perf_counter() - start < 1


def _timed(error: type[Exception], text: str, **limits) -> str:
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        nirdag.query(text, **limits)
    assert time.perf_counter() - start < 10
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_three_way_cross_join_stops_at_the_row_limit(tecator_run):
    message = _timed(ResultTooLarge, CROSS_3, workspace=tecator_run.workspace)
    assert "1,000,000 rows" in message and "--max-rows" in message


def test_the_byte_limit_stops_a_wide_result(tecator_run):
    message = _timed(ResultTooLarge, "SELECT * FROM predictions", workspace=tecator_run.workspace,
                     max_bytes=10_000)
    assert "10,000 bytes" in message and "--max-bytes" in message


def test_a_sort_over_a_cross_join_stops_at_the_memory_pool(tecator_run):
    message = _timed(QueryOutOfMemory, SORT_CROSS, workspace=tecator_run.workspace, max_rows=None, max_bytes=None)
    assert "MiB memory pool" in message


def test_a_slow_plan_stops_at_the_time_limit(tecator_run):
    start = time.perf_counter()
    message = _timed(QueryTimeout, SLOW, workspace=tecator_run.workspace, timeout=1.0)
    assert time.perf_counter() - start < 3
    assert "time limit of 1 s" in message and "--timeout" in message


def test_lifted_limits_let_a_large_result_through(tecator_run):
    rows = nirdag.Workspace(tecator_run.workspace).sql(
        "SELECT a.y_pred FROM predictions a, (SELECT * FROM predictions LIMIT 50) b", max_rows=None)
    assert rows.num_rows == 50 * tecator_run.sql("SELECT count(*) AS n FROM predictions")["n"][0].as_py()


def test_cli_limits_are_options_and_errors_are_one_line(tecator_run):
    cli = [sys.executable, "-m", "nirdag", "query", "-w", str(tecator_run.workspace)]
    capped = subprocess.run([*cli, "SELECT * FROM predictions", "--max-rows", "10"], capture_output=True, text=True,
                            timeout=60)
    assert capped.returncode == 1 and "more than 10 rows" in capped.stderr
    assert capped.stderr.strip().count("\n") == 0, capped.stderr
    lifted = subprocess.run([*cli, "SELECT * FROM predictions LIMIT 20", "--max-rows", "0", "-f", "csv"],
                            capture_output=True, text=True, timeout=60)
    assert lifted.returncode == 0 and lifted.stdout.count("\n") == 21
    late = subprocess.run([*cli, SLOW, "--timeout", "0.5"], capture_output=True, text=True, timeout=60)
    assert late.returncode == 1 and "time limit of 0.5 s" in late.stderr
