"""Row-wise smoothing and derivative filters: Norris-Williams gap-segment derivative, finite differences, Gaussian."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.ndimage import correlate1d, gaussian_filter1d

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


class GapSegmentDerivative(_RowWise):
    """Norris-Williams gap-segment derivative of order 1 or 2 along the column position.

    Norris & Williams (1984), Cereal Chem. 61, 158-165; definition as explained by Hopkins (2001), "What is a
    Norris derivative?", NIR news 12(3), 3-5. With ``s = segment``, ``g = gap`` and ``S_c`` the mean of the ``s``
    columns centred on column ``c``, and ``d = s + g`` the distance between the centres of adjacent segments:

    - order 1: two segments of ``s`` columns separated by ``g`` skipped columns, the gap centred on column ``i``::

          D1[i] = (S_{i + d/2} - S_{i - d/2}) / d

    - order 2: three segments separated by gaps of ``g`` columns, the middle segment centred on column ``i``::

          D2[i] = (S_{i + d} - 2 S_i + S_{i - d}) / d^2

    Both ``segment`` and ``gap`` are odd so that every segment, and the whole window (``2s + g`` columns for
    order 1, ``3s + 2g`` for order 2), is centred on a column. The division by ``d`` (``d^2``) makes the result a
    derivative per column: a straight line of slope ``c`` gives ``D1 = c`` and the parabola ``c i^2`` gives
    ``D2 = 2c`` exactly.

    Edges: the output keeps the input width. The ``h = (window - 1) / 2`` columns at each end, where the window
    does not fit, repeat the nearest computed value (column ``h`` on the left, column ``n - 1 - h`` on the right).
    A window wider than the spectrum is refused.

    Parameters
    ----------
    order : int
        Derivative order, 1 or 2 (default 1).
    segment : int
        Odd number of columns averaged in each segment (default 5); 1 means no averaging (Norris gap derivative).
    gap : int
        Odd number of columns between adjacent segments (default 5).
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def __init__(self, order: int = 1, segment: int = 5, gap: int = 5):
        self.order = order
        self.segment = segment
        self.gap = gap

    def _check_params(self, n_features: int) -> None:
        if not _is_int(self.order) or self.order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {self.order!r}")
        if not _is_int(self.segment) or self.segment < 1 or self.segment % 2 != 1:
            raise ValueError(f"segment must be an odd integer >= 1, got {self.segment!r}")
        if not _is_int(self.gap) or self.gap < 1 or self.gap % 2 != 1:
            raise ValueError(f"gap must be an odd integer >= 1, got {self.gap!r}")
        width = self._kernel().size
        if width > n_features:
            raise ValueError(
                f"segment={self.segment} and gap={self.gap} give an order-{self.order} window of {width} columns, "
                f"wider than the spectra (n_features={n_features})"
            )

    def _kernel(self) -> np.ndarray:
        """Correlation weights of the whole window, centred on the output column."""
        s, g = int(self.segment), int(self.gap)
        seg = np.full(s, 1.0 / s)
        skip = np.zeros(g)
        d = float(s + g)
        if self.order == 1:
            return np.concatenate([-seg, skip, seg]) / d
        return np.concatenate([seg, skip, -2.0 * seg, skip, seg]) / d**2

    def _apply(self, X: np.ndarray) -> np.ndarray:
        kernel = self._kernel()
        half = kernel.size // 2
        # correlate1d centres an odd kernel on each column; the edge mode only touches the columns overwritten below.
        out = correlate1d(X, kernel, axis=1, mode="nearest")
        n = X.shape[1]
        out[:, :half] = out[:, [half]]
        out[:, n - half :] = out[:, [n - 1 - half]]
        return out


class FiniteDifference(_RowWise):
    """First or second derivative along the column position by central differences (``numpy.gradient``).

    order 1: ``D1[i] = (x[i+1] - x[i-1]) / 2`` inside, one-sided ``x[1] - x[0]`` and ``x[n-1] - x[n-2]`` at the
    ends (``np.gradient`` with unit spacing, ``edge_order=1``).
    order 2: ``np.gradient`` applied twice, i.e. ``D2[i] = (x[i+2] - 2 x[i] + x[i-2]) / 4`` two columns away
    from the ends. Both are exact on polynomials of degree ``order`` away from the edges. The derivative is per
    column (the wavelength axis is not read). Spectra need at least 2 columns.

    Parameters
    ----------
    order : int
        Derivative order, 1 or 2 (default 1).
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def __init__(self, order: int = 1):
        self.order = order

    def _check_params(self, n_features: int) -> None:
        if not _is_int(self.order) or self.order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {self.order!r}")
        if n_features < 2:
            raise ValueError(f"FiniteDifference needs at least 2 columns, got n_features={n_features}")

    def _apply(self, X: np.ndarray) -> np.ndarray:
        out = np.gradient(X, axis=1)
        return np.gradient(out, axis=1) if self.order == 2 else out


class GaussianSmooth(_RowWise):
    """Smooth each spectrum with a Gaussian kernel of standard deviation ``sigma`` columns.

    ``y[i] = sum_k w_k x[i + k]`` with ``w_k`` proportional to ``exp(-k^2 / (2 sigma^2))`` for
    ``|k| <= round(4 sigma)``, normalised to sum 1 (``scipy.ndimage.gaussian_filter1d``, ``truncate=4``).
    Edges are extended by reflection (``d c b a | a b c d | d c b a``), so a constant row is unchanged.

    Parameters
    ----------
    sigma : float
        Standard deviation of the kernel in columns, > 0 (default 2).
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)

    def __init__(self, sigma: float = 2.0):
        self.sigma = sigma

    def _check_params(self, n_features: int) -> None:
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, Real) or not 0 < self.sigma < np.inf:
            raise ValueError(f"sigma must be a finite number > 0, got {self.sigma!r}")

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return gaussian_filter1d(X, float(self.sigma), axis=1, mode="reflect", truncate=4.0)
