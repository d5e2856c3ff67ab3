"""Values passed between generated nodes: small frozen records holding read-only numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FoldSweep:
    """One fold of a sweep group: predictions for each of the group's component counts."""

    fold_id: str
    val_rows: np.ndarray  # dataset row indices predicted out-of-fold
    val_pred: np.ndarray  # (n_components_values, n_val)
    test_pred: np.ndarray  # (n_components_values, n_test)


@dataclass(frozen=True)
class GroupCV:
    """All folds of one sweep group, and its pooled out-of-fold predictions."""

    group_id: str
    folds: tuple[FoldSweep, ...]
    oof_rows: np.ndarray  # dataset rows, in fold order
    oof_pred: np.ndarray  # (n_components_values, n_train)


@dataclass(frozen=True)
class RankedChain:
    chain_id: str
    group_id: str
    n_components: int | None
    rmsecv: float


@dataclass(frozen=True)
class FinalFit:
    """The ``fold_final`` refit of one chain on all train rows."""

    chain_id: str
    train_pred: np.ndarray
    test_pred: np.ndarray
