"""Intensity normalisations: row-wise (RNV, area, vector, max) and fitted column-wise (mean centring, autoscaling)."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param


def _safe_divisor(scale: np.ndarray) -> np.ndarray:
    """Replace zero scales by 1 so that an all-zero (or flat) row is left as it is rather than turned into NaN."""
    return np.where(scale > 0, scale, 1.0)


class RNV(_RowWise):
    """Robust normal variate: centre each spectrum on a percentile of its own values, scale by the spread below it.

    Guo, Wu & Massart (1999), "The robust normal variate transform for pattern recognition with near-infrared data",
    Anal. Chim. Acta 382::

        q = O_p(x)                        (the p-th percentile of the row's values, numpy's linear interpolation)
        s = std({x_i : x_i <= q})         (population std, ddof=0, of the row's values at or below q)
        RNV(x) = (x - q) / s

    Unlike SNV, peaks (the large values) influence neither the centre nor the scale. When ``s`` is zero (for
    instance a flat row, or ``percentile=0``, which keeps only the minimum) the row is only centred.

    Parameters
    ----------
    percentile : float, default=25
        The percentile ``p`` in [0, 100] that centres the row.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import RNV
    >>> RNV(percentile=50).fit_transform(np.array([[1.0, 2.0, 3.0, 10.0], [2.0, 2.0, 4.0, 4.0]]))
    array([[-3., -1.,  1., 15.],
           [-1., -1.,  1.,  1.]])
    """

    spec_name = "rnv"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({"percentile": Param(float, ge=0, le=100)})

    def __init__(self, percentile: float = 25.0):
        self.percentile = percentile

    def _apply(self, X: np.ndarray) -> np.ndarray:
        q = np.percentile(X, float(self.percentile), axis=1, keepdims=True)
        below = np.less_equal(X, q)  # never empty: the row minimum is <= any percentile of the row
        count = below.sum(axis=1, keepdims=True)
        mean_below = np.where(below, X, 0.0).sum(axis=1, keepdims=True) / count
        var_below = np.where(below, (X - mean_below) ** 2, 0.0).sum(axis=1, keepdims=True) / count
        return (X - q) / _safe_divisor(np.sqrt(var_below))


class AreaNormalise(_RowWise):
    """Divide each spectrum by its area on the column-position axis: ``x / sum_i |x_i|``.

    The area is the sum of absolute values (unit column spacing), i.e. ``n * mean(|x|)``; the wavelength axis is
    not read. An all-zero row is left unchanged. No parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import AreaNormalise
    >>> AreaNormalise().fit_transform(np.array([[1.0, -3.0, 4.0], [0.0, 2.0, 2.0]]))
    array([[ 0.125, -0.375,  0.5  ],
           [ 0.   ,  0.5  ,  0.5  ]])
    """

    spec_name = "area_norm"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.abs(X).sum(axis=1, keepdims=True))


class VectorNormalise(_RowWise):
    """Divide each spectrum by its Euclidean norm: ``x / sqrt(sum_i x_i^2)`` (unit L2 norm rows).

    An all-zero row is left unchanged. No parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import VectorNormalise
    >>> VectorNormalise().fit_transform(np.array([[3.0, 4.0], [0.0, 2.0]]))
    array([[0.6, 0.8],
           [0. , 1. ]])
    """

    spec_name = "vector_norm"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.linalg.norm(X, axis=1, keepdims=True))


class MaxNormalise(_RowWise):
    """Divide each spectrum by its largest absolute value: ``x / max_i |x_i|`` (rows in [-1, 1]).

    An all-zero row is left unchanged. No parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MaxNormalise
    >>> MaxNormalise().fit_transform(np.array([[1.0, -3.0, 4.0], [0.0, 2.0, 2.0]]))
    array([[ 0.25, -0.75,  1.  ],
           [ 0.  ,  1.  ,  1.  ]])
    """

    spec_name = "max_norm"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.abs(X).max(axis=1, keepdims=True))


class MeanCentre(Operator):
    """Subtract the column means of the training rows: ``x - mean_``.

    No parameters.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the rows given to ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MeanCentre
    >>> centre = MeanCentre().fit(np.array([[1.0, 2.0], [3.0, 6.0]]))
    >>> centre.mean_
    array([2., 4.])
    >>> centre.transform(np.array([[2.0, 5.0]]))
    array([[0., 1.]])
    """

    spec_name = "mean_centre"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self, "mean_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X - self.mean_


class Autoscale(Operator):
    """Centre and scale each column by the training rows' mean and sample standard deviation: ``(x - mean_) / scale_``.

    ``scale_`` is the column standard deviation with ddof=1. A column whose training values are all equal has no
    spread to scale by: it is centred only (its ``scale_`` is 1). Fitting needs at least two rows. No parameters.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the rows given to ``fit``.
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (ddof=1), 1 for constant columns.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import Autoscale
    >>> scaler = Autoscale().fit(np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]))
    >>> scaler.scale_  # the constant second column is only centred
    array([2., 1.])
    >>> scaler.transform(np.array([[3.0, 6.0]]))
    array([[0., 1.]])
    """

    spec_name = "autoscale"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self.mean_ = X.mean(axis=0)
        # "Constant" is decided exactly (all values equal), not by a tolerance on the rounded std.
        constant = np.ptp(X, axis=0) == 0
        self.scale_ = np.where(constant, 1.0, X.std(axis=0, ddof=1))
        return self

    def transform(self, X):
        check_is_fitted(self, ["mean_", "scale_"])
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) / self.scale_
