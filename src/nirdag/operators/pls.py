"""PLS regression that fits once with K components and predicts for every k <= K (ikpls backend)."""

from __future__ import annotations

import numpy as np
from ikpls.numpy import PLS as _IKPLS
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class PLSSweep(RegressorMixin, BaseEstimator):
    """PLS regression (X and Y centred, not scaled) fitted once for ``n_components`` components.

    The k-component model for any k <= n_components is the first k components of this fit, so one fit serves a
    whole component sweep. Predictions match ``sklearn.cross_decomposition.PLSRegression(k, scale=False)``
    to floating-point precision (Improved Kernel PLS, algorithm 1; Dayal & MacGregor 1997).

    Parameters
    ----------
    n_components : int
        Largest number of components fitted (K).
    """

    def __init__(self, n_components: int = 2):
        self.n_components = n_components

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        limit = min(X.shape[0] - 1, X.shape[1])
        if not 1 <= self.n_components <= limit:
            raise ValueError(
                f"n_components={self.n_components} is out of range: with {X.shape[0]} training rows and "
                f"{X.shape[1]} wavelengths it must be in [1, {limit}]"
            )
        Y = y.reshape(X.shape[0], -1)
        self._single_target = y.ndim == 1
        model = _IKPLS(algorithm=1, center_X=True, center_Y=True, scale_X=False, scale_Y=False)
        model.fit(X, Y, self.n_components)
        # B has shape (K, n_features, n_targets): the regression coefficients of the k-component models.
        self.coef_all_ = np.asarray(model.B, dtype=np.float64)
        self.x_mean_ = X.mean(axis=0)
        self.y_mean_ = Y.mean(axis=0)
        return self

    def predict_all(self, X) -> np.ndarray:
        """Predictions of every k-component model, shape (n_components, n_samples, n_targets)."""
        check_is_fitted(self, "coef_all_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.matmul(X - self.x_mean_, self.coef_all_) + self.y_mean_

    def predict(self, X) -> np.ndarray:
        """Predictions of the full ``n_components`` model (1D for a single target)."""
        pred = self.predict_all(X)[-1]
        return pred[:, 0] if self._single_target else pred
