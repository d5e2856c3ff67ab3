"""Fold assignment at compile time: the spec's split scheme applied to the train rows, seeded by the run."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold, LeaveOneOut, RepeatedKFold, ShuffleSplit, StratifiedKFold

from nirs_core.data import DatasetSchema, SpectraDataset
from nirs_core.operators import (
    BinnedStratifiedKFold,
    GroupAwareKFold,
    KennardStoneKFold,
    SPXYKFold,
    VenetianBlindsKFold,
)
from relspec.errors import CompileError
from relspec.plan import FoldSpec, fold_key
from relspec.replicate_folds import grouped_folds, n_train_samples
from relspec.split_specs import (
    ContiguousBlocksSplit,
    GroupSplit,
    KennardStoneSplit,
    KFoldSplit,
    LOOSplit,
    MonteCarloSplit,
    RepeatedKFoldSplit,
    SplitSpec,
    SPXYSplit,
    StratifiedSplit,
    VenetianBlindsSplit,
)

# Schemes that need only the number of train rows (the others read spectra, targets or groups).
_ROW_COUNT_ONLY = (KFoldSplit, LOOSplit, RepeatedKFoldSplit, VenetianBlindsSplit, ContiguousBlocksSplit,
                   MonteCarloSplit)


def _splitter(split: SplitSpec, seed: int, labels: bool) -> BaseCrossValidator:
    """The scikit-learn splitter of a scheme (ours where scikit-learn has none), seeded by the run."""
    if isinstance(split, KFoldSplit):
        return KFold(split.n_splits, shuffle=split.shuffle, random_state=seed if split.shuffle else None)
    if isinstance(split, LOOSplit):
        return LeaveOneOut()
    if isinstance(split, RepeatedKFoldSplit):
        return RepeatedKFold(n_splits=split.n_splits, n_repeats=split.n_repeats, random_state=seed)
    if isinstance(split, VenetianBlindsSplit):
        return VenetianBlindsKFold(split.n_splits, thickness=split.thickness)
    if isinstance(split, ContiguousBlocksSplit):
        return KFold(split.n_splits, shuffle=False)
    if isinstance(split, MonteCarloSplit):
        return ShuffleSplit(n_splits=split.n_splits, test_size=split.test_size, random_state=seed)
    if isinstance(split, KennardStoneSplit):
        return KennardStoneKFold(split.n_splits)
    if isinstance(split, SPXYSplit):
        return SPXYKFold(split.n_splits)
    if isinstance(split, StratifiedSplit) and labels:  # class labels: stratify on the classes themselves
        return StratifiedKFold(split.n_splits, shuffle=split.shuffle, random_state=seed if split.shuffle else None)
    if isinstance(split, StratifiedSplit):
        return BinnedStratifiedKFold(split.n_splits, n_bins=split.n_bins, shuffle=split.shuffle,
                                     random_state=seed if split.shuffle else None)
    return GroupAwareKFold(split.n_splits, shuffle=split.shuffle, random_state=seed if split.shuffle else None)


def _groups(split: GroupSplit, dataset: SpectraDataset, train: np.ndarray) -> np.ndarray:
    names = dataset.metadata.column_names
    if split.groups not in names:
        raise CompileError(f"split groups column {split.groups!r} (at `$.pipeline[..].split.groups`) is not a "
                           f"metadata column of dataset {dataset.name!r}; metadata columns are {names}")
    values = dataset.metadata.column(split.groups).to_numpy(zero_copy_only=False).astype(str)
    return values[train]


def make_folds(split: SplitSpec, schema: DatasetSchema, seed: int, targets: tuple[str, ...],
               dataset: SpectraDataset | None) -> tuple[FoldSpec, ...]:
    """Train/validation row indices (dataset rows) of each CV fold, ``fold_0`` .. ``fold_{k-1}``.

    ``kfold``, ``loo``, ``repeated_kfold``, ``venetian_blinds``, ``contiguous_blocks`` and ``shuffle_split`` need
    only the row count (the last three follow the dataset's order of the train rows); the other schemes read the
    data (spectra, targets, groups) and need the dataset itself. ``repeated_kfold`` gives ``n_repeats * n_splits``
    folds, repeat after repeat; ``shuffle_split`` ``n_splits`` seeded validation sets.
    ``stratified`` on a label target is scikit-learn's ``StratifiedKFold`` on the labels; on
    several numeric targets it bins the first one. ``spxy`` measures distances on all targets.

    When the dataset declares replicates (and the scheme keeps ``group_replicates``), the scheme splits the
    samples, each one row (its mean spectrum, its reference), and every fold holds all rows of its samples
    (:func:`relspec.replicate_folds.grouped_folds`).
    """
    train = np.asarray(schema.train_rows, dtype=np.int64)
    grouped = schema.replicate_column is not None and split.groups_replicates
    needed = 2 if isinstance(split, LOOSplit | MonteCarloSplit) else split.n_splits
    count, unit = (n_train_samples(schema), "train samples") if grouped else (train.size, "train rows")
    if count < needed:
        what = "at least 2" if needed == 2 else f"n_splits={needed}"
        raise CompileError(f"dataset {schema.name!r} has {count} {unit}, fewer than {what}")
    if not isinstance(split, _ROW_COUNT_ONLY) and dataset is None:
        raise CompileError(f"split kind {type(split).__struct_config__.tag!r} reads the data: compile with the dataset")
    X = dataset.spectra[train] if dataset is not None else np.zeros((train.size, 1))
    y = None
    if dataset is not None:
        y = np.column_stack([dataset.target(t)[train] for t in targets]) if len(targets) > 1 else \
            dataset.target(targets[0])[train]
        y = y[:, 0] if isinstance(split, StratifiedSplit) and y.ndim == 2 else y
    groups = _groups(split, dataset, train) if isinstance(split, GroupSplit) else None
    splitter = _splitter(split, seed, targets[0] in schema.label_targets)
    try:
        if grouped:
            samples = np.asarray(schema.replicate_groups)[train]
            return tuple(grouped_folds(split, splitter, train, samples, X, y, groups))
        splits = list(splitter.split(X, y, groups))
    except ValueError as exc:
        raise CompileError(f"split {type(split).__struct_config__.tag!r} cannot split dataset {schema.name!r}: "
                           f"{exc}") from None
    return tuple(
        FoldSpec(fold_id=fold_key(i), train_rows=tuple(train[tr].tolist()), val_rows=tuple(train[va].tolist()))
        for i, (tr, va) in enumerate(splits)
    )
