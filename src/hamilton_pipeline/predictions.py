"""Small helpers shared by the node computations: read-only arrays and a model's predictions per component."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, is_classifier


def readonly(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only (values passed between nodes are never mutated) and return it."""
    array.setflags(write=False)
    return array


def predictions_of(model: BaseEstimator, X: np.ndarray, select: np.ndarray | None) -> np.ndarray:
    """(n_selected, n_rows) predictions: every selected component count of a sweep model, or one row.

    A sweep classifier (PLSDA) gives the predicted class (code) of each count, a sweep regressor its first target.
    """
    if X.shape[0] == 0:
        return np.empty((1 if select is None else select.size, 0))
    if select is None:
        return np.asarray(model.predict(X), dtype=np.float64).reshape(1, -1)
    return model.predict_all(X)[select] if is_classifier(model) else model.predict_all(X)[select, :, 0]
