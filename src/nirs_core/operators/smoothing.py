"""Row-wise smoothing and derivative filters: Norris-Williams gap-segment derivative, finite differences, Gaussian."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from scipy.ndimage import correlate1d, gaussian_filter1d

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param


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
    order : int, default=1
        Derivative order, 1 or 2.
    segment : int, default=5
        Odd number of columns averaged in each segment; 1 means no averaging (Norris gap derivative).
    gap : int, default=5
        Odd number of columns between adjacent segments.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import GapSegmentDerivative
    >>> GapSegmentDerivative(order=1, segment=3, gap=1).fit_transform(3.0 * np.arange(10.0)[None, :])
    array([[3., 3., 3., 3., 3., 3., 3., 3., 3., 3.]])
    """

    spec_name = "gap_derivative"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({
        "order": Param(int, ge=1, le=2),
        "segment": Param(int, ge=1, odd=True),
        "gap": Param(int, ge=1, odd=True),
    })

    def __init__(self, order: int = 1, segment: int = 5, gap: int = 5):
        self.order = order
        self.segment = segment
        self.gap = gap

    def _check_relations(self, n_features: int) -> None:
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
    order : int, default=1
        Derivative order, 1 or 2.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import FiniteDifference
    >>> FiniteDifference(order=1).fit_transform(np.array([[0.0, 1.0, 4.0, 9.0, 16.0]]))
    array([[1., 2., 4., 6., 7.]])
    """

    spec_name = "derivative"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({"order": Param(int, ge=1, le=2)})

    def __init__(self, order: int = 1):
        self.order = order

    def _check_relations(self, n_features: int) -> None:
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
    sigma : float, default=2
        Standard deviation of the kernel in columns, finite and > 0.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import GaussianSmooth
    >>> GaussianSmooth(sigma=1.0).fit_transform(np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])).round(3)
    array([[0.058, 0.242, 0.399, 0.242, 0.058]])
    """

    spec_name = "gaussian"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({"sigma": Param(float, gt=0, finite=True)})

    def __init__(self, sigma: float = 2.0):
        self.sigma = sigma

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return gaussian_filter1d(X, float(self.sigma), axis=1, mode="reflect", truncate=4.0)
