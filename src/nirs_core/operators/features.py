"""Feature extraction fitted on the fold's training rows: the scores of a principal component analysis."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits, check_n_components
from nirs_core.operators.params import Param, check_params


class PCAFeatures(Operator):
    """Replace the spectra by their scores on the first ``n_components`` principal components of the training rows.

    The training X is centred and decomposed by a thin SVD, ``X - mean_ = U S V'``; the output of any row x is
    ``(x - mean_) @ V[:, :k]``. Signs follow scikit-learn (``svd_flip`` on V', each component's largest absolute
    loading positive), so the scores equal ``sklearn.decomposition.PCA(k, svd_solver="full")``'s. A model after it
    sees k uncorrelated columns (principal component regression when the model is linear); the columns are scores,
    not wavelengths, so no wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=10
        Number of components kept, in [1, min(n_samples - 1, n_features)] of the training rows.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the training rows.
    components_ : ndarray of shape (n_components, n_features)
        The principal axes (rows of V').
    explained_variance_ : ndarray of shape (n_components,)
        Variance of each component's training scores (ddof=1).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Their share of the training rows' total variance.
    wavelengths_out_ : ndarray of shape (n_components,)
        0 .. n_components - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import PCAFeatures
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.1]])
    >>> pca = PCAFeatures(n_components=1).fit(X)
    >>> pca.explained_variance_ratio_.round(4)  # the points lie almost on one line
    array([0.9999])
    >>> pca.transform(X).shape
    (4, 1)
    """

    spec_name = "pca"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, changes_axis=True)
    parameter_constraints = MappingProxyType({"n_components": Param(int, ge=1)})

    def __init__(self, n_components: int = 10):
        self.n_components = n_components

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        check_params(self)
        check_n_components(self.n_components, X.shape, "PCAFeatures")
        k = int(self.n_components)
        self.mean_ = X.mean(axis=0)
        U, s, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        U, Vt = svd_flip(U, Vt, u_based_decision=False)
        variances = s**2 / (X.shape[0] - 1)
        self.components_ = Vt[:k]
        self.explained_variance_ = variances[:k]
        total = variances.sum()
        self.explained_variance_ratio_ = variances[:k] / total if total > 0 else np.zeros(k)
        self.wavelengths_out_ = np.arange(k, dtype=np.float64)
        return self

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. n_components - 1 (the scores' index), known from the parameter alone."""
        check_params(self)
        return np.arange(int(self.n_components), dtype=np.float64)

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) @ self.components_.T
