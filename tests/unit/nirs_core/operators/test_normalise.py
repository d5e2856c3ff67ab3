"""Unit tests of the normalisations (RNV, area, vector, max, mean centring, autoscaling): formulas, invariants, API."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators.normalise import RNV, AreaNormalise, Autoscale, MaxNormalise, MeanCentre, VectorNormalise

# Values on a 1/8 grid: exactly representable, so spreads are either 0 or well away from rounding level.
_GRID = st.integers(-800, 800).map(lambda v: v / 8.0)


@st.composite
def _matrices(draw, min_rows: int = 1) -> np.ndarray:
    shape = (draw(st.integers(min_rows, 8)), draw(st.integers(2, 25)))
    return draw(arrays(np.float64, shape, elements=_GRID))


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 1.0, 30)
    peak = np.exp(-((t - 0.4) ** 2) / 0.01)
    scatter = rng.uniform(-0.5, 0.5, (10, 1)) + rng.uniform(0.5, 2.0, (10, 1)) * peak
    return scatter + 0.01 * rng.standard_normal((10, 30))


# --- RNV ----------------------------------------------------------------------------------------------------


def test_rnv_matches_hand_computed_values() -> None:
    # Row 0: 25th percentile of 1..5 is 2; values <= 2 are {1, 2}, std 0.5.
    # Row 1: sorted 0, 2, 4, 8, 10 -> 25th percentile 2; values <= 2 are {0, 2}, std 1.
    X = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 0.0, 4.0, 2.0, 8.0]])
    expected = np.array([[-2.0, 0.0, 2.0, 4.0, 6.0], [8.0, -2.0, 2.0, 0.0, 6.0]])
    np.testing.assert_allclose(RNV().fit_transform(X), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("percentile", [10.0, 25.0, 50.0, 90.0])
def test_rnv_equals_a_per_row_reference(spectra: np.ndarray, percentile: float) -> None:
    expected = np.empty_like(spectra)
    for i, x in enumerate(spectra):
        q = np.percentile(x, percentile)
        expected[i] = (x - q) / np.std(x[x <= q])
    np.testing.assert_allclose(RNV(percentile=percentile).fit_transform(spectra), expected, rtol=1e-12, atol=1e-12)


def test_rnv_only_centres_when_the_values_below_the_percentile_are_equal() -> None:
    X = np.array([[3.0, 3.0, 3.0, 3.0], [1.0, 1.0, 1.0, 9.0]])
    out = RNV(percentile=50).fit_transform(X)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 8.0]])


def test_rnv_ignores_the_size_of_peaks_above_the_percentile() -> None:
    x = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 50.0]])
    bigger_peak = x.copy()
    bigger_peak[0, -1] = 500.0
    out, out_bigger = RNV().fit_transform(x), RNV().fit_transform(bigger_peak)
    np.testing.assert_allclose(out[0, :-1], out_bigger[0, :-1], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(X=_matrices(), percentile=st.sampled_from([5.0, 25.0, 50.0, 75.0]))
def test_rnv_values_below_the_percentile_have_unit_std(X: np.ndarray, percentile: float) -> None:
    out = RNV(percentile=percentile).fit_transform(X)
    for x, y in zip(X, out, strict=True):
        q = np.percentile(x, percentile)
        below = y[x <= q]
        np.testing.assert_array_less(below, 1e-12)  # the percentile maps to 0 and everything below it stays <= 0
        if np.ptp(x[x <= q]) > 0:
            assert np.std(below) == pytest.approx(1.0, rel=1e-10)
        else:  # no spread below the percentile: centred only
            np.testing.assert_allclose(y, x - q, atol=1e-12)


# --- area, vector, max --------------------------------------------------------------------------------------


def test_area_vector_and_max_normalise_match_hand_computed_values() -> None:
    X = np.array([[3.0, -4.0, 0.0, 1.0]])
    np.testing.assert_allclose(AreaNormalise().fit_transform(X), [[3 / 8, -4 / 8, 0.0, 1 / 8]], atol=1e-15)
    norm = np.sqrt(26.0)
    np.testing.assert_allclose(VectorNormalise().fit_transform(X), [[3 / norm, -4 / norm, 0.0, 1 / norm]],
                               atol=1e-15)
    np.testing.assert_allclose(MaxNormalise().fit_transform(X), [[0.75, -1.0, 0.0, 0.25]], atol=1e-15)


@pytest.mark.parametrize("cls", [AreaNormalise, VectorNormalise, MaxNormalise])
def test_an_all_zero_row_is_left_unchanged(cls: type) -> None:
    X = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    out = cls().fit_transform(X)
    np.testing.assert_array_equal(out[0], [0.0, 0.0, 0.0])
    assert np.isfinite(out).all()


@settings(max_examples=40, deadline=None)
@given(X=_matrices())
def test_normalised_rows_have_unit_l2_norm_unit_area_and_unit_max(X: np.ndarray) -> None:
    nonzero = np.abs(X).max(axis=1) > 0
    np.testing.assert_allclose(np.linalg.norm(VectorNormalise().fit_transform(X)[nonzero], axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.abs(AreaNormalise().fit_transform(X)[nonzero]).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.abs(MaxNormalise().fit_transform(X)[nonzero]).max(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("cls", [VectorNormalise, AreaNormalise, MaxNormalise])
def test_row_normalisations_are_invariant_to_a_positive_scale(spectra: np.ndarray, cls: type) -> None:
    np.testing.assert_allclose(cls().fit_transform(3.7 * spectra), cls().fit_transform(spectra), atol=1e-12)


# --- stateless row-wise: commutes with row selection ---------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(X=_matrices(), data=st.data())
def test_row_wise_normalisations_commute_with_row_selection(X: np.ndarray, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.integers(0, X.shape[0] - 1), min_size=1, max_size=6))
    for estimator in (RNV(), AreaNormalise(), VectorNormalise(), MaxNormalise()):
        # Unfitted transform on purpose: stateless operators need no fit.
        np.testing.assert_allclose(estimator.transform(X)[rows], estimator.transform(X[rows]), rtol=1e-12,
                                   atol=1e-12)


# --- MeanCentre / Autoscale ---------------------------------------------------------------------------------


def test_mean_centre_subtracts_the_column_means_of_the_fit_rows() -> None:
    train = np.array([[1.0, 10.0], [3.0, 20.0]])
    model = MeanCentre().fit(train)
    np.testing.assert_array_equal(model.mean_, [2.0, 15.0])
    np.testing.assert_array_equal(model.transform(np.array([[0.0, 0.0], [2.0, 15.0]])), [[-2.0, -15.0], [0.0, 0.0]])


def test_autoscale_matches_hand_computed_values() -> None:
    # Column 0: mean 2, sample std 1; column 1: mean 20, sample std 10; column 2 is constant (scale 1).
    train = np.array([[1.0, 10.0, 5.0], [2.0, 20.0, 5.0], [3.0, 30.0, 5.0]])
    model = Autoscale().fit(train)
    np.testing.assert_allclose(model.mean_, [2.0, 20.0, 5.0], atol=1e-15)
    np.testing.assert_allclose(model.scale_, [1.0, 10.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(model.transform(np.array([[4.0, 0.0, 7.0]])), [[2.0, -2.0, 2.0]], atol=1e-15)


def test_autoscaled_training_columns_have_zero_mean_and_unit_sample_std(spectra: np.ndarray) -> None:
    out = Autoscale().fit_transform(spectra)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0, ddof=1), 1.0, rtol=1e-12)


def test_autoscale_refuses_a_single_fit_row() -> None:
    with pytest.raises(ValueError, match="1 sample"):
        Autoscale().fit(np.array([[1.0, 2.0, 3.0]]))


@pytest.mark.parametrize("cls", [MeanCentre, Autoscale])
def test_fitted_normalisations_use_only_the_fit_rows(spectra: np.ndarray, cls: type) -> None:
    changed = spectra.copy()
    changed[5:] = changed[5:] * 4.0 + 2.0
    np.testing.assert_array_equal(cls().fit(spectra[:5]).transform(spectra), cls().fit(changed[:5]).transform(spectra))
    assert not np.allclose(cls().fit(spectra[:5]).transform(spectra), cls().fit(spectra[5:]).transform(spectra))


@pytest.mark.parametrize("cls", [MeanCentre, Autoscale])
def test_fitted_normalisations_refuse_transform_before_fit(spectra: np.ndarray, cls: type) -> None:
    with pytest.raises(NotFittedError):
        cls().transform(spectra)


# --- parameters, traits, scikit-learn API ---------------------------------------------------------------------


@pytest.mark.parametrize("percentile", [-1.0, 100.5, float("nan"), "25", True, None])
def test_bad_rnv_percentile_raises_value_error_naming_it_at_fit(spectra: np.ndarray, percentile: object) -> None:
    estimator = RNV(percentile=percentile)  # construction never validates (sklearn convention)
    with pytest.raises(ValueError, match="percentile"):
        estimator.fit(spectra)


@pytest.mark.parametrize(
    ("cls", "stateless"),
    [(RNV, True), (AreaNormalise, True), (VectorNormalise, True), (MaxNormalise, True), (MeanCentre, False),
     (Autoscale, False)],
)
def test_traits_declare_which_normalisations_are_row_wise_stateless(cls: type, stateless: bool) -> None:
    assert cls.traits.row_wise_stateless is stateless
    assert not (cls.traits.wavelength_aware or cls.traits.changes_axis or cls.traits.y_aware)


@parametrize_with_checks([RNV(), AreaNormalise(), VectorNormalise(), MaxNormalise(), MeanCentre(), Autoscale()])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
