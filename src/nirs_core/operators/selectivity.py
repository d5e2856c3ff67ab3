"""The selectivity ratio of each variable (Rajalahti et al. 2009), and the wavelength selection that keeps the
variables of largest selectivity ratio in a PLS model of the fold's training rows."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
from sklearn.utils.validation import validate_data

from nirs_core.diagnostics import selectivity_ratios
from nirs_core.operators.base import check_n_components
from nirs_core.operators.params import Param, check_params
from nirs_core.operators.pls import PLSSweep
from nirs_core.operators.selection import ColumnSelection, threshold_or_top


class SRSelect(ColumnSelection):
    """Keep the wavelengths of largest selectivity ratio in a PLS model of the fold's training rows.

    O. M. Kvalheim, "Interpretation of partial least squares regression models by means of target projection and
    selectivity ratio plots", J. Chemom. 24 (2010) 496-504; T. Rajalahti, R. Arneberg, F. S. Berven, K.-M. Myhr,
    R. J. Ulvik & O. M. Kvalheim, "Biomarker discovery in mass spectral profiles by means of selectivity ratio
    plot", Chemom. Intell. Lab. Syst. 95 (2009) 35-48. A PLS with ``n_components`` (centred, unscaled, as ``pls``)
    is fitted on the rows given to ``fit`` only; each variable's selectivity ratio on the target-projected
    component (:func:`selectivity_ratios`; with several targets, its largest over them) ranks it. Without a
    ``threshold`` the top ``fraction`` of the variables (``ceil(fraction * p)``) is kept; with one, every variable
    whose ratio exceeds it, and never fewer than that top fraction — the width the compiler checks the model's
    components against. Kept columns stay in their original order (ties go to the lower column) and differ from fold
    to fold (each fold's ``support_``); no wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PLS, in [1, min(n_samples - 1, n_features)].
    fraction : float, default=0.1
        Share of the variables kept (the fewest kept with a threshold), in (0, 1].
    threshold : float or None, default=None
        Keep every variable whose selectivity ratio exceeds it (> 0), with at least the top ``fraction``.

    Attributes
    ----------
    selectivity_ratio_ : ndarray of shape (n_features,)
        Selectivity ratio of every input variable on the training rows (largest over the targets).
    support_ : ndarray of shape (n_kept,)
        Indices of the kept variables, ascending.
    wavelengths_out_ : ndarray of shape (n_kept,)
        0 .. n_kept - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SRSelect
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 10))
    >>> y = 3 * X[:, 2] - 2 * X[:, 7] + 0.1 * rng.normal(size=100)
    >>> SRSelect(n_components=2, fraction=0.2).fit(X, y).support_  # the two informative columns
    array([2, 7])
    """

    spec_name = "sr_select"
    parameter_constraints = MappingProxyType(
        {
            "n_components": Param(int, ge=1),
            "fraction": Param(float, gt=0, le=1),
            "threshold": Param(float, gt=0, optional=True),
        }
    )

    def __init__(self, n_components: int = 5, fraction: float = 0.1, threshold: float | None = None):
        self.n_components = n_components
        self.fraction = fraction
        self.threshold = threshold

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        check_n_components(self.n_components, X.shape, "SRSelect")
        pls = PLSSweep(int(self.n_components)).fit(X, y)
        Xs = (X - pls.x_mean_) / pls.x_scale_
        b = pls.x_rotations_ @ pls.y_loadings_.T  # regression vectors in the centred space
        ratios = selectivity_ratios(Xs, b)
        self.selectivity_ratio_ = np.nan_to_num(np.max(ratios, axis=1), nan=0.0)
        self.support_ = threshold_or_top(self.selectivity_ratio_, self._fewest(X.shape[1]), self.threshold)
        self.wavelengths_out_ = np.arange(self.support_.size, dtype=np.float64)
        return self

    def _fewest(self, n_features: int) -> int:
        return max(1, math.ceil(float(self.fraction) * n_features))

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. ceil(fraction * p) - 1: the fewest columns kept (which, and with a threshold how many, is decided
        per fold)."""
        check_params(self)
        return np.arange(self._fewest(n_features), dtype=np.float64)
