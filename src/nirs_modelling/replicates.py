"""The sample level of a plan whose dataset declares replicates: each sample's prediction is the mean of its
replicates' predictions (within a fold, or within the refit's train or test rows), scored against the sample's
reference value (one per sample, checked at compile time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np

from nirs_modelling.predictions import readonly
from nirs_modelling.results import FinalFit, FoldSweep, GroupCV
from relspec.plan import CompiledPlan

_K = TypeVar("_K")


class SampleLevel:
    """Averages a plan's predictions per sample: the sample code of every dataset row, computed once."""

    def __init__(self, plan: CompiledPlan):
        replicates = plan.replicate_groups
        if replicates is None:
            raise ValueError(f"plan {plan.name!r} declares no replicates: it has no sample level")
        _, codes = np.unique(np.asarray(replicates.groups), return_inverse=True)
        self._codes = codes
        self.train_rows, self._train = self.means(np.asarray(plan.final_fold.train_rows, dtype=np.int64))
        self.test_rows, self._test = self.means(np.asarray(plan.test_rows, dtype=np.int64))

    def means(self, rows: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """For a block of dataset ``rows``: one representative row per sample (its first row in the block, whose
        reference value is the sample's) and how to average the block (the row order by sample, the start of each
        sample in it, each sample's count)."""
        codes = self._codes[rows]
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if rows.size else \
            np.zeros(0, dtype=np.int64)
        counts = np.diff(np.r_[starts, rows.size]).astype(np.float64)
        return rows[order][starts], (order, starts, counts)

    @staticmethod
    def _average(pred: np.ndarray, plan: tuple[np.ndarray, np.ndarray, np.ndarray], axis: int) -> np.ndarray:
        order, starts, counts = plan
        if pred.shape[axis] == 0:  # no rows predicted (a re-ranking rebuilds the val rows only)
            return readonly(pred)
        if not starts.size:
            return readonly(np.take(pred, order, axis=axis))
        sums = np.add.reduceat(np.take(pred, order, axis=axis), starts, axis=axis)
        shape = [1] * pred.ndim
        shape[axis] = counts.size
        return readonly(sums / counts.reshape(shape))

    def fold(self, fold: FoldSweep) -> FoldSweep:
        """A fold's val and test predictions (n_counts, n_rows, n_targets) averaged per sample."""
        val_rows, val_plan = self.means(np.asarray(fold.val_rows, dtype=np.int64))
        return FoldSweep(fold_id=fold.fold_id, val_rows=readonly(val_rows),
                         val_pred=self._average(fold.val_pred, val_plan, 1),
                         test_pred=self._average(fold.test_pred, self._test, 1))

    def cv(self, cv: GroupCV) -> GroupCV:
        """A group's folds at the sample level; the pooled predictions are the folds' sample means in fold order
        (a sample appears once per fold it is validated in: once with grouped folds that partition the rows)."""
        folds = tuple(self.fold(f) for f in cv.folds)
        return GroupCV(group_id=cv.group_id, folds=folds,
                       oof_rows=readonly(np.concatenate([f.val_rows for f in folds])),
                       oof_pred=readonly(np.concatenate([f.val_pred for f in folds], axis=1)))

    def fit(self, fit: FinalFit) -> FinalFit:
        """A refit's train and test predictions (n_rows, n_targets) averaged per sample (rows: ``train_rows`` and
        ``test_rows``)."""
        return replace(fit, train_pred=self._average(fit.train_pred, self._train, 0),
                       test_pred=self._average(fit.test_pred, self._test, 0))


def ranked_cvs(plan: CompiledPlan, cvs: Sequence[GroupCV]) -> list[GroupCV]:
    """The groups' CV predictions at the level the plan ranks by (``plan.rank_level``)."""
    if plan.rank_level != "sample":
        return list(cvs)
    level = SampleLevel(plan)
    return [level.cv(cv) for cv in cvs]


def ranked_cv_map(plan: CompiledPlan, cvs: Mapping[_K, GroupCV]) -> dict[_K, GroupCV]:
    """:func:`ranked_cvs` of a mapping (group id -> its CV predictions)."""
    keys = list(cvs)
    return dict(zip(keys, ranked_cvs(plan, [cvs[k] for k in keys]), strict=True))
