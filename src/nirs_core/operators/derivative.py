"""Row-wise derivatives and baseline removal: Savitzky-Golay filter and polynomial detrend."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.signal import savgol_filter
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

from nirs_core.operators.base import OperatorTraits


class _RowWise(TransformerMixin, BaseEstimator):
    """Shared fit/transform of stateless row-wise transforms: fit only records the width."""

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self._check_params(X.shape[1])
        return self

    def transform(self, X):
        # Stateless: transform works unfitted; once fitted, the width must match the fit.
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._check_params(X.shape[1])
        return self._apply(X)

    def _check_params(self, n_features: int) -> None:
        """Validate hyper-parameters; subclasses raise ValueError naming the bad one."""

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
    window_length : int
        Odd number of points in the window.
    polyorder : int
        Order of the local polynomial, < window_length.
    deriv : int
        Derivative order (0 = smoothing).
    """

    def __init__(self, window_length: int = 11, polyorder: int = 2, deriv: int = 0):
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv

    def _check_params(self, n_features: int) -> None:
        if self.window_length % 2 != 1 or self.window_length < 3:
            raise ValueError(f"window_length must be an odd integer >= 3, got {self.window_length}")
        if not 0 <= self.polyorder < self.window_length:
            raise ValueError(f"polyorder must be in [0, window_length), got {self.polyorder}")
        if not 0 <= self.deriv <= self.polyorder:
            raise ValueError(f"deriv must be in [0, polyorder], got {self.deriv}")
        if n_features < self.window_length:
            raise ValueError(
                f"window_length {self.window_length} exceeds the {n_features} wavelengths"
            )

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return savgol_filter(X, self.window_length, self.polyorder, deriv=self.deriv, axis=1)


class Detrend(_RowWise):
    """Remove a least-squares polynomial of degree ``order`` (over column position) from each spectrum."""

    def __init__(self, order: int = 1):
        self.order = order

    def _check_params(self, n_features: int) -> None:
        if self.order < 0:
            raise ValueError(f"order must be >= 0, got {self.order}")

    def _apply(self, X: np.ndarray) -> np.ndarray:
        # Least-squares fit of every row at once: coefficients = X @ pinv(basis).T, then subtract the fit.
        t = np.linspace(-1.0, 1.0, X.shape[1])
        basis = np.vander(t, self.order + 1)
        return X - (X @ np.linalg.pinv(basis).T) @ basis.T
