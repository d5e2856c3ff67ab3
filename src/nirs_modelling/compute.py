"""The computations behind the generated nodes: pure functions of their inputs, never mutating them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator

from nirs_core.metrics import loss, mean_nrmse, task_scores
from nirs_core.operators import PLSSweep
from nirs_core.operators.filters import RowFilter
from nirs_modelling import augmentation
from nirs_modelling.fold_filters import FoldRecorder
from nirs_modelling.predictions import predictions_of, readonly
from nirs_modelling.replicates import ranked_cvs
from nirs_modelling.results import FinalFit, FittedFold, FoldSweep, GroupCV, RankedChain
from nirs_modelling.selection import RefitChoice
from nirs_modelling.stacking import refit_stack
from nirs_modelling.targets import model_y
from relspec.operator_map import instantiate, with_components
from relspec.plan import CompiledPlan, FoldSpec, StepRef, SweepGroup


def apply_stateless(step: StepRef, spectra: np.ndarray) -> np.ndarray:
    """Apply a row-wise stateless step to all rows at once (its fit reads nothing but the width)."""
    return readonly(np.ascontiguousarray(instantiate(step).fit(spectra).transform(spectra)))


def fit_group(
    group: SweepGroup, components: Sequence[int | None], fit_rows: np.ndarray, predict_rows: Sequence[np.ndarray],
    spectra: np.ndarray, targets: np.ndarray, fold_id: str = "",
) -> tuple[FittedFold, list[np.ndarray]]:
    """Fit the group's fitted steps, y transform and model on ``fit_rows``; predict each row block for ``components``.

    A sample filter among the steps (:class:`~nirs_core.operators.filters.RowFilter`) is decided on the training
    rows that reach it and removes the rows it drops from the fit of every later step, the y transform and the
    model; the blocks of ``predict_rows`` are never filtered. The fitted fold's ``record`` says what the filters
    dropped and what the column selections kept.

    A sweep model (PLS, PCR) is fitted once with the largest count and predicts every count; a model without
    components (``components == [None]``) predicts once. ``targets`` is ``(n_rows, n_targets)``: one target is
    fitted as a 1-D ``y``, several at once (PLS2, multi-output models). Returns the fitted objects (fold_id left
    empty for the caller) and one (len(components), n_rows, n_targets) array per block, on the targets' scale.

    The group's augment steps add synthetic rows to the training block after its fitted steps (drawn with the
    generator of ``fold_id``, :func:`nirs_modelling.augmentation.fold_generator`); the y transform and the model are
    fitted on the real and synthetic rows, the predicted blocks are never augmented.
    """
    X_fit, Y_fit = spectra[fit_rows], targets[fit_rows]
    y_fit = model_y(Y_fit)
    blocks = [spectra[r] for r in predict_rows]
    steps = []
    recorder = FoldRecorder(group, fit_rows)
    for i, ref in enumerate(group.fitted_steps):
        est = instantiate(ref)
        if isinstance(est, RowFilter):  # drops training rows from the later fits; predicts every block's rows
            X_fit, Y_fit = recorder.filter(i, ref, est, X_fit, Y_fit)
            y_fit = model_y(Y_fit)
            continue
        width = X_fit.shape[1]
        est = est.fit(X_fit, y_fit)
        X_fit = est.transform(X_fit)
        blocks = [est.transform(o) if o.shape[0] else o for o in blocks]
        steps.append(est)
        recorder.fitted(i, est, width)
    n_real = X_fit.shape[0]
    X_fit, Y_fit = augmentation.augment_training(group.augmenters, fold_id, X_fit, Y_fit)
    y_fit = model_y(Y_fit)
    y_transform = None if group.y_transform is None else instantiate(group.y_transform).fit(Y_fit)
    if y_transform is not None:
        y_fit = model_y(y_transform.transform(Y_fit))
    sweep = list(components) != [None]
    largest = max(c for c in components if c is not None) if sweep else None
    model = _fit_owned(instantiate(with_components(group.model, largest)), X_fit, y_fit)
    fitted = FittedFold("", tuple(steps), model, y_transform, n_synthetic=X_fit.shape[0] - n_real,
                        record=recorder.record())
    return fitted, [readonly(p) for p in predict_transformed(fitted, components, blocks, Y_fit.shape[1])]


def _fit_owned(model: BaseEstimator, X: np.ndarray, y: np.ndarray) -> BaseEstimator:
    """Fit ``model`` on a matrix this module made (a row selection, or a fitted step's output) and reads no more:
    a PLS centres it in place instead of copying it. The fitted model keeps ``copy=True`` for anyone refitting it."""
    if isinstance(model, PLSSweep):
        model.set_params(copy=False).fit(X, y)
        return model.set_params(copy=True)
    return model.fit(X, y)


def predict_transformed(fitted: FittedFold, components: Sequence[int | None], blocks: Sequence[np.ndarray],
                        n_targets: int) -> list[np.ndarray]:
    """Predictions (len(components), n_rows, n_targets) of a fitted fold's model for each block of rows that
    already went through its fitted steps, back on the targets' scale."""
    select = np.asarray(components, dtype=np.int64) - 1 if list(components) != [None] else None
    return [_inverse(fitted.y_transform, predictions_of(fitted.model, X, select, n_targets)) for X in blocks]


def _inverse(y_transform: BaseEstimator | None, pred: np.ndarray) -> np.ndarray:
    """Predictions (n_counts, n_rows, n_targets) back on the targets' scale (the y transform works per column)."""
    if y_transform is None or pred.size == 0:
        return pred
    return y_transform.inverse_transform(pred.reshape(-1, pred.shape[-1])).reshape(pred.shape)


def fit_predict(
    group: SweepGroup, components: Sequence[int | None], fit_rows: np.ndarray, predict_rows: Sequence[np.ndarray],
    spectra: np.ndarray, targets: np.ndarray,
) -> list[np.ndarray]:
    """The predictions of :func:`fit_group` (the fitted objects are dropped)."""
    return fit_group(group, components, fit_rows, predict_rows, spectra, targets)[1]


def sweep_fold(
    group: SweepGroup, fold: FoldSpec, test_rows: np.ndarray, spectra: np.ndarray, targets: np.ndarray,
    keep_fit: bool = False,
) -> FoldSweep:
    """One CV fold of a sweep group: fit on the fold's train rows, predict its val rows and the test rows; with
    ``keep_fit`` the fitted objects come along for the refit (:func:`fold_fits_kept`)."""
    val_rows = np.asarray(fold.val_rows, dtype=np.int64)
    fitted, (val_pred, test_pred) = fit_group(
        group, group.component_values, np.asarray(fold.train_rows, dtype=np.int64), [val_rows, test_rows],
        spectra, targets, fold.fold_id,
    )
    return FoldSweep(fold_id=fold.fold_id, val_rows=readonly(val_rows), val_pred=val_pred, test_pred=test_pred,
                     fitted=replace(fitted, fold_id=fold.fold_id) if keep_fit else None, record=fitted.record,
                     n_synthetic=fitted.n_synthetic)


# The fold nodes hand their fitted objects to the refit while all of a plan's fold fits stay under this estimate;
# past it (grids of thousands of groups) they keep none and the refit fits its own chains' folds again.
FOLD_FITS_BUDGET = 256 * 1024**2
_SWEEP_MODELS = frozenset({"pls", "pcr", "plsda"})  # models whose fitted size follows from counts and widths


def fold_fits_kept(plan: CompiledPlan, n_wavelengths: int) -> bool:
    """Whether the fold nodes keep their fitted objects for the refit: every group's model is a sweep model (PLS,
    PCR, PLS-DA: its size is known, about K x wavelengths x (targets + 3) floats, plus a wavelength-long vector or
    two per fitted step) and the estimate over all groups and folds is within :data:`FOLD_FITS_BUDGET`. The
    choice changes no result: a kept fit and a refitted one are the same computation on the same rows."""
    if not plan.groups or any(g.model.op not in _SWEEP_MODELS for g in plan.groups):
        return False
    width = n_wavelengths * 8 * 2  # two float64 vectors per wavelength-long array (a safety factor)
    outputs = max(len(plan.targets), len(plan.classes))  # PLS-DA regresses one indicator column per class
    per_fold = sum(max((c or 1) for c in g.component_values) * width * (outputs + 3) + width * len(g.fitted_steps)
                   for g in plan.groups)
    return per_fold * len(plan.folds) <= FOLD_FITS_BUDGET


def gather_cv(group: SweepGroup, folds: Sequence[FoldSweep]) -> GroupCV:
    """Pool the folds' out-of-fold predictions (rows in fold order)."""
    return GroupCV(
        group_id=group.group_id, folds=tuple(folds),
        oof_rows=readonly(np.concatenate([f.val_rows for f in folds])),
        oof_pred=readonly(np.concatenate([f.val_pred for f in folds], axis=1)),
    )


def target_sd(plan: CompiledPlan, targets: np.ndarray) -> np.ndarray:
    """Standard deviation (ddof=1) of each target over the plan's train rows: the scale of ``mean_nrmse``."""
    return targets[np.asarray(plan.final_fold.train_rows, dtype=np.int64)].std(axis=0, ddof=1)


def rank_values(plan: CompiledPlan, y_true: np.ndarray, y_pred: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The plan's rank metric of each row of ``y_pred`` (n_counts, n_rows, n_targets) against ``y_true``
    (n_rows, n_targets): ``mean_nrmse`` over all targets, or the metric of the ranking target."""
    if plan.rank_metric == "mean_nrmse":
        return mean_nrmse(y_true, y_pred, sd)
    j = plan.targets.index(plan.refit.target) if plan.refit.target is not None else 0
    return task_scores(plan.task, y_true[:, j], y_pred[:, :, j])[plan.rank_metric]


def rank_chains(plan: CompiledPlan, cvs: Sequence[GroupCV], targets: np.ndarray) -> tuple[RankedChain, ...]:
    """All chains ranked by the loss of the plan's pooled CV metric (:func:`nirs_core.metrics.loss`: rmse and
    mean_nrmse ascending, accuracies descending); ties go to fewer components, then to the smaller chain_id.
    ``cvs`` holds every sweep group and stack of the plan, so every chain is ranked (the order ``chains.rank``
    stores). With replicates ranked at the sample level (``plan.rank_level``), each sample's mean prediction is
    scored (:mod:`nirs_modelling.replicates`)."""
    metric = plan.rank_metric
    sd = target_sd(plan, targets)
    ranked = []
    for cv in ranked_cvs(plan, cvs):
        values = rank_values(plan, targets[cv.oof_rows], cv.oof_pred, sd)
        losses = loss(metric, values)
        _, rows = plan.chain_rows(cv.group_id)
        for chain, row in zip(plan.chains_of(cv.group_id), rows, strict=True):
            ranked.append(RankedChain(chain.chain_id, cv.group_id, chain.n_components, metric, float(values[row]),
                                      float(losses[row])))
    return tuple(sorted(ranked, key=lambda r: (r.cv_loss, r.n_components or 0, r.chain_id)))


def hoisted_refs(plan: CompiledPlan, group: SweepGroup) -> tuple[StepRef, ...]:
    """The group's row-wise stateless steps above the folds, in order from the raw spectra."""
    by_id = {h.node_id: h for h in plan.hoisted}
    refs: list[StepRef] = []
    node_id = group.input_node
    while node_id is not None:
        refs.insert(0, by_id[node_id].step)
        node_id = by_id[node_id].parent
    return tuple(refs)


def group_input(plan: CompiledPlan, group: SweepGroup, sources: Mapping[str | None, np.ndarray]) -> np.ndarray:
    """The matrix the group's fold fits read, from the nearest of its hoisted nodes held in ``sources``.

    ``sources`` maps hoisted node ids (None: the raw spectra) to their matrices; the steps below the nearest held
    one are applied again with :func:`apply_stateless`, exactly as their nodes apply them, so the result has the
    same bits as the group's input node. Raises KeyError when neither a node of the path nor the raw spectra is held.
    """
    by_id = {h.node_id: h for h in plan.hoisted}
    missing: list[StepRef] = []
    node_id = group.input_node
    while node_id not in sources:
        missing.append(by_id[node_id].step)
        node_id = by_id[node_id].parent
    spectra = sources[node_id]
    for step in reversed(missing):
        spectra = apply_stateless(step, spectra)
    return spectra


def hoisted_steps(plan: CompiledPlan, group: SweepGroup, n_wavelengths: int) -> tuple[BaseEstimator, ...]:
    """The group's hoisted steps fitted on the width only (their fit reads nothing else)."""
    # Values in (0, 1) suit every operator's domain (reflectance conversions refuse values <= 0).
    X, fitted = np.full((2, n_wavelengths), 0.5), []
    for ref in hoisted_refs(plan, group):
        est = instantiate(ref).fit(X)
        X = est.transform(X)
        fitted.append(est)
    return tuple(fitted)


def _fold_fits(plan: CompiledPlan, group: SweepGroup, spectra: np.ndarray, targets: np.ndarray,
               cv: GroupCV | None = None) -> tuple[FittedFold, ...]:
    """The group's objects of every CV fold: those the fold nodes kept (``cv``), or fitted again exactly as
    :func:`sweep_fold` fits them (same rows, the group's largest count), so they predict what the CV nodes
    predicted."""
    kept = tuple(f.fitted for f in cv.folds) if cv is not None else ()
    if kept and all(f is not None for f in kept) and len(kept) == len(plan.folds):
        return kept
    fits = []
    for fold in plan.folds:
        fitted, _ = fit_group(group, group.component_values, np.asarray(fold.train_rows, dtype=np.int64), [],
                              spectra, targets, fold.fold_id)
        fits.append(replace(fitted, fold_id=fold.fold_id))
    return tuple(fits)


def refit(
    plan: CompiledPlan, ranking: Sequence[RankedChain], sources: Mapping[str | None, np.ndarray],
    targets: np.ndarray, n_wavelengths: int, cvs: Mapping[str, GroupCV] | None = None,
    choice: RefitChoice | None = None,
) -> tuple[FinalFit, ...]:
    """Refit the chains of ``choice`` (default: the ``top_k`` best) on all train rows (``fold_final``), one sweep fit
    per group.

    Each FinalFit keeps the chain's fitted objects: hoisted steps, the ``fold_final`` fit and the CV folds' fits
    (taken from the fold nodes when they kept them, :func:`fold_fits_kept`; otherwise fitted again here for these
    chains only, so a 10,000-chain grid holds no fitted objects). A stacked chain refits its base chains too (they
    are returned after the chosen ones); ``cvs`` holds the groups' pooled out-of-fold predictions (the
    meta-model is fitted on them) and their folds. ``sources`` holds the raw spectra (key
    None) and any hoisted matrices kept for the refit; a refit group's input is rebuilt from them by
    :func:`group_input`, one group at a time.
    """
    chosen = list(choice.chosen if choice is not None else ranking[: plan.refit.top_k])
    stacks = {s.group_id: s for s in plan.stacks}
    by_id = {r.chain_id: r for r in ranking}
    needed = {r.chain_id for r in chosen}
    for r in [r for r in chosen if r.group_id in stacks]:
        chosen += [by_id[c] for c in stacks[r.group_id].base_chains if c not in needed]
        needed |= set(stacks[r.group_id].base_chains)
    fits = _refit_groups(plan, chosen, sources, targets, n_wavelengths, cvs or {})
    for stack in plan.stacks:
        mine = [r for r in chosen if r.group_id == stack.group_id]
        if mine:
            base = {f.chain_id: f for f in fits}
            fits += refit_stack(plan, stack, [r.chain_id for r in mine], [r.n_components for r in mine], cvs or {},
                                base, targets)
    order = {r.chain_id: i for i, r in enumerate(chosen)}
    return tuple(sorted(fits, key=lambda f: order[f.chain_id]))


def _refit_groups(plan: CompiledPlan, chosen: Sequence[RankedChain], sources: Mapping[str | None, np.ndarray],
                  targets: np.ndarray, n_wavelengths: int, cvs: Mapping[str, GroupCV]) -> list[FinalFit]:
    fits = []
    for group in plan.groups:
        mine = [r for r in chosen if r.group_id == group.group_id]
        if mine:
            fits += _refit_group(plan, group, mine, group_input(plan, group, sources), targets, n_wavelengths,
                                 cvs.get(group.group_id))
    return fits


def _refit_group(plan: CompiledPlan, group: SweepGroup, mine: Sequence[RankedChain], spectra: np.ndarray,
                 targets: np.ndarray, n_wavelengths: int, cv: GroupCV | None = None) -> list[FinalFit]:
    """One group's chosen chains refit; a rebuilt input matrix lives only for this call (one group at a time).

    The fold_final model is fitted at the group's largest count, as the CV folds are: a sweep model's first k
    components do not depend on how many follow, so each chain predicts its own count from it, and the
    diagnostics read every count's calibration error from the same fit.
    """
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    test = np.asarray(plan.test_rows, dtype=np.int64)
    fitted, (train_pred, test_pred) = fit_group(
        group, group.component_values, train, [train, test], spectra, targets, plan.final_fold.fold_id)
    objects = (replace(fitted, fold_id=plan.final_fold.fold_id), *_fold_fits(plan, group, spectra, targets, cv))
    hoisted = hoisted_steps(plan, group, n_wavelengths)
    rows = [group.component_values.index(r.n_components) for r in mine]
    return [FinalFit(r.chain_id, train_pred[i], test_pred[i], r.n_components, hoisted, objects)
            for i, r in zip(rows, mine, strict=True)]
