"""What a query says about a workspace that cannot answer it (issue 20 item 8), and that raw result tables show
completed runs only unless asked (item 9): real runs, real Delta tables, real DataFusion."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest
from deltalake import DeltaTable

import nirdag
from datafusion_engine.errors import NoResultsYet, NotAWorkspace, QueryError, StoreError

RESULT_TABLES = ("chains", "predictions", "scores", "events", "artifacts")


@pytest.fixture()
def killed(tecator_run, tmp_path):
    """A copy of the Tecator workspace whose one run is left `running`, as a process killed after writing its
    results (before marking the run completed) leaves it."""
    ws = tmp_path / "ws"
    shutil.copytree(tecator_run.workspace, ws)
    DeltaTable(ws / "tables" / "runs").update(updates={"status": "'running'", "finished_at": "NULL"})
    return ws


def _first_commit(ws, table: str) -> dt.datetime:
    history = DeltaTable(ws / "tables" / table).history()
    first = min(history, key=lambda commit: commit["version"])
    return dt.datetime.fromtimestamp(first["timestamp"] / 1000, tz=dt.UTC)


def test_as_of_before_the_workspace_existed_is_an_error(tecator_run):
    with pytest.raises(StoreError, match="had no tables as of 2001"):
        nirdag.query("SELECT * FROM runs", tecator_run.workspace, as_of=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))


def test_as_of_before_a_table_existed_does_not_read_its_first_version(tecator_run):
    ws = tecator_run.workspace
    moment = _first_commit(ws, "runs")
    assert _first_commit(ws, "predictions") > moment
    (run,) = nirdag.query("SELECT status FROM runs", ws, as_of=moment).to_pylist()
    assert run["status"] == "running"
    with pytest.raises(NoResultsYet, match=r"'predictions' has not been written .* yet: no run has finished yet"):
        nirdag.query("SELECT * FROM predictions", ws, as_of=moment)


def test_a_folder_that_is_not_a_workspace_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("not a workspace")
    with pytest.raises(NotAWorkspace, match="is not a nirdag workspace"):
        nirdag.query("SELECT * FROM runs", tmp_path)
    done = subprocess.run([sys.executable, "-m", "nirdag", "query", "SELECT * FROM runs", "-w", "/etc"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "/etc is not a nirdag workspace" in done.stderr
    assert "datafusion.public" not in done.stderr


def test_predictions_before_any_run_finished_say_so(killed):
    for table in RESULT_TABLES:
        shutil.rmtree(killed / "tables" / table)
    with pytest.raises(NoResultsYet, match=r"no run has finished yet; tables: .*runs") as caught:
        nirdag.query("SELECT * FROM predictions", killed)
    assert "\n" not in str(caught.value)
    with pytest.raises(QueryError, match=r"nonesuch.*not found; tables: "):
        nirdag.query("SELECT * FROM nonesuch", killed)


@pytest.mark.parametrize("table", RESULT_TABLES)
def test_raw_tables_show_completed_runs_only(killed, table):
    assert nirdag.query(f"SELECT count(*) AS n FROM {table}", killed)["n"][0].as_py() == 0
    everything = nirdag.query(f"SELECT count(*) AS n FROM {table}", killed, all_runs=True)["n"][0].as_py()
    assert everything > 0
    assert nirdag.query("SELECT count(*) AS n FROM runs", killed)["n"][0].as_py() == 1  # runs itself is whole


def test_views_and_raw_tables_agree_on_a_completed_run(tecator_run):
    raw = tecator_run.sql("SELECT count(*) AS n FROM chains")["n"][0].as_py()
    assert raw == tecator_run.sql("SELECT count(*) AS n FROM v_ranked_chains")["n"][0].as_py() > 0
    joined = tecator_run.sql("SELECT count(*) AS n FROM predictions p JOIN runs r ON p.run_id = r.run_id")
    assert joined["n"][0].as_py() == tecator_run.sql("SELECT count(*) AS n FROM predictions")["n"][0].as_py()


def test_cli_all_runs_shows_a_killed_runs_rows(killed):
    cli = [sys.executable, "-m", "nirdag", "query", "SELECT count(*) AS n FROM predictions", "-w", str(killed),
           "-f", "csv"]
    hidden = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=True)
    shown = subprocess.run([*cli, "--all-runs"], capture_output=True, text=True, timeout=60, check=True)
    assert hidden.stdout.split() == ['"n"', "0"] and int(shown.stdout.split()[1]) > 0
