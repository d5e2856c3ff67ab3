"""Stacking (``merge: predictions``): a meta-model trained on the base chains' out-of-fold predictions only.

For CV fold k the meta-model is fitted on the out-of-fold predictions of the rows outside fold k and predicts the
rows of fold k from their out-of-fold predictions, and the test rows from the fold-k base models' test
predictions. No in-fold (training) prediction of a base model ever reaches the meta-model. At refit the meta-model
is fitted on the out-of-fold predictions of all train rows and applied to the refit base models' test predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nirs_modelling.predictions import predictions_of, readonly
from nirs_modelling.results import FinalFit, FittedFold, FoldSweep, GroupCV
from nirs_modelling.targets import model_y
from relspec.operator_map import instantiate, with_components
from relspec.plan import CompiledPlan, StackGroup, largest_count


def _base_rows(plan: CompiledPlan, stack: StackGroup) -> list[tuple[str, int]]:
    """(group_id, row in the group's prediction stack) of each base chain, in the stack's column order."""
    chains = {c.chain_id: c for c in plan.chains}
    out = []
    for chain_id in stack.base_chains:
        group_id = chains[chain_id].group_id
        ids, rows = plan.chain_rows(group_id)
        out.append((group_id, rows[ids.index(chain_id)]))
    return out


def oof_features(plan: CompiledPlan, stack: StackGroup, cvs: Mapping[str, GroupCV], n_rows: int) -> np.ndarray:
    """(n_rows, n_bases * n_targets): each train row's out-of-fold prediction by each base chain of each target
    (column ``base * n_targets + target``; NaN for other rows)."""
    t = len(plan.targets)
    features = np.full((n_rows, len(stack.base_chains) * t), np.nan)
    for column, (group_id, row) in enumerate(_base_rows(plan, stack)):
        cv = cvs[group_id]
        features[cv.oof_rows, column * t:(column + 1) * t] = cv.oof_pred[row]
    return features


def _columns(blocks: Sequence[np.ndarray], n_columns: int) -> np.ndarray:
    """Base predictions (n_rows, n_targets) side by side in base order (no rows without test rows)."""
    return np.concatenate(blocks, axis=1) if blocks and blocks[0].shape[0] else np.empty((0, n_columns))


def _fit(stack: StackGroup, X: np.ndarray, y: np.ndarray):
    values = stack.component_values
    largest = largest_count(values)
    select = None if values == (None,) else np.asarray(values, dtype=np.int64) - 1
    return instantiate(with_components(stack.model, largest)).fit(X, model_y(y)), select


def stack_cv(plan: CompiledPlan, stack: StackGroup, cvs: Mapping[str, GroupCV], targets: np.ndarray) -> GroupCV:
    """The meta-model's CV over the same folds as its base chains, from out-of-fold predictions only."""
    features = oof_features(plan, stack, cvs, targets.shape[0])
    bases = _base_rows(plan, stack)
    t = targets.shape[1]
    folds = []
    for k, fold in enumerate(plan.folds):
        train, val = np.asarray(fold.train_rows, dtype=np.int64), np.asarray(fold.val_rows, dtype=np.int64)
        test_features = _columns([cvs[g].folds[k].test_pred[row] for g, row in bases], features.shape[1])
        model, select = _fit(stack, features[train], targets[train])
        folds.append(FoldSweep(fold_id=fold.fold_id, val_rows=readonly(val),
                               val_pred=readonly(predictions_of(model, features[val], select, t)),
                               test_pred=readonly(predictions_of(model, test_features, select, t))))
    return GroupCV(group_id=stack.group_id, folds=tuple(folds),
                   oof_rows=readonly(np.concatenate([f.val_rows for f in folds])),
                   oof_pred=readonly(np.concatenate([f.val_pred for f in folds], axis=1)))


def refit_stack(
    plan: CompiledPlan, stack: StackGroup, chain_ids: Sequence[str], components: Sequence[int | None],
    cvs: Mapping[str, GroupCV], base_fits: Mapping[str, FinalFit], targets: np.ndarray,
) -> list[FinalFit]:
    """``fold_final`` of stacked chains: the meta-model on all train rows' out-of-fold predictions, applied to the
    refit base chains' test predictions (their train predictions are the out-of-fold ones it was fitted on)."""
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    features = oof_features(plan, stack, cvs, targets.shape[0])
    test_features = _columns([base_fits[c].test_pred for c in stack.base_chains], features.shape[1])
    model, select = _fit(stack, features[train], targets[train])
    t = targets.shape[1]
    train_pred = predictions_of(model, features[train], select, t)
    test_pred = predictions_of(model, test_features, select, t)
    row = {v: i for i, v in enumerate(stack.component_values)}
    meta = FittedFold(plan.final_fold.fold_id, (), model, None)
    return [FinalFit(c, readonly(train_pred[row[k]]), readonly(test_pred[row[k]]), k, (), (meta,))
            for c, k in zip(chain_ids, components, strict=True)]
