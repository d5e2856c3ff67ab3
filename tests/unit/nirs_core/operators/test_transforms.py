"""Unit tests of the NIRS transforms (SNV, Savitzky-Golay, Detrend, MSC): formulas, traits, sklearn API checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators import MSC, SNV, Detrend, SavitzkyGolay


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(42)
    t = np.linspace(0.0, 1.0, 40)
    base = np.exp(-((t - 0.5) ** 2) / 0.02)
    scale = rng.uniform(0.5, 2.0, size=(12, 1))
    offset = rng.uniform(-1.0, 1.0, size=(12, 1))
    return offset + scale * base + 0.01 * rng.standard_normal((12, 40))


# --- SNV ----------------------------------------------------------------------------------------------------


def test_snv_equals_row_wise_standardisation(spectra: np.ndarray) -> None:
    expected = (spectra - spectra.mean(axis=1, keepdims=True)) / spectra.std(axis=1, ddof=0, keepdims=True)
    np.testing.assert_allclose(SNV().fit_transform(spectra), expected, rtol=0, atol=1e-12)


def test_snv_rows_have_zero_mean_and_unit_std(spectra: np.ndarray) -> None:
    out = SNV().fit_transform(spectra)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-12)


def test_snv_only_centres_a_flat_spectrum() -> None:
    out = SNV().fit_transform(np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 3.0]]))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[0], [0.0, 0.0, 0.0])


# --- Savitzky-Golay -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("window_length", "polyorder", "deriv"), [(5, 2, 0), (15, 2, 1), (11, 3, 2)])
def test_savgol_equals_scipy_savgol_filter_along_rows(
    spectra: np.ndarray, window_length: int, polyorder: int, deriv: int
) -> None:
    out = SavitzkyGolay(window_length=window_length, polyorder=polyorder, deriv=deriv).fit_transform(spectra)
    expected = savgol_filter(spectra, window_length, polyorder, deriv=deriv, axis=1)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"window_length": 6}, "window_length"),
        ({"window_length": 1, "polyorder": 0}, "window_length"),
        ({"window_length": 5, "polyorder": 5}, "polyorder"),
        ({"window_length": 5, "polyorder": 7}, "polyorder"),
        ({"window_length": 5, "polyorder": 2, "deriv": 3}, "deriv"),
        ({"window_length": 41}, "window_length"),  # wider than the 40 wavelengths
    ],
)
def test_bad_savgol_params_raise_value_error_at_fit(spectra: np.ndarray, params: dict, bad: str) -> None:
    estimator = SavitzkyGolay(**params)  # construction never validates (sklearn convention)
    with pytest.raises(ValueError, match=bad):
        estimator.fit(spectra)


# --- Detrend ------------------------------------------------------------------------------------------------


def test_detrend_order_1_turns_a_straight_line_into_zero() -> None:
    x = np.linspace(850.0, 1050.0, 50)
    lines = np.vstack([0.3 + 0.002 * x, -5.0 - 0.01 * x, np.full_like(x, 7.0)])
    np.testing.assert_allclose(Detrend(order=1).fit_transform(lines), 0.0, atol=1e-10)


def test_detrend_order_1_removes_a_linear_baseline_from_a_signal(spectra: np.ndarray) -> None:
    # A baseline added to every spectrum is removed exactly: detrending is linear in the input.
    baseline = 2.0 + 3.0 * np.linspace(-1.0, 1.0, spectra.shape[1])
    detrend = Detrend(order=1)
    np.testing.assert_allclose(detrend.fit_transform(spectra + baseline), detrend.fit_transform(spectra),
                               atol=1e-10)


def test_detrend_order_2_removes_a_parabola_but_order_1_does_not() -> None:
    t = np.linspace(-1.0, 1.0, 30)
    parabola = (1.0 + 2.0 * t + 4.0 * t**2)[None, :]
    np.testing.assert_allclose(Detrend(order=2).fit_transform(parabola), 0.0, atol=1e-10)
    assert np.abs(Detrend(order=1).fit_transform(parabola)).max() > 0.1


def test_negative_detrend_order_raises_value_error_at_fit(spectra: np.ndarray) -> None:
    with pytest.raises(ValueError, match="order"):
        Detrend(order=-1).fit(spectra)


# --- MSC ----------------------------------------------------------------------------------------------------


def test_msc_reference_is_the_mean_of_the_fit_rows(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra[:7])
    np.testing.assert_allclose(msc.reference_, spectra[:7].mean(axis=0), rtol=0, atol=1e-15)


def test_msc_transform_of_the_reference_returns_the_reference(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra)
    out = msc.transform(msc.reference_[None, :])
    np.testing.assert_allclose(out[0], msc.reference_, atol=1e-12)


def test_msc_undoes_an_affine_scatter_of_the_reference(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra)
    scattered = 0.4 + 1.7 * msc.reference_
    np.testing.assert_allclose(msc.transform(scattered[None, :])[0], msc.reference_, atol=1e-12)


def test_msc_fitted_on_rows_a_ignores_other_rows(spectra: np.ndarray) -> None:
    rows_a = spectra[:6]
    changed = spectra.copy()
    changed[6:] = changed[6:] * 5.0 + 3.0
    first = MSC().fit(rows_a)
    second = MSC().fit(changed[:6])
    np.testing.assert_array_equal(first.reference_, second.reference_)
    # The transform of row 0 depends only on row 0 and the fitted reference.
    np.testing.assert_array_equal(first.transform(spectra[:1]), second.transform(spectra[:1]))


def test_msc_reference_changes_when_fit_rows_change(spectra: np.ndarray) -> None:
    assert not np.allclose(MSC().fit(spectra[:6]).reference_, MSC().fit(spectra[6:]).reference_)


# --- traits -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "stateless"), [(SNV, True), (SavitzkyGolay, True), (Detrend, True), (MSC, False)])
def test_row_wise_stateless_trait(cls: type, stateless: bool) -> None:
    assert cls.traits.row_wise_stateless is stateless


def test_stateless_transforms_give_each_row_independently_of_the_others(spectra: np.ndarray) -> None:
    # What the trait promises the compiler: transforming all rows at once == transforming any subset.
    for estimator in (SNV(), SavitzkyGolay(window_length=7), Detrend()):
        full = estimator.fit(spectra).transform(spectra)
        np.testing.assert_allclose(estimator.fit(spectra[3:5]).transform(spectra[3:5]), full[3:5], atol=1e-12)


# --- scikit-learn API conformance ---------------------------------------------------------------------------

_SAVGOL_TOO_FEW_FEATURES = (
    "sklearn's generic check data have 1-4 features, fewer than window_length=5; a Savitzky-Golay window wider "
    "than the spectrum is refused at fit by design"
)


def _expected_failed_checks(estimator) -> dict[str, str]:
    if isinstance(estimator, SavitzkyGolay):
        return dict.fromkeys(
            [
                "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
                "check_readonly_memmap_input", "check_fit_idempotent",
                "check_fit_check_is_fitted", "check_n_features_in", "check_fit_score_takes_y",
                "check_dont_overwrite_parameters", "check_n_features_in_after_fitting",
                "check_positive_only_tag_during_fit", "check_pipeline_consistency", "check_estimators_nan_inf",
                "check_estimators_pickle", "check_f_contiguous_array_estimator",
                "check_transformer_data_not_an_array", "check_transformer_general",
                "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
                "check_methods_subset_invariance", "check_dict_unchanged", "check_fit2d_predict1d",
            ],
            _SAVGOL_TOO_FEW_FEATURES,
        )
    return {}


@parametrize_with_checks(
    [SNV(), SavitzkyGolay(window_length=5), Detrend(), MSC()], expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
