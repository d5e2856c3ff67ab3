"""Row structs of the workspace tables and the one utility that derives their Arrow schemas."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Annotated, Literal

import msgspec
import pyarrow as pa

from relspec.calibration import CalibrationMode

_ROW = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

RunStatus = Literal["running", "completed", "failed"]
PartitionName = Literal["train", "val", "test"]
ArtifactType = Literal["transformer", "model", "splitter", "y_transform", "meta_model"]
# hit / miss: served by the node cache; off: a cacheable node run with the cache disabled; uncached: never cached
# hit: served; miss: computed and stored; skipped: computed, not worth storing (cache admission); off: cache off
CacheStatus = Literal["hit", "miss", "skipped", "off", "uncached"]
# what a DAG node does: the dataset's inputs, a hoisted step, a fold fit, a group's pooled CV, a stack, a result
ScoreLevel = Literal["spectrum", "sample"]  # relspec.refit_spec's levels: what a score is over
NodeKind = Literal["data", "hoisted", "fold_fit", "cv", "stack", "result"]

# Typed column roles: what a column identifies, declared on the row structs so joins are found from roles, not names.
ColumnRole = Literal["run_id", "chain_id", "dataset_id", "sample_id", "target", "sample_metadata"]


def _role(role: ColumnRole) -> msgspec.Meta:
    return msgspec.Meta(extra={"role": role})


RunId = Annotated[str, _role("run_id")]
ChainId = Annotated[str, _role("chain_id")]
DatasetId = Annotated[str, _role("dataset_id")]
SampleId = Annotated[str, _role("sample_id")]
Target = Annotated[str, _role("target")]
SampleMetadata = Annotated[dict[str, str], _role("sample_metadata")]


class RunRow(msgspec.Struct, **_ROW):
    run_id: RunId
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    dataset_hash: DatasetId
    pipeline_hash: str
    plan_hash: str
    seed: int
    nirdag_version: str
    error: str | None
    host: str
    pid: int


class PipelineRow(msgspec.Struct, **_ROW):
    """A pipeline as run: its identity and its decoded spec (canonical JSON, generators expanded)."""

    pipeline_hash: str
    name: str
    target: str
    spec_json: str


class EventRow(msgspec.Struct, **_ROW):
    """A structured event of a run: for now one per executed DAG node (where the time went, cache outcome)."""

    run_id: RunId
    event: str
    node: str
    started_at: dt.datetime
    seconds: float
    status: str
    worker: str
    # Null in rows written before the node cache existed; every newer row has one.
    cache: CacheStatus | None
    cache_key: str | None  # display form (8 characters) of the node's cache key; null for uncached nodes


class NodeMetricRow(msgspec.Struct, **_ROW):
    """What one executed node measured: its kind and step identity, seconds, output size and cache costs.

    ``step`` is the full identity of what the node computes (a hoisted prefix's node id, a sweep or stack group id;
    null for data and result nodes). ``cache_read_seconds`` is the time spent looking the node up (null when the
    cache did not serve its kind); ``cache_write_seconds`` the time spent storing it (null when nothing was stored).
    """

    run_id: RunId
    node: str
    kind: NodeKind
    step: str | None
    seconds: float
    output_bytes: int
    cache: CacheStatus
    cache_read_seconds: float | None
    cache_write_seconds: float | None


class RunMetricRow(msgspec.Struct, **_ROW):
    """What one run measured as a whole, and the policy values it ran with (the calibration's history).

    ``startup_seconds`` is the time to start the executor's workers (0 for sync and threads); ``engine_seconds``
    the DAG's execution including start-up; ``wall_seconds`` the run from its begin to its results being written;
    ``peak_rss_bytes`` the peak resident memory of this process (and of its finished worker processes).
    """

    run_id: RunId
    workload_class: str
    executor: str
    workers: int
    startup_seconds: float
    engine_seconds: float
    wall_seconds: float
    peak_rss_bytes: int
    nodes: int
    node_seconds: float  # the sum of its nodes' seconds
    cache_enabled: bool
    write_bytes_per_s: float
    read_bytes_per_s: float
    entry_seconds: float
    calibration: CalibrationMode
    applied: list[str]  # the knobs the calibration changed for this run (apply mode)
    # added with the views' session knobs (null in rows written before): the seconds of the nodes a parallel
    # executor runs side by side, the views' session settings, and what the run's views scanned (null when they
    # were not measured: calibration off)
    parallel_seconds: float | None = None
    target_partitions: int | None = None
    batch_size: int | None = None
    view_seconds: float | None = None
    view_files_total: int | None = None
    view_files_scanned: int | None = None
    view_rows_read: int | None = None
    view_max_rows: int | None = None
    view_filters_pushed: int | None = None


class ChainRow(msgspec.Struct, **_ROW):
    run_id: RunId
    chain_id: ChainId
    pipeline_hash: str
    branch_path: list[int]
    branch_name: str
    preprocessing: str
    model: str
    n_components: int | None
    params_json: str
    dataset_hash: DatasetId
    refit: bool
    # the pooled CV metric the chain was ranked by (rmse, mean_nrmse, accuracy, balanced_accuracy); null in rows
    # written before classification existed, which were all ranked by rmse
    rank_metric: str | None = None
    # the scores.target whose rank_metric ranks the chain ('*' for mean_nrmse over several targets); null in rows
    # written before multi-target runs existed (one target: its own)
    rank_target: str | None = None
    # the chain's place in its run's ranking (1 = best: cv_loss, then fewer components, then chain_id) and the value
    # ranked by, lower is better (the rank metric's pooled CV value, negated for an accuracy); null in rows written
    # before the engine stored its ranking
    rank: int | None = None
    cv_loss: float | None = None
    # what the ranking scored: each 'spectrum', or each 'sample' (the mean prediction of its replicates, when the
    # dataset declares them); null only in rows written before replicates, which the upgrade makes 'spectrum'
    rank_level: ScoreLevel | None = None


class TrialRow(msgspec.Struct, **_ROW):
    """One trial of a tuned run's study: its values (``params_json``: spec path -> value, sorted keys), the best
    pooled CV loss of its chains (``value``, as chains.cv_loss) and that chain, its state and its batch."""

    run_id: RunId
    trial: int
    chain_id: ChainId
    params_json: str
    value: float
    state: Literal["complete", "pruned"]
    seconds: float  # its batch's wall time shared equally among the batch's trials
    batch: int


class PredictionRow(msgspec.Struct, **_ROW):
    run_id: RunId
    chain_id: ChainId
    fold_id: str
    partition: PartitionName
    sample_id: SampleId
    target: Target
    y_true: float  # classification: the class code (index into the run's sorted classes)
    y_pred: float
    # classification: the labels of y_true / y_pred; null for regression (and in rows written before them)
    label_true: str | None = None
    label_pred: str | None = None


class ScoreRow(msgspec.Struct, **_ROW):
    run_id: RunId
    chain_id: ChainId
    fold_id: str
    partition: PartitionName
    target: Target
    metric: str
    value: float
    # 'spectrum': each spectrum's prediction; 'sample': each sample's mean prediction over its replicates (when the
    # dataset declares them); null only in rows written before replicates, which the upgrade makes 'spectrum'
    level: ScoreLevel | None = None


Domain = Literal["regular", "extreme", "outlier"]


class ComponentDiagnosticRow(msgspec.Struct, **_ROW):
    """A refit chain's errors and explained variance at each component count of its sweep group (fold_final refit
    at the group's largest count for rmsec/rmsep and the explained variances; the pooled CV for rmsecv).

    ``x_explained`` is the share of the preprocessed (centred, and scaled when the model scales) calibration X
    variance that component reconstructs, ``y_explained`` the share of the target's calibration variance (the
    calibration R² gained by that component); ``*_cum`` are the running totals. ``rmsep`` is null without test rows.
    """

    run_id: RunId
    chain_id: ChainId
    target: Target
    n_components: int
    rmsec: float
    rmsecv: float | None
    rmsep: float | None
    x_explained: float | None
    x_explained_cum: float | None
    y_explained: float
    y_explained_cum: float


class VariableImportanceRow(msgspec.Struct, **_ROW):
    """A refit chain's model per input variable (the preprocessed spectrum's columns, ``variable`` 0-based):
    regression coefficient (applied to the centred preprocessed spectrum), VIP (Wold), selectivity ratio, and the
    X loadings and weights of the first three components (null beyond the model's count)."""

    run_id: RunId
    chain_id: ChainId
    target: Target
    variable: int
    wavelength: float  # the model input's axis value (nm, cm-1, or the column index when no axis is known)
    coefficient: float | None
    vip: float | None
    selectivity_ratio: float | None
    loading_1: float | None
    loading_2: float | None
    loading_3: float | None
    weight_1: float | None
    weight_2: float | None
    weight_3: float | None


class SampleDiagnosticRow(msgspec.Struct, **_ROW):
    """One sample seen by a refit chain (``train``: a calibration sample of the fold_final model; ``test``: a test
    sample): its scores, Hotelling T², Q residual, leverage, y residual and the applicability-domain verdict.

    Calibration rows are judged against the calibration (Beta) T² limit, test rows against the prediction (F)
    limit; both use the calibration n. ``domain`` is ``outlier`` when t2 or q exceeds its 99 % limit, ``extreme``
    when one exceeds its 95 % limit, else ``regular``. T²/Q columns are null for a model without latent components.
    """

    run_id: RunId
    chain_id: ChainId
    partition: PartitionName
    sample_id: SampleId
    target: Target
    y_true: float | None
    y_pred: float
    residual: float | None  # y_pred - y_true
    studentized_residual: float | None
    score_1: float | None
    score_2: float | None
    score_3: float | None
    t2: float | None
    q: float | None
    leverage: float | None
    t2_limit_95: float | None
    t2_limit_99: float | None
    q_limit_95: float | None
    q_limit_99: float | None
    t2_ratio: float | None
    q_ratio: float | None
    domain: Domain | None


class DomainRow(msgspec.Struct, **_ROW):
    """The applicability domain of a refit chain's latent model (``nirs_core.diagnostics.Domain``, field for field):
    what an exported bundle carries to judge new spectra. One row per refit chain with a latent model."""

    run_id: RunId
    chain_id: ChainId
    n: int
    k: int
    score_variances: list[float]
    score_sums_of_squares: list[float]
    theta: list[float]
    t2_limit_calibration_95: float
    t2_limit_calibration_99: float
    t2_limit_prediction_95: float
    t2_limit_prediction_99: float
    q_limit_95: float
    q_limit_99: float


class ConfusionRow(msgspec.Struct, **_ROW):
    """A classification chain's confusion matrix cell: how many samples of ``label_true`` were predicted
    ``label_pred`` (pooled CV: fold_id ``cv``, partition ``val``; the refit: fold_final train/test)."""

    run_id: RunId
    chain_id: ChainId
    fold_id: str
    partition: PartitionName
    target: Target
    label_true: str
    label_pred: str
    count: int


class ClassScoreRow(msgspec.Struct, **_ROW):
    """Per-class precision, recall, F1 (NaN when undefined: no sample predicted or present) and support."""

    run_id: RunId
    chain_id: ChainId
    fold_id: str
    partition: PartitionName
    target: Target
    label: str
    precision: float
    recall: float
    f1: float
    support: int


ExplainMethod = Literal["coefficients", "vip", "permutation", "shap"]
ExplainAxis = Literal["model_input", "spectra"]


class ExplanationRow(msgspec.Struct, **_ROW):
    """Per-wavelength importance of a refit chain by one method (``nirdag explain``). ``axis`` says which spectrum
    ``variable`` indexes: ``model_input`` (coefficients, VIP: the model's input after the chain's preprocessing) or
    ``spectra`` (permutation, SHAP: the raw spectrum). A permutation variable is a block of ``block_size``
    neighbouring raw wavelengths, ``wavelength`` their mean; ``std`` is the spread over folds and repeats
    (permutation) or null. Explaining again with the same method and block size replaces the rows."""

    run_id: RunId
    chain_id: ChainId
    target: Target
    method: ExplainMethod
    block_size: int
    variable: int
    axis: ExplainAxis
    wavelength: float
    importance: float
    std: float | None


class SampleExclusionRow(msgspec.Struct, **_ROW):
    """A training row a sample filter (``x_outliers``, ``y_outliers``, ``leverage``) dropped from a chain's fit on
    one fold (``fold_0``.. and the refit, ``fold_final``): the later steps and the model were fitted without it. A
    validation or test row is never dropped. ``step`` is the filter's 0-based place among the chain's preprocessing
    steps, ``row`` the dataset row; ``statistic`` is one of t2, q, y_mad, y_below_fence, y_above_fence, leverage,
    with its ``value`` and the ``limit_value`` it exceeded; ``target`` names the target of a y filter."""

    run_id: RunId
    chain_id: ChainId
    fold_id: str
    step: int
    op: str
    row: int
    sample_id: SampleId
    statistic: str
    target: str | None
    value: float
    limit_value: float  # the limit the value exceeded (`limit` is an SQL keyword)
    reason: str


class SelectedVariableRow(msgspec.Struct, **_ROW):
    """One input column of a column-selection step (``vip_select``, ``cars``...) of a chain on one fold: whether
    that fold's fit kept it. ``variable`` is the column's 0-based index in the step's input and ``wavelength`` its
    axis value (nm, cm-1; the column index when the input columns are not wavelengths)."""

    run_id: RunId
    chain_id: ChainId
    fold_id: str
    step: int
    op: str
    variable: int
    wavelength: float
    kept: bool


class DatasetRow(msgspec.Struct, **_ROW):
    """One dataset stored in the workspace (its identity and everything but the per-sample rows)."""

    dataset_hash: DatasetId
    name: str
    n_samples: int
    n_wavelengths: int
    wavelengths: list[float]
    wavelength_unit: str
    numeric_targets: list[str]
    label_targets: list[str]
    metadata_names: list[str]
    # the metadata column declared as the physical sample of each spectrum (replicates); null: none declared
    replicate_column: str | None = None


class SpectrumRow(msgspec.Struct, **_ROW):
    """One sample of a stored dataset; ``row`` keeps the dataset's row order."""

    dataset_hash: DatasetId
    row: int
    sample_id: SampleId
    partition: str
    spectrum: list[float]
    numeric_targets: dict[str, float]
    label_targets: dict[str, str]
    metadata: SampleMetadata


class ArtifactRow(msgspec.Struct, **_ROW):
    """One fitted object of a run's chain and fold, stored once as a content-addressed blob.

    ``step_key`` is the step's identity in its chain (sha256 of the chain's step hashes up to and including it, so a
    step repeated in a chain stays distinct); ``artifact_id`` = sha256(chain_id, step_key, fold_id), never a position.
    ``depends_on`` lists the artifact ids fitted before it in the chain, in order; ``ref_count`` is the number of
    artifact rows (all runs) sharing ``blob_sha256``.
    """

    run_id: str
    artifact_id: str
    artifact_type: ArtifactType
    chain_id: str
    fold_id: str
    step_key: str
    step_hash: str
    op: str
    class_path: str
    params_json: str
    n_components: int | None
    depends_on: list[str]
    blob_sha256: str
    size_bytes: int
    dataset_hash: str
    ref_count: int


_SCALARS: dict[object, pa.DataType] = {
    str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: object) -> tuple[pa.DataType, bool]:
    """Arrow type of one annotation and whether it is nullable (``X | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"only `T | None` unions map to Arrow, got {annotation}")
        return _arrow_type(args[0])[0], True
    if origin is Literal:
        values = typing.get_args(annotation)
        return _arrow_type(type(values[0]))[0], False
    if origin is list:
        (item,) = typing.get_args(annotation)
        return pa.list_(_arrow_type(item)[0]), False
    if origin is dict:
        key, value = typing.get_args(annotation)
        return pa.map_(_arrow_type(key)[0], _arrow_type(value)[0]), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"no Arrow type for annotation {annotation!r}")


def schema_from_struct(struct: type[msgspec.Struct]) -> pa.Schema:
    """The Arrow schema of a row struct: one field per struct field, in order; ``T | None`` is nullable."""
    hints = typing.get_type_hints(struct)
    fields = []
    for name in struct.__struct_fields__:
        arrow_type, nullable = _arrow_type(hints[name])
        fields.append(pa.field(name, arrow_type, nullable=nullable))
    return pa.schema(fields)


def column_roles(struct: type[msgspec.Struct]) -> dict[str, ColumnRole]:
    """The typed role of each column of a row struct that declares one (``msgspec.Meta(extra={"role": ...})``)."""
    hints = typing.get_type_hints(struct, include_extras=True)
    roles: dict[str, ColumnRole] = {}
    for name in struct.__struct_fields__:
        for meta in getattr(hints[name], "__metadata__", ()):
            if isinstance(meta, msgspec.Meta) and meta.extra and "role" in meta.extra:
                roles[name] = meta.extra["role"]
    return roles


RUNS = schema_from_struct(RunRow)
PIPELINES = schema_from_struct(PipelineRow)
EVENTS = schema_from_struct(EventRow)
NODE_METRICS = schema_from_struct(NodeMetricRow)
RUN_METRICS = schema_from_struct(RunMetricRow)
CHAINS = schema_from_struct(ChainRow)
PREDICTIONS = schema_from_struct(PredictionRow)
SCORES = schema_from_struct(ScoreRow)
COMPONENT_DIAGNOSTICS = schema_from_struct(ComponentDiagnosticRow)
VARIABLE_IMPORTANCE = schema_from_struct(VariableImportanceRow)
SAMPLE_DIAGNOSTICS = schema_from_struct(SampleDiagnosticRow)
CONFUSION = schema_from_struct(ConfusionRow)
DOMAINS = schema_from_struct(DomainRow)
CLASS_SCORES = schema_from_struct(ClassScoreRow)
EXPLANATIONS = schema_from_struct(ExplanationRow)
SAMPLE_EXCLUSIONS = schema_from_struct(SampleExclusionRow)
SELECTED_VARIABLES = schema_from_struct(SelectedVariableRow)

DATASETS = schema_from_struct(DatasetRow)
SPECTRA = schema_from_struct(SpectrumRow)
ARTIFACTS = schema_from_struct(ArtifactRow)
TRIALS = schema_from_struct(TrialRow)

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "runs": RUNS, "pipelines": PIPELINES, "chains": CHAINS, "predictions": PREDICTIONS, "scores": SCORES,
    "datasets": DATASETS, "spectra": SPECTRA, "events": EVENTS, "artifacts": ARTIFACTS,
    "node_metrics": NODE_METRICS, "run_metrics": RUN_METRICS,
    "component_diagnostics": COMPONENT_DIAGNOSTICS, "variable_importance": VARIABLE_IMPORTANCE,
    "sample_diagnostics": SAMPLE_DIAGNOSTICS, "confusion": CONFUSION, "class_scores": CLASS_SCORES,
    "domains": DOMAINS, "explanations": EXPLANATIONS, "sample_exclusions": SAMPLE_EXCLUSIONS,
    "selected_variables": SELECTED_VARIABLES, "trials": TRIALS,
}
ROW_STRUCTS: dict[str, type[msgspec.Struct]] = {
    "runs": RunRow, "pipelines": PipelineRow, "chains": ChainRow, "predictions": PredictionRow, "scores": ScoreRow,
    "datasets": DatasetRow, "spectra": SpectrumRow, "events": EventRow,
    "node_metrics": NodeMetricRow, "run_metrics": RunMetricRow,
    "component_diagnostics": ComponentDiagnosticRow, "variable_importance": VariableImportanceRow,
    "sample_diagnostics": SampleDiagnosticRow, "confusion": ConfusionRow, "class_scores": ClassScoreRow,
    "domains": DomainRow, "explanations": ExplanationRow, "sample_exclusions": SampleExclusionRow,
    "selected_variables": SelectedVariableRow, "trials": TrialRow,
}
TABLE_ROLES: dict[str, dict[str, ColumnRole]] = {name: column_roles(row) for name, row in ROW_STRUCTS.items()}
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "runs": ("run_id",),
    "pipelines": ("pipeline_hash",),
    "events": ("run_id", "event", "node"),
    "node_metrics": ("run_id", "node"),
    "run_metrics": ("run_id",),
    "chains": ("run_id", "chain_id"),
    "predictions": ("run_id", "chain_id", "fold_id", "partition", "sample_id", "target"),
    "scores": ("run_id", "chain_id", "fold_id", "partition", "target", "metric", "level"),
    "datasets": ("dataset_hash",),
    "spectra": ("dataset_hash", "row"),
    "artifacts": ("run_id", "artifact_id"),
    "component_diagnostics": ("run_id", "chain_id", "target", "n_components"),
    "variable_importance": ("run_id", "chain_id", "target", "variable"),
    "sample_diagnostics": ("run_id", "chain_id", "partition", "sample_id", "target"),
    "confusion": ("run_id", "chain_id", "fold_id", "partition", "target", "label_true", "label_pred"),
    "class_scores": ("run_id", "chain_id", "fold_id", "partition", "target", "label"),
    "domains": ("run_id", "chain_id"),
    "explanations": ("run_id", "chain_id", "target", "method", "block_size", "variable"),
    "sample_exclusions": ("run_id", "chain_id", "fold_id", "step", "row"),
    "selected_variables": ("run_id", "chain_id", "fold_id", "step", "variable"),
    "trials": ("run_id", "trial"),
}
