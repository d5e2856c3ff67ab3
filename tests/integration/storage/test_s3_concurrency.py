"""Two processes running into one S3 workspace at the same moment lose nothing: Delta's commits on the object store
are conditional PUTs, and a writer that loses a version retries on the new one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import nirdag

SPEC = {"name": "s3_race", "target": "fat", "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 4]}}}], "refit": {"metric": "rmse", "top_k": 1}}

RUNNER = textwrap.dedent("""
    import json, sys, time
    import nirdag
    spec, uri, seed, start = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    data = nirdag.datasets.tecator()
    time.sleep(max(0.0, start - time.time()))  # both processes start writing at the same moment
    print(nirdag.run(spec, data, workspace=uri, seed=seed).run_id)
""")


def test_two_concurrent_runs_into_one_s3_workspace_lose_no_rows(moto_s3, bucket, tmp_path, tecator):
    uri = f"s3://{bucket}/shared"
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    env = {**os.environ, **moto_s3.options}
    start = time.time() + 4.0  # after both have imported nirdag
    procs = [subprocess.Popen([sys.executable, str(script), json.dumps(SPEC), uri, str(seed), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for seed in (1, 2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    run_ids = sorted(out.strip().splitlines()[-1] for out, _ in outs)
    handle = nirdag.Workspace(uri, storage_options=moto_s3.options)
    runs = handle.sql("SELECT run_id, status FROM runs ORDER BY run_id").to_pylist()
    assert runs == [{"run_id": r, "status": "completed"} for r in run_ids]
    reference = nirdag.run(SPEC, tecator, workspace=tmp_path / "alone", seed=1)  # one run's rows, alone
    for table in ("predictions", "scores", "chains", "artifacts"):
        alone = nirdag.query(f"SELECT count(*) AS n FROM {table}", reference.workspace).column("n")[0].as_py()
        counts = handle.sql(f"SELECT run_id, count(*) AS n FROM {table} GROUP BY run_id ORDER BY run_id")
        assert counts.to_pylist() == [{"run_id": r, "n": alone} for r in run_ids], table
    # both stored the same dataset at the same moment: merged on its key, it is there once, whole
    stored = handle.sql("SELECT count(*) AS n, count(DISTINCT sample_id) AS ids FROM spectra").to_pylist()
    assert stored == [{"n": tecator.n_samples, "ids": tecator.n_samples}]
