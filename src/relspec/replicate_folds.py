"""Splits that keep a sample's replicates together: a scheme is applied to the samples (one row each: the
sample's mean spectrum and reference) and each fold is expanded to the sample's rows; and the checks and the
finding that go with a replicate declaration."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
from sklearn.model_selection import BaseCrossValidator

from nirs_core.data import DatasetSchema, SpectraDataset
from relspec.errors import CompileError
from relspec.plan import FoldSpec, Replicates, Task, fold_key
from relspec.refit_spec import ScoreLevel
from relspec.spec import PipelineSpec
from relspec.split_specs import ContiguousBlocksSplit, GroupSplit, SplitSpec, VenetianBlindsSplit
from relspec.validation import Finding

# Schemes that follow the dataset's order: their samples come in the order of their first train row (the others
# take the sorted sample ids, as scikit-learn's group splitters do).
_IN_ORDER = (VenetianBlindsSplit, ContiguousBlocksSplit)


def replicates_of(schema: DatasetSchema) -> Replicates | msgspec.UnsetType:
    """The plan's record of the dataset's replicate declaration (UNSET without one)."""
    if schema.replicate_column is None:
        return msgspec.UNSET
    return Replicates(column=schema.replicate_column, groups=schema.replicate_groups)


def sample_codes(split: SplitSpec, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples of the train rows (sorted ids, or in order of first appearance for the ordered schemes) and the
    code of each row's sample in that list."""
    names, first, codes = np.unique(groups, return_index=True, return_inverse=True)
    if not isinstance(split, _IN_ORDER):
        return names, codes
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return names[order], position[codes]


def _per_sample(values: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """The mean of each sample's rows of a numeric matrix/vector (labels: the first row's label)."""
    if values.dtype.kind in "fiub":
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(n))
        sums = np.add.reduceat(np.asarray(values, dtype=np.float64)[order], starts, axis=0)
        counts = np.bincount(codes, minlength=n).astype(np.float64)
        return sums / counts.reshape(-1, *([1] * (values.ndim - 1)))
    return values[first_rows(codes, n)]


def first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """The position of each sample's first row (``codes``: each row's sample in 0..n-1)."""
    first = np.full(n, -1)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    return first


def _sample_groups(split: GroupSplit, groups: np.ndarray, codes: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The ``group_kfold`` group of each sample; a sample whose rows are in several groups is refused."""
    per_sample = groups[first_rows(codes, names.size)]
    split_samples = np.unique(codes[groups != per_sample[codes]])
    if split_samples.size:
        raise CompileError(f"split groups column {split.groups!r} puts the replicates of {split_samples.size} "
                           f"samples in different groups, e.g. {names[split_samples[:5]].tolist()}: a sample's "
                           "spectra must share one group (at `$.pipeline[..].split.groups`)")
    return per_sample


def grouped_folds(split: SplitSpec, splitter: BaseCrossValidator, train: np.ndarray, groups: np.ndarray,
                  X: np.ndarray, y: np.ndarray | None, split_groups: np.ndarray | None) -> list[FoldSpec]:
    """The folds of ``splitter`` applied to the samples of the train rows (``groups``: each train row's sample),
    each sample's rows expanded back, in dataset order within each fold."""
    names, codes = sample_codes(split, groups)
    n = names.size
    X_s = _per_sample(X, codes, n)
    y_s = None if y is None else _per_sample(y, codes, n)
    g_s = None if split_groups is None else _sample_groups(split, split_groups, codes, names)  # type: ignore[arg-type]
    folds = []
    for i, (tr, va) in enumerate(splitter.split(X_s, y_s, g_s)):
        fit, val = np.isin(codes, tr), np.isin(codes, va)
        folds.append(FoldSpec(fold_id=fold_key(i), train_rows=tuple(train[fit].tolist()),
                              val_rows=tuple(train[val].tolist())))
    return folds


def n_train_samples(schema: DatasetSchema) -> int:
    groups = np.asarray(schema.replicate_groups)
    return int(np.unique(groups[np.asarray(schema.train_rows, dtype=np.int64)]).size)


def leaking_samples(folds: Sequence[FoldSpec], groups: Sequence[str]) -> list[str]:
    """The samples that have spectra on both the training and the validation side of some fold (sorted)."""
    values = np.asarray(groups)
    leaked: set[str] = set()
    for fold in folds:
        fitted = set(values[np.asarray(fold.train_rows, dtype=np.int64)].tolist())
        leaked |= fitted & set(values[np.asarray(fold.val_rows, dtype=np.int64)].tolist())
    return sorted(leaked)


def replicate_findings(split: SplitSpec, schema: DatasetSchema, folds: Sequence[FoldSpec], split_index: int
                       ) -> list[Finding]:
    """A warning when the user asked for row-level folds although the dataset declares replicates."""
    if schema.replicate_column is None or split.groups_replicates:
        return []
    leaked = leaking_samples(folds, schema.replicate_groups)
    if not leaked:
        return []
    return [Finding(code="replicates_split", severity="warning",
                    path=f"$.pipeline[{split_index}].split.group_replicates",
                    message=f"group_replicates is false: the replicates of {len(leaked)} samples (column "
                            f"{schema.replicate_column!r}) are on both the training and the validation side of a "
                            f"fold, e.g. {leaked[:5]}; the CV scores are optimistic (validated on samples the "
                            "model was trained on)")]


def rank_level(spec: PipelineSpec, schema: DatasetSchema, task: Task
               ) -> tuple[ScoreLevel | msgspec.UnsetType, list[Finding]]:
    """The level the ranking scores (``refit.level``; default ``sample`` for a regression with replicates
    declared, else ``spectrum``, kept UNSET without replicates so such plans keep their hashes) and the finding
    saying so. ``sample`` without replicates, or for class labels (a sample's mean class code is no class; a vote
    over replicates is not built), is a CompileError."""
    asked = None if isinstance(spec.refit.level, msgspec.UnsetType) else spec.refit.level
    if asked == "sample" and schema.replicate_column is None:
        raise CompileError("refit.level 'sample' ranks on the mean prediction of each sample's replicates, but "
                           f"dataset {schema.name!r} declares no replicate (sample) column - at `$.refit.level`")
    if asked == "sample" and task == "classification":
        raise CompileError("refit.level 'sample' averages each sample's replicate predictions, which class labels "
                           "have no mean of; rank classifiers at level 'spectrum' - at `$.refit.level`")
    if schema.replicate_column is None:
        return spec.refit.level, []
    level: ScoreLevel = asked or ("sample" if task == "regression" else "spectrum")
    n = len(set(schema.replicate_groups))
    how = "as asked" if asked is not None else "the default with replicates declared"
    what = ("each sample's mean prediction over its replicates against its reference value" if level == "sample"
            else "each spectrum's prediction" + (" (the per-sample scores are reported too)"
                                                 if task == "regression" else ""))
    return level, [Finding(code="rank_level", severity="info", path="$.refit.level",
                           message=f"chains are ranked at the {level} level ({how}): {what}; {n} samples in "
                                   f"column {schema.replicate_column!r}")]


def check_constant_reference(schema: DatasetSchema, dataset: SpectraDataset | None, targets: Sequence[str]) -> None:
    """Every sample's replicates carry one reference value per target (its per-sample score compares the mean
    prediction with it); a sample whose replicates disagree is a CompileError naming it."""
    if schema.replicate_column is None or dataset is None:
        return
    rows = np.asarray(schema.train_rows + schema.test_rows, dtype=np.int64)
    names, codes = np.unique(np.asarray(schema.replicate_groups)[rows], return_inverse=True)
    for target in targets:
        y = dataset.target(target)[rows]
        differ = np.unique(codes[y != y[first_rows(codes, names.size)][codes]])
        if differ.size:
            raise CompileError(f"target {target!r}: the replicates of {differ.size} samples (column "
                               f"{schema.replicate_column!r}) have different reference values, e.g. "
                               f"{names[differ[:5]].tolist()}; a sample has one reference value (fix the data, or "
                               "declare no replicates)")
