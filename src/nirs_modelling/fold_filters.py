"""The fold fit's side of sample filters and column selections: which training rows each filter drops from the fit
of the later steps (never a validation or test row), and which input columns each selection step keeps."""

from __future__ import annotations

from typing import Any

import numpy as np

from nirs_core.operators.filters import RowFilter
from nirs_modelling.errors import SampleFilterError
from nirs_modelling.results import FoldRecord
from relspec.plan import StepRef, SweepGroup, largest_count


def rows_needed(group: SweepGroup) -> int:
    """The fewest training rows the group's model can be fitted on: its largest component count + 1 (a sweep
    model), else 2."""
    largest = largest_count(group.component_values)
    return 2 if largest is None else largest + 1


def column_support(step: Any) -> np.ndarray | None:
    """The input columns (ascending indices) a fitted column-selection step keeps: its ``support_``, as VIP and CARS
    expose it, decided at fit; None for any other step, and for a fixed selection (crop, mask_bands: row-wise
    stateless, the same columns in every fold)."""
    traits = getattr(type(step), "traits", None)
    support = getattr(step, "support_", None)
    if traits is None or not traits.changes_axis or traits.row_wise_stateless or support is None:
        return None
    support = np.asarray(support)
    return np.flatnonzero(support) if support.dtype == bool else support.astype(np.int64)


class FoldRecorder:
    """Follows the dataset rows of a fold fit through its filters and collects its :class:`FoldRecord`."""

    def __init__(self, group: SweepGroup, fit_rows: np.ndarray):
        self.group = group
        self.rows = np.asarray(fit_rows, dtype=np.int64)
        self._excluded: list[tuple[int, RowFilter, np.ndarray]] = []
        self._selected: list[tuple[int, np.ndarray, int]] = []

    def filter(self, index: int, ref: StepRef, est: RowFilter, X: np.ndarray, Y: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Decide the filter on the rows ``X`` / ``Y`` (the targets on their own scale) and return the rows kept;
        a SampleFilterError when fewer are left than the model needs."""
        keep = np.asarray(est.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y).keep_, dtype=bool)
        needed, left = rows_needed(self.group), int(keep.sum())
        if left < needed:
            raise SampleFilterError(
                f"sample filter {ref.label} at `{ref.where}` drops {keep.size - left} of {keep.size} training rows, "
                f"leaving {left}; the model {self.group.model.label} needs at least {needed}: loosen the filter "
                "(a higher confidence or threshold) or remove it")
        self._excluded.append((index, est, self.rows[~keep]))
        self.rows = self.rows[keep]
        return X[keep], Y[keep]

    def fitted(self, index: int, est: Any, width: int) -> None:
        """Note the columns a fitted step kept, if it selects columns (``width``: its input columns)."""
        support = column_support(est)
        if support is not None:
            self._selected.append((index, support, width))

    def record(self) -> FoldRecord:
        drops = [(i, est, ~est.keep_, rows) for i, est, rows in self._excluded]
        chosen = self._selected
        return FoldRecord(
            excluded_rows=_cat([rows for *_, rows in drops], np.int64),
            excluded_step=_cat([np.full(rows.size, i) for i, _, _, rows in drops], np.int64),
            excluded_reason=_cat([e.reason_[d] for _, e, d, _ in drops], np.int64),
            excluded_target=_cat([e.target_[d] for _, e, d, _ in drops], np.int64),
            excluded_value=_cat([e.value_[d] for _, e, d, _ in drops], np.float64),
            excluded_limit=_cat([e.limit_[d] for _, e, d, _ in drops], np.float64),
            selected_step=_cat([np.full(s.size, i) for i, s, _ in chosen], np.int64),
            selected_column=_cat([s for _, s, _ in chosen], np.int64),
            selection_step=np.asarray([i for i, _, _ in chosen], dtype=np.int64),
            selection_width=np.asarray([w for _, _, w in chosen], dtype=np.int64),
        )


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate([np.asarray(p, dtype=dtype) for p in parts]) if parts else np.zeros(0, dtype=dtype)
