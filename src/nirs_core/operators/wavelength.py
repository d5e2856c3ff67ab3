"""Wavelength-aware axis transforms: crop to a range, mask bands out, resample onto a new axis."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar, Literal

import numpy as np
from scipy.interpolate import CubicSpline
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import WAVELENGTHS, Operator, OperatorTraits, check_axis
from nirs_core.operators.params import Param, check_params


class _AxisTransform(Operator):
    """Shared fit/transform of transforms that are fitted on the wavelength axis only, never on the rows.

    ``fit`` checks the declared parameters, validates ``wavelengths`` against the data width, computes the column
    mapping once and sets ``wavelengths_out_``; ``transform`` applies the mapping, so each output row depends only on
    the same input row.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True, wavelength_aware=True, changes_axis=True)

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        check_params(self)
        self._fit_axis(self._input_axis(X.shape[1]))
        return self

    def transform(self, X):
        check_is_fitted(self, "wavelengths_out_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._apply(X)

    def _input_axis(self, n_features: int) -> np.ndarray:
        return check_axis(self.wavelengths, n_features, type(self).__name__)

    def _fit_axis(self, axis: np.ndarray) -> None:
        """Validate hyper-parameters against the input axis and set the fitted mapping and ``wavelengths_out_``."""
        raise NotImplementedError

    def _apply(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _band_pairs(value: object) -> np.ndarray:
    """``bands`` as a (n_bands, 2) float array; an empty sequence means no band."""
    try:
        bands = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        bands = None
    if bands is not None and bands.size == 0 and bands.ndim == 1:
        bands = bands.reshape(0, 2)
    if bands is None or bands.ndim != 2 or bands.shape[1] != 2:
        raise ValueError(f"MaskBands: bands must be a sequence of (lo, hi) pairs, got {value!r}")
    return bands


def _axis_range(axis: np.ndarray) -> str:
    return f"[{axis.min():g}, {axis.max():g}]"


class Crop(_AxisTransform):
    """Keep the columns whose wavelength w satisfies ``start <= w <= stop``.

    Works on ascending and descending axes; the kept columns keep their input order. A range that overlaps the
    axis only partly keeps the overlap; a range that selects no column is refused at fit.

    Parameters
    ----------
    start, stop : float
        Inclusive bounds of the kept range, in the units of ``wavelengths`` (``start <= stop``).
    wavelengths : array-like of shape (n_features,), default=None
        Wavelength axis of the input spectra (set by the engine).

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        Mask of the kept input columns.
    wavelengths_out_ : ndarray of shape (n_kept,)
        Axis of the output.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import Crop
    >>> crop = Crop(start=905, stop=930, wavelengths=[900.0, 910.0, 920.0, 930.0, 940.0])
    >>> crop.fit_transform(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    array([[2., 3., 4.]])
    >>> crop.wavelengths_out_
    array([910., 920., 930.])
    """

    spec_name = "crop"
    parameter_constraints = MappingProxyType({"start": Param(float), "stop": Param(float), "wavelengths": WAVELENGTHS})

    def __init__(self, start: float, stop: float, wavelengths=None):
        self.start = start
        self.stop = stop
        self.wavelengths = wavelengths

    def _fit_axis(self, axis: np.ndarray) -> None:
        start, stop = float(self.start), float(self.stop)
        if start > stop:
            raise ValueError(f"Crop: start={start:g} must be <= stop={stop:g}")
        support = (axis >= start) & (axis <= stop)
        if not support.any():
            where = "lies outside" if stop < axis.min() or start > axis.max() else "falls between the columns of"
            raise ValueError(
                f"Crop: the range start={start:g}, stop={stop:g} {where} the wavelength axis {_axis_range(axis)} "
                "and selects no column"
            )
        self.support_ = support
        self.wavelengths_out_ = axis[support]

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X[:, self.support_]


class MaskBands(_AxisTransform):
    """Drop the columns whose wavelength lies inside any of the given bands (bounds inclusive).

    Typical use: remove water bands or detector junctions. Bands outside the axis drop nothing.

    Parameters
    ----------
    bands : sequence of (lo, hi) pairs
        Bands to remove, in the units of ``wavelengths``, each with ``lo <= hi`` (infinite bounds are allowed).
    wavelengths : array-like of shape (n_features,), default=None
        Wavelength axis of the input spectra (set by the engine).

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        Mask of the kept input columns.
    wavelengths_out_ : ndarray of shape (n_kept,)
        Axis of the output.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MaskBands
    >>> mask = MaskBands(bands=[(915, 935)], wavelengths=[900.0, 910.0, 920.0, 930.0, 940.0])
    >>> mask.fit_transform(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    array([[1., 2., 5.]])
    """

    spec_name = "mask_bands"
    parameter_constraints = MappingProxyType({"bands": Param(list[tuple[float, float]]), "wavelengths": WAVELENGTHS})

    def __init__(self, bands, wavelengths=None):
        self.bands = bands
        self.wavelengths = wavelengths

    def _fit_axis(self, axis: np.ndarray) -> None:
        bands = _band_pairs(self.bands)
        bad = np.isnan(bands).any(axis=1) | (bands[:, 0] > bands[:, 1])
        if bad.any():
            raise ValueError(f"MaskBands: bands must have lo <= hi, got {bands[bad].tolist()}")
        inside = (axis[:, None] >= bands[:, 0]) & (axis[:, None] <= bands[:, 1])
        support = ~inside.any(axis=1)
        if not support.any():
            raise ValueError(f"MaskBands: bands={bands.tolist()} drop every column of the axis {_axis_range(axis)}")
        self.support_ = support
        self.wavelengths_out_ = axis[support]

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X[:, self.support_]


class Resample(_AxisTransform):
    """Interpolate each spectrum onto a new wavelength axis.

    ``kind="linear"`` is piecewise-linear interpolation (as ``np.interp``), computed at fit as two column indices
    and a weight per output wavelength, so transform is two gathers and a blend. ``kind="cubic"`` is a cubic spline
    with not-a-knot ends (``scipy.interpolate.CubicSpline`` along the rows). No extrapolation: the new axis must lie
    within the input axis range. Either axis may be ascending or descending.

    Parameters
    ----------
    new_wavelengths : array-like of shape (n_out,)
        Strictly monotonic output axis, within the range of ``wavelengths``.
    wavelengths : array-like of shape (n_features,), default=None
        Wavelength axis of the input spectra (set by the engine).
    kind : {"linear", "cubic"}, default="linear"
        Interpolation scheme.

    Attributes
    ----------
    order_ : ndarray of int, shape (n_features,)
        Input columns sorted by ascending wavelength.
    knots_ : ndarray of shape (n_features,)
        The input axis in ascending order.
    left_columns_, right_columns_ : ndarray of int, shape (n_out,)
        Input columns bracketing each new wavelength.
    right_weights_ : ndarray of shape (n_out,)
        Linear weight of the right column (the left one gets ``1 - weight``).
    wavelengths_out_ : ndarray of shape (n_out,)
        The new axis.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import Resample
    >>> resample = Resample(new_wavelengths=[905.0, 925.0], wavelengths=[900.0, 910.0, 920.0, 930.0, 940.0])
    >>> resample.fit_transform(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    array([[1.5, 3.5]])
    """

    spec_name = "resample"
    parameter_constraints = MappingProxyType({
        "new_wavelengths": Param(list[float]),
        "wavelengths": WAVELENGTHS,
        "kind": Param(str, options=("linear", "cubic")),
    })

    def __init__(self, new_wavelengths, wavelengths=None, kind: Literal["linear", "cubic"] = "linear"):
        self.new_wavelengths = new_wavelengths
        self.wavelengths = wavelengths
        self.kind = kind

    def _fit_axis(self, axis: np.ndarray) -> None:
        new = np.asarray(self.new_wavelengths, dtype=np.float64)
        if new.ndim != 1 or new.size == 0 or not np.isfinite(new).all():
            raise ValueError("Resample: new_wavelengths must be a non-empty 1D array of finite values")
        steps = np.diff(new)
        if new.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
            raise ValueError("Resample: new_wavelengths must be strictly monotonic")
        outside = (new < axis.min()) | (new > axis.max())
        if outside.any():
            raise ValueError(
                f"Resample: new_wavelengths {new[outside].tolist()} lie outside the input axis range "
                f"{_axis_range(axis)}; extrapolation is not supported"
            )
        if self.kind == "cubic" and axis.size < 2:
            raise ValueError("Resample: kind='cubic' needs at least 2 input wavelengths")
        # Work on the ascending input axis; `order` maps its positions back to input columns.
        order = np.argsort(axis)
        ascending = axis[order]
        if ascending.size == 1:
            left = np.zeros(new.size, dtype=np.intp)
            weight = np.zeros(new.size)
            right = left
        else:
            left = np.clip(np.searchsorted(ascending, new, side="right") - 1, 0, ascending.size - 2)
            right = left + 1
            weight = (new - ascending[left]) / (ascending[right] - ascending[left])
        self.order_ = order
        self.knots_ = ascending
        self.left_columns_ = order[left]
        self.right_columns_ = order[right]
        self.right_weights_ = weight
        self.wavelengths_out_ = new.copy()

    def _apply(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "cubic":
            return CubicSpline(self.knots_, X[:, self.order_], axis=1)(self.wavelengths_out_)
        w = self.right_weights_
        return X[:, self.left_columns_] * (1.0 - w) + X[:, self.right_columns_] * w
