"""The public functions: run a pipeline into a workspace, and read its results back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import msgspec
import numpy as np
import pyarrow as pa
from rich.console import Console

from datafusion_engine import Workspace
from datafusion_engine.spectra_store import read_delta_source
from hamilton_pipeline import build_driver as _build_driver
from hamilton_pipeline import cv_session
from hamilton_pipeline.picture import RunOverlay, dag_graph, write_dag
from nirdag.bundle import derive, predict_chain
from nirdag.bundle.derive import RetrainMode, TransferMethod
from nirdag.bundle.export import export_chain, workspace_chain
from nirdag.plots import RunData, RunPlots
from nirdag.run_calibration import CALIBRATION_DOCUMENT, asked, calibrate_plan, calibrated_runtime, check_mode
from nirdag.run_service import NIRDAG_VERSION, RunExtras, execute_run
from nirdag.sql import WorkspaceLike, resolve_run
from nirs_core.conformal import IntervalScale
from nirs_core.data import SpectraDataset, dataset_from_parts, load_parts, tecator
from nirs_core.data.errors import DataError
from nirs_core.data.from_parts import NonFinite
from nirs_core.data.load_options import check_options
from nirs_core.data.loading import FileFormat, detect_format
from nirs_core.data.reference_join import JoinOn
from nirs_core.data.table_loader import ColumnRoles, parts_from_table
from relspec import CompiledPlan, PipelineSpec, RuntimePolicy, SpecError, compile_plan
from relspec.calibration import CalibrationMode, PolicyCalibration, decode_calibration
from relspec.policy import CacheAdmission, ExecutorKind
from relspec.provenance import DecisionProvenanceGraph, decode_provenance
from relspec.source import LoadedSpec, SpecSource, read_spec
from relspec.tasks import declared_labels, spec_targets
from relspec.validation import PolicyValidation, decode_validation
from semantics import open_session, queries

if TYPE_CHECKING:  # annotations only: the engine's types stay in hamilton_pipeline
    import graphviz
    import hamilton.driver

DatasetFormat = FileFormat | Literal["delta"]
_WIDE_TABLES = ("csv", "parquet", "xlsx", "delta")  # the formats whose columns are named (metadata_columns)


def load_dataset(
    path: str | Path, *, format: DatasetFormat | None = None, targets: Sequence[str] = (),
    id_column: str | None = None, partition_column: str | None = None, metadata_columns: Sequence[str] = (),
    wavelengths: Sequence[float] | None = None, wavelength_unit: str | None = None, delimiter: str | None = None,
    header: bool | None = None, name: str | None = None, on_nonfinite: NonFinite = "error",
    decimal: str | None = None, sheet: str | None = None, targets_file: str | Path | None = None,
    join_on: JoinOn = "title", targets_key: str | None = None, label_targets: Sequence[str] = (),
    detect_columns: bool = True, not_spectral: Sequence[str] = (), sample_column: str | None = None,
) -> SpectraDataset:
    """Load spectra from a file or folder; the format is detected from the path unless named.

    Bad input stops with a DataError naming the file, row and column. An option the format does not read (e.g.
    ``partition_column`` for ``npz``, ``wavelengths`` for ``jcamp``) is an ``UnusedOptionError`` naming both;
    see ``nirs_core.data.load_options`` for which format reads which.

    Parameters
    ----------
    path : str or Path
        The file or folder.
    format : {"csv", "parquet", "xlsx", "npz", "mat", "nirs4all", "jcamp", "opus", "spc", "delta"}, optional
        ``csv`` (wide CSV/TSV, ``.gz`` allowed: numeric headers are wavelengths, the other columns are the named
        targets/id/partition or metadata), ``parquet`` (wide, or a ``spectrum`` list column), ``xlsx`` (one sheet
        laid out like the wide CSV), ``npz`` and ``mat`` (MATLAB v5 or v7.3; both with variables ``X``, ``y``,
        ``wavelengths``, ... or ``X_train``/``y_train``/...), ``nirs4all`` (a folder of X/Y/M cal-val or
        train-test files), ``jcamp`` (a ``.jdx``/``.dx`` file or a folder of them), ``opus`` (a Bruker OPUS file
        ``*.0`` or a folder of them), ``spc`` (a Thermo/Galactic ``.spc`` file or a folder of them), ``delta`` (a
        Delta table, read like Parquet). Default: detected from the path.
    targets : sequence of str
        Target columns of a wide table (numbers, or class labels when a column holds no number); with
        ``targets_file``, columns of that file. A column a spec names as its target is read as that target by
        ``nirdag.run`` even when not listed here.
    id_column, partition_column : str, optional
        The sample id column and the partition column (train/test, cal/val...) of a wide table; default: a column
        named ``sample_id``/``id``/``sample`` with unique values, and one named ``partition``/``set``/``split``
        holding partition labels (``dataset.load_notes`` says what was found).
    metadata_columns : sequence of str
        Metadata columns whose headers are not numbers.
    wavelengths : sequence of float, optional
        The axis, in place of the file's (wide tables, npz, mat, nirs4all; JCAMP, OPUS and SPC state their own).
    wavelength_unit : str, optional
        Unit of the axis (e.g. ``nm``, ``cm-1``).
    delimiter, decimal : str, optional
        A CSV's delimiter (``,`` ``;`` tab) and decimal separator (``.``, or ``,`` as many locales export with
        ``;``); detected unless given.
    header : bool, optional
        Whether a nirs4all-format file has a header row (detected unless given).
    name : str, optional
        The dataset's name (default: the file name without its suffixes).
    on_nonfinite : {"error", "drop"}
        Spectra with NaN/inf are an error unless ``"drop"``, which drops those rows and warns with their ids.
    sheet : str, optional
        The sheet of an ``xlsx`` workbook (default: the first).
    targets_file : str or Path, optional
        A CSV of reference values joined to the spectra (for JCAMP-DX, OPUS and SPC, which carry none): one row
        per sample, its numeric columns become targets, a ``partition`` column the partition, the rest metadata.
        A spectrum without a row, or a sample on two rows, is a DataError naming the sample.
    join_on : {"title", "sample_id"}
        What of each spectrum is looked up in the CSV: its title (JCAMP ``##TITLE``, OPUS sample name, SPC
        comment) or its sample id (the file stem; an OPUS file's name).
    targets_key : str, optional
        The CSV column holding the sample names (default: its first column).
    label_targets : sequence of str
        Targets to read as class labels although they hold numbers (integer-coded classes, e.g. grades 1/2/3).
    detect_columns : bool
        Look for conventional id and partition columns when none is named (default True).
    not_spectral : sequence of str
        Columns that are never spectra if the table has them (kept as metadata), e.g. the targets of the model a
        file of new spectra is predicted with.
    sample_column : str, optional
        The column naming the physical sample of each spectrum, when samples were scanned several times
        (replicates): every split then keeps a sample's spectra in one fold, and scores are reported per spectrum
        and per sample (the mean of its replicates' predictions). A wide table's column is read as metadata; other
        formats name a metadata column they hold. A missing column, an empty cell or a sample with spectra in
        both train and test is a DataError naming them.

    Returns
    -------
    SpectraDataset

    Examples
    --------
    >>> ds = nirdag.load_dataset("spectra.csv", targets=["fat"], id_column="id")  # doctest: +SKIP
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if sample_column is not None and fmt in _WIDE_TABLES and sample_column not in metadata_columns:
        metadata_columns = (*metadata_columns, sample_column)
    if fmt == "delta":
        check_options(str(path), "delta", {
            "delimiter": delimiter, "header": header, "decimal": decimal, "sheet": sheet,
            "targets_file": targets_file, "join_on": join_on, "targets_key": targets_key})
        roles = ColumnRoles(tuple(targets), id_column, partition_column, tuple(metadata_columns),
                            detect=detect_columns, not_spectral=tuple(not_spectral))
        parts = parts_from_table(path, read_delta_source(path), roles, delimiter=None, wavelengths=wavelengths,
                                 wavelength_unit=wavelength_unit)
    else:
        parts = load_parts(path, format=fmt, targets=targets, id_column=id_column, partition_column=partition_column,
                           metadata_columns=metadata_columns, wavelengths=wavelengths,
                           wavelength_unit=wavelength_unit, delimiter=delimiter, header=header, decimal=decimal,
                           sheet=sheet, targets_file=targets_file, join_on=join_on, targets_key=targets_key,
                           detect_columns=detect_columns, not_spectral=not_spectral)
    dataset = dataset_from_parts(parts, name=name or path.name.split(".")[0], on_nonfinite=on_nonfinite)
    dataset = dataset.with_replicates(sample_column) if sample_column is not None else dataset
    return dataset.with_label_targets(label_targets) if label_targets else dataset


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


def as_declared(spec: PipelineSpec, dataset: SpectraDataset) -> SpectraDataset:
    """The dataset as the spec reads it: a spec target that was loaded as a metadata column (a wide table's column
    not named in ``targets=``) becomes that target, and the targets the spec declares labels (``target: {name:
    grade, kind: label}``) are read as labels (integer codes become label strings). Unchanged otherwise."""
    dataset = dataset.with_targets_from_metadata(spec_targets(spec))
    labels = [t for t in declared_labels(spec) if t in dataset.target_names]
    return dataset.with_label_targets(labels) if labels else dataset


def compile(
    spec: SpecSource, dataset: SpectraDataset | None = None, *, seed: int | None = None,
    executor: ExecutorKind = "sync", workers: int | None = None, cache: bool = True,
    cache_admission: CacheAdmission = "cost",
) -> CompiledPlan:
    """Decode and compile ``spec`` for ``dataset`` (default: embedded Tecator); ``seed`` overrides the spec's.

    ``executor`` (sync, threads, processes, dask, ray), ``workers`` and ``cache`` (reuse the workspace's node
    cache) are the runtime request the plan's ExecutionPolicy is decided from.
    """
    decoded = read_spec(spec, seed=seed).spec  # the seed also drives generator expansion
    data = as_declared(decoded, dataset if dataset is not None else tecator())
    return _compiled(decoded, data, _runtime(executor, workers, cache, cache_admission))


def _compiled(spec: PipelineSpec, data: SpectraDataset, runtime: RuntimePolicy) -> CompiledPlan:
    plan = compile_plan(spec, data.schema(), runtime, dataset=data)
    _check_targets(plan, data)
    return plan


def _runtime(executor: ExecutorKind, workers: int | None, cache: bool, admission: CacheAdmission) -> RuntimePolicy:
    try:
        return msgspec.convert({"executor": executor, "workers": workers, "cache": cache,
                                "cache_admission": admission}, RuntimePolicy)
    except msgspec.ValidationError as exc:
        raise SpecError(f"invalid runtime policy: {exc} (executors: {', '.join(get_args(ExecutorKind))})") from None


@dataclass(frozen=True)
class RunResult:
    """A completed run in a workspace: its identities, ranked chains, SQL and DAG picture.

    ``workspace`` is the folder; ``handle`` the :class:`datafusion_engine.Workspace` every read goes through.
    """

    run_id: str
    handle: Workspace
    plan: CompiledPlan
    dataset: SpectraDataset
    seconds: float
    reused: bool = False  # an identical plan's completed run, returned instead of computing it again
    # a tuned run's study: best trial, value, params (spec path -> value), chain_id, trials, stopped (else None)
    study: dict[str, Any] | None = None

    @property
    def workspace(self) -> Path:
        return self.handle.root

    @property
    def dataset_hash(self) -> str:
        return self.plan.dataset_hash

    @property
    def pipeline_hash(self) -> str:
        return self.plan.pipeline_hash

    def sql(self, query: str) -> pa.Table:
        """Run read-only SQL over the workspace tables and views; returns a pyarrow Table."""
        return open_session(self.handle).sql(query)

    def top(self, n: int = 5) -> pa.Table:
        """The ``n`` best chains of this run in the run's ranking (``chains.rank``): regression by pooled RMSECV
        (RMSEP where the chain was refit); classification by the run's rank metric (cv and refit test accuracy and
        balanced accuracy); several targets by the run's rank metric (``mean_nrmse`` or one target's rmse) with
        ``rmsecv_<target>`` and ``rmsep_<target>`` of each target."""
        session = open_session(self.handle)
        if len(self.plan.targets) > 1:
            return queries.ranked_multi_target(session, self.run_id, self.plan.targets, self.plan.rank_metric, n)
        if self.plan.task == "classification":
            return queries.ranked_classifiers(session, self.run_id, n)
        return queries.ranked_regression(session, self.run_id, n)

    @property
    def best(self) -> dict[str, Any]:
        """The best chain as a dict: chain_id, preprocessing, n_components, rmsecv, rmsep (regression) or
        cv_accuracy, cv_balanced_accuracy, test_accuracy... (classification). It is the refit chain ranked first
        (what ``export --chain best`` exports): rank 1, unless ``refit.select`` chose fewer components in its
        sweep than the lowest RMSECV has."""
        first = self.top(1).to_pylist()[0]
        if self.plan.refit.select == "min" or first.get("refit"):
            return first
        return next(r for r in self.top(len(self.plan.chains)).to_pylist() if r.get("refit"))

    @property
    def provenance(self) -> DecisionProvenanceGraph:
        """The run's DecisionProvenanceGraph (every decision with its reason and evidence)."""
        return decode_provenance(self.handle.read_document(self.run_id, "decision_provenance.json"))

    @property
    def calibration(self) -> PolicyCalibration | None:
        """The run's PolicyCalibration artifact (None for a run calibrated ``off``)."""
        if not self.handle.has_document(self.run_id, CALIBRATION_DOCUMENT):
            return None
        return decode_calibration(self.handle.read_document(self.run_id, CALIBRATION_DOCUMENT))

    @property
    def validation(self) -> PolicyValidation:
        """The compiler's PolicyValidation artifact stored with this run."""
        return decode_validation(self.handle.read_document(self.run_id, "policy_validation.json"))

    def dag(self, path: str | Path | None = None, *, folds: bool = False) -> graphviz.Digraph | Path:
        """The executed DAG of this run, coloured by node duration and marking cache hits: a graphviz object
        (renders in a notebook), or written to ``path`` (svg/png/pdf/dot). ``folds`` draws every fold node."""
        dr = _build_driver(self.plan, self.dataset)
        overlay = _run_overlay(self.handle, self.run_id)
        return write_dag(dr, path, folds=folds, overlay=overlay) if path is not None else dag_graph(
            dr, folds=folds, overlay=overlay)

    @property
    def plot(self) -> RunPlots:
        """The run's figures, one method per kind, each returning a matplotlib Figure:
        ``r.plot.pred_vs_measured(chain="best")``, ``r.plot.influence()``, ``r.plot("components")``... (kinds:
        ``nirdag.plots.PLOT_KINDS``; ``nirdag.plots.save(fig, "out.svg")`` writes one)."""
        return RunPlots(RunData(self.handle, self.run_id, self.plan, self.dataset))

    def export(self, path: str | Path, chain: str = "best", *, key: str | bytes | None = None) -> Path | str:
        """Write a bundle of a refit chain (``best`` or a chain id) to ``path``; see :func:`export`."""
        return export(self.handle, self.run_id, path, chain=chain, key=key)


def run(
    spec: SpecSource, dataset: SpectraDataset | None = None, *, workspace: WorkspaceLike = "workspace",
    seed: int | None = None, executor: ExecutorKind = "sync", workers: int | None = None,
    dask_client: Any | None = None, cache: bool = True, cache_max_bytes: int | None = None,
    cache_admission: CacheAdmission = "cost", reuse: bool = True, progress: bool | Console = False,
    calibration: CalibrationMode = "observe",
) -> RunResult:
    """Compile and run a pipeline spec on a dataset, writing its results into a workspace.

    Everything that can be checked (the spec, the dataset, the targets) is checked before the workspace is
    touched. The run is one transaction: a failure during execution removes its result rows, marks it ``failed``
    in the ``runs`` table with its error, and is raised again.

    Parameters
    ----------
    spec : str, Path, dict, PipelineSpec or LoadedSpec
        The pipeline: a YAML/JSON file, its parsed mapping, a spec built in Python, or one read with
        ``relspec.source.read_spec`` (the source is read once; provenance records the text that ran).
    dataset : SpectraDataset, optional
        The spectra and targets (default: the embedded Tecator data).
    workspace : str, Path or Workspace
        The workspace folder (created on first use).
    seed : int, optional
        Seed of every random choice (generator expansion, splitters, models); overrides the spec's seed.
    executor : {"sync", "threads", "processes", "dask", "ray"}
        Where the nodes run; every executor gives bit-identical predictions. ``dask`` starts a local cluster on
        loopback unless ``dask_client`` is given.
    workers : int, optional
        Workers of a parallel executor (default: one per CPU, capped by the DAG's width).
    dask_client : dask.distributed.Client or str, optional
        A client of your own cluster, or its scheduler's address ``tcp://HOST:PORT``, for ``executor="dask"``.
        The workers read the spectra from the workspace (give one they can reach, e.g. ``s3://bucket/prefix``)
        rather than receiving them through the scheduler; their results come back here, to the one writer.
    cache : bool
        Reuse (and store) hoisted and per-fold fit nodes in ``<workspace>/cache`` whose step identity and input
        data are unchanged (not with ``dask``, whose nodes run outside the cache); and, with ``reuse``, return
        the workspace's completed run of the identical plan instead of running it again.
    cache_max_bytes : int, optional
        Size cap of the cache folder (default 2 GiB; least recently used entries go first).
    cache_admission : {"cost", "all"}
        ``cost`` (default) stores a computed node only when computing it again would cost more than writing and
        reading it (a cheap row-wise transform of many spectra is recomputed); ``all`` stores every one.
    reuse : bool
        With ``cache``: when the workspace holds a completed run of this exact plan (same spec, dataset, seed and
        execution policy, made by this nirdag version, its fitted objects still stored), return that run
        (``RunResult.reused``) instead of computing it again. ``False`` always runs.
    progress : bool or rich.console.Console
        Draw a progress bar (on the terminal, or on the Console given).
    calibration : {"observe", "apply", "off"}
        ``observe`` (default) writes the run's ``policy_calibration.json``: what the measured runs of its workload
        class propose for the executor, the cache's admission costs and the views' DataFusion session (target
        partitions, batch size), changing nothing, and, for the first runs of a class, what its views scanned;
        ``apply`` runs with the proposals (bounded: one step per run, reverted when measured slower; no
        prediction can change); ``off`` writes no calibration (the run's metrics are recorded either way).

    Returns
    -------
    RunResult
        The completed run: ``run_id``, ``best``, ``top(n)``, ``sql(...)``, ``provenance``, ``export(...)``.

    Examples
    --------
    >>> import nirdag
    >>> r = nirdag.run("examples/tecator_pls.yaml", workspace="ws", seed=0)  # doctest: +SKIP
    >>> r.best["rmsecv"]                                                     # doctest: +SKIP
    2.0921...
    """
    mode = check_mode(calibration)
    loaded = read_spec(spec, seed=seed)
    data = as_declared(loaded.spec, dataset if dataset is not None else tecator())
    runtime = _runtime(executor, workers, cache, cache_admission)
    plan = _compiled(loaded.spec, data, runtime)
    console = progress if isinstance(progress, Console) else (Console() if progress else None)
    handle = Workspace.of(workspace)
    calibrated = calibrate_plan(handle, plan, runtime, mode)
    if calibrated is not None and calibrated.settings != asked(runtime):
        runtime = calibrated_runtime(runtime, calibrated)
        plan = _compiled(loaded.spec, data, runtime)
    if loaded.spec.tune is not None:
        return _tuned_run(loaded, data, plan, runtime, handle, dask_client=dask_client,
                          cache_max_bytes=cache_max_bytes, progress=console, calibration=calibrated)
    previous = _finished_run(handle, plan) if cache and reuse else None
    if previous is not None:
        return RunResult(run_id=previous, handle=handle, plan=plan, dataset=data, seconds=0.0, reused=True)
    run_id, result = execute_run(handle, loaded, plan, data, dask_client=dask_client,
                                 cache_max_bytes=cache_max_bytes, progress=console, calibration=calibrated)
    return RunResult(run_id=run_id, handle=handle, plan=plan, dataset=data, seconds=result.seconds)


def _tuned_run(loaded: LoadedSpec, data: SpectraDataset, plan: CompiledPlan, runtime: RuntimePolicy,
               handle: Workspace, *, dask_client: Any | None, cache_max_bytes: int | None,
               progress: Console | None, calibration: PolicyCalibration | None) -> RunResult:
    """A spec with ``tune:``: its study (batches of trials, cross-validated), then one run of every trial's chains
    whose CV is the study's (not computed again), ranked together, the best refit. Never reused: a study with a
    ``timeout`` depends on the clock."""
    from nirdag import run_tuning  # here: Optuna loads only for a spec with a `tune:` block

    cache = None
    if plan.policy.cache.enabled:
        cache = handle.cache() if cache_max_bytes is None else handle.cache(cache_max_bytes)
    with cv_session(plan.policy, dask_client=dask_client, cache=cache) as session:  # one executor for the run
        study = run_tuning.run_study(loaded, data, plan, lambda spec: _compiled(spec, data, runtime), session)
        best = LoadedSpec(spec=study.best_spec, raw=loaded.raw, origin=loaded.origin, seed=loaded.seed)
        workload = plan.validation.workload if plan.validation is not None else None
        extras = RunExtras(cv_results=study.cvs, tables={"trials": study.table()}, decisions=(study.decision(),),
                           events=study.events, seconds=study.seconds,
                           workload_class=f"tuned-{workload.key if workload else ''}")
        run_id, result = execute_run(handle, best, study.plan, data, dask_client=dask_client,
                                     cache_max_bytes=cache_max_bytes, progress=progress, calibration=calibration,
                                     extras=extras, session=session)
    summary = {"trial": study.best.number, "value": study.best.value, "params": study.best.params,
               "chain_id": study.best.chain_id, "trials": len(study.trials), "stopped": study.stopped}
    return RunResult(run_id=run_id, handle=handle, plan=study.plan, dataset=data, seconds=result.seconds,
                     study=summary)


def _finished_run(handle: Workspace, plan: CompiledPlan) -> str | None:
    """The workspace's completed run of ``plan`` (the newest), if any: an identical re-run returns it."""
    if not handle.layout.has_tables():
        return None
    return queries.completed_run_of_plan(handle.session(), plan.plan_hash, NIRDAG_VERSION, needs_artifacts=True)


def build_driver(
    spec: SpecSource | CompiledPlan, dataset: SpectraDataset | None = None, *adapters: Any, seed: int | None = None,
) -> hamilton.driver.Driver:
    """The Hamilton Driver a run of ``spec`` executes, to hold directly.

    Parameters
    ----------
    spec : spec source or CompiledPlan
        A spec (as :func:`run` takes it) or a plan from :func:`compile` (for that plan's dataset).
    dataset : SpectraDataset, optional
        Default: the embedded Tecator data.
    *adapters : hamilton lifecycle adapters
        Attached as Hamilton's documentation says (e.g. ``FutureAdapter``, a timing hook).
    seed : int, optional
        Overrides the spec's seed.

    Returns
    -------
    hamilton.driver.Driver
        Stable node names: ``spectra``, ``targets``, ``chain_ranking``, ``refit_models``, ``oof_predictions``,
        ``refit_predictions``, ``chain_scores``, ``chain_table`` (docs/engine.md lists the generated per-step and
        per-fold nodes). ``nirdag.run`` executes exactly this driver, then writes the Arrow tables it returns.

    Examples
    --------
    >>> dr = nirdag.build_driver("examples/tecator_pls.yaml")  # doctest: +SKIP
    >>> dr.execute(["chain_scores"])["chain_scores"].num_rows   # doctest: +SKIP
    """
    data = dataset if dataset is not None else tecator()
    plan = spec if isinstance(spec, CompiledPlan) else compile(spec, data, seed=seed)
    return _build_driver(plan, data, *adapters)


def export(workspace: WorkspaceLike, run_id: str, path: str | Path, *, chain: str = "best",
           key: str | bytes | None = None, storage_options: Mapping[str, str] | None = None) -> Path | str:
    """Write a bundle of a run's refit chain: manifest, fitted objects (skops), member hashes, optional signature.

    Parameters
    ----------
    workspace : str, Path or Workspace
        The workspace holding the run.
    run_id : str
        A completed run of that workspace: its id, a unique prefix of it, or ``latest``.
    path : str or Path
        The bundle file to write (e.g. ``model.nirdag``).
    chain : str
        ``best`` (the refit chain ranked first by the run's ranking: lowest RMSECV or mean_nrmse, highest
        accuracy), a chain_id or a unique prefix of at least 8 characters.
    key : str or bytes, optional
        HMAC-SHA256 signing key (default: ``$NIRDAG_BUNDLE_KEY`` when set; else the bundle is unsigned).
    storage_options : mapping, optional
        For a ``path`` of ``s3://bucket/key``: options over the ``AWS_*`` environment (default: those of an
        ``s3://`` workspace).

    Returns
    -------
    Path or str
        The bundle written (a path, or its ``s3://`` URI).

    Examples
    --------
    >>> nirdag.export("ws", r.run_id, "model.nirdag")  # doctest: +SKIP
    """
    handle = Workspace.of(workspace).require()
    return export_chain(handle, resolve_run(handle, run_id), chain, path, key=key, nirdag_version=NIRDAG_VERSION,
                        storage_options=storage_options)


def retrain(bundle: str | Path, data: SpectraDataset, output: str | Path, *, mode: RetrainMode,
            key: str | bytes | None = None) -> Path:
    """Write a bundle of ``bundle``'s chain retrained on ``data`` (holding the chain's targets, on its axis).

    ``mode``: ``full`` refits every step and the model; ``transfer`` keeps the fitted preprocessing and refits the
    model; ``bias`` keeps everything and fits a slope/intercept of the reference values on the predictions. The
    manifest records ``parent_bundle_hash`` and ``data_hash``; the bundle is signed when a key is set. Nothing is
    written when the data or the bundle are refused (:class:`nirdag.bundle.derive.DeriveError` and friends).

    Examples
    --------
    >>> nirdag.retrain("model.nirdag", nirdag.load_dataset("new.csv", targets=["fat"]), "new.nirdag",
    ...                mode="bias")  # doctest: +SKIP
    """
    return derive.retrain(bundle, data, output, mode=mode, key=key, nirdag_version=NIRDAG_VERSION)


def attach_transfer(bundle: str | Path, primary: SpectraDataset, secondary: SpectraDataset, output: str | Path, *,
                    method: TransferMethod = "pds", window: int = 5, n_components: int | None = None,
                    ridge: float | None = None, key: str | bytes | None = None) -> Path:
    """Write a bundle that predicts spectra of a secondary instrument: a PDS, DS or slope/bias transfer fitted on
    transfer standards measured on both instruments (matched by sample id), carried in the bundle and applied at
    predict time (DS/PDS before the chain, slope/bias after it). See :func:`nirdag.bundle.derive.attach_transfer`.

    Examples
    --------
    >>> nirdag.attach_transfer("model.nirdag", nirdag.load_dataset("p.csv"), nirdag.load_dataset("s.csv"),
    ...                        "secondary.nirdag", method="pds", window=5)  # doctest: +SKIP
    """
    return derive.attach_transfer(bundle, primary, secondary, output, method=method, window=window,
                                  n_components=n_components, ridge=ridge, key=key, nirdag_version=NIRDAG_VERSION)


PredictData = SpectraDataset | np.ndarray


def replay(workspace: WorkspaceLike, run_id: str, data: PredictData, *, chain: str = "best",
           fold_mean: bool = False, resample: bool = False, sample_ids: Sequence[str] | None = None,
           interval: float | None = None, interval_scale: IntervalScale = "absolute") -> pa.Table:
    """Predict new spectra with a refit chain straight from a workspace (its blobs, verified by hash): the table of
    :func:`nirdag.predict`, each spectrum judged against the domain the run stored (its ``domains`` row); with
    ``interval``, the conformal interval from the run's stored out-of-fold predictions (as a bundle carries it)."""
    handle = Workspace.of(workspace).require()
    fitted = workspace_chain(handle, resolve_run(handle, run_id), chain, calibrated=interval is not None)
    return predict_chain(fitted, data, fold_mean=fold_mean, resample=resample, sample_ids=sample_ids,
                         interval=interval, interval_scale=interval_scale)


def dag(spec: SpecSource, output: str | Path, dataset: SpectraDataset | None = None, *, folds: bool = False) -> Path:
    """Compile ``spec`` (default dataset: embedded Tecator) and draw its Hamilton DAG to ``output``.

    Folds of a sweep group are one node unless ``folds``; labels name the operator and its key parameters.
    """
    data = dataset if dataset is not None else tecator()
    return write_dag(_build_driver(compile(spec, data), data), output, folds=folds)


def _run_overlay(workspace: Workspace, run_id: str) -> RunOverlay:
    rows = queries.node_events(workspace.session(), run_id)
    return RunOverlay(seconds={r["node"]: r["seconds"] for r in rows},
                      cached=frozenset(r["node"] for r in rows if r["cache"] == "hit"))
