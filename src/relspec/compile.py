"""Compile a PipelineSpec against a dataset schema into a frozen CompiledPlan."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import msgspec
import numpy as np

from nirs_core.data import DatasetSchema, SpectraDataset
from nirs_core.operators.filters import RowFilter
from relspec.augmentation import augment_refs, augmentation_findings
from relspec.errors import CompileError, SpecError
from relspec.filters import check_filters, check_filters_outside, filter_findings
from relspec.findings import (
    before_split_findings,
    data_findings,
    hoisting_findings,
    policy_findings,
    sharing_findings,
    target_findings,
)
from relspec.folds import make_folds
from relspec.hashing import sha256_of
from relspec.layout import FeatureMerge, Layout, Path, lay_out
from relspec.model_specs import ModelSpec
from relspec.operator_map import concat_ref, instantiate, model_ref, output_axis, transform_ref, y_transform_ref
from relspec.plan import (
    FOLD_FINAL,
    STEP_SEPARATOR,
    AugmentRef,
    ChainSpec,
    CompiledPlan,
    FoldSpec,
    HoistedNode,
    StepRef,
    SweepGroup,
    Task,
    largest_count,
)
from relspec.policy import RuntimePolicy, decide_policy
from relspec.replicate_folds import check_constant_reference, rank_level, replicate_findings, replicates_of
from relspec.spec import BranchItem, BranchStep, ModelStep, PipelineSpec, TransformStep
from relspec.split_specs import StratifiedSplit
from relspec.stacking import stack_layout
from relspec.tasks import (
    check_binary_models,
    check_task,
    class_labels,
    rank_metric,
    rank_target,
    resolve_targets,
)
from relspec.validation import SCHEMA_VERSION as VALIDATION_SCHEMA_VERSION
from relspec.validation import Finding, PolicyValidation
from relspec.workload import workload_of

_PROBE_ROWS = 256


def model_ref_of(model: ModelSpec, values: tuple[int | None, ...], seed: int, task: Task = "regression") -> StepRef:
    """The model step's reference for the largest of ``values`` component counts."""
    try:
        return model_ref(model, largest_count(values), seed, task)
    except SpecError as exc:
        raise SpecError(f"{exc} - at `$.pipeline[..].model.estimator`") from None


def _probe_path(refs: list[StepRef], path: Path, rows: int, width: int, model: StepRef, n_classes: int = 0,
                n_targets: int = 1) -> int:
    """Fit and apply the path's steps on a seeded random matrix of the fold's size; return the output width.

    Parameter errors that only data can reveal (a window wider than the cropped spectrum, too many OSC components)
    surface here as CompileErrors, before anything runs or is written.
    """
    rng = np.random.default_rng(0)
    # Values in (0, 1) suit every operator's domain (reflectance conversions refuse values <= 0).
    n = min(rows, _PROBE_ROWS)
    X = rng.uniform(0.05, 0.95, size=(n, width))
    # a classifier is probed on class codes (every class present), a regressor on continuous target(s)
    y = (np.arange(n) % n_classes).astype(np.float64) if n_classes else rng.normal(size=n)
    Y = rng.normal(size=(n, n_targets)) if n_targets > 1 else y
    for ref, where in zip(refs, path.where, strict=True):
        try:
            est = instantiate(ref).fit(X, y)
            out = X if isinstance(est, RowFilter) else est.transform(X)  # a filter drops rows, never columns
        except ValueError as exc:
            raise CompileError(f"step {ref.label} of path {path.name!r} cannot run on this data: {exc}") from None
        if ref.row_wise_stateless:
            _check_row_wise(ref, X, y, out, where)
        X = out
    if model.params.get("n_components") is None:  # sweep models are checked against the fold sizes instead
        try:
            instantiate(model).fit(X, Y)
        except (ValueError, TypeError) as exc:
            several = f" on {n_targets} targets at once (it must accept a 2-D y)" if n_targets > 1 else ""
            raise CompileError(f"model {model.label} cannot be fitted{several}: {exc} - at `{path.model_where}`"
                               ) from None
    return X.shape[1]


def _check_row_wise(ref: StepRef, X: np.ndarray, y: np.ndarray, out: np.ndarray, where: str) -> None:
    """A step hoisted above the folds must transform each row alone: half the rows must give the same rows."""
    half = max(1, X.shape[0] // 2)
    part = instantiate(ref).fit(X[half:], y[half:]).transform(X[half:])
    if part.shape != out[half:].shape or not np.allclose(part, out[half:], rtol=1e-9, atol=1e-12):
        raise CompileError(
            f"hoist hazard at `{where}`: {ref.label} declares itself row-wise stateless but its output rows depend "
            "on the other rows; hoisting it above the folds would leak validation and test rows into training"
        )


def _check_components(model: ModelSpec, where: str, folds: tuple[FoldSpec, ...], width: int, name: str) -> None:
    smallest = min(len(f.train_rows) for f in folds)
    limit = min(smallest - 1, width)
    too_big = [k for k in model.component_values() if k is not None and k > limit]
    if too_big:
        raise CompileError(
            f"n_components {too_big} exceed what the data allows on path {name!r}: the smallest fold has "
            f"{smallest} training rows and the {'inputs' if name == 'stack' else 'preprocessed spectra'} have "
            f"{width} columns, so at most {limit} - at `{where}.n_components`"
        )


def _structure(step: BranchItem | FeatureMerge) -> object:
    """A step's identity in the pipeline hash: its step hash, a base model's spec, or its alternatives'."""
    if isinstance(step, FeatureMerge):
        return ["concat", [[name, [_structure(sub) for sub in steps]] for name, steps, _ in step.members]]
    if isinstance(step, BranchStep):
        return [[_structure(sub) for sub in steps] for _, steps in step.named()]
    if isinstance(step, ModelStep):
        return ["model", msgspec.to_builtins(step.model)]
    return transform_ref(step).step_hash


def _pipeline_hash(spec: PipelineSpec, layout: Layout, targets: tuple[str, ...]) -> str:
    segments = [s if isinstance(step, BranchStep) else [[s]]
                for step in layout.steps for s in [_structure(step)]]
    extra = [] if layout.y_transform is None else ["y_processing", msgspec.to_builtins(layout.y_transform)]
    extra += ["merge", "predictions"] if layout.stacked else []
    extra += ["augment", [msgspec.to_builtins(a) for a, _ in layout.augmenters]] if layout.augmenters else []
    return sha256_of(
        "pipeline", targets[0] if len(targets) == 1 else list(targets), msgspec.to_builtins(layout.split), segments,
        msgspec.to_builtins(layout.model),
        *extra,
    )


class _Builder:
    """Accumulates deduplicated hoisted nodes and sweep groups while chains are laid out."""

    def __init__(self) -> None:
        self.hoisted: dict[str, HoistedNode] = {}
        self.groups: dict[str, SweepGroup] = {}

    def hoist(self, refs: list[StepRef]) -> tuple[str | None, list[StepRef]]:
        """Hoist the leading row-wise stateless steps; return the last node id and the steps left to fit."""
        parent: str | None = None
        for i, ref in enumerate(refs):
            if not ref.row_wise_stateless:
                return parent, refs[i:]
            node_id = sha256_of("hoisted", parent, ref.step_hash)
            self.hoisted.setdefault(node_id, HoistedNode(node_id=node_id, step=ref, parent=parent))
            parent = node_id
        return parent, []

    def group(self, input_node: str | None, fitted: list[StepRef], model: ModelSpec, seed: int,
              y_ref: StepRef | None, task: Task, augmenters: tuple[AugmentRef, ...] = ()) -> SweepGroup:
        values = model.component_values()
        model_ref = model_ref_of(model, values, seed, task)
        y_part = [] if y_ref is None else [y_ref.step_hash]
        y_part += [["augment", [a.step_hash for a in augmenters], [a.seed for a in augmenters]]] if augmenters else []
        group_id = sha256_of("sweep", input_node, [r.step_hash for r in fitted], model_ref.step_hash, *y_part)
        return self.groups.setdefault(group_id, SweepGroup(
            group_id=group_id, input_node=input_node, fitted_steps=tuple(fitted), model=model_ref,
            component_values=values, y_transform=y_ref, augmenters=augmenters,
        ))


def _path_refs(steps: tuple[TransformStep | FeatureMerge, ...], schema: DatasetSchema,
               where: tuple[str, ...], seed: int) -> tuple[list[StepRef], int]:
    """Step references of one path, carrying the wavelength axis through axis-changing steps, and the width the
    axis guarantees after them (a selection that keeps a varying number of columns guarantees its minimum)."""
    refs, axis, _ = _refs_along(steps, where, schema, schema.wavelengths, not_wavelengths=None, seed=seed)
    return refs, len(axis)


def _refs_along(
    steps: tuple[TransformStep | FeatureMerge, ...], where: tuple[str, ...], schema: DatasetSchema,
    axis: tuple[float, ...], *, not_wavelengths: str | None, seed: int,
) -> tuple[list[StepRef], tuple[float, ...], str | None]:
    """The refs of ``steps``, the axis after them, and why the columns are no longer wavelengths (None while they
    are): a wavelength-aware step after that is refused."""
    refs = []
    for step, at in zip(steps, where, strict=True):
        if isinstance(step, FeatureMerge):
            check_filters_outside(step)
            members = [(name, _refs_along(sub, sub_where, schema, axis, not_wavelengths=not_wavelengths,
                                              seed=seed))
                       for name, sub, sub_where in step.members]
            refs.append(concat_ref([(name, member_refs) for name, (member_refs, _, _) in members]))
            width = sum(len(member_axis) for _, (_, member_axis, _) in members)
            axis = tuple(float(i) for i in range(width))
            not_wavelengths = "after `merge: features` the columns are concatenated branch outputs"
            continue
        ref = transform_ref(step, axis, seed)
        if issubclass(type(step).operator, RowFilter):
            ref = msgspec.structs.replace(ref, where=at)  # its run-time errors name the spec path
        if not_wavelengths and ref.axis is not None:
            raise CompileError(f"{ref.label} reads the wavelength axis, but {not_wavelengths}, not wavelengths - "
                               f"at `{at}`")
        try:
            axis = output_axis(ref, axis)
        except ValueError as exc:
            raise CompileError(f"step {ref.label} does not fit the wavelength axis of dataset {schema.name!r} "
                               f"({axis[0]:g}..{axis[-1]:g} {schema.wavelength_unit}): {exc}") from None
        refs.append(ref)
        traits = type(step).operator.traits
        if traits.changes_axis and not traits.wavelength_aware:  # e.g. wavelet coefficients, components
            not_wavelengths = not_wavelengths or f"after {ref.op} the columns are its features"
    return refs, axis, not_wavelengths


@dataclass
class _Notes:
    """What laying out the chains observed, for the validation findings."""

    hoisted_where: dict[str, str] = field(default_factory=dict)
    hoisted_uses: int = 0
    fitted: list[tuple[StepRef, str]] = field(default_factory=list)


def _lay_out_chains(
    spec: PipelineSpec, layout: Layout, paths: list[Path], schema: DatasetSchema, folds: tuple[FoldSpec, ...],
    pipeline_hash: str, y_ref: StepRef | None, task: Task, n_classes: int, n_targets: int,
) -> tuple[list[ChainSpec], _Builder, _Notes]:
    """Probe every path on data of the fold's size, hoist and share its steps, and emit one chain per count."""
    builder, notes, chains = _Builder(), _Notes(), []
    smallest = min(len(f.train_rows) for f in folds)
    y_hashes = () if y_ref is None else (y_ref.step_hash,)
    augmenters = augment_refs(layout.augmenters, spec.seed, task == "classification")  # in the pipeline hash
    for path in paths:
        refs, guaranteed = _path_refs(path.steps, schema, path.where, spec.seed)
        probe_model = model_ref_of(path.model, path.model.component_values(), spec.seed, task)
        width = min(guaranteed,
                    _probe_path(refs, path, smallest, schema.n_wavelengths, probe_model, n_classes, n_targets))
        _check_components(path.model, path.model_where, folds, width, path.name)
        input_node, fitted = builder.hoist(refs)
        n_hoisted = len(refs) - len(fitted)
        notes.hoisted_uses += n_hoisted
        node_id = input_node
        for where in reversed(path.where[:n_hoisted]):
            notes.hoisted_where.setdefault(node_id, where)
            node_id = builder.hoisted[node_id].parent
        notes.fitted += list(zip(fitted, path.where[n_hoisted:], strict=True))
        group = builder.group(input_node, fitted, path.model, spec.seed, y_ref, task, augmenters)
        preprocessing = STEP_SEPARATOR.join([*(r.label for r in refs), *(a.label for a in augmenters)]) or "raw"
        for k in group.component_values:
            model_ref = model_ref_of(path.model, (k,), spec.seed, task)
            step_hashes = (*(r.step_hash for r in refs), *y_hashes, model_ref.step_hash)
            chains.append(ChainSpec(
                chain_id=sha256_of("chain", pipeline_hash, list(path.branch_path), list(step_hashes)),
                group_id=group.group_id, branch_path=path.branch_path, branch_name=path.name,
                preprocessing=preprocessing,
                step_hashes=step_hashes, model=model_ref.op, n_components=k, params=dict(model_ref.params),
            ))
    return chains, builder, notes


def _measured_rows(schema: DatasetSchema, dataset: SpectraDataset | None, targets: tuple[str, ...]
                   ) -> tuple[DatasetSchema, tuple[Finding, ...]]:
    """The schema with the train and test rows restricted to those whose every target is measured (an empty cell is
    "not measured": NaN, or an empty label), and the warning saying which were left out. Without the dataset the
    schema is kept as it is."""
    if dataset is None:
        return schema, ()
    known = np.ones(dataset.n_samples, dtype=bool)
    without: dict[str, np.ndarray] = {}
    for target in targets:
        y = dataset.target(target)
        measured = (y != "") if dataset.is_label_target(target) else np.isfinite(y)
        without[target] = ~measured
        known &= measured
    train, test = (np.asarray(rows, dtype=np.int64) for rows in (schema.train_rows, schema.test_rows))
    dropped = np.concatenate([train[~known[train]], test[~known[test]]])
    if not dropped.size:
        return schema, ()
    which = ", ".join(f"{t!r} ({int(m[train].sum())} train, {int(m[test].sum())} test)"
                      for t, m in without.items() if m[train].any() or m[test].any())
    finding = Finding(code="missing_target", severity="warning", path="$.target",
                      message=f"{int((~known[train]).sum())} train and {int((~known[test]).sum())} test rows have no "
                              f"value of {which} and are left out (not fitted, not scored), e.g. sample ids "
                              f"{dataset.sample_ids[dropped[:5]].tolist()}")
    kept = replace(schema, train_rows=tuple(r for r in schema.train_rows if known[r]),
                   test_rows=tuple(r for r in schema.test_rows if known[r]))
    return kept, (finding,)


def compile_plan(
    spec: PipelineSpec, schema: DatasetSchema, runtime: RuntimePolicy | None = None, *,
    dataset: SpectraDataset | None = None,
) -> CompiledPlan:
    """Compile ``spec`` for the dataset described by ``schema``.

    Split schemes other than ``kfold`` (Kennard-Stone, SPXY, stratified, group) read the data: pass ``dataset``.

    Raises
    ------
    SpecError
        The steps are not laid out as a pipeline (one split, at most one branch, a final model).
    CompileError
        The spec does not fit the data: unknown target, too few train rows, too many components.
    """
    targets, task = resolve_targets(spec, schema)
    schema, missing = _measured_rows(schema, dataset, targets)
    layout = lay_out(spec)
    counts = len(layout.model.component_values())
    n_paths = layout.n_paths()
    if n_paths * (1 if layout.stacked else counts) > spec.max_chains:  # counted before any path is built
        total = n_paths if layout.stacked else n_paths * counts
        raise CompileError(f"the spec expands to {total} chains ({n_paths} preprocessing paths x "
                           f"{'their models' if layout.stacked else counts} component counts), more than "
                           f"max_chains={spec.max_chains} (at `$.max_chains`)")
    check_task(spec, layout, task, schema)
    if layout.stacked and not layout.split.partitions_rows:
        kind = type(layout.split).__struct_config__.tag
        raise CompileError(f"`merge: predictions` trains its meta-model on one out-of-fold prediction per train row, "
                           f"but split kind {kind!r} validates a row several times or not at all; use kfold, loo, "
                           f"venetian_blinds, contiguous_blocks or another partition of the rows - at "
                           f"`$.pipeline[{layout.split_index}].split.kind`")
    metric, ranked_on = rank_metric(spec, task, targets), rank_target(spec, targets, task)
    classes = class_labels(targets[0], schema, dataset) if task == "classification" else ()
    check_binary_models(layout, classes)
    check_constant_reference(schema, dataset, targets)
    level, level_findings = rank_level(spec, schema, task)
    folds = make_folds(layout.split, schema, spec.seed, targets, dataset)
    paths = layout.paths()
    check_filters(paths, task)
    n_chains = sum(len(p.model.component_values()) for p in paths)
    n_chains += len(layout.model.component_values()) if layout.stacked else 0
    if n_chains > spec.max_chains:
        raise CompileError(f"the spec expands to {n_chains} chains ({len(paths)} preprocessing paths x "
                           f"their models' component counts), more than max_chains={spec.max_chains} "
                           "(at `$.max_chains`)")
    pipeline_hash = _pipeline_hash(spec, layout, targets)
    y_ref = None if layout.y_transform is None else y_transform_ref(layout.y_transform)
    chains, builder, notes = _lay_out_chains(spec, layout, paths, schema, folds, pipeline_hash, y_ref, task,
                                             len(classes), len(targets))
    stacks, stack_chains = stack_layout(layout, paths, chains, folds, pipeline_hash, spec.seed, len(targets))
    chains += stack_chains
    runtime = runtime or RuntimePolicy()
    # out-of-fold rows once per chain, test rows per fold, then the refit's train and test rows
    per_chain = 2 * len(schema.train_rows) + (len(folds) + 1) * len(schema.test_rows)
    policy, reasons = decide_policy(runtime, len(builder.groups) * len(folds), len(chains) * per_chain * len(targets))
    findings = (
        *policy_findings(runtime, policy, reasons),
        *hoisting_findings(notes.hoisted_where, tuple(builder.hoisted.values())),
        *sharing_findings(notes.hoisted_uses, tuple(builder.hoisted.values()), len(paths),
                          tuple(builder.groups.values()), len(folds)),
        *before_split_findings(notes.fitted, layout.split_index),
        *target_findings(targets, f"$.pipeline[{layout.split_index}].split"
                         if isinstance(layout.split, StratifiedSplit) else None),
        *data_findings(schema.test_rows, folds, y_ref, None if layout.y_index is None else
                       f"$.pipeline[{layout.y_index}].y_processing"),
        *filter_findings(paths),
        *missing,
        *augmentation_findings(augment_refs(layout.augmenters, spec.seed, task == "classification"), folds,
                               len(schema.train_rows), layout.augmenters[0][1] if layout.augmenters else "$"),
        *replicate_findings(layout.split, schema, folds, layout.split_index),
        *level_findings,
    )
    workload = workload_of(schema.n_samples, schema.n_wavelengths, len(chains), len(folds),
                           [g.model.op for g in builder.groups.values()] + [s.model.op for s in stacks])
    validation = PolicyValidation(schema_version=VALIDATION_SCHEMA_VERSION, pipeline_hash=pipeline_hash,
                                  dataset_hash=schema.dataset_hash, policy=policy, findings=findings,
                                  workload=workload)
    return CompiledPlan(
        name=spec.name, targets=targets, seed=spec.seed, dataset_hash=schema.dataset_hash,
        pipeline_hash=pipeline_hash, hoisted=tuple(builder.hoisted.values()),
        groups=tuple(builder.groups.values()), chains=tuple(chains), folds=folds, stacks=stacks,
        final_fold=FoldSpec(fold_id=FOLD_FINAL, train_rows=schema.train_rows, val_rows=()),
        test_rows=schema.test_rows, refit=msgspec.structs.replace(spec.refit, metric=metric, target=ranked_on,
                                                                 level=level),
        policy=policy, y_transform=y_ref, validation=validation, task=task, classes=classes,
        diagnostics=spec.diagnostics, replicates=replicates_of(schema),
    )
