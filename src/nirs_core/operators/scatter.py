"""Scatter corrections: SNV (row-wise) and MSC (fitted reference spectrum)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits


class SNV(Operator):
    """Standard normal variate: centre and scale each spectrum by its own mean and standard deviation (ddof=0).

    A flat spectrum (zero standard deviation) is only centred. No parameters; nothing is fitted (``fit`` only
    records the width).

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SNV
    >>> SNV().fit_transform(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])).round(4)
    array([[-1.2247,  0.    ,  1.2247],
           [-1.2247,  0.    ,  1.2247]])
    """

    spec_name = "snv"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def fit(self, X, y=None):
        validate_data(self, X, dtype=np.float64)
        return self

    def transform(self, X):
        # Stateless: transform works unfitted; once fitted, the width must match the fit.
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return snv(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def snv(X: np.ndarray) -> np.ndarray:
    """Row-wise SNV of a 2D array (returns a new array).

    Three passes over the data: centre into a new array, sum of squares with einsum (no temporary), scale in place.
    """
    out = X - X.mean(axis=1, keepdims=True)
    std = np.sqrt(np.einsum("ij,ij->i", out, out) / X.shape[1])
    out /= np.where(std > 0, std, 1.0)[:, None]
    return out


class MSC(Operator):
    """Multiplicative scatter correction against the mean training spectrum.

    Each spectrum x is regressed on the reference r (x ~ a + b r) and replaced by (x - a) / b. The reference is
    fitted on the rows given to ``fit`` only. No parameters.

    Attributes
    ----------
    reference_ : ndarray of shape (n_features,)
        Mean of the rows given to ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MSC
    >>> X = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    >>> msc = MSC().fit(X)
    >>> msc.reference_
    array([2. , 3.5, 6.5])
    >>> msc.transform(2.0 * msc.reference_[None, :] + 1.0)  # a scaled, shifted reference comes back as the reference
    array([[2. , 3.5, 6.5]])
    """

    spec_name = "msc"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self.reference_ = X.mean(axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self, "reference_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        ref = self.reference_ - self.reference_.mean()
        denom = float(ref @ ref)
        Xc = X - X.mean(axis=1, keepdims=True)
        slope = (Xc @ ref) / denom if denom > 0 else np.ones(X.shape[0])
        intercept = X.mean(axis=1) - slope * self.reference_.mean()
        slope = np.where(slope != 0, slope, 1.0)
        return (X - intercept[:, None]) / slope[:, None]
