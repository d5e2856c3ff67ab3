"""The task of a plan (regression or classification), decided from the target, and the checks that follow from it.

A label target (strings) makes a classification plan: its models must classify (``plsda`` or a scikit-learn
classifier), it is ranked by an accuracy metric, and the steps that assume a numeric target are refused with the
spec path of the step and what would be right.
"""

from __future__ import annotations

import numpy as np

from nirs_core.data import DatasetSchema, SpectraDataset
from relspec.errors import CompileError, SpecError
from relspec.layout import Layout
from relspec.model_specs import (
    SINGLE_TARGET_MODELS,
    ModelSpec,
    OPLSDAModel,
    PCRModel,
    PLSDAModel,
    PLSModel,
    SklearnModel,
)
from relspec.operator_map import resolve_estimator
from relspec.plan import Task
from relspec.refit_spec import CLASSIFICATION_RANK_METRICS, REGRESSION_RANK_METRICS, MetricName
from relspec.spec import PipelineSpec, TargetSpec
from relspec.split_specs import SPXYSplit, StratifiedSplit

_DEFAULT_METRIC: dict[Task, MetricName] = {"regression": "rmse", "classification": "balanced_accuracy"}


def spec_targets(spec: PipelineSpec) -> tuple[str, ...]:
    """The spec's target names in order: one, or several predicted together."""
    if isinstance(spec.target, TargetSpec):
        return (spec.target.name,)
    return (spec.target,) if isinstance(spec.target, str) else tuple(spec.target)


def declared_labels(spec: PipelineSpec) -> tuple[str, ...]:
    """The targets the spec declares class labels (``target: {name: grade, kind: label}``)."""
    t = spec.target
    return (t.name,) if isinstance(t, TargetSpec) and t.kind == "label" else ()


def resolve_targets(spec: PipelineSpec, schema: DatasetSchema) -> tuple[tuple[str, ...], Task]:
    """The plan's targets and task; every name must be a column, several targets must be distinct and numeric."""
    targets = spec_targets(spec)
    several = isinstance(spec.target, tuple)
    for i, name in enumerate(targets):
        where = f"$.target[{i}]" if several else "$.target"
        if name not in schema.target_names:
            raise CompileError(f"target {name!r} (at `{where}`) is not a column of dataset {schema.name!r}; "
                               f"its targets are {list(schema.target_names)}")
        if name in targets[:i]:
            raise CompileError(f"target {name!r} is listed twice - at `{where}`")
    if isinstance(spec.target, TargetSpec):
        is_label = spec.target.name in schema.label_targets
        if spec.target.kind == "label" and not is_label:
            raise CompileError(f"target {spec.target.name!r} is declared a label (at `$.target.kind`) but dataset "
                               f"{schema.name!r} holds numbers: run it through nirdag.run / nirdag.compile (which "
                               "read it as labels), or load it with label_targets=[...] (--label-target)")
        if spec.target.kind == "numeric" and is_label:
            raise CompileError(f"target {spec.target.name!r} is declared numeric (at `$.target.kind`) but dataset "
                               f"{schema.name!r} holds class labels in it")
        if name in targets[:i]:
            raise CompileError(f"target {name!r} is listed twice - at `{where}`")
    labels = [t for t in targets if t in schema.label_targets]
    if labels and len(targets) > 1:
        raise CompileError(f"target {labels[0]!r} holds class labels: several targets are predicted together only "
                           f"when all are numeric (multi-label classification is not supported); name one label "
                           f"target - at `$.target[{targets.index(labels[0])}]`")
    return targets, "classification" if labels else "regression"


def rank_target(spec: PipelineSpec, targets: tuple[str, ...], task: Task) -> str | None:
    """The one target whose pooled CV metric ranks the chains, or None when ``mean_nrmse`` ranks over all."""
    if spec.refit.select != "min" and (task == "classification" or len(targets) > 1):
        has = "class labels" if task == "classification" else "several targets"
        raise CompileError(f"refit select {spec.refit.select!r} chooses a number of components from the RMSECV of "
                           f"one numeric target; this spec has {has}: use `select: min` (the default) - at "
                           "`$.refit.select`")
    chosen = spec.refit.target
    if chosen is not None and chosen not in targets:
        raise CompileError(f"refit target {chosen!r} is not one of the spec's targets {list(targets)} - at "
                           "`$.refit.target`")
    if len(targets) == 1:
        return targets[0]
    metric = rank_metric(spec, task, targets)
    if metric == "rmse" and chosen is None:
        raise CompileError(f"refit metric 'rmse' ranks one target, and the spec has {len(targets)}: add `refit: "
                           f"{{target: ...}}` (one of {list(targets)}), or rank on all of them with 'mean_nrmse' "
                           "(RMSECV / SD averaged over the targets; the default with several targets) - at "
                           "`$.refit.metric`")
    if metric == "mean_nrmse" and chosen is not None:
        raise CompileError(f"refit metric 'mean_nrmse' averages over all targets, so `refit.target` ({chosen!r}) does"
                           " not apply: remove one of them - at `$.refit.target`")
    return chosen


def rank_metric(spec: PipelineSpec, task: Task, targets: tuple[str, ...]) -> MetricName:
    """The pooled CV metric of the ranking: the spec's ``refit.metric``, or the task's default (several targets
    without ``refit.target``: ``mean_nrmse``)."""
    if spec.refit.metric is not None:
        return spec.refit.metric
    if len(targets) > 1 and spec.refit.target is None:
        return "mean_nrmse"
    return _DEFAULT_METRIC[task]


def _check_model(model: ModelSpec, where: str, task: Task, target: str) -> None:
    if task == "classification" and isinstance(model, (PLSModel, PCRModel, *SINGLE_TARGET_MODELS)):
        op = type(model).__struct_config__.tag
        raise CompileError(f"target {target!r} holds class labels, but `{op}` is a regression model: use "
                           f"`{{op: plsda, n_components: ...}}` or a scikit-learn classifier - at `{where}.op`")
    if task == "regression" and isinstance(model, PLSDAModel | OPLSDAModel):
        op = type(model).__struct_config__.tag
        raise CompileError(f"target {target!r} is numeric, but `{op}` classifies class labels: use `{{op: pls, "
                           f"n_components: ...}}` for regression, or declare integer class codes labels with "
                           f"`target: {{name: {target}, kind: label}}` (--label-target {target}) - at `{where}.op`")
    if isinstance(model, SklearnModel):
        try:
            resolve_estimator(model.estimator, task)
        except SpecError as exc:
            raise SpecError(f"{exc}; target {target!r} is {'class labels' if task == 'classification' else 'numeric'}"
                            f" - at `{where}.estimator`") from None


def check_task(spec: PipelineSpec, layout: Layout, task: Task, schema: DatasetSchema) -> None:
    """Refuse what does not fit the task: models of the other task, y_processing or stacking on labels, a ranking
    metric of the other task, split schemes that read a numeric target."""
    target = ", ".join(spec_targets(spec))
    models = {p.model_where: p.model for p in layout.paths()}
    if layout.stacked:
        models[f"$.pipeline[{layout.model_index}].model"] = layout.model
    for where, model in models.items():
        _check_model(model, where, task, target)
        if isinstance(model, SINGLE_TARGET_MODELS) and len(spec_targets(spec)) > 1:
            op = type(model).__struct_config__.tag
            raise CompileError(f"`{op}` models one target, but the spec names {len(spec_targets(spec))} ({target}): "
                               f"use `pls` (PLS2) for several targets, or one target - at `{where}.op`")
    metrics = CLASSIFICATION_RANK_METRICS if task == "classification" else REGRESSION_RANK_METRICS
    if spec.refit.metric is not None and spec.refit.metric not in metrics:
        kind = "holds class labels" if task == "classification" else "is numeric"
        raise CompileError(f"refit metric {spec.refit.metric!r} does not fit the task: target {target!r} {kind}, so "
                           f"the metric is one of {list(metrics)} - at `$.refit.metric`")
    if task == "regression":
        return
    where = f"target {target!r} of dataset {schema.name!r} holds class labels"
    if layout.y_index is not None:
        raise CompileError(f"{where}; `y_processing` transforms a numeric target: remove it - at "
                           f"`$.pipeline[{layout.y_index}].y_processing`")
    if layout.merge_index is not None:
        raise CompileError(f"{where}; stacking (`merge: predictions`) of classifiers is not supported yet - at "
                           f"`$.pipeline[{layout.merge_index}].merge`")
    split_at = f"$.pipeline[{layout.split_index}].split"
    if isinstance(layout.split, SPXYSplit):
        raise CompileError(f"{where}; `spxy` measures distances on a numeric target: use `stratified` (on the "
                           f"labels), `kennard_stone` or `kfold` - at `{split_at}.kind`")
    if isinstance(layout.split, StratifiedSplit) and layout.split.n_bins is not None:
        raise CompileError(f"{where}; `stratified` stratifies on the labels themselves, so `n_bins` (quantile bins of a"
                           f" numeric target) does not apply: remove it - at `{split_at}.n_bins`")


def check_binary_models(layout: Layout, classes: tuple[str, ...]) -> None:
    """Refuse a two-class model (``oplsda``) when the target has more classes."""
    for path in layout.paths():
        if isinstance(path.model, OPLSDAModel) and len(classes) != 2:
            raise CompileError(f"`oplsda` separates two classes, but the target has {len(classes)}: "
                               f"{list(classes)}; use `plsda` for more - at `{path.model_where}.op`")


def class_labels(target: str, schema: DatasetSchema, dataset: SpectraDataset | None) -> tuple[str, ...]:
    """The sorted distinct labels of the train and test rows (an empty label is a missing value, not a class)."""
    if dataset is None:
        raise CompileError(f"target {target!r} holds class labels: compile with the dataset (the classes are read "
                           "from it)")
    rows = np.asarray(schema.train_rows + schema.test_rows, dtype=np.int64)
    labels = dataset.target(target)[rows]
    classes = tuple(str(c) for c in np.unique(labels[labels != ""]))
    if len(classes) < 2:
        raise CompileError(f"target {target!r} of dataset {schema.name!r} has {len(classes)} class(es) "
                           f"{list(classes)} in its train and test rows; classification needs at least two - at "
                           "`$.target`")
    return classes
