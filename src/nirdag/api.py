"""The public functions: run a pipeline into a workspace, and read its results back."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, get_args

import graphviz
import hamilton.driver
import msgspec
import numpy as np
import pyarrow as pa
from rich.console import Console

from datafusion_engine import TABLE_SCHEMAS, RunRow, WorkspaceStore
from datafusion_engine import artifact_housekeeping as housekeeping
from datafusion_engine.cache_store import DEFAULT_MAX_BYTES, CacheStore, workspace_cache
from datafusion_engine.documents import read_document
from datafusion_engine.scan_metrics import ScanMetrics
from datafusion_engine.spectra_store import read_delta_source, save_dataset
from hamilton_pipeline import build_driver as _build_driver
from hamilton_pipeline import execute_plan
from hamilton_pipeline.picture import RunOverlay, dag_graph, write_dag
from nirdag.bundle import predict_chain
from nirdag.bundle.artifacts import persist_fits
from nirdag.bundle.export import export_chain, workspace_chain
from nirdag.run_provenance import run_provenance
from nirs_core.data import SpectraDataset, dataset_from_parts, load_parts, tecator
from nirs_core.data.errors import DataError
from nirs_core.data.from_parts import NonFinite
from nirs_core.data.loading import FileFormat, detect_format
from nirs_core.data.table_loader import ColumnRoles, parts_from_table
from relspec import (
    ALL_TARGETS,
    POOLED_CV,
    CompiledPlan,
    PipelineSpec,
    RuntimePolicy,
    SpecError,
    compile_plan,
    load_spec,
)
from relspec.policy import ExecutorKind
from relspec.provenance import (
    DecisionProvenanceGraph,
    decode_provenance,
)
from relspec.spec import raw_spec
from relspec.validation import PolicyValidation, decode_validation
from semantics import open_session
from semantics.records import (
    VIEW_DECISIONS,
    record_scan_metrics,
    view_decisions,
    view_decisions_json,
)

NIRDAG_VERSION = version("nirdag")
SpecSource = str | Path | dict[str, Any] | PipelineSpec
DatasetFormat = FileFormat | Literal["delta"]


def load_dataset(
    path: str | Path, *, format: DatasetFormat | None = None, targets: Sequence[str] = (),
    id_column: str | None = None, partition_column: str | None = None, metadata_columns: Sequence[str] = (),
    wavelengths: Sequence[float] | None = None, wavelength_unit: str | None = None, delimiter: str | None = None,
    header: bool | None = None, name: str | None = None, on_nonfinite: NonFinite = "error",
    decimal: str | None = None,
) -> SpectraDataset:
    """Load spectra from a file or folder; the format is detected from the path unless named.

    Formats: ``csv`` (wide CSV/TSV, ``.gz`` allowed: numeric headers are wavelengths, the other columns are the
    named targets/id/partition or metadata), ``parquet`` (wide, or a ``spectrum`` list column), ``npz``,
    ``nirs4all`` (a folder of X/Y/M cal-val or train-test files), ``jcamp`` (a ``.jdx``/``.dx`` file or a folder of
    them) and ``delta`` (a Delta table, read like Parquet). Spectra with NaN/inf are an error unless
    ``on_nonfinite="drop"``, which drops those rows and warns with their ids. A CSV's ``delimiter`` (``,`` ``;``
    tab) and ``decimal`` separator (``.``, or ``,`` as many locales export with ``;``) are detected unless given.
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt == "delta":
        roles = ColumnRoles(tuple(targets), id_column, partition_column, tuple(metadata_columns))
        parts = parts_from_table(path, read_delta_source(path), roles, delimiter=None, wavelengths=wavelengths,
                                 wavelength_unit=wavelength_unit)
    else:
        parts = load_parts(path, format=fmt, targets=targets, id_column=id_column, partition_column=partition_column,
                           metadata_columns=metadata_columns, wavelengths=wavelengths,
                           wavelength_unit=wavelength_unit, delimiter=delimiter, header=header, decimal=decimal)
    return dataset_from_parts(parts, name=name or path.name.split(".")[0], on_nonfinite=on_nonfinite)


def _quote(value: str) -> str:
    return value.replace("'", "''")


def multi_target_ranking(plan: CompiledPlan, run_id: str, limit: int) -> str:
    """SQL of a multi-target run's ranking: rank, chain, the rank metric's pooled CV value and per target the
    pooled RMSECV and refit RMSEP (one column each, ``rmsecv_<target>``)."""
    run = _quote(run_id)
    ranked_on = ALL_TARGETS if plan.refit.target is None else plan.refit.target
    pivots = ", ".join(
        f"max(p.{col}) FILTER (WHERE p.target = '{_quote(t)}') AS \"{col}_{t.replace(chr(34), '')}\""
        for t in plan.targets for col in ("rmsecv", "rmsep"))
    return (
        f"SELECT rank() OVER (ORDER BY r.value, c.n_components, c.chain_id) AS rank, c.chain_id, c.branch_name, "
        f"c.preprocessing, c.n_components, r.value AS {plan.rank_metric}, {pivots}, c.refit "
        f"FROM chains c JOIN scores r ON r.run_id = c.run_id AND r.chain_id = c.chain_id "
        f"JOIN v_ranked_chains p ON p.run_id = c.run_id AND p.chain_id = c.chain_id "
        f"WHERE c.run_id = '{run}' AND r.fold_id = '{POOLED_CV}' AND r.partition = 'val' "
        f"AND r.target = '{_quote(ranked_on)}' AND r.metric = '{plan.rank_metric}' "
        f"GROUP BY r.value, c.chain_id, c.branch_name, c.preprocessing, c.n_components, c.refit "
        f"ORDER BY rank LIMIT {limit}")


def _new_run_id() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def _check_targets(plan: CompiledPlan, dataset: SpectraDataset) -> None:
    """Every target measured on every train and test row; several targets must each vary over the train rows
    (``mean_nrmse`` divides by their spread)."""
    rows = np.asarray(plan.final_fold.train_rows + plan.test_rows, dtype=np.int64)
    for target in plan.targets:
        y = dataset.target(target)
        missing = y[rows] == "" if plan.task == "classification" else ~np.isfinite(y[rows])
        bad = rows[missing]
        if bad.size:
            raise DataError(
                f"target {target!r} of dataset {dataset.name!r} is missing or not finite for {bad.size} "
                f"train/test row(s), e.g. sample ids {dataset.sample_ids[bad[:5]].tolist()}"
            )
        train = y[np.asarray(plan.final_fold.train_rows, dtype=np.int64)]
        if len(plan.targets) > 1 and not np.ptp(train) > 0:
            raise DataError(f"target {target!r} of dataset {dataset.name!r} has one value on every train row: it "
                            "cannot be modelled (remove it from `target`)")


def compile(
    spec: SpecSource, dataset: SpectraDataset | None = None, *, seed: int | None = None,
    executor: ExecutorKind = "sync", workers: int | None = None, cache: bool = True,
) -> CompiledPlan:
    """Decode and compile ``spec`` for ``dataset`` (default: embedded Tecator); ``seed`` overrides the spec's.

    ``executor`` (sync, threads, processes, dask, ray), ``workers`` and ``cache`` (reuse the workspace's node
    cache) are the runtime request the plan's ExecutionPolicy is decided from.
    """
    decoded = load_spec(spec, seed=seed)  # the seed also drives generator expansion
    data = dataset if dataset is not None else tecator()
    runtime = _runtime(executor, workers, cache)
    plan = compile_plan(decoded, data.schema(), runtime, dataset=data)
    _check_targets(plan, data)
    return plan


def _runtime(executor: ExecutorKind, workers: int | None, cache: bool) -> RuntimePolicy:
    try:
        return msgspec.convert({"executor": executor, "workers": workers, "cache": cache}, RuntimePolicy)
    except msgspec.ValidationError as exc:
        raise SpecError(f"invalid runtime policy: {exc} (executors: {', '.join(get_args(ExecutorKind))})") from None


def _cache_of(root: Path, enabled: bool, max_bytes: int | None) -> CacheStore | None:
    if not enabled:
        return None
    return workspace_cache(root, DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)


@dataclass(frozen=True)
class RunResult:
    """A completed run in a workspace: its identities, ranked chains, SQL and DAG picture."""

    run_id: str
    workspace: Path
    plan: CompiledPlan
    dataset: SpectraDataset
    seconds: float

    @property
    def dataset_hash(self) -> str:
        return self.plan.dataset_hash

    @property
    def pipeline_hash(self) -> str:
        return self.plan.pipeline_hash

    def sql(self, query: str) -> pa.Table:
        """Run read-only SQL over the workspace tables and views; returns a pyarrow Table."""
        return open_session(self.workspace).sql(query)

    def top(self, n: int = 5) -> pa.Table:
        """The ``n`` best chains of this run: regression by pooled RMSECV (RMSEP where the chain was refit);
        classification by the run's rank metric (cv and refit test accuracy and balanced accuracy); several targets
        by the run's rank metric (``mean_nrmse`` or one target's rmse) with ``rmsecv_<target>`` and ``rmsep_<target>``
        of each target."""
        if len(self.plan.targets) > 1:
            return self.sql(multi_target_ranking(self.plan, self.run_id, int(n)))
        if self.plan.task == "classification":
            columns, view = ("rank, chain_id, branch_name, preprocessing, model, n_components, rank_metric, "
                             "cv_accuracy, cv_balanced_accuracy, test_accuracy, test_balanced_accuracy, refit",
                             "v_ranked_classifiers")
        else:
            columns, view = "rank, chain_id, branch_name, preprocessing, n_components, rmsecv, rmsep, refit", \
                "v_ranked_chains"
        return self.sql(f"SELECT {columns} FROM {view} WHERE run_id = '{self.run_id}' ORDER BY rank LIMIT {int(n)}")

    @property
    def best(self) -> dict[str, Any]:
        """The best chain (rank 1) as a dict: chain_id, preprocessing, n_components, rmsecv, rmsep (regression) or
        cv_accuracy, cv_balanced_accuracy, test_accuracy... (classification)."""
        return self.top(1).to_pylist()[0]

    @property
    def provenance(self) -> DecisionProvenanceGraph:
        """The run's DecisionProvenanceGraph (every decision with its reason and evidence)."""
        return decode_provenance(read_document(self.workspace, self.run_id, "decision_provenance.json"))

    @property
    def validation(self) -> PolicyValidation:
        """The compiler's PolicyValidation artifact stored with this run."""
        return decode_validation(read_document(self.workspace, self.run_id, "policy_validation.json"))

    def dag(self, path: str | Path | None = None, *, folds: bool = False) -> graphviz.Digraph | Path:
        """The executed DAG of this run, coloured by node duration and marking cache hits: a graphviz object
        (renders in a notebook), or written to ``path`` (svg/png/pdf/dot). ``folds`` draws every fold node."""
        dr = _build_driver(self.plan, self.dataset)
        overlay = _run_overlay(self.workspace, self.run_id)
        return write_dag(dr, path, folds=folds, overlay=overlay) if path is not None else dag_graph(
            dr, folds=folds, overlay=overlay)

    def export(self, path: str | Path, chain: str = "best", *, key: str | bytes | None = None) -> Path:
        """Write a bundle of a refit chain (``best`` or a chain id) to ``path``; see :func:`export`."""
        return export(self.workspace, self.run_id, path, chain=chain, key=key)


def run(
    spec: SpecSource, dataset: SpectraDataset | None = None, *, workspace: str | Path = "workspace",
    seed: int | None = None, executor: ExecutorKind = "sync", workers: int | None = None,
    dask_client: Any | None = None, cache: bool = True, cache_max_bytes: int | None = None,
    progress: bool | Console = False,
) -> RunResult:
    """Compile and run ``spec`` on ``dataset`` (default: embedded Tecator), writing results to ``workspace``.

    ``executor``: ``sync`` (default), ``threads``, ``processes`` (local worker processes), ``dask`` (a local
    cluster on loopback, or your ``dask_client``) or ``ray``; every executor gives bit-identical predictions.
    Everything that can be checked is checked before the workspace is touched. A failure during execution
    marks the run ``failed`` in the ``runs`` table with its error, then re-raises.

    ``cache``: reuse (and store) hoisted and per-fold fit nodes in ``<workspace>/cache`` whose step identity and
    input data are unchanged (not with ``dask``, whose nodes run outside the cache); the folder is kept under
    ``cache_max_bytes`` (default 2 GiB; least recently used entries go first).
    ``progress``: draw a progress bar (on the terminal, or on the rich Console given).
    """
    data = dataset if dataset is not None else tecator()
    decoded_spec = load_spec(spec, seed=seed)
    plan = compile(decoded_spec, data, executor=executor, workers=workers, cache=cache)
    console = progress if isinstance(progress, Console) else (Console() if progress else None)
    store = WorkspaceStore(workspace)
    row = RunRow(
        run_id=_new_run_id(), status="running", started_at=dt.datetime.now(dt.UTC), finished_at=None,
        dataset_hash=plan.dataset_hash, pipeline_hash=plan.pipeline_hash, plan_hash=plan.plan_hash,
        seed=plan.seed, nirdag_version=NIRDAG_VERSION, error=None, host=socket.gethostname(), pid=os.getpid(),
    )
    store.begin_run(row)
    written: list[str] = []  # blobs this run created: removed again if it fails and nothing else uses them
    try:
        save_dataset(store, data)
        store.write("pipelines", pa.Table.from_pylist([{
            "pipeline_hash": plan.pipeline_hash, "name": plan.name, "target": plan.target_label,
            # spec order matters (branch order is structure): encoded as written, not with sorted keys
            "spec_json": msgspec.json.encode(decoded_spec).decode()}], schema=TABLE_SCHEMAS["pipelines"]))
        if plan.validation is not None:
            store.write_document(row.run_id, "policy_validation.json", plan.validation.to_json())
        result = execute_plan(plan, data, dask_client=dask_client,
                              cache=_cache_of(store.root, plan.policy.cache.enabled, cache_max_bytes),
                              progress=console)
        artifacts, written = persist_fits(store.root, plan, result.fits)
        store.write_results(row.run_id, {**result.tables(), "artifacts": artifacts})
        views = view_decisions(open_session(store.root, policy=plan.policy), row.run_id)
        store.write_document(row.run_id, VIEW_DECISIONS, view_decisions_json(views))
        store.write_document(row.run_id, "decision_provenance.json",
                             run_provenance(row.run_id, plan, raw_spec(spec), result, views).to_json())
        store.complete_run(row)
    except BaseException as exc:
        store.delete_run_results(row.run_id)
        housekeeping.remove_unreferenced(store, written)
        store.fail_run(row, f"{type(exc).__name__}: {exc}")  # the documents stay: they explain the failed run
        raise
    return RunResult(run_id=row.run_id, workspace=store.root, plan=plan, dataset=data, seconds=result.seconds)


def build_driver(
    spec: SpecSource | CompiledPlan, dataset: SpectraDataset | None = None, *adapters: Any, seed: int | None = None,
) -> hamilton.driver.Driver:
    """The Hamilton Driver a run of ``spec`` on ``dataset`` (default: embedded Tecator) executes, to hold directly.

    ``spec`` may be a spec or a plan from :func:`compile` (for that plan's dataset). ``adapters`` are Hamilton
    lifecycle adapters, attached as Hamilton's documentation says. Stable node names: ``spectra``, ``targets``,
    ``chain_ranking``, ``refit_models``, ``oof_predictions``, ``refit_predictions``, ``chain_scores``,
    ``chain_table`` (see docs/engine.md for the generated per-step and per-fold nodes). ``nirdag.run`` executes
    exactly this driver, then writes the Arrow tables it returns to the workspace.
    """
    data = dataset if dataset is not None else tecator()
    plan = spec if isinstance(spec, CompiledPlan) else compile(spec, data, seed=seed)
    return _build_driver(plan, data, *adapters)


def export(workspace: str | Path, run_id: str, path: str | Path, *, chain: str = "best",
           key: str | bytes | None = None) -> Path:
    """Write a bundle of a run's refit chain to ``path``: manifest, fitted objects (skops), member hashes.

    ``chain`` is ``best`` (the refit chain with the lowest RMSECV), a chain_id or a unique prefix of it. The
    bundle is signed (HMAC-SHA256) when ``key`` is given or ``$NIRDAG_BUNDLE_KEY`` is set.
    """
    return export_chain(workspace, run_id, chain, path, key=key, nirdag_version=NIRDAG_VERSION)


PredictData = SpectraDataset | np.ndarray


def replay(workspace: str | Path, run_id: str, data: PredictData, *, chain: str = "best", fold_mean: bool = False,
           resample: bool = False, sample_ids: Sequence[str] | None = None) -> pa.Table:
    """Predict new spectra with a refit chain straight from a workspace (its blobs, verified by hash)."""
    fitted = workspace_chain(workspace, run_id, chain)
    return predict_chain(fitted, data, fold_mean=fold_mean, resample=resample, sample_ids=sample_ids)


def dag(spec: SpecSource, output: str | Path, dataset: SpectraDataset | None = None, *, folds: bool = False) -> Path:
    """Compile ``spec`` (default dataset: embedded Tecator) and draw its Hamilton DAG to ``output``.

    Folds of a sweep group are one node unless ``folds``; labels name the operator and its key parameters.
    """
    data = dataset if dataset is not None else tecator()
    return write_dag(_build_driver(compile(spec, data), data), output, folds=folds)


def _run_overlay(workspace: Path, run_id: str) -> RunOverlay:
    quoted = run_id.replace("'", "''")
    rows = open_session(workspace).sql(
        f"SELECT node, seconds, cache FROM events WHERE run_id = '{quoted}'").to_pylist()
    return RunOverlay(seconds={r["node"]: r["seconds"] for r in rows},
                      cached=frozenset(r["node"] for r in rows if r["cache"] == "hit"))


def query(sql: str, workspace: str | Path = "workspace", *, as_of: int | dt.datetime | None = None) -> pa.Table:
    """Read-only SQL over a workspace's tables and semantic views, optionally as of a Delta version or time."""
    return open_session(workspace, as_of=as_of).sql(sql)


def query_with_metrics(sql: str, workspace: str | Path = "workspace", *,
                       as_of: int | dt.datetime | None = None) -> tuple[pa.Table, ScanMetrics, Path]:
    """Like :func:`query`, and measure what the query scanned: files in the tables it reads vs files opened, rows
    read. The ScanMetrics artifact is also written under ``<workspace>/provenance/scans/``; returns its path."""
    session = open_session(workspace, as_of=as_of)
    table, metrics = session.sql_with_metrics(sql)
    return table, metrics, record_scan_metrics(session.root, metrics)
