"""Execution metrics of every run (node_metrics, run_metrics) and the policy calibration built on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nirdag
from relspec.calibration import decode_calibration
from relspec.provenance import why

SPEC = {"name": "calib", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2,
                                                  "deriv": 1}]}},
    {"model": {"op": "pls", "n_components": [1, 2, 3, 4]}}]}


def _predictions(result):
    return result.sql(f"SELECT chain_id, fold_id, partition, sample_id, y_pred FROM predictions WHERE run_id = "
                      f"'{result.run_id}' ORDER BY chain_id, fold_id, partition, sample_id")


def test_every_node_and_the_run_are_measured(tmp_path, tecator):
    r = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, cache_admission="all")
    nodes = r.sql(f"SELECT * FROM node_metrics WHERE run_id = '{r.run_id}'").to_pylist()
    events = r.sql(f"SELECT node FROM events WHERE run_id = '{r.run_id}'").column("node").to_pylist()
    assert sorted(n["node"] for n in nodes) == sorted(events)  # one row per executed node, like events
    kinds = {n["kind"] for n in nodes}
    assert {"data", "hoisted", "fold_fit", "cv", "result"} <= kinds
    fits = [n for n in nodes if n["kind"] == "fold_fit"]
    assert all(len(n["step"]) == 64 and n["output_bytes"] > 0 for n in fits)  # full sha256 group ids
    assert all(n["cache"] == "miss" and n["cache_write_seconds"] > 0 and n["cache_read_seconds"] >= 0
               for n in fits)  # admission "all": every fit is stored, its write timed
    hoisted = [n for n in nodes if n["kind"] == "hoisted"]
    assert all(n["output_bytes"] == tecator.spectra.nbytes for n in hoisted)
    (run,) = r.sql(f"SELECT * FROM run_metrics WHERE run_id = '{r.run_id}'").to_pylist()
    assert run["workload_class"] == r.validation.workload.key == "r256-w256-c16-f4-pls"
    assert run["executor"] == "sync" and run["workers"] == 1 and run["calibration"] == "observe"
    assert 0 <= run["startup_seconds"] <= run["engine_seconds"] <= run["wall_seconds"]
    assert run["peak_rss_bytes"] > 10 * 2**20 and run["nodes"] == len(nodes)
    assert r.provenance.get("workload").summary == "workload class r256-w256-c16-f4-pls"


def test_a_failed_run_leaves_no_metrics(tmp_path, tecator, monkeypatch):
    from nirdag import run_service

    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(run_service, "run_metrics_table", boom)  # fails after node_metrics is written
    with pytest.raises(RuntimeError, match="boom"):
        nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0)
    ws = nirdag.Workspace(tmp_path)
    assert ws.sql("SELECT count(*) AS n FROM node_metrics", all_runs=True).column("n")[0].as_py() == 0
    assert ws.sql("SELECT status FROM runs", all_runs=True).column("status").to_pylist() == ["failed"]


def test_predictions_are_bit_identical_under_off_observe_and_apply(tmp_path, tecator):
    """Apply switches threads to sync after two measured runs (start-up larger than what 2 workers can save on a
    sub-second DAG) and retunes the cache costs; no result changes."""
    runs = {}
    for mode in ("off", "observe"):
        runs[mode] = nirdag.run(SPEC, tecator, workspace=tmp_path / mode, seed=0, calibration=mode)
    ws = tmp_path / "apply"
    history = [nirdag.run(SPEC, tecator, workspace=ws, seed=0, executor="processes", workers=2, reuse=False,
                          calibration="apply") for _ in range(2)]
    assert all(h.plan.policy.executor == "processes" for h in history)  # nothing measured yet: kept
    runs["apply"] = applied = nirdag.run(SPEC, tecator, workspace=ws, seed=0, executor="processes", workers=2,
                                         reuse=False, calibration="apply")
    artifact = decode_calibration(applied.handle.read_document(applied.run_id, "policy_calibration.json"))
    executor = next(k for k in artifact.knobs if k.knob == "executor")
    assert executor.status == "applied" and executor.proposed == "sync"
    assert executor.evidence["startup_seconds"] > executor.evidence["parallel_can_save_seconds"]
    assert applied.plan.policy.executor == "sync"
    decision = applied.provenance.get("calibration_executor")
    assert decision.kind == "calibration" and "processes -> sync" in decision.summary
    explained = why(applied.provenance, "executor")  # what `nirdag provenance RUN --why executor` prints
    assert "processes -> sync" in explained and "startup_seconds" in explained
    (row,) = applied.sql(f"SELECT applied, target_partitions, view_seconds FROM run_metrics WHERE run_id = "
                         f"'{applied.run_id}'").to_pylist()
    assert "executor" in row["applied"]
    if (os.cpu_count() or 1) > 1:  # the views' small queries: one step towards fewer partitions, applied
        partitions = next(k for k in artifact.knobs if k.knob == "datafusion.target_partitions")
        assert partitions.status == "applied" and partitions.proposed < partitions.current
        assert row["target_partitions"] == partitions.proposed == applied.plan.policy.session.target_partitions
        assert "datafusion.target_partitions" in row["applied"]
    assert artifact.view_scans is not None and artifact.view_scans.seconds == pytest.approx(row["view_seconds"])
    assert artifact.view_scans.rows_read > 0 and artifact.view_scans.files_scanned > 0
    assert not (tmp_path / "off" / "provenance" / runs["off"].run_id / "policy_calibration.json").exists()
    observed = decode_calibration(runs["observe"].handle.read_document(runs["observe"].run_id,
                                                                       "policy_calibration.json"))
    assert observed.mode == "observe" and not observed.applied
    baseline = _predictions(runs["off"])
    for mode in ("observe", "apply"):
        assert _predictions(runs[mode]).equals(baseline), mode
    for h in history:
        assert _predictions(h).equals(baseline)


def test_sync_goes_to_processes_where_the_nodes_pay_and_predictions_stay_bit_identical(tmp_path, tecator,
                                                                                       monkeypatch):
    """The upward step: two measured sync runs, and processes start-ups on this machine measured as free (a stand-in
    for a machine where they are cheap beside the nodes): apply runs processes on 2 workers, same predictions."""
    from nirdag import run_calibration
    from relspec import calibration

    baseline = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, calibration="off")
    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, calibration="off", reuse=False)
    free = [{"run_id": f"p{i}", "executor": "processes", "workers": 2, "startup_seconds": 0.0} for i in range(2)]
    monkeypatch.setattr(run_calibration, "startups_on", lambda _session, _host: free)
    monkeypatch.setattr(calibration, "PAY_FLOOR_SECONDS", 0.0)
    up = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, calibration="apply", reuse=False)
    executor = next(k for k in up.calibration.knobs if k.knob == "executor")
    assert executor.status == "applied" and executor.current == "sync" and executor.proposed == "processes"
    assert executor.evidence["parallel_node_seconds"] > 0 and executor.evidence["workers"] == 2
    assert up.plan.policy.executor == "processes" and up.plan.policy.workers == 2
    assert up.provenance.get("calibration_executor").summary == "calibrated executor: sync -> processes"
    assert _predictions(up).equals(_predictions(baseline))


def test_calibration_cli_shows_history_and_proposals(tmp_path, tecator):
    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, reuse=False, cache_admission="all")  # observe
    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, reuse=False, cache_admission="all", calibration="apply")
    cli = [sys.executable, "-m", "nirdag", "calibration", "-w", str(tmp_path)]
    shown = subprocess.run([*cli, "--format", "json"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert len(data["history"]) == 2 and data["history"][0]["workload_class"] == "r256-w256-c16-f4-pls"
    (proposal,) = data["recommendations"]
    assert {k["knob"] for k in proposal["knobs"]} >= {"executor", "cache.write_bytes_per_s"}
    assert proposal["observations"]["cache_writes"] > 0
    assert {k["knob"] for k in proposal["knobs"]} >= {"datafusion.target_partitions", "datafusion.batch_size"}
    assert data["history"][0]["view_seconds"] is None  # observe measures no views (it could not act on them)
    newest = data["history"][-1]  # the views each run in apply mode measured
    assert newest["view_seconds"] > 0 and newest["view_rows_read"] > 0 and newest["target_partitions"] >= 1
    assert newest["view_files_scanned"] <= newest["view_files_total"]
    table = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert table.returncode == 0 and "proposals for the next run" in table.stdout
    assert "what each calibrated run's views scanned" in table.stdout


def test_an_unknown_calibration_mode_is_refused(tmp_path, tecator):
    from relspec.errors import CalibrationError

    with pytest.raises(CalibrationError, match="expected one of off, observe, apply"):
        nirdag.run(SPEC, tecator, workspace=tmp_path, calibration="always")  # type: ignore[arg-type]
    assert not (tmp_path / "tables").exists()


def test_what_if_estimates_a_recorded_run_and_refuses_unknown_knobs(tmp_path, tecator):
    r = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0)
    cli = [sys.executable, "-m", "nirdag", "calibration", "what-if", r.run_id, "-w", str(tmp_path)]
    shown = subprocess.run([*cli, "--set", "executor=processes,workers=2,cache=off", "--format", "json"],
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    estimate = json.loads(shown.stdout)
    assert estimate["asked"] == {"executor": "processes", "workers": 2, "cache": False}
    assert estimate["estimated_engine_seconds"] > estimate["recorded_engine_seconds"]  # start-up cannot pay here
    bad = subprocess.run([*cli, "--set", "colour=blue"], capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "the knobs are executor=..., workers=..., cache=..." in bad.stderr
    verified = subprocess.run([*cli, "--set", "cache=off", "--verify", "--format", "json"], capture_output=True,
                              text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    check = json.loads(verified.stdout)
    assert check["kind"] == "what_if_verification" and check["measured_engine_seconds"] > 0
    new = check["verified_run_id"]
    assert new != r.run_id and check["estimate"]["asked"]["cache"] is False
    stored = json.loads(r.handle.read_document(new, "what_if_verification.json"))
    assert stored["relative_error"] == check["relative_error"]
    (row,) = nirdag.Workspace(tmp_path).sql(f"SELECT cache_enabled FROM run_metrics WHERE run_id = '{new}'").to_pylist()
    assert row["cache_enabled"] is False


def test_an_unreadable_history_is_a_warning_and_the_run_proceeds_as_observe(tmp_path, tecator, monkeypatch):
    from datafusion_engine.errors import QueryError
    from nirdag import run_calibration

    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0)

    def unreadable(*_a, **_k):
        raise QueryError("run_metrics: the table's files cannot be read")

    monkeypatch.setattr(run_calibration, "class_runs", unreadable)
    r = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, executor="threads", workers=2, calibration="apply",
                   reuse=False)
    artifact = r.calibration
    assert artifact.mode == "apply" and not artifact.applied and r.plan.policy.executor == "threads"
    assert any("could not be read" in w for w in artifact.warnings)
    assert any("ran as observe" in w for w in artifact.warnings)


def test_a_missing_history_is_a_warning_and_the_run_proceeds_as_observe(tmp_path, tecator):
    import shutil

    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, calibration="off")
    for table in ("run_metrics", "node_metrics"):  # the history is gone; the runs stay
        shutil.rmtree(tmp_path / "tables" / table)
    r = nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0, executor="threads", workers=2, calibration="apply",
                   reuse=False)
    assert r.plan.policy.executor == "threads" and not r.calibration.applied
    assert any("is missing" in w for w in r.calibration.warnings)
    assert any("ran as observe" in w for w in r.calibration.warnings)


CONCURRENT_RUN = """
import sys
import nirdag
nirdag.run({spec!r}, workspace=sys.argv[1], seed=0, reuse=False)
"""


def test_two_concurrent_runs_both_keep_their_metrics(tmp_path, tecator):
    nirdag.run(SPEC, tecator, workspace=tmp_path, seed=0)  # the tables exist: both runs append to them
    script = tmp_path / "run.py"
    script.write_text(CONCURRENT_RUN.format(spec=SPEC))
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path)], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    ws = nirdag.Workspace(tmp_path)
    runs = ws.sql("SELECT run_id FROM runs WHERE status = 'completed'").column("run_id").to_pylist()
    metrics = ws.sql("SELECT run_id FROM run_metrics").column("run_id").to_pylist()
    assert len(runs) == 3 and sorted(metrics) == sorted(runs)
    nodes = ws.sql("SELECT run_id, count(*) AS n FROM node_metrics GROUP BY run_id").to_pylist()
    assert len(nodes) == 3 and len({n["n"] for n in nodes}) == 1
