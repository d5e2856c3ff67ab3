"""Regression and classification metrics vectorised over a stack of predictions (one row per model, e.g. per
component count)."""

from __future__ import annotations

from typing import Literal

import numpy as np

REGRESSION_METRICS: tuple[str, ...] = ("rmse", "r2", "bias", "sep", "mae", "rpd", "rpiq", "slope", "intercept", "rer",
                                       "n")
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "n")
# The direction of each metric, defined once (the engine's ranking and the SQL of the views are built from it):
# higher is better for these, closest to zero for these (an error of either sign), closest to one for these (the
# slope of predicted on measured), lower for every other metric.
HIGHER_IS_BETTER: frozenset[str] = frozenset({"r2", "q2", "rpd", "rpiq", "rer", "accuracy", "balanced_accuracy"})
CLOSEST_TO_ZERO_IS_BETTER: frozenset[str] = frozenset({"bias", "intercept"})
CLOSEST_TO_ONE_IS_BETTER: frozenset[str] = frozenset({"slope"})


def loss(metric: str, value: np.ndarray) -> np.ndarray:
    """The value a ``metric`` ranks by, lower is better: ``-value`` for a metric in HIGHER_IS_BETTER, ``|value|``
    for one in CLOSEST_TO_ZERO_IS_BETTER, ``|value - 1|`` for one in CLOSEST_TO_ONE_IS_BETTER, else ``value``
    itself (rmse, mean_nrmse...)."""
    if metric in HIGHER_IS_BETTER:
        return -value
    if metric in CLOSEST_TO_ZERO_IS_BETTER:
        return np.abs(value)
    if metric in CLOSEST_TO_ONE_IS_BETTER:
        return np.abs(value - 1.0)
    return value


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of each row of ``y_pred`` (shape (m, n)) against ``y_true`` (shape (n,)).

    rmse = sqrt(mean(e^2)); bias = mean(e) with e = y_pred - y_true; sep = std(e, ddof=1) (NaN when n < 2);
    r2 = 1 - SSE/SST (NaN when y_true is constant); mae = mean(|e|); rpd = std(y_true, ddof=1) / sep;
    rpiq = (Q3 - Q1 of y_true) / rmse; slope and intercept of the least-squares line of y_pred on y_true
    (y_pred = intercept + slope * y_true; NaN when y_true is constant); rer = (max - min of y_true) / sep;
    n = number of samples. The SQL functions of the workspace (``rmse(y_true, y_pred)``...) compute the same values.
    Conventions differ between tools: some regress y_true on y_pred, giving another slope.
    """
    y_pred = np.atleast_2d(y_pred)
    n = y_true.shape[0]
    err = y_pred - y_true[None, :]
    sse = np.einsum("mn,mn->m", err, err)
    sst = float(np.sum((y_true - y_true.mean()) ** 2))
    bias = err.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sep = np.sqrt(np.sum((err - bias[:, None]) ** 2, axis=1) / (n - 1)) if n > 1 else np.full(len(err), np.nan)
        r2 = 1.0 - sse / sst if sst > 0 else np.full(len(err), np.nan)
    rmse = np.sqrt(sse / n)
    sd = float(np.std(y_true, ddof=1)) if n > 1 else np.nan
    q1, q3 = np.percentile(y_true, [25, 75])
    centred = y_true - y_true.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        rpd = sd / sep
        rpiq = (q3 - q1) / rmse
        slope = (y_pred @ centred) / sst if sst > 0 else np.full(len(err), np.nan)
        rer = (float(y_true.max() - y_true.min()) if n else np.nan) / sep
    intercept = y_pred.mean(axis=1) - slope * y_true.mean()
    return {
        "rmse": rmse, "r2": r2, "bias": bias, "sep": sep, "mae": np.abs(err).mean(axis=1), "rpd": rpd,
        "rpiq": rpiq, "slope": slope, "intercept": intercept, "rer": rer, "n": np.full(len(err), float(n)),
    }


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes) of rows of true class i (row) predicted as class j (column); classes are the
    integer codes 0..n_classes-1 (scikit-learn's ``confusion_matrix`` with ``labels=range(n_classes)``)."""
    t, p = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 (NaN where undefined: a class never predicted, or never present) and support of each
    class from a confusion matrix (rows true, columns predicted)."""
    tp = np.diag(counts).astype(np.float64)
    predicted, support = counts.sum(axis=0), counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(predicted + support > 0, 2 * tp / (predicted + support), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of each row of ``y_pred`` (shape (m, n), class codes or labels) against ``y_true`` (shape (n,)).

    accuracy = share of rows predicted right; balanced_accuracy = mean over the classes present in ``y_true`` of
    the recall of that class (scikit-learn's ``balanced_accuracy_score``: a class only predicted, never true, is
    left out); n = number of samples. Equal to scikit-learn's values, computed for all rows at once.
    """
    y_pred = np.atleast_2d(y_pred)
    right = y_pred == y_true[None, :]
    classes = np.unique(y_true)
    member = y_true[None, :] == classes[:, None]  # (n_classes, n)
    recall = (right.astype(np.float64) @ member.T.astype(np.float64)) / member.sum(axis=1)  # (m, n_classes)
    n = y_true.shape[0]
    return {
        "accuracy": right.mean(axis=1), "balanced_accuracy": recall.mean(axis=1),
        "n": np.full(len(y_pred), float(n)),
    }


def mean_nrmse(y_true: np.ndarray, y_pred: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Mean over targets of RMSE / ``sd`` (each target's spread) for each row of ``y_pred`` (m, n, t) against
    ``y_true`` (n, t): several targets in different units weigh alike. One target: rmse / sd."""
    err = np.asarray(y_pred, dtype=np.float64) - y_true[None, :, :]
    rmse = np.sqrt(np.einsum("mnt,mnt->mt", err, err) / y_true.shape[0])
    return (rmse / np.asarray(sd, dtype=np.float64)[None, :]).mean(axis=1)


def task_scores(task: Literal["regression", "classification"], y_true: np.ndarray, y_pred: np.ndarray
                ) -> dict[str, np.ndarray]:
    """The scores of a task: :func:`regression_scores` or :func:`classification_scores`."""
    return classification_scores(y_true, y_pred) if task == "classification" else regression_scores(y_true, y_pred)
