"""Values passed between generated nodes: small frozen records holding read-only numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


def _ints(values: list[int] | None = None) -> np.ndarray:
    return np.asarray(values or [], dtype=np.int64)


@dataclass(frozen=True)
class FoldRecord:
    """What a fold's fit decided about rows and columns: the training rows its sample filters dropped (dataset row
    indices, in the order the filters dropped them, with the position of the filter among the group's fitted steps,
    the reason code of ``nirs_core.operators.filters.FILTER_REASONS``, the target column or -1, the statistic and
    its limit) and the input columns each column-selection step kept (``selected_step`` / ``selected_column``, one
    entry per kept column; ``selection_step`` / ``selection_width``, one per selection step: its input width).
    Arrays only, so the node cache stores it with its fold."""

    excluded_rows: np.ndarray = field(default_factory=_ints)
    excluded_step: np.ndarray = field(default_factory=_ints)
    excluded_reason: np.ndarray = field(default_factory=_ints)
    excluded_target: np.ndarray = field(default_factory=_ints)
    excluded_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    excluded_limit: np.ndarray = field(default_factory=lambda: np.zeros(0))
    selected_step: np.ndarray = field(default_factory=_ints)
    selected_column: np.ndarray = field(default_factory=_ints)
    selection_step: np.ndarray = field(default_factory=_ints)
    selection_width: np.ndarray = field(default_factory=_ints)


@dataclass(frozen=True)
class FoldSweep:
    """One fold of a sweep group: predictions for each of the group's component counts, and (when the plan's fold
    fits fit the memory budget, :func:`nirs_modelling.compute.fold_fits_kept`) the fitted objects, which the refit
    takes instead of fitting the fold again. The node cache stores the predictions only (``TRANSIENT``)."""

    TRANSIENT: ClassVar[tuple[str, ...]] = ("fitted",)

    fold_id: str
    val_rows: np.ndarray  # dataset row indices predicted out-of-fold
    val_pred: np.ndarray  # (n_components_values, n_val, n_targets)
    test_pred: np.ndarray  # (n_components_values, n_test, n_targets)
    fitted: FittedFold | None = None
    n_synthetic: int = 0  # synthetic rows the group's augment steps added to this fold's training block
    record: FoldRecord = field(default_factory=FoldRecord)  # rows its filters dropped, columns its selections kept


@dataclass(frozen=True)
class GroupCV:
    """All folds of one sweep group, and its pooled out-of-fold predictions."""

    group_id: str
    folds: tuple[FoldSweep, ...]
    oof_rows: np.ndarray  # dataset rows, in fold order
    oof_pred: np.ndarray  # (n_components_values, n_train, n_targets)


@dataclass(frozen=True)
class RankedChain:
    """One chain's place in the ranking: its pooled CV ``metric`` value and ``cv_loss``, the ranking value (lower is
    better: the value itself for an error such as rmse, its negative for an accuracy)."""

    chain_id: str
    group_id: str
    n_components: int | None
    metric: str
    cv_value: float
    cv_loss: float


@dataclass(frozen=True)
class FittedFold:
    """The objects one fold fitted for a sweep group: its fitted steps (in order), its y transform and its model.

    A sweep model (PLS, PCR) is fitted at a largest component count and predicts the chain's count from it; its
    predictions go back to the target's scale through ``y_transform.inverse_transform``.
    """

    fold_id: str
    steps: tuple[Any, ...]  # the fitted transformers (a sample filter is not one: its decision is in ``record``)
    model: Any
    y_transform: Any | None
    n_synthetic: int = 0  # synthetic training rows the fit saw beside the real ones (augment steps)
    record: FoldRecord = field(default_factory=FoldRecord)


@dataclass(frozen=True)
class FinalFit:
    """The ``fold_final`` refit of one chain on all train rows, with the fitted objects of the chain.

    ``hoisted`` are the chain's row-wise stateless steps above the folds (fitted on the width only); ``fits`` holds
    ``fold_final`` first, then ``fold_0..k-1`` (fitted exactly as the CV nodes fitted them).
    """

    chain_id: str
    train_pred: np.ndarray  # (n_train, n_targets)
    test_pred: np.ndarray  # (n_test, n_targets)
    n_components: int | None
    hoisted: tuple[Any, ...]
    fits: tuple[FittedFold, ...]
