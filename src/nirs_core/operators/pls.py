"""PLS regression that fits once with K components and predicts for every k <= K (ikpls backend)."""

from __future__ import annotations

import numpy as np
from ikpls.numpy import PLS as _IKPLS
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import validate_data

from nirs_core.operators.base import ComponentSweepMixin


class PLSSweep(ComponentSweepMixin, RegressorMixin, BaseEstimator):
    """PLS regression (X and Y centred; scaled to unit variance when ``scale``) fitted once for K components.

    The k-component model for any k <= n_components is the first k components of this fit, so one fit serves a
    whole component sweep. Predictions match ``sklearn.cross_decomposition.PLSRegression(k, scale=scale)``
    to floating-point precision (Improved Kernel PLS, algorithm 1; Dayal & MacGregor 1997).

    Parameters
    ----------
    n_components : int, default=2
        Largest number of components fitted (K), in [1, min(n_samples - 1, n_features)].
    scale : bool, default=False
        Scale X and Y columns by their standard deviation (ddof=1; a constant column is left unscaled), as
        scikit-learn does. The scaling is folded into ``coef_all_``, which always applies to centred raw X.
    copy : bool, default=True
        Centre (and scale) a copy of X. ``False`` centres a writeable float64 X in place (its values are then
        the centred ones), as scikit-learn's ``PLSRegression(copy=False)`` does: the engine passes fold matrices
        it owns, so a fit makes no copy of X at all.

    Attributes
    ----------
    coef_all_ : ndarray of shape (n_components, n_features, n_targets)
        Coefficients of the k-component model in ``coef_all_[k - 1]``, applied to ``X - x_mean_``.
    x_mean_ : ndarray of shape (n_features,)
        Column means of the training X.
    y_mean_ : ndarray of shape (n_targets,)
        Means of the training targets.
    x_scale_, y_scale_ : ndarray of shape (n_features,), (n_targets,)
        The column scales of X and Y (ones unless ``scale``); the latent structure below lives in the space of
        ``(X - x_mean_) / x_scale_`` and ``(Y - y_mean_) / y_scale_``.
    x_rotations_ : ndarray of shape (n_features, n_components)
        R: the scores of the centred, scaled X are ``T = Xs @ R`` (first k columns for the k-component model).
    x_weights_, x_loadings_ : ndarray of shape (n_features, n_components)
        W and P of the NIPALS/IKPLS decomposition; ``Xs - T[:, :k] @ P[:, :k].T`` is the X residual after k
        components.
    y_loadings_ : ndarray of shape (n_targets, n_components)
        Q: the scaled Y is predicted by ``T @ Q.T``.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import PLSSweep
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 5))
    >>> y = X @ np.array([1.0, 2.0, 0.0, 0.0, -1.0])
    >>> pls = PLSSweep(n_components=3).fit(X, y)
    >>> pls.predict_all(X).shape  # (k, n_samples, n_targets): the models with 1, 2 and 3 components
    (3, 30, 1)
    >>> np.abs(pls.predict_all(X)[:, :, 0] - y).max(axis=1).round(3)  # the error falls as k grows
    array([0.613, 0.221, 0.108])
    """

    def __init__(self, n_components: int = 2, scale: bool = False, copy: bool = True):
        self.n_components = n_components
        self.scale = scale
        self.copy = copy

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", multi_output=True, y_numeric=True,
                             copy=self.copy)
        if not X.flags.writeable:  # copy=False on a read-only array: centring needs one copy after all
            X = X.copy()
        if X.shape[0] < 2:
            raise ValueError(f"PLS needs at least 2 training rows to centre X, got n_samples = {X.shape[0]}")
        limit = min(X.shape[0] - 1, X.shape[1])
        if not 1 <= self.n_components <= limit:
            raise ValueError(
                f"n_components={self.n_components} is out of range: with {X.shape[0]} training rows and "
                f"{X.shape[1]} wavelengths it must be in [1, {limit}]"
            )
        Y = y.reshape(X.shape[0], -1)
        self._single_target = y.ndim == 1
        self.x_mean_ = X.mean(axis=0)
        self.y_mean_ = Y.mean(axis=0)
        x_std, y_std = self._stds(X, Y)
        X -= self.x_mean_  # in place: X is this fit's own copy, or (copy=False) the caller's to overwrite
        if self.scale:
            X /= x_std
        # ikpls gets centred, contiguous float64 with its own centring, scaling and copying off
        model = _IKPLS(algorithm=1, center_X=False, center_Y=False, scale_X=False, scale_Y=False, copy=False)
        model.fit(X, (Y - self.y_mean_) / y_std, self.n_components)
        # B has shape (K, n_features, n_targets): coefficients of the k-component models in the scaled space,
        # mapped back so that they apply to centred raw X and give raw-unit predictions.
        self.coef_all_ = np.asarray(model.B, dtype=np.float64) / x_std[None, :, None] * y_std[None, None, :]
        self.x_scale_, self.y_scale_ = x_std, y_std
        self.x_rotations_ = np.asarray(model.R, dtype=np.float64)
        self.x_weights_ = np.asarray(model.W, dtype=np.float64)
        self.x_loadings_ = np.asarray(model.P, dtype=np.float64)
        self.y_loadings_ = np.asarray(model.Q, dtype=np.float64)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several targets are fitted together (PLS2)
        return tags

    def _stds(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.scale:
            return np.ones(X.shape[1]), np.ones(Y.shape[1])
        x_std, y_std = X.std(axis=0, ddof=1), Y.std(axis=0, ddof=1)
        return np.where(x_std > 0, x_std, 1.0), np.where(y_std > 0, y_std, 1.0)
