"""Regression metrics vectorised over a stack of predictions (one row per model, e.g. per component count)."""

from __future__ import annotations

import numpy as np

REGRESSION_METRICS: tuple[str, ...] = ("rmse", "r2", "bias", "sep", "mae", "rpd", "rpiq", "n")


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of each row of ``y_pred`` (shape (m, n)) against ``y_true`` (shape (n,)).

    rmse = sqrt(mean(e^2)); bias = mean(e) with e = y_pred - y_true; sep = std(e, ddof=1) (NaN when n < 2);
    r2 = 1 - SSE/SST (NaN when y_true is constant); mae = mean(|e|); rpd = std(y_true, ddof=1) / sep;
    rpiq = (Q3 - Q1 of y_true) / rmse; n = number of samples. The SQL functions of the workspace
    (``rmse(y_true, y_pred)``...) compute the same values.
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
    with np.errstate(invalid="ignore", divide="ignore"):
        rpd = sd / sep
        rpiq = (q3 - q1) / rmse
    return {
        "rmse": rmse, "r2": r2, "bias": bias, "sep": sep, "mae": np.abs(err).mean(axis=1), "rpd": rpd,
        "rpiq": rpiq, "n": np.full(len(err), float(n)),
    }
