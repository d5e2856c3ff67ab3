"""Baseline removal through pybaselines: arPLS, SNIP, rolling ball, ModPoly and IModPoly, one spectrum at a time.

Each operator subtracts the baseline pybaselines fits to each row, over column positions (pybaselines' default x,
-1..1): the result does not depend on the wavelength axis, and the polynomial orders and window widths are in
columns. Every row is fitted alone, so these are row-wise stateless (computed once above the folds).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from pybaselines import Baseline

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param


class _PyBaseline(_RowWise):
    """Shared transform: ``x - baseline`` where pybaselines' ``Baseline().<_method>(x, **_options())`` fits it."""

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    _method: ClassVar[str]

    def _options(self, n_features: int) -> dict[str, Any]:
        raise NotImplementedError

    def _apply(self, X: np.ndarray) -> np.ndarray:
        fitter = Baseline(check_finite=False)  # validate_data already refused NaN and infinity
        fit = getattr(fitter, self._method)
        options = self._options(X.shape[1])
        out = np.empty_like(X)
        for row, x in enumerate(X):  # each row has its own iterations (weights, clipping)
            # A flat row is its own baseline for every method here (pybaselines would warn about its weights).
            out[row] = 0.0 if np.ptp(x) == 0 else x - fit(x, **options)[0]
        return out


_TOL = Param(float, gt=0, finite=True)


class ARPLS(_PyBaseline):
    """Subtract an asymmetrically reweighted penalised least squares baseline (arPLS; Baek et al. 2015).

    S.-J. Baek, A. Park, Y.-J. Ahn & J. Choo, "Baseline correction using asymmetrically reweighted penalized least
    squares smoothing", Analyst 140 (2015) 250-257; computed by pybaselines' ``Baseline.arpls`` (second
    differences). Points above the baseline get logistic weights of their residual, so noise on the baseline is
    followed and peaks are not.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness penalty, finite and > 0.
    n_iter : int, default=50
        Maximum number of reweighting iterations, >= 1.
    tol : float, default=1e-3
        Stop when the relative change of the weights falls below it, finite and > 0.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import ARPLS
    >>> t = np.linspace(0.0, 1.0, 60)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))  # a peak on a sloped baseline
    >>> out = ARPLS(lam=1e3).fit_transform(x[None, :])[0]
    >>> round(float(out[30]), 2), round(float(np.abs(out[[0, 59]]).max()), 2)  # the peak stays, the ends drop to 0
    (0.92, 0.0)
    """

    spec_name = "arpls"
    _method = "arpls"
    parameter_constraints = MappingProxyType({
        "lam": Param(float, gt=0, finite=True),
        "n_iter": Param(int, ge=1),
        "tol": _TOL,
    })

    def __init__(self, lam: float = 1e5, n_iter: int = 50, tol: float = 1e-3):
        self.lam = lam
        self.n_iter = n_iter
        self.tol = tol

    def _check_relations(self, n_features: int) -> None:
        if n_features < 3:
            raise ValueError(f"ARPLS: second differences need at least 3 columns, got {n_features} "
                             f"(n_features={n_features})")

    def _options(self, n_features: int) -> dict[str, Any]:
        return {"lam": float(self.lam), "max_iter": int(self.n_iter), "tol": float(self.tol)}


class SNIP(_PyBaseline):
    """Subtract a statistics-sensitive non-linear iterative peak-clipping baseline (SNIP; Ryan et al. 1988).

    C. G. Ryan, E. Clayton, W. L. Griffin, S. H. Sie & D. R. Cousens, "SNIP, a statistics-sensitive background
    treatment for the quantitative analysis of PIXE spectra in geoscience applications", Nucl. Instrum. Methods
    B 34 (1988) 396-402; computed by pybaselines' ``Baseline.snip``: each point is clipped to the mean of its
    neighbours ``w`` columns away, for w = 1 .. ``max_half_window``.

    Parameters
    ----------
    max_half_window : int, default=10
        The widest clipping half-window in columns, >= 1 (about half the width of the widest peak).
    smooth_half_window : int, default=0
        Half-window of a moving-average smoothing of the data before clipping, >= 0 (0: none).

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SNIP
    >>> t = np.linspace(0.0, 1.0, 60)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))
    >>> out = SNIP(max_half_window=10).fit_transform(x[None, :])[0]
    >>> round(float(out[30]), 2), round(float(np.abs(out[[0, 59]]).max()), 2)
    (0.92, 0.0)
    """

    spec_name = "snip"
    _method = "snip"
    parameter_constraints = MappingProxyType({
        "max_half_window": Param(int, ge=1),
        "smooth_half_window": Param(int, ge=0),
    })

    def __init__(self, max_half_window: int = 10, smooth_half_window: int = 0):
        self.max_half_window = max_half_window
        self.smooth_half_window = smooth_half_window

    def _check_relations(self, n_features: int) -> None:
        if 2 * self.max_half_window + 1 > n_features:
            raise ValueError(f"SNIP: max_half_window={self.max_half_window} spans {2 * self.max_half_window + 1} "
                             f"columns, more than the {n_features} of the spectra (n_features={n_features})")

    def _options(self, n_features: int) -> dict[str, Any]:
        smooth = int(self.smooth_half_window)
        return {"max_half_window": int(self.max_half_window), "smooth_half_window": smooth or None}


class RollingBall(_PyBaseline):
    """Subtract a rolling-ball baseline (Kneen & Annegarn 1996): a morphological opening, then smoothing.

    M. A. Kneen & H. J. Annegarn, "Algorithm for fitting XRF, SEM and PIXE X-ray spectra backgrounds", Nucl.
    Instrum. Methods B 109/110 (1996) 209-213; computed by pybaselines' ``Baseline.rolling_ball``: the minimum
    then maximum over a window of ``2 half_window + 1`` columns, smoothed by a moving average.

    Parameters
    ----------
    half_window : int, default=10
        Half-window of the ball in columns, >= 1 (wider than half the widest peak).
    smooth_half_window : int, default=0
        Half-window of the moving average applied to the opening, >= 0 (0: pybaselines' default, half_window).

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import RollingBall
    >>> x = np.r_[np.zeros(20), np.ones(3), np.zeros(20)]  # a narrow peak on a flat line
    >>> RollingBall(half_window=5).fit_transform(x[None, :])[0, [0, 21, 42]]
    array([0., 1., 0.])
    """

    spec_name = "rolling_ball"
    _method = "rolling_ball"
    parameter_constraints = MappingProxyType({
        "half_window": Param(int, ge=1),
        "smooth_half_window": Param(int, ge=0),
    })

    def __init__(self, half_window: int = 10, smooth_half_window: int = 0):
        self.half_window = half_window
        self.smooth_half_window = smooth_half_window

    def _check_relations(self, n_features: int) -> None:
        if 2 * self.half_window + 1 > n_features:
            raise ValueError(f"RollingBall: half_window={self.half_window} spans {2 * self.half_window + 1} "
                             f"columns, more than the {n_features} of the spectra (n_features={n_features})")

    def _options(self, n_features: int) -> dict[str, Any]:
        smooth = int(self.smooth_half_window)
        return {"half_window": int(self.half_window), "smooth_half_window": smooth or None}


class _Polynomial(_PyBaseline):
    def _check_relations(self, n_features: int) -> None:
        if self.poly_order >= n_features:
            raise ValueError(f"{type(self).__name__}: poly_order={self.poly_order} needs more than "
                             f"{self.poly_order} columns, the spectra have {n_features} (n_features={n_features})")


class ModPoly(_Polynomial):
    """Subtract a modified polynomial baseline (ModPoly; Lieber & Mahadevan-Jansen 2003).

    C. A. Lieber & A. Mahadevan-Jansen, "Automated method for subtraction of fluorescence from biological Raman
    spectra", Applied Spectroscopy 57 (2003) 1363-1367; computed by pybaselines' ``Baseline.modpoly``: fit a
    polynomial of ``poly_order`` by least squares, replace the points above it by the fit, and repeat until the
    relative change of the fit is below ``tol``.

    Parameters
    ----------
    poly_order : int, default=2
        Polynomial order, >= 0 and below the number of columns.
    tol : float, default=1e-3
        Relative change of the fit that stops the iterations, finite and > 0.
    n_iter : int, default=250
        Maximum number of iterations, >= 1.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import ModPoly
    >>> t = np.linspace(0.0, 1.0, 60)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))
    >>> out = ModPoly(poly_order=1).fit_transform(x[None, :])[0]
    >>> round(float(out[30]), 2), round(float(np.abs(out[[0, 59]]).max()), 2)
    (0.92, 0.0)
    """

    spec_name = "modpoly"
    _method = "modpoly"
    parameter_constraints = MappingProxyType({
        "poly_order": Param(int, ge=0),
        "tol": _TOL,
        "n_iter": Param(int, ge=1),
    })

    def __init__(self, poly_order: int = 2, tol: float = 1e-3, n_iter: int = 250):
        self.poly_order = poly_order
        self.tol = tol
        self.n_iter = n_iter

    def _options(self, n_features: int) -> dict[str, Any]:
        return {"poly_order": int(self.poly_order), "tol": float(self.tol), "max_iter": int(self.n_iter)}


class IModPoly(_Polynomial):
    """Subtract an improved modified polynomial baseline (IModPoly; Zhao et al. 2007).

    J. Zhao, H. Lui, D. I. McLean & H. Zeng, "Automated autofluorescence background subtraction algorithm for
    biomedical Raman spectroscopy", Applied Spectroscopy 61 (2007) 1225-1232; computed by pybaselines'
    ``Baseline.imodpoly``: as ModPoly, but points are clipped to the fit plus ``num_std`` standard deviations of
    the residual, which makes it robust to noise; peaks are masked before the first fit.

    Parameters
    ----------
    poly_order : int, default=2
        Polynomial order, >= 0 and below the number of columns.
    tol : float, default=1e-3
        Relative change of the fit that stops the iterations, finite and > 0.
    n_iter : int, default=250
        Maximum number of iterations, >= 1.
    num_std : float, default=1.0
        Standard deviations of the residual above the fit that a point is clipped to, finite and >= 0.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import IModPoly
    >>> t = np.linspace(0.0, 1.0, 60)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))
    >>> out = IModPoly(poly_order=1).fit_transform(x[None, :])[0]
    >>> round(float(out[30]), 2), round(float(np.abs(out[[0, 59]]).max()), 2)
    (0.92, 0.0)
    """

    spec_name = "imodpoly"
    _method = "imodpoly"
    parameter_constraints = MappingProxyType({
        "poly_order": Param(int, ge=0),
        "tol": _TOL,
        "n_iter": Param(int, ge=1),
        "num_std": Param(float, ge=0, finite=True),
    })

    def __init__(self, poly_order: int = 2, tol: float = 1e-3, n_iter: int = 250, num_std: float = 1.0):
        self.poly_order = poly_order
        self.tol = tol
        self.n_iter = n_iter
        self.num_std = num_std

    def _options(self, n_features: int) -> dict[str, Any]:
        return {"poly_order": int(self.poly_order), "tol": float(self.tol), "max_iter": int(self.n_iter),
                "num_std": float(self.num_std)}
