"""Executors: where the nodes of one driver run (sync, threads, local processes, Dask, Ray), as the policy says.

An :class:`Execution` is the pair the driver factory consumes: Hamilton adapters (scheduling) and an ``offload``
function through which the heavy node bodies (hoisted transforms, fold fits, refits) are called. ``processes``
keeps Hamilton and its lifecycle hooks (timing, cache, progress) in this process, schedules nodes on threads and
sends each heavy body to a pool of worker processes; ``ray`` does the same with Ray tasks; ``dask`` hands whole
nodes to Hamilton's own Dask adapter (nodes run lazily in the workers, so per-node timings and the node cache do
not apply there: the policy turns the cache off for it). Every worker runs BLAS on one thread, so parallelism
comes from the DAG and results are bit-identical.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from hamilton import base
from hamilton.plugins.h_threadpool import FutureAdapter
from joblib.externals.loky import ProcessPoolExecutor
from threadpoolctl import threadpool_limits

from hamilton_pipeline.errors import ExecutorError
from relspec.policy import ExecutionPolicy

Offload = Callable[..., Any]
BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def direct(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a node body here, now."""
    return fn(*args)


@dataclass(frozen=True)
class Execution:
    """Adapters to attach to the driver and the offload function its heavy nodes call."""

    adapters: tuple[Any, ...]
    offload: Offload
    worker: str  # how events name the worker kind
    warm_up: Callable[[], None] = lambda: None  # starts every worker now, so start-up is measured as such


def _ready(_: int) -> int:
    return os.getpid()


def _warm(pool: ProcessPoolExecutor, workers: int) -> None:
    """One no-op task per worker: the pool's processes are started (and BLAS pinned) before the first node."""
    list(pool.map(_ready, range(workers)))


def _pin_blas() -> None:
    threadpool_limits(limits=1)


def _freeze(value: Any) -> Any:
    """Arrays that crossed a process boundary come back writeable: make them read-only again, like local ones."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _freeze(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            _freeze(item)
    return value


def _pool_offload(pool: ProcessPoolExecutor) -> Offload:
    def offload(fn: Callable[..., Any], *args: Any) -> Any:
        return _freeze(pool.submit(fn, *args).result())

    return offload


@contextlib.contextmanager
def _processes(workers: int) -> Iterator[Execution]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_pin_blas, env=BLAS_ENV)
    try:
        yield Execution((FutureAdapter(max_workers=workers, result_builder=base.DictResult()),),
                        _pool_offload(pool), "processes", functools.partial(_warm, pool, workers))
    finally:
        pool.shutdown(wait=True)


@contextlib.contextmanager
def _dask(workers: int, client: Any | None) -> Iterator[Execution]:
    """Hamilton's Dask adapter on ``client``: a ``distributed.Client``, a scheduler address (``tcp://HOST:PORT``,
    connected for this run and closed after it) or None (a private cluster on loopback)."""
    try:
        from distributed import Client, LocalCluster
        from hamilton.plugins.h_dask import DaskGraphAdapter
    except ImportError:
        raise ExecutorError("executor 'dask' needs dask.distributed: pip install 'nirdag[dask]'") from None
    with contextlib.ExitStack() as stack:
        if isinstance(client, str):  # the address of a running scheduler: connect within bounded time
            try:
                client = stack.enter_context(Client(client, timeout="20s"))
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {client}: {exc}") from None
        elif client is None:  # a private cluster on loopback; never listens on other interfaces
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, env=BLAS_ENV))
            client = stack.enter_context(Client(cluster))
        yield Execution((DaskGraphAdapter(client, result_builder=base.DictResult()),), direct, "dask")


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


@contextlib.contextmanager
def _ray(workers: int) -> Iterator[Execution]:
    """Ray tasks for the heavy bodies; Hamilton schedules on threads here so lifecycle hooks stay local.

    (Hamilton's RayGraphAdapter ships the whole lifecycle adapter set to the workers, and the timing and cache
    adapters hold locks and files that must stay in this process.)
    """
    try:
        import ray
    except ImportError:
        raise ExecutorError("executor 'ray' needs ray: pip install 'nirdag[ray]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1",
                 runtime_env={"env_vars": BLAS_ENV}, log_to_driver=False)
    remote = ray.remote(_call)

    def offload(fn: Callable[..., Any], *args: Any) -> Any:
        return _freeze(ray.get(remote.remote(fn, *args)))

    try:
        yield Execution((FutureAdapter(max_workers=workers, result_builder=base.DictResult()),), offload, "ray")
    finally:
        if started:
            ray.shutdown()


@contextlib.contextmanager
def execution_for(policy: ExecutionPolicy, *, dask_client: Any | None = None) -> Iterator[Execution]:
    """The execution the policy decided, set up for the duration of one run and torn down after it.

    ``dask_client`` lets a user run on their own Dask cluster (a ``distributed.Client`` or a scheduler address
    ``tcp://HOST:PORT``); without it ``dask`` starts a local one.
    """
    if policy.executor == "sync":
        yield Execution((), direct, "sync")
    elif policy.executor == "threads":
        yield Execution((FutureAdapter(max_workers=policy.workers, result_builder=base.DictResult()),), direct,
                        "threads")
    elif policy.executor == "processes":
        with _processes(policy.workers) as execution:
            yield execution
    elif policy.executor == "dask":
        with _dask(policy.workers, dask_client) as execution:
            yield execution
    else:
        with _ray(policy.workers) as execution:
            yield execution
