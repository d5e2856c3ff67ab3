"""The execution policy: how a compiled plan runs and what its views need, decided once at compile time.

The user asks with a :class:`RuntimePolicy` (executor, workers, cache); :func:`decide_policy` turns it into the frozen
:class:`ExecutionPolicy` the engine and the view layer consume unchanged. Names of things a higher layer owns (views,
SQL metric functions, Delta tables) are typed data here; their owners validate them when they use them.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

import msgspec

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

ExecutorKind = Literal["sync", "threads", "processes", "dask", "ray"]
CachedNodeKind = Literal["hoisted", "fold_fit"]  # the node kinds a cache may serve (never the result tables)
MetricFunction = Literal["rmse", "mae", "bias", "sep", "r2", "rpd", "rpiq"]
TableName = Literal["runs", "pipelines", "chains", "predictions", "scores", "artifacts", "events", "datasets",
                    "spectra", "sample_diagnostics"]
ViewName = Literal["v_ranked_chains", "v_ranked_classifiers", "v_chain_scores", "v_top_chains", "v_fold_scores",
                   "v_refit", "v_preprocessing_effect", "v_aggregated_predictions", "v_aggregated_scores", "v_runs",
                   "v_sample_domain"]
JoinStrategy = Literal["hash", "sort_merge"]

ALL_VIEWS: tuple[ViewName, ...] = ("v_ranked_chains", "v_ranked_classifiers", "v_chain_scores", "v_top_chains",
                                   "v_fold_scores", "v_refit", "v_preprocessing_effect", "v_aggregated_predictions",
                                   "v_aggregated_scores", "v_runs", "v_sample_domain")
ALL_METRICS: tuple[MetricFunction, ...] = ("rmse", "mae", "bias", "sep", "r2", "rpd", "rpiq")
# Tables every view reads: the run's status gates what readers see, results come from chains/scores/predictions,
# sample metadata (repetition/group columns) from spectra, the applicability domain from sample_diagnostics.
VIEW_TABLES: tuple[TableName, ...] = ("runs", "chains", "scores", "predictions", "datasets", "spectra",
                                      "sample_diagnostics")
# What each catalog view reads, named here as data (semantics owns the views; its tests check this table against
# the view specs, `semantics.compiler.requirements`): the tables it scans and the metric functions it calls.
_SCORES: tuple[TableName, ...] = ("chains", "runs", "scores")
_PER_SAMPLE: tuple[TableName, ...] = ("chains", "predictions", "runs", "spectra")
VIEW_NEEDS: dict[ViewName, tuple[tuple[TableName, ...], tuple[MetricFunction, ...]]] = {
    "v_ranked_chains": (_SCORES, ()), "v_ranked_classifiers": (_SCORES, ()), "v_chain_scores": (_SCORES, ()),
    "v_top_chains": (_SCORES, ()), "v_fold_scores": (("runs", "scores"), ()), "v_refit": (_SCORES, ()),
    "v_preprocessing_effect": (_SCORES, ()), "v_aggregated_predictions": (_PER_SAMPLE, ()),
    "v_aggregated_scores": (_PER_SAMPLE, ("bias", "mae", "r2", "rmse", "rpd", "sep")),
    "v_runs": (("chains", "datasets", "runs", "scores"), ()),
    "v_sample_domain": (("chains", "runs", "sample_diagnostics"), ()),
}
# Above this many expected prediction rows, views joining the per-sample tables sort-merge instead of building a
# hash table of one side in memory.
SORT_MERGE_ROWS = 50_000_000


CacheAdmission = Literal["cost", "all"]


class AdmissionCosts(msgspec.Struct, **_FROZEN):
    """What the node cache costs on this workspace's disk, the inputs of cost-based admission.

    The defaults were measured on local disk with the workspace's cache store (a 160 MB entry writes in 0.70 s and
    reads back, verified, in 0.15 s; an 8 kB entry in 0.5 ms and 0.1 ms); the policy calibrator replaces them with
    the throughput a workspace's own runs measured.
    """

    write_bytes_per_s: Annotated[float, msgspec.Meta(gt=0)] = 200e6
    read_bytes_per_s: Annotated[float, msgspec.Meta(gt=0)] = 1e9
    entry_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.001  # one entry: a file created and renamed, or read

    def store_seconds(self, nbytes: int) -> float:
        """Writing an entry of ``nbytes`` now and reading it back once."""
        return 2 * self.entry_seconds + nbytes / self.write_bytes_per_s + nbytes / self.read_bytes_per_s

    def worth_storing(self, compute_seconds: float, nbytes: int) -> bool:
        """Whether computing a value again costs more than storing it and reading it back once."""
        return compute_seconds > self.store_seconds(nbytes)


BATCH_SIZE = 8192  # DataFusion's default batch size (rows per record batch)


class SessionSettings(msgspec.Struct, **_FROZEN):
    """The DataFusion settings of the session a run's views are built and queried in.

    ``target_partitions``: how many partitions a plan is split into (None: one per CPU, DataFusion's default);
    ``batch_size``: rows per record batch. Neither changes which rows a view returns; an aggregate over several
    partitions may sum in another order (the last bits of a mean can differ).
    """

    target_partitions: Annotated[int, msgspec.Meta(ge=1)] | None = None
    batch_size: Annotated[int, msgspec.Meta(ge=1)] = BATCH_SIZE


class CachePolicy(msgspec.Struct, **_FROZEN):
    """Which nodes the workspace cache serves, keyed on step identity and input-data fingerprint.

    ``admission``: ``cost`` stores a computed node only when computing it again is expected to cost more than
    writing it now and reading it back later (``hamilton_pipeline.cache.worth_storing``); ``all`` stores every
    cacheable node. Either way a node found in the cache is served from it.
    """

    enabled: bool = True
    nodes: tuple[CachedNodeKind, ...] = ("hoisted", "fold_fit")
    admission: CacheAdmission = "cost"
    costs: AdmissionCosts = msgspec.field(default_factory=AdmissionCosts)


class RuntimePolicy(msgspec.Struct, **_FROZEN):
    """What the user asks for at run time (``--executor``, ``--workers``, ``--no-cache``)."""

    executor: ExecutorKind = "sync"
    workers: Annotated[int, msgspec.Meta(ge=1)] | None = None  # None: one per CPU for parallel executors
    cache: bool = True
    views: tuple[ViewName, ...] = ALL_VIEWS
    cache_admission: CacheAdmission = "cost"
    admission_costs: AdmissionCosts = msgspec.field(default_factory=AdmissionCosts)
    session: SessionSettings = msgspec.field(default_factory=SessionSettings)


class ScanPolicy(msgspec.Struct, **_FROZEN):
    """The Delta tables the run writes and its views scan; readers see completed runs only unless asked."""

    tables: tuple[TableName, ...] = VIEW_TABLES
    completed_runs_only: bool = True


class ExecutionPolicy(msgspec.Struct, **_FROZEN):
    """How the engine runs the plan and what the session must register; never re-derived at run time."""

    executor: ExecutorKind = "sync"
    workers: Annotated[int, msgspec.Meta(ge=1)] = 1
    blas_threads: Annotated[int, msgspec.Meta(ge=1)] = 1
    cache: CachePolicy = msgspec.field(default_factory=CachePolicy)
    scan: ScanPolicy = msgspec.field(default_factory=ScanPolicy)
    udf_requirements: tuple[MetricFunction, ...] = ALL_METRICS
    views: tuple[ViewName, ...] = ALL_VIEWS
    join_strategy: JoinStrategy = "hash"
    session: SessionSettings = msgspec.field(default_factory=SessionSettings)


def _view_decisions(views: tuple[ViewName, ...], prediction_rows: int) -> tuple[
        tuple[TableName, ...], tuple[MetricFunction, ...], JoinStrategy, list[str]]:
    """The tables, metric functions and join strategy the requested views need, with the reasons."""
    tables = tuple(sorted({t for v in views for t in VIEW_NEEDS[v][0]}))
    functions = tuple(f for f in ALL_METRICS if any(f in VIEW_NEEDS[v][1] for v in views))
    per_sample = [v for v in views if "predictions" in VIEW_NEEDS[v][0]]
    reasons = [f"scan tables {', '.join(tables) or 'none'}: the tables the {len(views)} requested view(s) read",
               f"metric functions {', '.join(functions) or 'none'}: the ones the requested views call"]
    if per_sample and prediction_rows > SORT_MERGE_ROWS:
        join: JoinStrategy = "sort_merge"
        reasons.append(f"join sort_merge: {', '.join(per_sample)} join ~{prediction_rows:,} prediction rows, more "
                       f"than {SORT_MERGE_ROWS:,} (a hash table of one side would not fit comfortably in memory)")
    else:
        join = "hash"
        reasons.append(f"join hash: ~{prediction_rows:,} prediction rows, within {SORT_MERGE_ROWS:,}" if per_sample
                       else "join hash: the requested views join no per-sample table")
    return tables, functions, join, reasons


def decide_policy(runtime: RuntimePolicy, parallel_nodes: int,
                  prediction_rows: int = 0) -> tuple[ExecutionPolicy, tuple[str, ...]]:
    """The execution policy for a plan whose widest layer has ``parallel_nodes`` independent nodes and that writes
    about ``prediction_rows`` prediction rows.

    The scan tables, metric functions (UDF requirements) and join strategy are derived from the requested views.
    Returns the policy and the reasons for each decision (recorded in the run's validation artifact).
    """
    reasons = []
    if runtime.executor == "sync":
        workers = 1
        reasons.append("executor sync: one worker, nodes run in topological order")
    else:
        asked = runtime.workers or os.cpu_count() or 1
        workers = max(1, min(asked, parallel_nodes))
        why = "requested" if runtime.workers else "one per CPU"
        reasons.append(f"executor {runtime.executor}: {workers} worker(s) ({why}: {asked}; widest layer of the DAG "
                       f"has {parallel_nodes} independent node(s))")
    reasons.append("BLAS pinned to 1 thread per worker (parallelism comes from the DAG)")
    lazy = runtime.executor == "dask"
    cache = CachePolicy(enabled=runtime.cache and not lazy, admission=runtime.cache_admission,
                        costs=runtime.admission_costs)
    if lazy and runtime.cache:
        reasons.append("cache off: Hamilton's Dask adapter runs nodes lazily in the workers, outside the cache")
    else:
        reasons.append("cache on for hoisted and per-fold fit nodes" if runtime.cache else "cache off (asked)")
    tables, functions, join, view_reasons = _view_decisions(runtime.views, prediction_rows)
    reasons.extend(view_reasons)
    settings = runtime.session
    reasons.append(f"views' session: {settings.target_partitions or 'one per CPU'} target partition(s), batch size "
                   f"{settings.batch_size}")
    return ExecutionPolicy(executor=runtime.executor, workers=workers, cache=cache, views=runtime.views,
                           scan=ScanPolicy(tables=tables), udf_requirements=functions,
                           join_strategy=join, session=settings), tuple(reasons)
