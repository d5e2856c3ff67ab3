"""Unit tests of EMSC: the least-squares model, its reduction to MSC at order 0, degenerate cases, API."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators.emsc import EMSC
from nirs_core.operators.scatter import MSC


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(11)
    t = np.linspace(-1.0, 1.0, 50)
    peaks = np.exp(-((t - 0.2) ** 2) / 0.01) + 0.5 * np.exp(-((t + 0.5) ** 2) / 0.02)
    n = 12
    baseline = rng.uniform(-1, 1, (n, 1)) + rng.uniform(-0.3, 0.3, (n, 1)) * t + rng.uniform(-0.2, 0.2, (n, 1)) * t**2
    return baseline + rng.uniform(0.5, 2.0, (n, 1)) * peaks + 0.01 * rng.standard_normal((n, 50))


def _emsc_reference(X: np.ndarray, reference: np.ndarray, order: int) -> np.ndarray:
    """Independent EMSC: per-row least squares on [1, ref, t, ..., t^order], then (x - a - sum d_j t^j) / b."""
    t = np.linspace(-1.0, 1.0, X.shape[1])
    design = np.column_stack([reference] + [t**j for j in range(order + 1)])
    out = np.empty_like(X)
    for i, x in enumerate(X):
        coef, *_ = np.linalg.lstsq(design, x, rcond=None)
        b, poly = coef[0], coef[1:]
        out[i] = (x - design[:, 1:] @ poly) / b
    return out


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_emsc_equals_per_row_least_squares(spectra: np.ndarray, order: int) -> None:
    model = EMSC(order=order).fit(spectra[:8])
    expected = _emsc_reference(spectra, spectra[:8].mean(axis=0), order)
    np.testing.assert_allclose(model.transform(spectra), expected, rtol=0, atol=1e-10)


def test_emsc_reference_is_the_mean_of_the_fit_rows(spectra: np.ndarray) -> None:
    np.testing.assert_allclose(EMSC().fit(spectra[:5]).reference_, spectra[:5].mean(axis=0), rtol=0, atol=1e-15)


def test_emsc_undoes_scaling_and_a_polynomial_baseline_of_the_reference(spectra: np.ndarray) -> None:
    model = EMSC(order=2).fit(spectra)
    ref = model.reference_
    t = np.linspace(-1.0, 1.0, ref.size)
    distorted = np.vstack([0.3 + 1.8 * ref - 0.4 * t + 0.25 * t**2, -2.0 + 0.6 * ref + 0.9 * t**2, ref])
    np.testing.assert_allclose(model.transform(distorted), np.tile(ref, (3, 1)), rtol=0, atol=1e-10)


def test_a_quadratic_baseline_is_removed_by_order_2_but_not_by_msc(spectra: np.ndarray) -> None:
    ref = spectra.mean(axis=0)
    t = np.linspace(-1.0, 1.0, ref.size)
    distorted = (1.2 * ref + 0.5 * t**2)[None, :]
    assert np.abs(EMSC(order=2).fit(spectra).transform(distorted)[0] - ref).max() < 1e-10
    assert np.abs(EMSC(order=0).fit(spectra).transform(distorted)[0] - ref).max() > 0.05


# --- EMSC order 0 is MSC ------------------------------------------------------------------------------------


def test_emsc_order_0_equals_msc(spectra: np.ndarray) -> None:
    emsc, msc = EMSC(order=0).fit(spectra[:7]), MSC().fit(spectra[:7])
    np.testing.assert_allclose(emsc.transform(spectra), msc.transform(spectra), rtol=0, atol=1e-10)


@st.composite
def _scattered_spectra(draw) -> np.ndarray:
    """Rows a_i + b_i * base + noise: the well-posed regime of scatter correction (b_i kept away from 0)."""
    n_rows, n_cols = draw(st.integers(1, 8)), draw(st.integers(3, 30))
    base = draw(arrays(np.float64, n_cols, elements=st.floats(-10, 10, allow_subnormal=False)))
    # A reference with some spread: a flat reference makes MSC's slope undefined (tested separately below).
    base = base + np.linspace(0.0, 1.0, n_cols) ** 2
    offsets = draw(arrays(np.float64, (n_rows, 1), elements=st.floats(-5, 5, allow_subnormal=False)))
    slopes = draw(arrays(np.float64, (n_rows, 1), elements=st.floats(0.5, 2.0)))
    noise = draw(arrays(np.float64, (n_rows, n_cols), elements=st.floats(-0.05, 0.05, allow_subnormal=False)))
    return offsets + slopes * base + noise


@settings(max_examples=40, deadline=None)
@given(X=_scattered_spectra())
def test_emsc_order_0_equals_msc_on_any_scattered_set(X: np.ndarray) -> None:
    np.testing.assert_allclose(EMSC(order=0).fit(X).transform(X), MSC().fit(X).transform(X), rtol=0, atol=1e-10)


def test_emsc_order_0_follows_msc_on_a_flat_reference() -> None:
    # A flat reference leaves the scale undetermined: both keep b = 1 and only remove the offset.
    X = np.array([[1.0, 3.0, 2.0], [3.0, 1.0, 2.0]])  # mean row is exactly [2, 2, 2]
    expected = X - X.mean(axis=1, keepdims=True) + 2.0
    np.testing.assert_allclose(EMSC(order=0).fit(X).transform(X), expected, atol=1e-12)
    np.testing.assert_allclose(MSC().fit(X).transform(X), expected, atol=1e-12)


def test_emsc_with_no_more_columns_than_baseline_terms_returns_the_reference() -> None:
    # Two columns, order 2: the baseline alone fits any spectrum, so b = 1 and every row maps to the reference.
    X = np.array([[1.0, 5.0], [2.0, -1.0], [0.0, 3.0]])
    model = EMSC(order=2).fit(X)
    np.testing.assert_allclose(model.transform(X), np.tile(model.reference_, (3, 1)), atol=1e-12)


# --- parameters, fitting, traits, scikit-learn API -----------------------------------------------------------


@pytest.mark.parametrize("order", [-1, 1.5, "2", True, None])
def test_bad_order_raises_value_error_naming_it_at_fit(spectra: np.ndarray, order: object) -> None:
    estimator = EMSC(order=order)  # construction never validates (sklearn convention)
    with pytest.raises(ValueError, match="order"):
        estimator.fit(spectra)


def test_emsc_refuses_transform_before_fit(spectra: np.ndarray) -> None:
    with pytest.raises(NotFittedError):
        EMSC().transform(spectra)


def test_emsc_transform_of_a_row_depends_only_on_that_row_and_the_fit(spectra: np.ndarray) -> None:
    model = EMSC().fit(spectra[:6])
    full = model.transform(spectra)
    np.testing.assert_allclose(model.transform(spectra[[9, 2]]), full[[9, 2]], rtol=0, atol=1e-12)
    assert not np.allclose(EMSC().fit(spectra[6:]).transform(spectra[:1]), full[:1])


def test_emsc_is_fitted_not_row_wise_stateless() -> None:
    assert EMSC.traits.row_wise_stateless is False
    assert not (EMSC.traits.wavelength_aware or EMSC.traits.changes_axis or EMSC.traits.y_aware)


@parametrize_with_checks([EMSC(), EMSC(order=0)])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
