"""Unit tests of the gap-segment derivative, finite differences and Gaussian smoothing: formulas, edges, API."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators.smoothing import FiniteDifference, GapSegmentDerivative, GaussianSmooth


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 1.0, 60)
    peak = np.exp(-((t - 0.5) ** 2) / 0.01)
    return rng.uniform(-1, 1, (8, 1)) + rng.uniform(0.5, 2, (8, 1)) * peak + 0.05 * rng.standard_normal((8, 60))


# --- gap-segment derivative ---------------------------------------------------------------------------------


def _gap_segment_reference(X: np.ndarray, order: int, segment: int, gap: int) -> np.ndarray:
    """Independent loop implementation of the docstring definition, edges replicated from the nearest value."""
    s, d = segment, segment + gap
    n = X.shape[1]

    def seg_mean(x: np.ndarray, centre: float) -> float:
        start = int(centre) - (s - 1) // 2
        return float(x[start : start + s].mean())

    half = (2 * s + gap - 1) // 2 if order == 1 else (3 * s + 2 * gap - 1) // 2
    out = np.empty_like(X)
    for r, x in enumerate(X):
        values = {}
        for i in range(half, n - half):
            if order == 1:
                values[i] = (seg_mean(x, i + d / 2) - seg_mean(x, i - d / 2)) / d
            else:
                values[i] = (seg_mean(x, i + d) - 2 * seg_mean(x, i) + seg_mean(x, i - d)) / d**2
        for i in range(n):
            out[r, i] = values[min(max(i, half), n - 1 - half)]
    return out


def test_gap_derivative_matches_hand_computed_values() -> None:
    # x = i^2, segment 1, gap 1: D1[i] = (x[i+1] - x[i-1]) / 2 = 2i inside; the ends repeat their neighbours.
    x = np.arange(7.0)[None, :] ** 2
    out = GapSegmentDerivative(order=1, segment=1, gap=1).fit_transform(x)
    np.testing.assert_allclose(out, [[2.0, 2.0, 4.0, 6.0, 8.0, 10.0, 10.0]], atol=1e-12)
    # Segment 3, gap 1 on x = i^3, column 3: right segment mean of 4^3..6^3 = 405/3, left of 0..2^3 = 9/3, d = 4.
    cubic = np.arange(8.0)[None, :] ** 3
    out = GapSegmentDerivative(order=1, segment=3, gap=1).fit_transform(cubic)
    assert out[0, 3] == pytest.approx((405.0 / 3 - 9.0 / 3) / 4, abs=1e-12)


@pytest.mark.parametrize(
    ("order", "segment", "gap"), [(1, 1, 1), (1, 3, 1), (1, 5, 5), (2, 1, 1), (2, 3, 5), (2, 5, 3)]
)
def test_gap_derivative_equals_the_loop_reference(spectra: np.ndarray, order: int, segment: int, gap: int) -> None:
    out = GapSegmentDerivative(order=order, segment=segment, gap=gap).fit_transform(spectra)
    np.testing.assert_allclose(out, _gap_segment_reference(spectra, order, segment, gap), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("segment", "gap"), [(1, 1), (3, 5), (7, 3)])
def test_gap_derivative_is_exact_per_column_on_lines_and_parabolas(segment: int, gap: int) -> None:
    i = np.arange(40.0)
    line, parabola = (2.5 * i - 3.0)[None, :], (0.75 * i**2 + i)[None, :]
    np.testing.assert_allclose(GapSegmentDerivative(1, segment, gap).fit_transform(line), 2.5, atol=1e-10)
    np.testing.assert_allclose(GapSegmentDerivative(2, segment, gap).fit_transform(parabola), 1.5, atol=1e-10)


def test_gap_derivative_keeps_the_width_and_replicates_edge_values(spectra: np.ndarray) -> None:
    out = GapSegmentDerivative(order=2, segment=3, gap=3).fit_transform(spectra)  # window 15: half-width 7
    assert out.shape == spectra.shape
    np.testing.assert_array_equal(out[:, :7], np.repeat(out[:, [7]], 7, axis=1))
    np.testing.assert_array_equal(out[:, -7:], np.repeat(out[:, [-8]], 7, axis=1))


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"order": 3}, "order"),
        ({"order": 0}, "order"),
        ({"order": 1.0}, "order"),
        ({"segment": 2}, "segment"),
        ({"segment": 0}, "segment"),
        ({"gap": 4}, "gap"),
        ({"gap": 0}, "gap"),
        ({"gap": 1.0}, "gap"),
        ({"order": 2, "segment": 21, "gap": 1}, "segment=21 and gap=1"),  # window 65 > 60 columns
    ],
)
def test_bad_gap_derivative_params_raise_value_error_naming_them_at_fit(
    spectra: np.ndarray, params: dict, bad: str
) -> None:
    estimator = GapSegmentDerivative(**params)  # construction never validates (sklearn convention)
    with pytest.raises(ValueError, match=bad):
        estimator.fit(spectra)


# --- finite differences -------------------------------------------------------------------------------------


def test_finite_difference_matches_hand_computed_values() -> None:
    x = np.array([[0.0, 1.0, 4.0, 9.0, 16.0, 25.0]])
    np.testing.assert_allclose(FiniteDifference(order=1).fit_transform(x), [[1.0, 2.0, 4.0, 6.0, 8.0, 9.0]])
    # Second pass over [1, 2, 4, 6, 8, 9]: [1, 1.5, 2, 2, 1.5, 1]; exact 2 two columns away from the ends.
    np.testing.assert_allclose(FiniteDifference(order=2).fit_transform(x), [[1.0, 1.5, 2.0, 2.0, 1.5, 1.0]])


@pytest.mark.parametrize("order", [1, 2])
def test_finite_difference_equals_numpy_gradient(spectra: np.ndarray, order: int) -> None:
    expected = np.gradient(spectra, axis=1)
    if order == 2:
        expected = np.gradient(expected, axis=1)
    np.testing.assert_array_equal(FiniteDifference(order=order).fit_transform(spectra), expected)


@pytest.mark.parametrize("order", [0, 3, "1", 1.0])
def test_bad_finite_difference_order_raises_value_error_naming_it(spectra: np.ndarray, order: object) -> None:
    with pytest.raises(ValueError, match="order"):
        FiniteDifference(order=order).fit(spectra)


def test_finite_difference_refuses_a_single_column() -> None:
    with pytest.raises(ValueError, match="n_features=1"):
        FiniteDifference().fit(np.ones((3, 1)))


# --- Gaussian smoothing -------------------------------------------------------------------------------------


def _gaussian_reference(X: np.ndarray, sigma: float) -> np.ndarray:
    """Independent numpy implementation: explicit normalised kernel, symmetric (half-sample) padding."""
    radius = int(4.0 * sigma + 0.5)
    k = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(X, ((0, 0), (radius, radius)), mode="symmetric")
    return np.stack([np.convolve(row, kernel, mode="valid") for row in padded])


@pytest.mark.parametrize("sigma", [0.7, 1.0, 2.5])
def test_gaussian_smooth_equals_an_explicit_kernel(spectra: np.ndarray, sigma: float) -> None:
    out = GaussianSmooth(sigma=sigma).fit_transform(spectra)
    np.testing.assert_allclose(out, _gaussian_reference(spectra, sigma), rtol=0, atol=1e-12)


def test_gaussian_smooth_leaves_a_constant_row_unchanged_and_reduces_noise(spectra: np.ndarray) -> None:
    np.testing.assert_allclose(GaussianSmooth(sigma=3.0).fit_transform(np.full((2, 25), 4.2)), 4.2, atol=1e-12)
    noise = np.random.default_rng(0).standard_normal((5, 200))
    assert GaussianSmooth(sigma=3.0).fit_transform(noise).std() < 0.5 * noise.std()


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("inf"), float("nan"), "2", True])
def test_bad_sigma_raises_value_error_naming_it_at_fit(spectra: np.ndarray, sigma: object) -> None:
    with pytest.raises(ValueError, match="sigma"):
        GaussianSmooth(sigma=sigma).fit(spectra)


# --- stateless row-wise -------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(15, 40)), elements=st.floats(-100, 100)),
    data=st.data(),
)
def test_smoothing_filters_commute_with_row_selection(X: np.ndarray, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.integers(0, X.shape[0] - 1), min_size=1, max_size=6))
    for estimator in (GapSegmentDerivative(order=2, segment=3, gap=1), FiniteDifference(order=2),
                      GaussianSmooth(sigma=1.5)):
        np.testing.assert_allclose(estimator.transform(X)[rows], estimator.transform(X[rows]), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize("cls", [GapSegmentDerivative, FiniteDifference, GaussianSmooth])
def test_smoothing_filters_are_row_wise_stateless(cls: type) -> None:
    assert cls.traits.row_wise_stateless is True
    assert not (cls.traits.wavelength_aware or cls.traits.changes_axis or cls.traits.y_aware)


# --- scikit-learn API conformance ---------------------------------------------------------------------------

_GAP_TOO_FEW_FEATURES = (
    "these checks use 2-column data, narrower than the smallest gap-segment window (3 columns: segment=1, gap=1); "
    "a window wider than the spectrum is refused at fit by design"
)


def _expected_failed_checks(estimator) -> dict[str, str]:
    if isinstance(estimator, GapSegmentDerivative):
        return dict.fromkeys(
            [
                "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
                "check_readonly_memmap_input", "check_fit_idempotent", "check_fit_check_is_fitted",
                "check_n_features_in",
            ],
            _GAP_TOO_FEW_FEATURES,
        )
    return {}


@parametrize_with_checks(
    [GapSegmentDerivative(order=1, segment=1, gap=1), FiniteDifference(), FiniteDifference(order=2),
     GaussianSmooth()],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
