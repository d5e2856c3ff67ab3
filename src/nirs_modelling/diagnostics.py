"""The diagnostics tables of a run: how each refit chain's model sees its calibration and test samples (T², Q,
leverage, domain), which variables it leans on (coefficients, VIP, selectivity ratio), how its errors and explained
variance grow with components, its applicability domain, and — for classifiers — confusion matrices.

The mathematics is :mod:`nirs_core.diagnostics`; this module applies it to the engine's fitted objects and lays the
results out as the workspace tables (``datafusion_engine.schemas``: component_diagnostics, variable_importance,
sample_diagnostics, domains, confusion, class_scores).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from nirs_core.diagnostics import (
    Latent,
    Projection,
    fit_domain,
    latent_of,
    project,
    sample_statistics,
    selectivity_ratio,
    studentized_residuals,
    vip,
    x_explained_cumulative,
)
from nirs_core.metrics import confusion_counts, per_class_scores
from nirs_modelling.compute import fit_group, group_input, hoisted_steps, predict_transformed
from nirs_modelling.results import FinalFit, FittedFold, GroupCV
from nirs_modelling.tables import Rows
from relspec.plan import FOLD_FINAL, POOLED_CV, CompiledPlan, SweepGroup

TABLES: tuple[str, ...] = ("component_diagnostics", "variable_importance", "sample_diagnostics", "domains",
                           "confusion", "class_scores")
_SHOWN = 3  # scores, loadings and weights kept for the first components


@dataclass(frozen=True)
class DiagnosticTables:
    """The diagnostics tables of one run (without run_id)."""

    tables: Mapping[str, pa.Table]


@dataclass(frozen=True)
class _ChainModel:
    """One chain's fitted model as the diagnostics read it: its hoisted steps (already applied to the group input;
    read for the axis only), its fitted transformers, the model, its count, and its fold_final predictions
    (n_rows, n_targets) of the train and test rows."""

    chain_id: str
    n_components: int | None
    hoisted: tuple[Any, ...]
    steps: tuple[Any, ...]
    model: Any
    train_pred: np.ndarray
    test_pred: np.ndarray
    refit: bool
    excluded: np.ndarray  # the train rows its sample filters left out of the fold_final fit (dataset rows)


def _nullable(values: np.ndarray | None, n: int) -> pa.Array:
    """Float64 with NaN/inf as null (an undefined statistic is missing, not a number); all null without values."""
    if values is None:
        return pa.nulls(n, pa.float64())
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, type=pa.float64(), mask=~np.isfinite(values))


def _strings(values: Sequence[str] | np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), pa.string())


def _rows_of(X: np.ndarray | Projection, keep: np.ndarray) -> np.ndarray | Projection:
    """The rows ``keep`` (a boolean mask) of a matrix or a projection; the object itself when all are kept."""
    if keep.all():
        return X
    if isinstance(X, Projection):
        return Projection(X.Xs[keep], X.T[keep], X.E[keep], X.q[keep])
    return X[keep]


def _transform(steps: Sequence[Any], X: np.ndarray) -> np.ndarray:
    for step in steps:
        X = step.transform(X) if X.shape[0] else X
    return X


def input_axis(steps: Sequence[Any], wavelengths: np.ndarray, width: int) -> np.ndarray:
    """The axis of the model's input columns: the last ``wavelengths_out_`` a step declares, else the dataset's
    axis when the width is unchanged, else the column index."""
    axis = None
    for step in steps:
        out = getattr(step, "wavelengths_out_", None)
        if out is not None:
            axis = np.asarray(out, dtype=np.float64)
    if axis is not None and axis.shape == (width,):
        return axis
    if wavelengths.shape == (width,):
        return np.asarray(wavelengths, dtype=np.float64)
    return np.arange(width, dtype=np.float64)


class _Builder:
    """Collects the rows of every diagnostics table."""

    def __init__(self, plan: CompiledPlan, targets: np.ndarray, sample_ids: np.ndarray, wavelengths: np.ndarray):
        self.plan, self.targets, self.ids, self.wavelengths = plan, targets, sample_ids, wavelengths
        self.rows = {name: Rows(name) for name in TABLES}
        self.train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
        self.test = np.asarray(plan.test_rows, dtype=np.int64)
        self._inputs: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per fitted model: see inputs()

    def next_group(self) -> None:
        """Forget the previous group's matrices (one group's inputs are held at a time)."""
        self._inputs.clear()

    def tables(self) -> DiagnosticTables:
        return DiagnosticTables({name: rows.table() for name, rows in self.rows.items()})

    # --- per chain -------------------------------------------------------------------------------------------
    def inputs(self, steps: Sequence[Any], model: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The train and test rows of the group input after ``steps`` — standardised as ``model`` standardises
        them when it has a latent structure — computed once per fitted model (its counts share them)."""
        key = id(model)
        if key not in self._inputs:
            X_cal, X_test = _transform(steps, X[self.train]), _transform(steps, X[self.test])
            latent = latent_of(model, None)
            if latent is not None:
                X_cal, X_test = latent.standardise(X_cal), latent.standardise(X_test)
            self._inputs[key] = (X_cal, X_test)
        return self._inputs[key]

    def chain(self, cm: _ChainModel, X: np.ndarray) -> None:
        """Sample, variable and domain rows of one chain, from its group input matrix ``X`` (all rows)."""
        X_cal, X_test = self.inputs(cm.steps, cm.model, X)
        latent = latent_of(cm.model, cm.n_components)
        if latent is not None and latent.k >= X_cal.shape[0] - 1:
            latent = None  # no residual degrees of freedom: no limits to judge by
        if latent is not None:  # the calibration and test rows as the model sees them, once for every statistic
            X_cal = project(latent, X_cal, standardised=True)
            X_test = project(latent, X_test, standardised=True)
        elif latent_of(cm.model, None) is not None:  # inputs() standardised them; the model's own rows are raw
            X_cal, X_test = _transform(cm.steps, X[self.train]), _transform(cm.steps, X[self.test])
        # the model was calibrated on the train rows its sample filters kept: the domain and the variable statistics
        # are theirs; every train row is still judged (a dropped row shows how far out it is)
        calibrated = ~np.isin(self.train, cm.excluded)
        domain = fit_domain(latent, _rows_of(X_cal, calibrated)) if latent is not None else None
        if domain is not None and cm.refit:
            self.rows["domains"].add(chain_id=[cm.chain_id], **{
                k: [list(v) if isinstance(v, tuple) else v] for k, v in msgspec.structs.asdict(domain).items()})
        cal = self._samples(cm, latent, domain, X_cal, self.train, cm.train_pred, None)
        self._samples(cm, latent, domain, X_test, self.test, cm.test_pred, cal)
        self._variables(cm, latent, _rows_of(X_cal, calibrated))

    def _samples(self, cm: _ChainModel, latent: Latent | None, domain: Any, X: np.ndarray, rows: np.ndarray,
                 pred: np.ndarray, cal_sse: np.ndarray | None) -> np.ndarray:
        """Rows of one partition (train when ``cal_sse`` is None); returns the calibration SSE per target."""
        n = rows.size
        calibration = cal_sse is None
        if n == 0:
            return np.zeros(len(self.plan.targets))
        stats = sample_statistics(latent, domain, X, calibration=calibration) if latent is not None else None
        y_true = self.targets[rows]
        sse = np.zeros(len(self.plan.targets))
        regression = self.plan.task == "regression"
        for j, target in enumerate(self.plan.targets):
            residual = pred[:, j] - y_true[:, j] if regression else None
            if residual is not None:
                sse[j] = float(np.nansum(residual**2))
            student = None
            if residual is not None and stats is not None:
                total = sse[j] if calibration else cal_sse[j]
                student = studentized_residuals(residual, stats["leverage"], total, self.train.size, latent.k,
                                                calibration=calibration)
            scores = stats["scores"] if stats is not None else None
            self.rows["sample_diagnostics"].add(
                chain_id=_strings([cm.chain_id] * n), partition=_strings(["train" if calibration else "test"] * n),
                sample_id=_strings(self.ids[rows]), target=_strings([target] * n), y_true=_nullable(y_true[:, j], n),
                y_pred=pred[:, j], residual=_nullable(residual, n), studentized_residual=_nullable(student, n),
                **{f"score_{a + 1}": _nullable(scores[:, a] if scores is not None and a < scores.shape[1] else None, n)
                   for a in range(_SHOWN)},
                **{name: _nullable(stats[name] if stats is not None else None, n)
                   for name in ("t2", "q", "leverage", "t2_limit_95", "t2_limit_99", "q_limit_95", "q_limit_99",
                                "t2_ratio", "q_ratio")},
                domain=pa.array(stats["domain"].tolist() if stats is not None else [None] * n, pa.string()),
            )
        return sse

    def _variables(self, cm: _ChainModel, latent: Latent | None, X_cal: np.ndarray | Projection) -> None:
        p = X_cal.Xs.shape[1] if isinstance(X_cal, Projection) else X_cal.shape[1]
        axis = input_axis((*cm.hoisted, *cm.steps), self.wavelengths, p)
        regression = self.plan.task == "regression"
        if latent is not None:
            T = project(latent, X_cal).T
            importance = vip(latent, T) if latent.kind == "pls" else None
            if importance is not None and not regression:  # PLS-DA: one VIP over all class indicators
                importance = vip(_pooled(latent), T)
            ratio = selectivity_ratio(latent, X_cal) if regression else None
            coef = latent.coefficients if regression else None
        else:
            coef = _linear_coefficients(cm.model, p, len(self.plan.targets)) if regression else None
            importance = ratio = None
            if coef is None:
                return
        for j, target in enumerate(self.plan.targets):
            def column(m: np.ndarray | None, j: int = j) -> np.ndarray | None:
                return None if m is None else m[:, min(j, m.shape[1] - 1)]

            self.rows["variable_importance"].add(
                chain_id=_strings([cm.chain_id] * p), target=_strings([target] * p),
                variable=np.arange(p, dtype=np.int64), wavelength=axis, coefficient=_nullable(column(coef), p),
                vip=_nullable(column(importance), p), selectivity_ratio=_nullable(column(ratio), p),
                **{f"{name}_{a + 1}": _nullable(m[:, a] if latent is not None and a < latent.k else None, p)
                   for name, m in (("loading", latent.loadings if latent else None),
                                   ("weight", latent.weights if latent else None))
                   for a in range(_SHOWN)},
            )

    # --- per group -------------------------------------------------------------------------------------------
    def components(self, chain_ids: Sequence[str], group: SweepGroup, X: np.ndarray, cv: GroupCV | None,
                   fitted: FittedFold | None) -> Any:
        """Component rows for ``chain_ids`` from the group's fold_final model at its largest count (``fitted``: the
        refit's, or None to fit it here). Returns the fitted objects and every count's predictions."""
        comps = [c for c in group.component_values if c is not None]
        if fitted is None:
            fitted, (train_pred, test_pred) = fit_group(group, group.component_values, self.train,
                                                         [self.train, self.test], X, self.targets,
                                                         self.plan.final_fold.fold_id)
        else:
            blocks = [_transform(fitted.steps, X[self.train]), _transform(fitted.steps, X[self.test])]
            train_pred, test_pred = predict_transformed(fitted, group.component_values, blocks, self.targets.shape[1])
        if self.plan.task != "regression" or not comps:
            return fitted, train_pred, test_pred
        latent = latent_of(fitted.model, max(comps))
        x_cum = None
        calibrated = ~np.isin(self.train, fitted.record.excluded_rows)  # the rows the model was fitted on
        if latent is not None:
            Xs = self.inputs(fitted.steps, fitted.model, X)[0][calibrated]
            proj = Projection(Xs, Xs @ latent.rotations, np.empty((0, 0)), np.empty(0))  # no residual needed
            x_cum = x_explained_cumulative(latent, proj)[np.asarray(comps) - 1]
        y_train, y_test = self.targets[self.train][calibrated], self.targets[self.test]
        m = len(comps)
        for j, target in enumerate(self.plan.targets):
            rmsec = _rmse(train_pred[:, calibrated, j], y_train[:, j])
            rmsep = _rmse(test_pred[:, :, j], y_test[:, j]) if self.test.size else None
            rmsecv = _rmse(cv.oof_pred[:, :, j], self.targets[cv.oof_rows, j]) if cv is not None else None
            sst = float(np.sum((y_train[:, j] - y_train[:, j].mean()) ** 2))
            y_cum = 1.0 - (rmsec**2 * y_train.shape[0]) / sst if sst > 0 else np.full(m, np.nan)
            for chain_id in chain_ids:
                self.rows["component_diagnostics"].add(
                    chain_id=_strings([chain_id] * m), target=_strings([target] * m),
                    n_components=np.asarray(comps, dtype=np.int64), rmsec=rmsec, rmsecv=_nullable(rmsecv, m),
                    rmsep=_nullable(rmsep, m), x_explained=_nullable(_steps(x_cum), m),
                    x_explained_cum=_nullable(x_cum, m), y_explained=_steps(y_cum), y_explained_cum=y_cum,
                )
        return fitted, train_pred, test_pred

    # --- classification --------------------------------------------------------------------------------------
    def confusion(self, chain_ids: Sequence[str], fold_id: str, partition: str, y_true: np.ndarray,
                  y_pred: np.ndarray) -> None:
        """Confusion cells and per-class scores of (n_chains, n_rows) predicted class codes."""
        k = len(self.plan.classes)
        if y_true.size == 0 or k == 0:
            return
        labels = np.asarray(self.plan.classes, dtype=object)
        known = np.isfinite(y_true)
        true_codes = y_true[known].astype(np.int64)
        target = self.plan.targets[0]
        for chain_id, pred in zip(chain_ids, y_pred, strict=True):
            counts = confusion_counts(true_codes, pred[known].astype(np.int64), k)
            per_class = per_class_scores(counts)
            self.rows["confusion"].add(
                chain_id=_strings([chain_id] * k * k), fold_id=_strings([fold_id] * k * k),
                partition=_strings([partition] * k * k), target=_strings([target] * k * k),
                label_true=_strings(np.repeat(labels, k)), label_pred=_strings(np.tile(labels, k)),
                count=counts.reshape(-1).astype(np.int64))
            self.rows["class_scores"].add(
                chain_id=_strings([chain_id] * k), fold_id=_strings([fold_id] * k),
                partition=_strings([partition] * k), target=_strings([target] * k), label=_strings(labels),
                precision=per_class["precision"], recall=per_class["recall"], f1=per_class["f1"],
                support=per_class["support"].astype(np.int64))


def _pooled(latent: Latent) -> Latent:
    """The latent structure with its y loadings pooled into one (the root of their sum of squares): VIP over every
    indicator column of a PLS-DA."""
    pooled = np.sqrt(np.sum(latent.y_loadings**2, axis=0, keepdims=True))
    return Latent(latent.kind, latent.x_mean, latent.x_scale, latent.rotations, latent.loadings, latent.weights,
                  pooled, latent.coefficients)


def _linear_coefficients(model: Any, p: int, t: int) -> np.ndarray | None:
    """``coef_`` of a linear scikit-learn model as (p, t), or None."""
    coef = getattr(model, "coef_", None)
    if coef is None:
        return None
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 1 and coef.size == p:
        return coef[:, None]
    if coef.ndim == 2 and coef.shape == (t, p):
        return coef.T
    return None


def _rmse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RMSE of each row of ``pred`` (m, n) against ``y`` (n,), over the rows where y is known."""
    known = np.isfinite(y)
    err = pred[:, known] - y[None, known]
    return np.sqrt(np.mean(err**2, axis=1)) if known.any() else np.full(pred.shape[0], np.nan)


def _steps(cumulative: np.ndarray | None) -> np.ndarray | None:
    """Per-component shares from cumulative ones (the first is itself)."""
    if cumulative is None:
        return None
    return np.diff(np.concatenate([[0.0], cumulative]))


def run_diagnostics(plan: CompiledPlan, fits: Sequence[FinalFit], sources: Mapping[str | None, np.ndarray],
                    cvs: Mapping[str, GroupCV], targets: np.ndarray, sample_ids: np.ndarray,
                    wavelengths: np.ndarray) -> DiagnosticTables:
    """Every diagnostics table of a run: for the refit chains (every chain when the plan asks ``diagnostics:
    all``), one group at a time (a group's input matrix is rebuilt from ``sources`` as the refit rebuilds it).

    ``cvs`` holds the pooled CV of every sweep group and stack (by group id).
    """
    b = _Builder(plan, targets, sample_ids, wavelengths)
    refit = {f.chain_id: f for f in fits}
    every = plan.diagnostics == "all"
    for group in plan.groups:
        chains = [c for c in plan.chains_of(group.group_id) if every or c.chain_id in refit]
        if not chains:
            continue
        X = group_input(plan, group, sources)
        b.next_group()
        refit_fold = next((refit[c.chain_id].fits[0] for c in chains if c.chain_id in refit), None)
        fitted, train_pred, test_pred = b.components([c.chain_id for c in chains], group, X,
                                                     cvs.get(group.group_id), refit_fold)
        counts = [v for v in group.component_values if v is not None]
        hoisted = hoisted_steps(plan, group, wavelengths.size)
        for c in chains:
            f = refit.get(c.chain_id)
            if f is not None:
                final = f.fits[0]
                cm = _ChainModel(c.chain_id, c.n_components, f.hoisted, final.steps, final.model, f.train_pred,
                                 f.test_pred, True, final.record.excluded_rows)
            else:  # diagnostics: all — the chain's count of the group's refit at its largest count
                row = counts.index(c.n_components) if c.n_components is not None else 0
                cm = _ChainModel(c.chain_id, c.n_components, hoisted, tuple(fitted.steps), fitted.model,
                                 train_pred[row], test_pred[row], False, fitted.record.excluded_rows)
            b.chain(cm, X)
    if plan.task == "classification":
        _classification(b, plan, fits, cvs, targets)
    return b.tables()


def _classification(b: _Builder, plan: CompiledPlan, fits: Sequence[FinalFit], cvs: Mapping[str, GroupCV],
                    targets: np.ndarray) -> None:
    """Confusion matrices of every chain's pooled CV and of the refit chains' train and test predictions."""
    for group_id, cv in cvs.items():
        ids, stack = plan.chain_rows(group_id)
        b.confusion(ids, POOLED_CV, "val", targets[cv.oof_rows, 0], cv.oof_pred[list(stack), :, 0])
    for f in fits:
        b.confusion([f.chain_id], FOLD_FINAL, "train", targets[b.train, 0], f.train_pred[None, :, 0])
        b.confusion([f.chain_id], FOLD_FINAL, "test", targets[b.test, 0], f.test_pred[None, :, 0])
