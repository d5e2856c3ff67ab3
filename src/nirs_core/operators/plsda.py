"""PLS discriminant analysis: PLS regression on one-hot class indicators, fitted once for every k <= K."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import check_n_components
from nirs_core.operators.pls import PLSSweep


class PLSDA(ClassifierMixin, BaseEstimator):
    """PLS-DA classifier: a PLS2 regression of the one-hot class matrix on X; the largest prediction wins.

    ``y`` is one-hot encoded against ``classes_`` (sorted, as ``numpy.unique``) and a PLS regression with centred
    X and centred indicators is fitted once with ``n_components`` components (:class:`PLSSweep`), so the
    k-component classifier for every k <= ``n_components`` is available from the same fit
    (``decision_function_all``, ``predict_all_proba``, ``predict_all``).

    Decision values and probabilities
        The PLS predictions of the indicator columns, shape (n_samples, n_classes), are the per-class scores;
        ``predict`` returns the class of the largest one. With two classes ``decision_function`` follows the
        scikit-learn binary convention: one value per row, score of ``classes_[1]`` minus score of
        ``classes_[0]`` (positive means ``classes_[1]``).
        PLS scores are not probabilities: they can leave [0, 1]. ``predict_proba`` clips them to [0, 1] and
        divides each row by its sum (a row that is all zero after clipping becomes uniform). This keeps the
        linear scale of the scores inside the bounds instead of imposing a softmax or a fitted calibration;
        its costs: scores beyond the bounds tie (1.0 and 1.3 both clip to 1), and in the rare row where two
        scores exceed 1 (or all are <= 0) ``argmax(predict_proba)`` can differ from ``predict``, which always
        uses the unclipped scores. Calibrate externally (e.g. ``CalibratedClassifierCV``) when probabilities
        must be calibrated.

    Parameters
    ----------
    n_components : int, default=2
        Largest number of components fitted (K), in [1, min(n_samples - 1, n_features)].
    scale : bool, default=False
        If True, X columns and indicator columns are divided by their standard deviation (ddof=1; a constant
        column is left unscaled) before the PLS fit, as ``PLSRegression(scale=True)`` does; scores are given
        back in indicator units. If False (default), only centring, as ``PLSRegression(scale=False)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_all_ : ndarray of shape (n_components, n_features, n_classes)
        Coefficients of the k-component model in ``coef_all_[k - 1]``, applied to ``X - x_mean_`` (any scaling
        folded in).
    x_mean_ : ndarray of shape (n_features,)
        Column means of the training X.
    y_mean_ : ndarray of shape (n_classes,)
        Class frequencies in the training rows (the mean of the indicators).
    x_scale_, x_rotations_, x_weights_, x_loadings_, y_loadings_ : ndarray
        The latent structure of the indicator regression, as :class:`PLSSweep` documents them (``y_loadings_``
        has one row per class).

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import PLSDA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 5))
    >>> labels = np.where(X[:, 0] + X[:, 1] > 0, "high", "low")
    >>> plsda = PLSDA(n_components=2).fit(X, labels)
    >>> plsda.classes_
    array(['high', 'low'], dtype='<U4')
    >>> plsda.predict(X[:4])
    array(['low', 'high', 'low', 'low'], dtype='<U4')
    >>> plsda.predict_all(X[:4]).shape  # one row of predictions per component count
    (2, 4)
    """

    def __init__(self, n_components: int = 2, scale: bool = False):
        self.n_components = n_components
        self.scale = scale

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"PLSDA needs at least two classes in y, got one class: {self.classes_[0]!r}")
        check_n_components(self.n_components, X.shape, "PLSDA")
        indicators = np.zeros((X.shape[0], self.classes_.size))
        indicators[np.arange(X.shape[0]), codes] = 1.0
        # PLSSweep folds any scaling into coef_all_, which applies to centred raw X in indicator units.
        pls = PLSSweep(self.n_components, scale=self.scale).fit(X, indicators)
        self.coef_all_ = pls.coef_all_
        # the latent structure of the indicator regression (PLSSweep's attributes), for the model's diagnostics
        self.x_scale_, self.x_rotations_, self.x_weights_ = pls.x_scale_, pls.x_rotations_, pls.x_weights_
        self.x_loadings_, self.y_loadings_ = pls.x_loadings_, pls.y_loadings_
        self.x_mean_ = X.mean(axis=0)
        self.y_mean_ = indicators.mean(axis=0)
        return self

    def _scores_all(self, X) -> np.ndarray:
        """PLS predictions of the indicators for every k, shape (n_components, n_samples, n_classes)."""
        check_is_fitted(self, "coef_all_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.matmul(X - self.x_mean_, self.coef_all_) + self.y_mean_

    def decision_function_all(self, X) -> np.ndarray:
        """Decision values of every k-component model.

        Shape (n_components, n_samples, n_classes); with two classes (n_components, n_samples), the score of
        ``classes_[1]`` minus that of ``classes_[0]``.
        """
        scores = self._scores_all(X)
        return scores[..., 1] - scores[..., 0] if self.classes_.size == 2 else scores

    def decision_function(self, X) -> np.ndarray:
        """Decision values of the full model: (n_samples, n_classes), or (n_samples,) with two classes."""
        return self.decision_function_all(X)[-1]

    def predict_all_proba(self, X) -> np.ndarray:
        """Clipped and renormalised scores of every k-component model, shape (n_components, n_samples, n_classes)."""
        return _clip_to_proba(self._scores_all(X))

    def predict_proba(self, X) -> np.ndarray:
        """Clipped and renormalised scores of the full model, shape (n_samples, n_classes); rows sum to 1."""
        return self.predict_all_proba(X)[-1]

    def predict_all(self, X) -> np.ndarray:
        """Predicted class of every k-component model, shape (n_components, n_samples)."""
        best = np.argmax(self._scores_all(X), axis=-1)  # checks fitted before classes_ is read
        return self.classes_[best]

    def predict(self, X) -> np.ndarray:
        """Class with the largest PLS score under the full ``n_components`` model."""
        return self.predict_all(X)[-1]


def _clip_to_proba(scores: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and divide by the row sum along the last axis; an all-zero row becomes uniform."""
    clipped = np.clip(scores, 0.0, 1.0)
    total = clipped.sum(axis=-1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / clipped.shape[-1])
    return np.divide(clipped, total, out=uniform, where=total > 0)

