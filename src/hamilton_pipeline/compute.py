"""The computations behind the generated nodes: pure functions of their inputs, never mutating them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator

from hamilton_pipeline.results import FinalFit, FoldSweep, GroupCV, RankedChain
from nirdag.operators.metrics import regression_scores
from relspec.operator_map import instantiate, with_components
from relspec.plan import CompiledPlan, FoldSpec, StepRef, SweepGroup


def readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def apply_stateless(step: StepRef, spectra: np.ndarray) -> np.ndarray:
    """Apply a row-wise stateless step to all rows at once (its fit reads nothing but the width)."""
    return readonly(np.ascontiguousarray(instantiate(step).fit(spectra).transform(spectra)))


def _fit_transform_steps(
    steps: Sequence[StepRef], X_fit: np.ndarray, y_fit: np.ndarray, others: Sequence[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fit each step on the fitting rows only, and apply it to them and to the other row blocks."""
    outs = list(others)
    for ref in steps:
        est = instantiate(ref).fit(X_fit, y_fit)
        X_fit = est.transform(X_fit)
        outs = [est.transform(o) if o.shape[0] else o for o in outs]
    return X_fit, outs


def _predict(model: BaseEstimator, X: np.ndarray, select: np.ndarray | None) -> np.ndarray:
    """(n_selected, n_rows) predictions: every selected component count of a sweep model, or one row."""
    if X.shape[0] == 0:
        return np.empty((1 if select is None else select.size, 0))
    if select is None:
        return np.asarray(model.predict(X), dtype=np.float64).reshape(1, -1)
    return model.predict_all(X)[select, :, 0]


def fit_predict(
    group: SweepGroup, components: Sequence[int | None], fit_rows: np.ndarray, predict_rows: Sequence[np.ndarray],
    spectra: np.ndarray, targets: np.ndarray,
) -> list[np.ndarray]:
    """Fit the group's fitted steps and its model on ``fit_rows``; predict each row block for ``components``.

    A sweep model (PLS, PCR) is fitted once with the largest count and predicts every count; a model without
    components (``components == [None]``) predicts once. Returns one (len(components), n_rows) array per block.
    """
    X_fit, blocks = _fit_transform_steps(
        group.fitted_steps, spectra[fit_rows], targets[fit_rows], [spectra[r] for r in predict_rows]
    )
    y_fit = targets[fit_rows]
    y_transform = None if group.y_transform is None else instantiate(group.y_transform).fit(y_fit.reshape(-1, 1))
    if y_transform is not None:
        y_fit = y_transform.transform(y_fit.reshape(-1, 1)).ravel()
    sweep = list(components) != [None]
    largest = max(c for c in components if c is not None) if sweep else None
    model = instantiate(with_components(group.model, largest)).fit(X_fit, y_fit)
    select = np.asarray(components, dtype=np.int64) - 1 if sweep else None
    return [readonly(_inverse(y_transform, _predict(model, X, select))) for X in blocks]


def _inverse(y_transform: BaseEstimator | None, pred: np.ndarray) -> np.ndarray:
    """Predictions back on the target's scale (the y transform is elementwise on one column)."""
    if y_transform is None or pred.size == 0:
        return pred
    return y_transform.inverse_transform(pred.reshape(-1, 1)).reshape(pred.shape)


def sweep_fold(
    group: SweepGroup, fold: FoldSpec, test_rows: np.ndarray, spectra: np.ndarray, targets: np.ndarray
) -> FoldSweep:
    """One CV fold of a sweep group: fit on the fold's train rows, predict its val rows and the test rows."""
    val_rows = np.asarray(fold.val_rows, dtype=np.int64)
    val_pred, test_pred = fit_predict(
        group, group.component_values, np.asarray(fold.train_rows, dtype=np.int64), [val_rows, test_rows],
        spectra, targets,
    )
    return FoldSweep(fold_id=fold.fold_id, val_rows=readonly(val_rows), val_pred=val_pred, test_pred=test_pred)


def gather_cv(group: SweepGroup, folds: Sequence[FoldSweep]) -> GroupCV:
    """Pool the folds' out-of-fold predictions (rows in fold order)."""
    return GroupCV(
        group_id=group.group_id, folds=tuple(folds),
        oof_rows=readonly(np.concatenate([f.val_rows for f in folds])),
        oof_pred=readonly(np.concatenate([f.val_pred for f in folds], axis=1)),
    )


def rank_chains(plan: CompiledPlan, cvs: Sequence[GroupCV], targets: np.ndarray) -> tuple[RankedChain, ...]:
    """All chains ranked by pooled RMSECV; ties go to fewer components, then to the smaller chain_id."""
    ranked = []
    for cv in cvs:
        rmse = regression_scores(targets[cv.oof_rows], cv.oof_pred)["rmse"]
        _, rows = plan.chain_rows(cv.group_id)
        for chain, row in zip(plan.chains_of(cv.group_id), rows, strict=True):
            ranked.append(RankedChain(chain.chain_id, cv.group_id, chain.n_components, float(rmse[row])))
    return tuple(sorted(ranked, key=lambda r: (r.rmsecv, r.n_components or 0, r.chain_id)))


def refit(
    plan: CompiledPlan, ranking: Sequence[RankedChain], inputs: dict[str, np.ndarray], targets: np.ndarray
) -> tuple[FinalFit, ...]:
    """Refit the ``top_k`` best chains on all train rows (``fold_final``), one sweep fit per group."""
    chosen = ranking[: plan.refit.top_k]
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    test = np.asarray(plan.test_rows, dtype=np.int64)
    fits = []
    for group in plan.groups:
        mine = [r for r in chosen if r.group_id == group.group_id]
        if not mine:
            continue
        comps = [r.n_components for r in mine]
        train_pred, test_pred = fit_predict(group, comps, train, [train, test], inputs[group.group_id], targets)
        fits += [FinalFit(r.chain_id, train_pred[i], test_pred[i]) for i, r in enumerate(mine)]
    order = {r.chain_id: i for i, r in enumerate(chosen)}
    return tuple(sorted(fits, key=lambda f: order[f.chain_id]))
