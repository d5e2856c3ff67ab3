"""Extended multiplicative scatter correction (EMSC): MSC with a polynomial baseline over the column position."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params


class EMSC(Operator):
    """Extended multiplicative scatter correction against the mean training spectrum (Martens & Stark 1991).

    Martens & Stark (1991), "Extended multiplicative signal correction and spectral interference subtraction: new
    preprocessing methods for near infrared spectroscopy", J. Pharm. Biomed. Anal. 9, 625-635. With ``r`` the
    reference (mean of the rows given to ``fit``) and ``t`` the column position scaled to [-1, 1], each spectrum is
    modelled by least squares as::

        x = a + b r + sum_{j=1..order} d_j t^j + e
        EMSC(x) = (x - a - sum_j d_j t^j) / b

    ``order=0`` is plain MSC (the model ``x = a + b r``).

    The fit is computed by projection: with ``B`` the polynomial basis ``[1, t, ..., t^order]`` and ``H`` the
    orthogonal projector on its span, ``b = <x, (I - H) r> / |(I - H) r|^2`` and ``a + sum_j d_j t^j = H (x - b r)``.
    Degenerate cases follow MSC: when the reference lies in the polynomial span, to rounding (for instance a flat
    reference, or a spectrum with no more columns than ``order + 1``), the scale ``b`` is undetermined and taken
    as 1 (only the baseline is removed), and a fitted ``b`` of exactly 0 is replaced by 1 when dividing.

    Parameters
    ----------
    order : int, default=2
        Degree of the polynomial baseline over the column position, >= 0; 0 gives MSC.

    Attributes
    ----------
    reference_ : ndarray of shape (n_features,)
        Mean of the rows given to ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import EMSC
    >>> reference = np.array([[1.0, 3.0, 2.0, 5.0, 4.0, 1.0]])
    >>> emsc = EMSC(order=1).fit(reference)
    >>> t = np.linspace(-1.0, 1.0, 6)
    >>> emsc.transform(2.0 * reference + 0.5 + 0.3 * t).round(6)  # scale, offset and slope removed
    array([[1., 3., 2., 5., 4., 1.]])
    """

    spec_name = "emsc"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)
    parameter_constraints = MappingProxyType({"order": Param(int, ge=0)})

    def __init__(self, order: int = 2):
        self.order = order

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        check_params(self)
        self.reference_ = X.mean(axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self, "reference_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        n_features = X.shape[1]
        t = np.linspace(-1.0, 1.0, n_features)
        # Orthonormal basis of the polynomial span (at most n_features columns when order + 1 > n_features).
        Q, _ = np.linalg.qr(np.vander(t, int(self.order) + 1, increasing=True))
        ref = self.reference_
        ref_residual = ref - Q @ (Q.T @ ref)
        denom = float(ref_residual @ ref_residual)
        # A residual at rounding level means the reference is a polynomial of degree <= order: b is undetermined.
        rounding = n_features * np.finfo(np.float64).eps * float(np.linalg.norm(ref))
        scale = (X @ ref_residual) / denom if np.sqrt(denom) > rounding else np.ones(X.shape[0])
        shifted = X - scale[:, None] * ref
        baseline = (shifted @ Q) @ Q.T
        scale = np.where(scale != 0, scale, 1.0)
        return (X - baseline) / scale[:, None]
