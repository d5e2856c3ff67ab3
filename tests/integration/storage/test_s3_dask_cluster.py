"""A real Dask cluster (LocalCluster, 2 worker processes) runs a pipeline on an S3 workspace: the workers read the
spectra from the bucket (not from the scheduler), the results come back to the one writer, and every prediction is
bit-identical to the sync run."""

from __future__ import annotations

import pytest

import nirdag

distributed = pytest.importorskip("distributed")

SPEC = {"name": "s3_dask", "target": "fat", "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 5]}}}], "refit": {"metric": "rmse", "top_k": 1}}
PREDICTIONS = ("SELECT chain_id, fold_id, partition, sample_id, target, y_pred FROM predictions "
               "ORDER BY chain_id, fold_id, partition, sample_id, target")


def _spectra_held() -> int:
    from datafusion_engine.spectra_store import _worker_spectra

    return _worker_spectra.cache_info().currsize


def test_a_two_worker_cluster_on_s3_predicts_bit_identically_to_sync(moto_s3, bucket, tmp_path, tecator):
    sync = nirdag.run(SPEC, tecator, workspace=tmp_path / "sync", seed=0)
    handle = nirdag.Workspace(f"s3://{bucket}/cluster", storage_options=moto_s3.options)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_cluster = nirdag.run(SPEC, tecator, workspace=handle, seed=0, executor="dask",
                                dask_client=cluster.scheduler_address)
        held = client.run(_spectra_held)
    assert sum(held.values()) >= 1  # a worker read the spectra from the bucket and keeps one copy
    assert max(held.values()) == 1
    got = nirdag.query(PREDICTIONS, handle, max_rows=None)
    assert got.num_rows > 0
    assert got.equals(nirdag.query(PREDICTIONS, sync.workspace, max_rows=None))
    assert on_cluster.best["chain_id"] == sync.best["chain_id"]
    executor = nirdag.query("SELECT executor, workers FROM run_metrics", handle).to_pylist()
    assert executor[0]["executor"] == "dask"


def test_no_node_body_of_a_cluster_run_carries_the_spectra():
    """Dask pickles every node body into its graph: with a spectra source, no body may hold the matrix."""
    import cloudpickle

    from datafusion_engine.spectra_store import StoredSpectra
    from hamilton_pipeline import build_driver
    from nirs_core.data.synthetic import synthetic

    dataset = synthetic(600, 400, seed=0)  # X: 1.9 MB
    plan = nirdag.compile({**SPEC, "target": "y"}, dataset, seed=0)
    dr = build_driver(plan, dataset, spectra=StoredSpectra("s3://unused/ws", dataset.content_hash))
    sizes = {n.name: len(cloudpickle.dumps(n.callable)) for n in dr.graph.nodes.values()}
    assert max(sizes.values()) < dataset.spectra.nbytes / 10, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
