"""FeatureConcat: several preprocessing branches applied to the same spectra, their outputs side by side."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits


class FeatureConcat(Operator):
    """Apply each branch (a list of transformers, fitted in order on the rows given to ``fit``) to the same input
    and concatenate the outputs column-wise. An empty branch passes the input through unchanged.

    Its row-wise statelessness is that of its steps: the compiler decides it per instance (the class declares the
    conservative answer). The output columns are not a wavelength axis. The compiler builds it for ``merge:
    features``; a spec never names it.

    Parameters
    ----------
    branches : list of lists of transformers, default=None
        The branches; None means one empty branch (the identity).

    Attributes
    ----------
    fitted_branches_ : list of lists of transformers
        Fitted clones of each branch's steps.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SNV, FeatureConcat
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]])
    >>> FeatureConcat(branches=[[], [SNV()]]).fit_transform(X).round(3)  # raw columns, then SNV columns
    array([[ 1.   ,  2.   ,  3.   , -1.225,  0.   ,  1.225],
           [ 2.   ,  4.   ,  7.   , -1.136, -0.162,  1.298]])
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, changes_axis=True)

    def __init__(self, branches: list[list[BaseEstimator]] | None = None):
        self.branches = branches

    def _branches(self) -> list[list[BaseEstimator]]:
        return [[]] if self.branches is None else [list(b) for b in self.branches]

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        if not self._branches():
            raise ValueError("FeatureConcat needs at least one branch")
        self.fitted_branches_ = []
        for steps in self._branches():
            out, fitted = X, []
            for step in steps:
                est = clone(step).fit(out, y)
                out = est.transform(out)
                fitted.append(est)
            self.fitted_branches_.append(fitted)
        return self

    def transform(self, X):
        check_is_fitted(self, "fitted_branches_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        outs = []
        for fitted in self.fitted_branches_:
            out = X
            for est in fitted:
                out = est.transform(out)
            outs.append(np.asarray(out, dtype=np.float64))
        return np.hstack(outs)
