"""Unit conversions of reflectance spectra: absorbance (log 1/R) and the Kubelka-Munk function."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.utils.validation import validate_data

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise


def check_positive_reflectance(X: np.ndarray, owner: str, formula: str) -> None:
    """Raise ValueError if any reflectance value is <= 0, naming how many there are and where the first one is.

    The message starts like scikit-learn's own ("Negative values in data passed to ...") when a value is negative.
    """
    bad = X <= 0
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    kind = "Negative" if (X < 0).any() else "Zero"
    raise ValueError(
        f"{kind} values in data passed to {owner}: {int(bad.sum())} value(s) <= 0, first at row {row}, "
        f"column {col} (value {float(X[row, col])}); {formula} needs reflectance R > 0"
    )


class _Reflectance(_RowWise):
    """Shared domain check of the conversions: reflectance must be strictly positive, at fit and at transform."""

    _formula: ClassVar[str]

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        self._validate(X.shape[1])
        check_positive_reflectance(X, type(self).__name__, self._formula)
        return self

    def transform(self, X):
        # Stateless: transform works unfitted; once fitted, the width must match the fit.
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._validate(X.shape[1])
        check_positive_reflectance(X, type(self).__name__, self._formula)
        return self._apply(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags


class ReflectanceToAbsorbance(_Reflectance):
    """Apparent absorbance of a reflectance spectrum: ``A = log10(1 / R)``.

    Reflectance must be strictly positive (the logarithm of R <= 0 is undefined): any value <= 0 raises
    ValueError naming the number of such values and the position of the first one. No parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import ReflectanceToAbsorbance
    >>> ReflectanceToAbsorbance().fit_transform(np.array([[0.1, 0.01, 0.001]]))
    array([[1., 2., 3.]])
    """

    spec_name = "absorbance"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    _formula = "A = log10(1/R)"

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return -np.log10(X)


class KubelkaMunk(_Reflectance):
    """Kubelka-Munk function of a diffuse reflectance spectrum: ``F(R) = (1 - R)^2 / (2 R)``.

    Kubelka & Munk (1931), "Ein Beitrag zur Optik der Farbanstriche", Z. Tech. Phys. 12, 593-601. ``F(R)`` is the
    ratio K/S of absorption to scattering coefficients for an infinitely thick sample. Reflectance must be strictly
    positive: any value <= 0 raises ValueError naming the number of such values and the position of the first one.
    No parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import KubelkaMunk
    >>> KubelkaMunk().fit_transform(np.array([[1.0, 0.5, 0.2]]))
    array([[0.  , 0.25, 1.6 ]])
    """

    spec_name = "kubelka_munk"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    _formula = "F(R) = (1 - R)^2 / (2R)"

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return (1.0 - X) ** 2 / (2.0 * X)
