"""Execute a compiled plan through its Hamilton Driver, BLAS pinned to one thread."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
from rich.console import Console
from threadpoolctl import threadpool_limits

from datafusion_engine.cache_store import CacheStore
from hamilton_pipeline.cache import NodeCache
from hamilton_pipeline.driver_factory import (
    CHAIN_DIAGNOSTICS,
    CHAIN_RANKING,
    CHAIN_SCORES,
    CHAIN_TABLE,
    FOLD_TABLES,
    OOF_PREDICTIONS,
    REFIT_CHOICE,
    REFIT_MODELS,
    REFIT_PREDICTIONS,
    SPECTRA,
    TARGETS,
    build_driver,
    cv_name,
    hoisted_name,
    sweep_name,
)
from hamilton_pipeline.errors import NodeError
from hamilton_pipeline.executors import Execution, execution_for
from hamilton_pipeline.progress import RunProgress
from hamilton_pipeline.timing import NodeEvent, NodeTimer
from nirs_core.data import SpectraDataset
from nirs_modelling.results import FinalFit, FoldSweep, GroupCV, RankedChain
from nirs_modelling.selection import RefitChoice
from relspec.hashing import short
from relspec.plan import CompiledPlan
from relspec.policy import ExecutionPolicy


@dataclass(frozen=True)
class EngineResult:
    """What one execution produced: result tables (without run_id), the chain ranking and the refit chains'
    fitted objects."""

    chains: pa.Table
    predictions: pa.Table
    scores: pa.Table
    ranking: tuple[RankedChain, ...]
    fits: tuple[FinalFit, ...]
    seconds: float
    events: tuple[NodeEvent, ...]
    diagnostics: Mapping[str, pa.Table] = field(default_factory=dict)  # the diagnostics tables by name
    fold_tables: Mapping[str, pa.Table] = field(default_factory=dict)  # sample_exclusions, selected_variables
    choice: RefitChoice | None = None  # which chains were refit and how their counts were chosen
    startup_seconds: float = 0.0  # starting the executor's workers (included in ``seconds``)

    def tables(self) -> dict[str, pa.Table]:
        return {"chains": self.chains, "predictions": self.predictions, "scores": self.scores,
                "events": events_table(self.events), "node_metrics": node_metrics_table(self.events),
                **self.diagnostics, **self.fold_tables}


def events_table(events: tuple[NodeEvent, ...]) -> pa.Table:
    """One row per executed node, for the workspace `events` table (run_id is added by the store)."""
    return pa.table({
        "event": pa.array(["node"] * len(events), pa.string()),
        "node": pa.array([e.node for e in events], pa.string()),
        "started_at": pa.array([e.started_at for e in events], pa.timestamp("us", tz="UTC")),
        "seconds": pa.array([e.seconds for e in events], pa.float64()),
        "status": pa.array([e.status for e in events], pa.string()),
        "worker": pa.array([e.worker for e in events], pa.string()),
        "cache": pa.array([e.cache for e in events], pa.string()),
        "cache_key": pa.array([e.cache_key for e in events], pa.string()),
    })


def node_metrics_table(events: tuple[NodeEvent, ...]) -> pa.Table:
    """One row per executed node for the workspace `node_metrics` table (run_id is added by the store)."""
    return pa.table({
        "node": pa.array([e.node for e in events], pa.string()),
        "kind": pa.array([e.kind for e in events], pa.string()),
        "step": pa.array([e.step for e in events], pa.string()),
        "seconds": pa.array([e.seconds for e in events], pa.float64()),
        "output_bytes": pa.array([e.output_bytes for e in events], pa.int64()),
        "cache": pa.array([e.cache for e in events], pa.string()),
        "cache_read_seconds": pa.array([e.cache_read_seconds for e in events], pa.float64()),
        "cache_write_seconds": pa.array([e.cache_write_seconds for e in events], pa.float64()),
    })


def _failed_node(plan: CompiledPlan, timer: NodeTimer, exc: Exception) -> NodeError:
    failed = [e.node for e in timer.events if e.status == "error"]
    if not failed:
        return NodeError(f"the run failed outside any node: {type(exc).__name__}: {exc}")
    name = failed[0]
    chains = [c.chain_id[:8] for g in plan.groups if name.endswith(short(g.group_id))
              for c in plan.chains_of(g.group_id)]
    serves = f" (chains {', '.join(chains[:5])}{'...' if len(chains) > 5 else ''})" if chains else ""
    return NodeError(f"node {name}{serves} failed: {type(exc).__name__}: {exc}")


def execute_plan(plan: CompiledPlan, dataset: SpectraDataset, *, dask_client: Any | None = None,
                 cache: CacheStore | None = None, progress: Console | None = None,
                 spectra: Callable[[], np.ndarray] | None = None, cv_results: Mapping[str, GroupCV] | None = None,
                 session: CVSession | None = None) -> EngineResult:
    """Build the plan's driver and run it with the executor its policy names (BLAS on one thread per worker).

    ``cache`` is the workspace's node cache; it serves the node kinds of ``plan.policy.cache`` when the policy
    enables it (and is not touched otherwise). ``progress`` is a console to draw a progress bar on. ``spectra``
    (a ``StoredSpectra``) is what Dask workers call to read the spectra from the workspace; other executors,
    whose workers get arrays from this process, use ``dataset.spectra``.
    ``cv_results`` holds sweep groups' cross-validations already computed (by group id, e.g. by
    :func:`cv_session` for the trials of a study): their nodes are not run again (Hamilton overrides).
    ``session`` (a :func:`cv_session` still open) lends its executor, already started, instead of a new one.

    Raises
    ------
    NodeError
        A node raised: the message names it and the chains it serves (the original error is chained).
    """
    start = time.perf_counter()
    policy = plan.policy.cache
    served = (NodeCache(cache, policy.nodes, policy.admission, policy.costs)
              if cache is not None and policy.enabled else None)
    timer = NodeTimer(cache=served)
    hooks = [timer, *([served] if served else []), *([RunProgress(progress, plan, served)] if progress else [])]
    opened = (contextlib.nullcontext(session.execution) if session is not None
              else execution_for(plan.policy, dask_client=dask_client))
    with opened as execution, threadpool_limits(limits=plan.policy.blas_threads):
        execution.warm_up()
        startup = time.perf_counter() - start
        dr = build_driver(plan, dataset, *hooks, *execution.adapters, offload=execution.offload,
                          spectra=spectra if execution.worker == "dask" else None)
        given = cv_results or {}
        overrides = {cv_name(g): given[g.group_id] for g in plan.groups if g.group_id in given}
        try:
            out = dr.execute([CHAIN_TABLE, OOF_PREDICTIONS, REFIT_PREDICTIONS, CHAIN_SCORES, CHAIN_RANKING,
                               REFIT_CHOICE, REFIT_MODELS, CHAIN_DIAGNOSTICS, FOLD_TABLES], overrides=overrides)
        except Exception as exc:
            raise _failed_node(plan, timer, exc) from exc
    predictions = pa.concat_tables([out[OOF_PREDICTIONS], out[REFIT_PREDICTIONS]])
    return EngineResult(
        chains=out[CHAIN_TABLE], predictions=predictions, scores=out[CHAIN_SCORES],
        ranking=out[CHAIN_RANKING], fits=out[REFIT_MODELS], seconds=time.perf_counter() - start,
        events=tuple(timer.events), diagnostics=dict(out[CHAIN_DIAGNOSTICS].tables),
        fold_tables=dict(out[FOLD_TABLES].tables), choice=out[REFIT_CHOICE],
        startup_seconds=startup,
    )


@dataclass(frozen=True)
class BatchCV:
    """The cross-validation of one plan's sweep groups (by group id), the nodes' events and the wall seconds."""

    cvs: Mapping[str, GroupCV]
    events: tuple[NodeEvent, ...]
    seconds: float


# after fold k (its index), the groups that go on to the next fold, from each live group's FoldSweep of fold k
KeepGroups = Callable[[int, Mapping[str, FoldSweep]], set[str]]


class CrossValidate(Protocol):
    def __call__(self, plan: CompiledPlan, dataset: SpectraDataset, keep: KeepGroups | None = None) -> BatchCV: ...


@dataclass(frozen=True)
class CVSession:
    """An executor started once for several plans: ``cross_validate(plan, dataset, keep=None)`` runs a plan's CV
    nodes on it, and :func:`execute_plan` may run a last plan on the same ``execution``."""

    execution: Execution
    cross_validate: CrossValidate


def _staged(dr: Any, plan: CompiledPlan, keep: KeepGroups) -> dict[str, GroupCV]:
    """The plan's folds one at a time: after each, ``keep`` says which groups go on (a pruner's stop); the groups
    kept to the end are pooled into their GroupCV. What a fold computed (inputs, hoisted matrices, fold fits) is
    handed to the next executions as overrides, never computed twice."""
    computed: dict[str, Any] = {}
    alive = list(plan.groups)
    inputs = [SPECTRA, TARGETS, *(hoisted_name(plan, h.node_id) for h in plan.hoisted)]
    for k, fold in enumerate(plan.folds):
        names = {g.group_id: sweep_name(fold.fold_id, g) for g in alive}
        computed.update(dr.execute([*names.values(), *([] if k else inputs)], overrides=computed))
        kept = keep(k, {g: computed[n] for g, n in names.items()})
        alive = [g for g in alive if g.group_id in kept]
    if not alive:
        return {}
    out = dr.execute([cv_name(g) for g in alive], overrides=computed)
    return {g.group_id: out[cv_name(g)] for g in alive}


@contextlib.contextmanager
def cv_session(policy: ExecutionPolicy, *, dask_client: Any | None = None,
               cache: CacheStore | None = None) -> Iterator[CVSession]:
    """An executor set up once for several plans (a study's batches): yields a :class:`CVSession` whose
    ``cross_validate(plan, dataset)`` runs only the plan's hoisted, fold and CV nodes (no ranking, refit or
    tables) with ``policy``'s executor and BLAS threads and returns each sweep group's :class:`GroupCV`; with
    ``keep`` it runs the folds one at a time and only the groups ``keep`` lets go on (:func:`_staged`). ``cache``
    serves the node kinds the plan's cache policy names, as in :func:`execute_plan`.

    Raises
    ------
    NodeError
        A node raised: the message names it and the chains it serves.
    """
    with execution_for(policy, dask_client=dask_client) as execution, \
            threadpool_limits(limits=policy.blas_threads):
        execution.warm_up()

        def cross_validate(plan: CompiledPlan, dataset: SpectraDataset, keep: KeepGroups | None = None) -> BatchCV:
            start = time.perf_counter()
            rule = plan.policy.cache
            served = NodeCache(cache, rule.nodes, rule.admission, rule.costs) if cache and rule.enabled else None
            timer = NodeTimer(cache=served)
            dr = build_driver(plan, dataset, timer, *([served] if served else []), *execution.adapters,
                              offload=execution.offload)
            try:
                if keep is not None:
                    cvs = _staged(dr, plan, keep)
                else:
                    out = dr.execute([cv_name(g) for g in plan.groups])
                    cvs = {g.group_id: out[cv_name(g)] for g in plan.groups}
            except Exception as exc:
                raise _failed_node(plan, timer, exc) from exc
            return BatchCV(cvs, tuple(timer.events), time.perf_counter() - start)

        yield CVSession(execution, cross_validate)
