"""Penalised least-squares baseline removal: asymmetric least squares (ASLS) and adaptive reweighting (airPLS)."""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import ClassVar

import numpy as np
from scipy import sparse
from scipy.linalg import solveh_banded

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param

# airPLS weights grow like exp(iteration); exp overflows float64 just above 709.
_AIRPLS_MAX_ITER = 700


@lru_cache(maxsize=32)
def second_difference_penalty(n_features: int) -> np.ndarray:
    """``D'D`` for the (n-2, n) second-difference matrix ``D``, in the upper banded form of ``solveh_banded``.

    Row 2 holds the main diagonal, row 1 the first super-diagonal (shifted right by 1), row 0 the second
    (shifted right by 2). Built once per width and cached; the returned array is read-only. Spectra with fewer
    than 3 columns have no second differences: the penalty is zero.
    """
    bands = np.zeros((3, n_features))
    if n_features >= 3:
        diff2 = sparse.diags_array([1.0, -2.0, 1.0], offsets=[0, 1, 2], shape=(n_features - 2, n_features))
        penalty = (diff2.T @ diff2).todia()
        bands[2] = penalty.diagonal(0)
        bands[1, 1:] = penalty.diagonal(1)
        bands[0, 2:] = penalty.diagonal(2)
    bands.flags.writeable = False
    return bands


def _whittaker(penalty: np.ndarray, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Solve ``(W + lam D'D) z = W x`` by banded Cholesky; ``penalty`` is ``lam D'D`` in upper banded form."""
    ab = penalty.copy()
    ab[2] += weights
    return solveh_banded(ab, weights * x, overwrite_ab=True, overwrite_b=True, check_finite=False)


_LAM = Param(float, gt=0, finite=True)


class ASLS(_RowWise):
    """Subtract an asymmetric least squares baseline (Eilers & Boelens 2005) from each spectrum.

    Eilers & Boelens (2005), "Baseline correction with asymmetric least squares smoothing", Leiden University
    Medical Centre report. The baseline ``z`` of a spectrum ``x`` minimises::

        sum_i w_i (x_i - z_i)^2 + lam * sum_i (z_{i+2} - 2 z_{i+1} + z_i)^2

    starting from ``w = 1`` and reweighting ``w_i = p`` where ``x_i > z_i`` (peaks) and ``1 - p`` elsewhere, for at
    most ``n_iter`` solves; it stops early when the weights stop changing (the next solve would repeat the last).
    The output is ``x - z``. The differences are over column positions, so ``lam`` is in units of columns.

    Each row is solved separately (a Python loop over rows): the weights of a row depend on that row's own
    residuals, so every row has its own sequence of pentadiagonal systems, solved by banded Cholesky
    (``scipy.linalg.solveh_banded``) in O(n) each.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness penalty, finite and > 0 (typically 1e2-1e9).
    p : float, default=0.01
        Asymmetry, the weight of points above the baseline, in (0, 1) (typically 0.001-0.1).
    n_iter : int, default=10
        Maximum number of weighted solves, >= 1.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import ASLS
    >>> t = np.linspace(0.0, 1.0, 50)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))  # a peak on a sloped baseline
    >>> ASLS(lam=1e3).fit_transform(x[None, :])[0, [0, 25, 49]].round(2)  # the ends drop to 0, the peak stays
    array([0.  , 0.89, 0.  ])
    """

    spec_name = "asls"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({
        "lam": _LAM,
        "p": Param(float, gt=0, lt=1),
        "n_iter": Param(int, ge=1),
    })

    def __init__(self, lam: float = 1e5, p: float = 0.01, n_iter: int = 10):
        self.lam = lam
        self.p = p
        self.n_iter = n_iter

    def _apply(self, X: np.ndarray) -> np.ndarray:
        penalty = float(self.lam) * second_difference_penalty(X.shape[1])
        p = float(self.p)
        out = np.empty_like(X)
        for row, x in enumerate(X):  # inherently per row: see the class docstring
            weights = np.ones_like(x)
            for _ in range(int(self.n_iter)):
                baseline = _whittaker(penalty, weights, x)
                new_weights = np.where(x > baseline, p, 1.0 - p)
                if np.array_equal(new_weights, weights):
                    break
                weights = new_weights
            out[row] = x - baseline
        return out


class AirPLS(_RowWise):
    """Subtract an adaptive iteratively reweighted penalised least squares baseline (Zhang et al. 2010).

    Zhang, Chen & Liang (2010), "Baseline correction using adaptive iteratively reweighted penalized least
    squares", Analyst 135, 1138-1146. Each iteration ``t = 1, 2, ...`` solves the same penalised problem as ASLS::

        z = argmin sum_i w_i (x_i - z_i)^2 + lam * sum_i (z_{i+2} - 2 z_{i+1} + z_i)^2

    starting from ``w = 1``, then with ``d = x - z`` and ``|d-| = sum_{d_i < 0} |d_i|``:

    - stop if ``|d-| <= tol * sum_i |x_i|`` (or after ``n_iter`` solves);
    - otherwise ``w_i = 0`` where ``d_i >= 0`` and ``w_i = exp(t |d_i| / |d-|)`` where ``d_i < 0``; the two end
      points get ``exp(t max_{d_i<0} |d_i| / |d-|)``, as in the authors' reference implementation, which keeps
      the system positive definite (two pinned points fix the null space of the penalty, the straight lines).

    The output is ``x - z``. The differences are over column positions, so ``lam`` is in units of columns.

    Each row is solved separately (a Python loop over rows): the weights of a row depend on that row's own
    residuals, so every row has its own sequence of pentadiagonal systems, solved by banded Cholesky
    (``scipy.linalg.solveh_banded``) in O(n) each.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness penalty, finite and > 0.
    n_iter : int, default=15
        Maximum number of weighted solves, in [1, 700]; the weights grow like ``exp(n_iter)``.
    tol : float, default=1e-3
        Convergence threshold on ``|d-|`` relative to ``sum |x|``, finite and >= 0.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import AirPLS
    >>> t = np.linspace(0.0, 1.0, 50)
    >>> x = 1.0 + 2.0 * t + np.exp(-(((t - 0.5) / 0.03) ** 2))  # a peak on a sloped baseline
    >>> AirPLS(lam=1e3).fit_transform(x[None, :])[0, [0, 25, 49]].round(2)  # the ends drop to 0, the peak stays
    array([0.  , 0.88, 0.  ])
    """

    spec_name = "airpls"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({
        "lam": _LAM,
        "n_iter": Param(int, ge=1, le=_AIRPLS_MAX_ITER),
        "tol": Param(float, ge=0, finite=True),
    })

    def __init__(self, lam: float = 1e5, n_iter: int = 15, tol: float = 1e-3):
        self.lam = lam
        self.n_iter = n_iter
        self.tol = tol

    def _apply(self, X: np.ndarray) -> np.ndarray:
        penalty = float(self.lam) * second_difference_penalty(X.shape[1])
        out = np.empty_like(X)
        for row, x in enumerate(X):  # inherently per row: see the class docstring
            out[row] = x - self._baseline(penalty, x)
        return out

    def _baseline(self, penalty: np.ndarray, x: np.ndarray) -> np.ndarray:
        threshold = float(self.tol) * float(np.abs(x).sum())
        weights = np.ones_like(x)
        for t in range(1, int(self.n_iter) + 1):
            baseline = _whittaker(penalty, weights, x)
            residual = x - baseline
            below = residual < 0
            deficit = float(-residual[below].sum())
            if deficit <= threshold:
                break
            # deficit > 0 here, so at least one point lies below the baseline.
            weights = np.zeros_like(x)
            weights[below] = np.exp(t * -residual[below] / deficit)
            weights[0] = weights[-1] = np.exp(t * float(-residual[below].min()) / deficit)
        return baseline
