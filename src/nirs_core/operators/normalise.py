"""Intensity normalisations: row-wise (RNV, area, vector, max) and fitted column-wise (mean centring, autoscaling)."""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise


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
    percentile : float
        The percentile ``p`` in [0, 100] that centres the row (default 25).
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def __init__(self, percentile: float = 25.0):
        self.percentile = percentile

    def _check_params(self, n_features: int) -> None:
        p = self.percentile
        if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= p <= 100.0:
            raise ValueError(f"percentile must be a number in [0, 100], got {p!r}")

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
    not read. An all-zero row is left unchanged.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.abs(X).sum(axis=1, keepdims=True))


class VectorNormalise(_RowWise):
    """Divide each spectrum by its Euclidean norm: ``x / sqrt(sum_i x_i^2)`` (unit L2 norm rows).

    An all-zero row is left unchanged.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.linalg.norm(X, axis=1, keepdims=True))


class MaxNormalise(_RowWise):
    """Divide each spectrum by its largest absolute value: ``x / max_i |x_i|`` (rows in [-1, 1]).

    An all-zero row is left unchanged.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X / _safe_divisor(np.abs(X).max(axis=1, keepdims=True))


class MeanCentre(TransformerMixin, BaseEstimator):
    """Subtract the column means of the training rows: ``x - mean_``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the rows given to ``fit``.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self, "mean_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X - self.mean_


class Autoscale(TransformerMixin, BaseEstimator):
    """Centre and scale each column by the training rows' mean and sample standard deviation: ``(x - mean_) / scale_``.

    ``scale_`` is the column standard deviation with ddof=1. A column whose training values are all equal has no
    spread to scale by: it is centred only (its ``scale_`` is 1). Fitting needs at least two rows.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the rows given to ``fit``.
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (ddof=1), 1 for constant columns.
    """

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
