"""kill -9 in the middle of a run corrupts no table; `runs repair` marks the run failed; the workspace goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nirdag

RUNNER = """
import sys
import nirdag
data = nirdag.datasets.synthetic(1500, 700, 3)
spec = {"target": "y", "pipeline": [{"split": {"kind": "kfold", "n_splits": 5}},
        {"_or_": [{"op": "snv"}, {"op": "msc"}, {"op": "detrend"}, {"op": "asls", "lam": 1000}]},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 20]}}}]}
nirdag.run(spec, data, workspace=sys.argv[1])
"""


def test_kill_minus_nine_mid_run_then_repair(tmp_path):
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(ws)])
    runs_log = ws / "tables" / "runs" / "_delta_log"
    deadline = time.monotonic() + 120
    while not runs_log.is_dir() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "the run finished before it could be killed; make it slower"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    workspace = nirdag.Workspace(ws)
    assert workspace.runs().column("status").to_pylist() == ["running"]
    assert workspace.repair() == workspace.runs().column("run_id").to_pylist()
    (row,) = workspace.runs().to_pylist()
    assert row["status"] == "failed" and "marked failed by repair" in row["error"]
    for table in ("chains", "predictions", "scores"):
        if (ws / "tables" / table).exists():
            assert nirdag.query(f"SELECT count(*) AS n FROM {table}", ws).column("n").to_pylist() == [0]
    spec = {"target": "y", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                        {"model": {"op": "pls", "n_components": 2}}]}
    after = nirdag.run(spec, nirdag.datasets.synthetic(60, 30, 1), workspace=ws)
    assert sorted(workspace.runs().column("status").to_pylist()) == ["completed", "failed"]
    assert after.best["rmsecv"] > 0
