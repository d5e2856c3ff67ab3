"""A Dask cluster on an S3 workspace: synthetic spectra stored once, an SNV -> PLS sweep run with 1 and 2 workers.

`python -m benchmarks.cluster [--rows 200000] [--wavelengths 1000] [--workers 1,2] [--endpoint URL --bucket B]`

Without ``--endpoint`` a moto S3 server is started on a free loopback port (it holds the objects in memory: the
stored dataset costs about its float64 size there too). The dataset is stored once (``save_dataset``) and every run
reads it from the bucket: the Dask workers (a ``LocalCluster`` of N processes, one thread each) read the spectra
from the workspace's Delta tables, not from the scheduler. Reported per worker count: wall seconds of
``nirdag.run`` (compile, execute, the writes of the results), the engine seconds, scaling efficiency against one
worker (t1 / (N x tN)), and what the run added to each worker's peak resident memory, in copies of X (the goal:
no worker above one copy of X plus the largest node's working set). Predictions of every worker count are checked
identical.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")  # as the nirdag CLI does (before Hamilton is imported)

import pyarrow.compute as pc

import nirdag
from datafusion_engine.spectra_store import save_dataset
from nirs_core.data.synthetic import synthetic

SPEC = {"name": "cluster_bench", "target": "y", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"op": "snv"},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 10]}}}], "refit": {"metric": "rmse", "top_k": 1}}
PREDICTIONS = "SELECT run_id, chain_id, fold_id, partition, sample_id, y_pred FROM predictions ORDER BY 2, 3, 4, 5"


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> int:
    """Reset this process's peak resident memory (Linux clear_refs 5); returns its resident memory now."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status("VmRSS")


def _import_engine() -> None:
    import datafusion_engine.spectra_store  # noqa: F401  (DataFusion, deltalake: the worker's read of X)
    import nirs_modelling.compute  # noqa: F401  (scikit-learn, ikpls: the fits)


def _peak_rss() -> int:
    return _status("VmHWM")


def _run(workspace: nirdag.Workspace, dataset, workers: int) -> dict:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=0) as cluster, Client(cluster) as client:
        client.run(_import_engine)  # the imports a task needs belong to the baseline, not to the run
        baseline = list(client.run(_reset_peak).values())  # resident before the run; peaks count from here
        start = time.perf_counter()
        result = nirdag.run(SPEC, dataset, workspace=workspace, executor="dask", workers=workers,
                            dask_client=cluster.scheduler_address, reuse=False)
        wall = time.perf_counter() - start
        peaks = list(client.run(_peak_rss).values())  # same worker order as the baseline
    return {"workers": workers, "run_id": result.run_id, "wall_seconds": round(wall, 2),
            "engine_seconds": round(result.seconds, 2), "worker_baseline_rss_bytes": baseline,
            "worker_peak_rss_bytes": peaks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--wavelengths", type=int, default=1_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--endpoint", help="an S3-compatible server (default: a moto server on loopback)")
    parser.add_argument("--bucket", default="nirdag-bench")
    args = parser.parse_args(argv)
    server = None
    if args.endpoint is None:
        from tests.integration.storage.moto_server import start_moto

        server = start_moto()
        server.create_bucket(args.bucket)
        os.environ.update(server.options)
    else:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    try:
        dataset = synthetic(args.rows, args.wavelengths, seed=0)
        x_bytes = dataset.spectra.nbytes
        workspace = nirdag.Workspace(f"s3://{args.bucket}/cluster-{args.rows}x{args.wavelengths}")
        start = time.perf_counter()
        save_dataset(workspace.handle, dataset)
        stored = time.perf_counter() - start
        runs = [_run(workspace, dataset, int(n)) for n in args.workers.split(",")]
        every = nirdag.query(PREDICTIONS, workspace, max_rows=None, max_bytes=None)

        def of(run_id: str):
            return every.filter(pc.equal(every.column("run_id"), run_id)).drop_columns(["run_id"])

        first = of(runs[0]["run_id"])
        for r in runs:
            r["identical_to_first"] = of(r["run_id"]).equals(first)
            r["efficiency"] = round(runs[0]["wall_seconds"] / (r["workers"] * r["wall_seconds"]), 2)
            r["worker_peak_over_x"] = [round((p - b) / x_bytes, 2)  # what the run added, in copies of X
                                       for p, b in zip(r["worker_peak_rss_bytes"], r["worker_baseline_rss_bytes"],
                                                       strict=True)]
        report = {"rows": args.rows, "wavelengths": args.wavelengths, "x_bytes": x_bytes,
                  "store_seconds": round(stored, 2), "runs": runs}
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
