"""Every executor gives bit-identical predictions and identical identities; a failing node is named."""

from __future__ import annotations

import msgspec
import numpy as np
import pyarrow as pa
import pytest

import nirdag
from hamilton_pipeline import execute_plan
from hamilton_pipeline.errors import NodeError

SPEC = {"target": "fat", "seed": 11, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}], "sg": [{"op": "savgol", "window_length": 9,
                                                                    "deriv": 1}, {"op": "autoscale"}]}},
    {"model": {"op": "pls", "n_components": [2, 5]}}]}


def _predictions(run) -> pa.Table:
    return run.sql("SELECT chain_id, fold_id, partition, sample_id, target, y_pred FROM predictions "
                   "ORDER BY chain_id, fold_id, partition, sample_id, target")


@pytest.fixture(scope="module")
def sync_run(tecator, tmp_path_factory):
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("sync") / "ws")


def _assert_same(run, reference) -> None:
    assert run.plan.pipeline_hash == reference.plan.pipeline_hash
    assert [c.chain_id for c in run.plan.chains] == [c.chain_id for c in reference.plan.chains]
    a, b = _predictions(run), _predictions(reference)
    assert a.num_rows == b.num_rows > 0
    assert a.column("chain_id").equals(b.column("chain_id"))
    assert np.array_equal(a.column("y_pred").to_numpy(), b.column("y_pred").to_numpy())  # bit-identical


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_local_executors_match_sync_bit_for_bit(tecator, tmp_path, sync_run, executor):
    run = nirdag.run(SPEC, tecator, workspace=tmp_path / "ws", executor=executor, workers=2)
    assert run.plan.policy.executor == executor and run.plan.policy.workers == 2
    _assert_same(run, sync_run)


def test_dask_on_an_in_process_loopback_cluster_matches_sync(tecator, tmp_path, sync_run):
    distributed = pytest.importorskip("distributed")
    # processes=False: scheduler and workers in this process, talking over in-process transport (no sockets)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        run = nirdag.run(SPEC, tecator, workspace=tmp_path / "ws", executor="dask", dask_client=client)
    assert not run.plan.policy.cache.enabled  # decided at compile: Dask runs nodes outside the cache
    _assert_same(run, sync_run)


def test_ray_matches_sync(tecator, tmp_path, sync_run, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    run = nirdag.run(SPEC, tecator, workspace=tmp_path / "ws", executor="ray", workers=2)
    _assert_same(run, sync_run)


def test_an_unknown_executor_is_a_spec_error(tecator, tmp_path):
    with pytest.raises(nirdag.api.SpecError, match="executors: sync, threads, processes, dask, ray"):
        nirdag.run(SPEC, tecator, workspace=tmp_path / "ws", executor="spark")  # type: ignore[arg-type]
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("executor", ["sync", "threads"])
def test_a_failing_node_is_named_with_its_chains(tecator, executor):
    plan = nirdag.compile(SPEC, tecator, executor=executor, workers=2)
    broken = msgspec.structs.replace(plan.groups[1], component_values=(2, 10_000))  # more components than rows
    plan = msgspec.structs.replace(plan, groups=(plan.groups[0], broken, *plan.groups[2:]))
    with pytest.raises(NodeError, match=r"node pls_sweep__fold_\d__[0-9a-f]{8} \(chains [0-9a-f]{8}, "
                                        r"[0-9a-f]{8}\) failed: ValueError"):
        execute_plan(plan, tecator)


def test_a_multi_target_run_in_processes_matches_sync(tecator, tmp_path):
    spec = {**SPEC, "target": ["fat", "moisture", "protein"]}
    reference = nirdag.run(spec, tecator, workspace=tmp_path / "sync")
    run = nirdag.run(spec, tecator, workspace=tmp_path / "processes", executor="processes", workers=2)
    _assert_same(run, reference)
    targets = run.sql("SELECT DISTINCT target FROM predictions ORDER BY target").column("target").to_pylist()
    assert targets == ["fat", "moisture", "protein"]
