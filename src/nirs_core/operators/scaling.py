"""X scalers fitted on the fold's training rows: min-max, Pareto, range and block scaling of the columns.

Beside ``mean_centre`` and ``autoscale`` (``normalise.py``). Each learns column statistics at ``fit`` and applies
them unchanged to validation and test rows. A column (or block) whose training values are all equal has no spread
to scale by: it is shifted only, never divided by zero.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params

_FITTED = OperatorTraits(row_wise_stateless=False)


class _ColumnScaler(Operator):
    """``(x - offset_) / scale_`` with the statistics of ``_statistics`` learnt on the training rows."""

    traits: ClassVar[OperatorTraits] = _FITTED
    _min_samples: ClassVar[int] = 1

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=self._min_samples)
        check_params(self)
        self.offset_, scale = self._statistics(X)
        self.scale_ = np.where(np.ptp(X, axis=0) == 0, 1.0, scale)  # a constant column is shifted only
        return self

    def transform(self, X):
        check_is_fitted(self, ["offset_", "scale_"])
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.offset_) / self.scale_

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class MinMaxScale(_ColumnScaler):
    """Scale each column to [0, 1] over the training rows: ``(x - min) / (max - min)``.

    As scikit-learn's ``MinMaxScaler()`` (feature range (0, 1)); validation and test values may fall outside
    [0, 1]. A constant column becomes ``x - min``. No parameters.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        Column minima of the training rows.
    scale_ : ndarray of shape (n_features,)
        Column ranges (max - min), 1 for constant columns.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MinMaxScale
    >>> MinMaxScale().fit(np.array([[1.0, 10.0], [3.0, 30.0]])).transform(np.array([[2.0, 40.0]]))
    array([[0.5, 1.5]])
    """

    spec_name = "minmax"

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X.min(axis=0), np.ptp(X, axis=0)


class ParetoScale(_ColumnScaler):
    """Pareto scaling: centre each column and divide it by the square root of its standard deviation (ddof=1).

    R. A. van den Berg, H. C. J. Hoefsloot, J. A. Westerhuis, A. K. Smilde & M. J. van der Werf, "Centering,
    scaling, and transformations: improving the biological information content of metabolomics data", BMC Genomics
    7 (2006) 142: between no scaling and autoscaling, large variations weigh less than they do unscaled but the
    noise of flat regions is not blown up to unit variance. Needs two training rows. No parameters.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        Column means of the training rows.
    scale_ : ndarray of shape (n_features,)
        Square roots of the column standard deviations (ddof=1), 1 for constant columns.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import ParetoScale
    >>> scaler = ParetoScale().fit(np.array([[0.0, 0.0], [2.0, 8.0], [4.0, 16.0]]))
    >>> scaler.scale_ ** 2  # the standard deviations
    array([2., 8.])
    """

    spec_name = "pareto"
    _min_samples = 2

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X.mean(axis=0), np.sqrt(X.std(axis=0, ddof=1))


class RangeScale(_ColumnScaler):
    """Range scaling: centre each column and divide it by its range over the training rows, ``(x - mean) /
    (max - min)`` (van den Berg et al. 2006, BMC Genomics 7: 142). No parameters.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        Column means of the training rows.
    scale_ : ndarray of shape (n_features,)
        Column ranges (max - min), 1 for constant columns.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import RangeScale
    >>> RangeScale().fit(np.array([[0.0, 1.0], [4.0, 3.0]])).transform(np.array([[4.0, 1.0]]))
    array([[ 0.5, -0.5]])
    """

    spec_name = "range_scale"

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X.mean(axis=0), np.ptp(X, axis=0)


class BlockScale(Operator):
    """Block (band) scaling: centre the columns, then divide each of ``n_blocks`` contiguous blocks of columns by the
    square root of its total variance, so that every block weighs the same in a latent-variable model.

    J. A. Westerhuis, T. Kourti & J. F. MacGregor, "Analysis of multiblock and hierarchical PCA and PLS models",
    J. Chemometrics 12 (1998) 301-321: a block of m variables with total variance V is divided by sqrt(V); its
    total variance becomes 1. The blocks are ``numpy.array_split`` of the columns (sizes differ by at most one);
    ``n_blocks = 1`` divides the whole spectrum by its total standard deviation. Variances with ddof=1; a block
    constant on the training rows is centred only.

    Parameters
    ----------
    n_blocks : int, default=1
        Number of contiguous column blocks, >= 1 and at most the number of columns.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the training rows.
    block_sizes_ : list of int
        Number of columns of each block, in order.
    scale_ : ndarray of shape (n_features,)
        Each column's divisor: the square root of its block's total variance (1 for a constant block).

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import BlockScale
    >>> X = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 20.0]])
    >>> scaler = BlockScale(n_blocks=2).fit(X)
    >>> scaler.block_sizes_, scaler.scale_.round(3)  # blocks of 2 and 1 columns
    ([2, 1], array([ 2.   ,  2.   , 14.142]))
    >>> scaler.transform(X).var(axis=0, ddof=1).round(3)  # each block's total variance is 1
    array([0.5, 0.5, 1. ])
    """

    spec_name = "block_scale"
    traits: ClassVar[OperatorTraits] = _FITTED
    parameter_constraints = MappingProxyType({"n_blocks": Param(int, ge=1)})

    def __init__(self, n_blocks: int = 1):
        self.n_blocks = n_blocks

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        check_params(self)
        if self.n_blocks > X.shape[1]:
            raise ValueError(f"BlockScale: n_blocks={self.n_blocks} is more than the {X.shape[1]} columns")
        self.mean_ = X.mean(axis=0)
        variances = X.var(axis=0, ddof=1)
        blocks = np.array_split(np.arange(X.shape[1]), int(self.n_blocks))
        self.block_sizes_ = [int(b.size) for b in blocks]
        self.scale_ = np.ones(X.shape[1])
        for block in blocks:
            constant = bool(np.all(np.ptp(X[:, block], axis=0) == 0))
            self.scale_[block] = 1.0 if constant else np.sqrt(variances[block].sum())
        return self

    def transform(self, X):
        check_is_fitted(self, ["mean_", "scale_"])
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - self.mean_) / self.scale_
