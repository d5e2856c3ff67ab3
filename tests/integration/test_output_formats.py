"""Every workspace table writes in every output format (table, csv, json, parquet): lists, structs and maps as JSON
text in CSV, timestamps as ISO 8601 (issue 20 item 11; `SELECT * FROM chains` as CSV failed on a list column)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

import nirdag
from datafusion_engine.schemas import TABLE_SCHEMAS
from nirdag.output import csv_ready, render, write


def _tables(run) -> list[str]:
    written = nirdag.Workspace(run.workspace).handle.layout.existing_tables()
    return [name for name in TABLE_SCHEMAS if name in written]


@pytest.fixture(scope="module")
def every_table(tecator_run) -> dict[str, pa.Table]:
    names = _tables(tecator_run)
    assert {"chains", "predictions", "runs", "spectra"} <= set(names)
    return {name: tecator_run.sql(f"SELECT * FROM {name} LIMIT 50") for name in names}


def test_every_table_in_every_format(every_table, tmp_path):
    for name, table in every_table.items():
        for fmt in ("table", "csv", "json"):
            buf = io.StringIO()
            render(table, fmt, Console(file=buf, width=200))
            text = buf.getvalue()
            if fmt == "csv":
                reader = csv.DictReader(io.StringIO(text))
                rows = list(reader)
                assert len(rows) == table.num_rows and reader.fieldnames == table.column_names, name
            if fmt == "json":
                assert len(json.loads(text)) == table.num_rows, name
        out = tmp_path / f"{name}.parquet"
        write(table, "parquet", Console(file=io.StringIO()), out)
        assert pq.read_table(out).num_rows == table.num_rows, name


def test_lists_are_json_text_and_timestamps_iso_8601_in_csv(every_table):
    chains = every_table["chains"]
    list_columns = [f.name for f in chains.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)]
    assert list_columns, "chains holds a list column (branch_path)"
    (first,) = csv_ready(chains.slice(0, 1)).to_pylist()
    for name in list_columns:
        assert json.loads(first[name]) == chains.column(name)[0].as_py()
    (run,) = csv_ready(every_table["runs"]).to_pylist()
    started = dt.datetime.fromisoformat(run["started_at"])
    assert started == every_table["runs"].column("started_at")[0].as_py()
    buf = io.StringIO()
    render(every_table["runs"], "csv", Console(file=buf))
    assert f'"{run["started_at"]}"' in buf.getvalue()  # quoted like every other string


def test_json_holds_iso_times_and_no_nan(tecator_run):
    table = tecator_run.sql("SELECT started_at, CAST('NaN' AS DOUBLE) AS x, [1, 2] AS l, "
                            "named_struct('a', 1) AS s FROM runs")
    buf = io.StringIO()
    render(table, "json", Console(file=buf))
    (row,) = json.loads(buf.getvalue())
    assert "T" in row["started_at"] and row["x"] is None and row["l"] == [1, 2] and row["s"] == {"a": 1}


def test_cli_csv_of_chains(tecator_run):
    done = subprocess.run([sys.executable, "-m", "nirdag", "query", "SELECT * FROM chains", "-w",
                           str(tecator_run.workspace), "-f", "csv"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == nirdag.query("SELECT count(*) AS n FROM chains", tecator_run.workspace)["n"][0].as_py()
