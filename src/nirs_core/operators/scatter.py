"""Scatter corrections: SNV and local SNV (row-wise) and MSC (fitted reference spectrum)."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param


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


class LocalSNV(_RowWise):
    """Local (windowed) SNV: centre and scale each value by the mean and standard deviation of its own spectrum
    over a window of ``window`` columns around it.

    Where SNV uses one mean and one standard deviation per spectrum, local SNV corrects scatter that varies along
    the spectrum: value ``x_j`` becomes ``(x_j - m_j) / s_j`` with ``m_j``, ``s_j`` (ddof=0) the mean and standard
    deviation of ``x_{j-h} .. x_{j+h}``, h = window // 2; at the ends the window is cut to the columns that exist
    (a segment-wise variant is Bi et al. 2016, Anal. Chim. Acta 909: 30-40). A window with no spread (a flat
    stretch) is only centred. A window as wide as the spectrum, centred on each column, is not SNV: only the
    middle column sees every value.

    The window sums come from cumulative sums of the row centred on its own mean (O(n) per row, vectorised over
    rows), so the cost does not grow with the window.

    Parameters
    ----------
    window : int, default=31
        Width of the window in columns, odd, >= 3 and at most the number of columns.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import LocalSNV
    >>> x = np.array([[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]])  # two regions of different scale
    >>> LocalSNV(window=3).fit_transform(x).round(3)
    array([[-1.   ,  0.   , -0.562, -0.143,  0.   ,  1.   ]])
    """

    spec_name = "local_snv"
    parameter_constraints = MappingProxyType({"window": Param(int, ge=3, odd=True)})

    def __init__(self, window: int = 31):
        self.window = window

    def _check_relations(self, n_features: int) -> None:
        if self.window > n_features:
            raise ValueError(f"LocalSNV: window={self.window} is wider than the {n_features} columns "
                             f"(n_features={n_features})")

    def _apply(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[1]
        half = int(self.window) // 2
        centred = X - X.mean(axis=1, keepdims=True)  # smaller sums: less cancellation in E[x^2] - E[x]^2
        zeros = np.zeros((X.shape[0], 1))
        sums = np.hstack([zeros, np.cumsum(centred, axis=1)])
        squares = np.hstack([zeros, np.cumsum(centred * centred, axis=1)])
        lo = np.clip(np.arange(n) - half, 0, n)
        hi = np.clip(np.arange(n) + half + 1, 0, n)
        count = (hi - lo).astype(np.float64)
        mean = (sums[:, hi] - sums[:, lo]) / count
        var = np.maximum((squares[:, hi] - squares[:, lo]) / count - mean * mean, 0.0)
        std = np.sqrt(var)
        scale = np.abs(centred).max(axis=1, keepdims=True)
        flat = std <= 1e-12 * np.where(scale > 0, scale, 1.0)  # rounding noise of a flat stretch is not spread
        return (centred - mean) / np.where(flat, 1.0, std)
