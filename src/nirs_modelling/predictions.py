"""Small helpers shared by the node computations: read-only arrays and a model's predictions per component."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, is_classifier

from nirs_core.operators.base import ComponentSweepMixin


def readonly(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only (values passed between nodes are never mutated) and return it."""
    array.setflags(write=False)
    return array


def predictions_of(model: BaseEstimator, X: np.ndarray, select: np.ndarray | None, n_targets: int = 1
                   ) -> np.ndarray:
    """(n_selected, n_rows, n_targets) predictions: every selected component count of a sweep model, or one count.

    A classifier (one target) gives the predicted class (code) of each count.
    """
    if X.shape[0] == 0:
        return np.empty((1 if select is None else select.size, 0, n_targets))
    if select is None:
        return np.asarray(model.predict(X), dtype=np.float64).reshape(1, X.shape[0], n_targets)
    if isinstance(model, ComponentSweepMixin):  # only the counts asked for (same bits as the whole sweep)
        return model.predict_all(X, select=select)
    every = model.predict_all(X)[select]
    return every[:, :, None] if is_classifier(model) else every
