"""What each NIRS transform declares about itself (traits, spec name, parameter constraints) and shared helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.params import Param


@dataclass(frozen=True)
class OperatorTraits:
    """Facts an operator declares about itself.

    row_wise_stateless
        The output row depends only on the same input row and nothing is fitted: the compiler may compute it once
        for all rows, above the fold fan-out, without leakage.
    wavelength_aware
        The operator reads the wavelength axis (not only column positions).
    changes_axis
        The operator changes the number or meaning of columns.
    y_aware
        Fitting reads the target.
    """

    row_wise_stateless: bool
    wavelength_aware: bool = False
    changes_axis: bool = False
    y_aware: bool = False


class SpecOperator(BaseEstimator):
    """Base of everything a pipeline spec names as a step (``op: ...``): an estimator that declares, as class data,
    what the engine needs.

    A subclass sets ``spec_name`` (its ``op`` in a pipeline spec, if a registry lists it), ``traits`` and
    ``parameter_constraints`` (one :class:`~nirs_core.operators.params.Param` per ``__init__`` parameter, in
    ``__init__`` order), and calls :func:`~nirs_core.operators.params.check_params` where it validates, at fit.
    ``__init__`` only stores the parameters (scikit-learn convention). The transforms are :class:`Operator`; the
    sample filters (``nirs_core.operators.filters.RowFilter``), which decide rows and transform nothing, are not.
    """

    spec_name: ClassVar[str]
    traits: ClassVar[OperatorTraits]
    parameter_constraints: ClassVar[Mapping[str, Param]] = MappingProxyType({})


class Operator(TransformerMixin, SpecOperator):
    """Base of the NIRS transforms: scikit-learn transformers declaring their spec name, traits and parameters
    (see :class:`SpecOperator`)."""

    def axis_after(self, n_features: int) -> np.ndarray:
        """The axis of the output columns for ``n_features`` input columns, before any data is seen (the compiler
        carries it along a path). By default the ``wavelengths_out_`` of a fit on two rows of zeros, for operators
        that change the axis from their parameters alone (crop, resample...); one whose output width needs more
        rows (PCA) says it without fitting."""
        if not self.traits.changes_axis:
            raise TypeError(f"{type(self).__name__} does not change the axis")
        return np.asarray(self.fit(np.zeros((2, n_features))).wavelengths_out_, dtype=np.float64)


# The ``wavelengths`` parameter of a wavelength-aware operator: set by the engine from the dataset (never written in a
# spec) and checked against the data width by :func:`check_axis`.
WAVELENGTHS = Param(list[float], in_spec=False)


def check_axis(wavelengths: object, n_features: int, owner: str) -> np.ndarray:
    """Validate the ``wavelengths`` parameter of a wavelength-aware operator against the data width.

    Wavelength-aware operators take the dataset's axis as an ``__init__`` parameter ``wavelengths`` (the engine
    sets it from the dataset, or from the upstream step's ``wavelengths_out_``), and after ``fit`` expose the axis
    of their output as ``wavelengths_out_``.
    """
    if wavelengths is None:
        raise ValueError(f"{owner}: wavelengths is required (the wavelength axis of the input spectra)")
    axis = np.asarray(wavelengths, dtype=np.float64)
    if axis.shape != (n_features,):
        raise ValueError(f"{owner}: wavelengths has {axis.size} values for {n_features} input columns")
    steps = np.diff(axis)
    if axis.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(f"{owner}: wavelengths must be strictly monotonic")
    return axis


def check_n_components(n_components: object, shape: tuple[int, int], owner: str) -> None:
    """Refuse a component count that is not an integer in [1, min(n_samples - 1, n_features)]."""
    n_samples, n_features = shape
    limit = min(n_samples - 1, n_features)
    if isinstance(n_components, bool) or not isinstance(n_components, Integral) or not 1 <= n_components <= limit:
        raise ValueError(
            f"{owner}: n_components={n_components!r} is out of range: with {n_samples} training rows and "
            f"{n_features} wavelengths it must be an integer in [1, {limit}]"
        )


class ComponentSweepMixin:
    """Prediction of a linear model fitted once for K components: ``coef_all_`` (K, n_features, n_targets) applies
    to centred X (``x_mean_``) and adds ``y_mean_``; ``_single_target`` makes ``predict`` return 1D."""

    def predict_all(self, X, select=None) -> np.ndarray:
        """Predictions of every k-component model, shape (n_components, n_samples, n_targets); ``select`` (0-based
        indices into the counts) computes only those models, each with the same arithmetic (bits) as in the whole
        sweep."""
        check_is_fitted(self, "coef_all_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        coef = self.coef_all_ if select is None else self.coef_all_[np.asarray(select, dtype=np.int64)]
        return np.matmul(X - self.x_mean_, coef) + self.y_mean_

    def predict(self, X) -> np.ndarray:
        """Predictions of the full ``n_components`` model (1D for a single target)."""
        pred = self.predict_all(X, select=[-1])[0]
        return pred[:, 0] if self._single_target else pred
