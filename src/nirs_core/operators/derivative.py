"""Row-wise derivatives and baseline removal: Savitzky-Golay filter and polynomial detrend."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from scipy.signal import savgol_filter
from sklearn.utils.validation import validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params


class _RowWise(Operator):
    """Shared fit/transform of stateless row-wise transforms: fit only records the width.

    The declared parameters are checked at fit and at transform (which works unfitted), then
    :meth:`_check_relations` checks what involves several parameters or the data width.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self._validate(X.shape[1])
        return self

    def transform(self, X):
        # Stateless: transform works unfitted; once fitted, the width must match the fit.
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._validate(X.shape[1])
        return self._apply(X)

    def _validate(self, n_features: int) -> None:
        check_params(self)
        self._check_relations(n_features)

    def _check_relations(self, n_features: int) -> None:
        """Checks between parameters or against the data width; subclasses raise ValueError naming them."""

    def _apply(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class SavitzkyGolay(_RowWise):
    """Savitzky-Golay smoothing/derivative along the wavelength axis (scipy ``savgol_filter``, mode ``interp``).

    Parameters
    ----------
    window_length : int, default=11
        Odd number of points in the window, >= 3 and at most the number of wavelengths (a spec must give it).
    polyorder : int, default=2
        Order of the local polynomial, in [0, window_length).
    deriv : int, default=0
        Derivative order, in [0, polyorder] (0 = smoothing).

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SavitzkyGolay
    >>> line = np.arange(10.0)[None, :] * 2.0
    >>> SavitzkyGolay(window_length=5, polyorder=2, deriv=1).fit_transform(line).round(6)
    array([[2., 2., 2., 2., 2., 2., 2., 2., 2., 2.]])
    """

    spec_name = "savgol"
    parameter_constraints = MappingProxyType({
        "window_length": Param(int, ge=3, odd=True, required=True),
        "polyorder": Param(int, ge=0),
        "deriv": Param(int, ge=0),
    })

    def __init__(self, window_length: int = 11, polyorder: int = 2, deriv: int = 0):
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv

    def _check_relations(self, n_features: int) -> None:
        if self.polyorder >= self.window_length:
            raise ValueError(f"polyorder must be in [0, window_length), got {self.polyorder}")
        if self.deriv > self.polyorder:
            raise ValueError(f"deriv must be in [0, polyorder], got {self.deriv}")
        if n_features < self.window_length:
            raise ValueError(
                f"window_length {self.window_length} exceeds the {n_features} wavelengths (n_features={n_features})"
            )

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return savgol_filter(X, self.window_length, self.polyorder, deriv=self.deriv, axis=1)


class Detrend(_RowWise):
    """Remove a least-squares polynomial of degree ``order`` (over column position) from each spectrum.

    Parameters
    ----------
    order : int, default=1
        Degree of the removed polynomial, >= 0 (0 removes the mean).

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import Detrend
    >>> Detrend(order=1).fit_transform(np.array([[1.0, 3.0, 5.0, 8.0]])).round(3)
    array([[ 0.2, -0.1, -0.4,  0.3]])
    """

    spec_name = "detrend"
    parameter_constraints = MappingProxyType({"order": Param(int, ge=0)})

    def __init__(self, order: int = 1):
        self.order = order

    def _apply(self, X: np.ndarray) -> np.ndarray:
        # Least-squares fit of every row at once: coefficients = X @ pinv(basis).T, then subtract the fit.
        t = np.linspace(-1.0, 1.0, X.shape[1])
        basis = np.vander(t, self.order + 1)
        return X - (X @ np.linalg.pinv(basis).T) @ basis.T
