"""Unit tests of the wavelength-aware transforms (Crop, MaskBands, Resample): axis mapping, errors, sklearn API."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators.wavelength import Crop, MaskBands, Resample

AXIS = np.arange(1000.0, 1101.0, 10.0)  # 1000, 1010, ..., 1100: 11 columns


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.normal(size=(6, AXIS.size))


# --- Crop ---------------------------------------------------------------------------------------------------


def test_crop_keeps_the_inclusive_range_on_an_ascending_axis(spectra: np.ndarray) -> None:
    crop = Crop(1020.0, 1050.0, wavelengths=AXIS).fit(spectra)
    np.testing.assert_array_equal(crop.transform(spectra), spectra[:, 2:6])
    np.testing.assert_array_equal(crop.wavelengths_out_, [1020.0, 1030.0, 1040.0, 1050.0])


def test_crop_keeps_the_range_in_input_order_on_a_descending_axis(spectra: np.ndarray) -> None:
    descending = AXIS[::-1]
    crop = Crop(1020.0, 1050.0, wavelengths=descending).fit(spectra)
    np.testing.assert_array_equal(crop.transform(spectra), spectra[:, 5:9])
    np.testing.assert_array_equal(crop.wavelengths_out_, [1050.0, 1040.0, 1030.0, 1020.0])


def test_crop_partly_outside_the_axis_keeps_the_overlap(spectra: np.ndarray) -> None:
    crop = Crop(900.0, 1015.0, wavelengths=AXIS).fit(spectra)
    np.testing.assert_array_equal(crop.wavelengths_out_, [1000.0, 1010.0])
    np.testing.assert_array_equal(crop.transform(spectra), spectra[:, :2])


@pytest.mark.parametrize(
    ("start", "stop", "message"),
    [
        (1200.0, 1300.0, r"start=1200, stop=1300 lies outside the wavelength axis \[1000, 1100\]"),
        (500.0, 900.0, r"lies outside the wavelength axis \[1000, 1100\]"),
        (1001.0, 1009.0, r"falls between the columns of the wavelength axis \[1000, 1100\] and selects no column"),
        (1050.0, 1020.0, "start=1050 must be <= stop=1020"),
        ("low", 1020.0, "start must be a number"),
        (1000.0, float("nan"), "stop must be a number"),
    ],
)
def test_bad_crop_range_raises_value_error_at_fit(spectra: np.ndarray, start, stop, message: str) -> None:
    crop = Crop(start, stop, wavelengths=AXIS)  # construction never validates (sklearn convention)
    with pytest.raises(ValueError, match=message):
        crop.fit(spectra)


@pytest.mark.parametrize(
    ("wavelengths", "message"),
    [
        (None, "wavelengths is required"),
        (AXIS[:-1], "wavelengths has 10 values for 11 input columns"),
        (np.r_[AXIS[:5], AXIS[4:-1]], "strictly monotonic"),
    ],
)
def test_bad_wavelengths_raise_value_error_at_fit(spectra: np.ndarray, wavelengths, message: str) -> None:
    for estimator in (Crop(1000.0, 1050.0), MaskBands([(1000.0, 1010.0)]), Resample([1000.0, 1050.0])):
        estimator.set_params(wavelengths=wavelengths)
        with pytest.raises(ValueError, match=message):
            estimator.fit(spectra)


# --- MaskBands ----------------------------------------------------------------------------------------------


def test_mask_bands_drops_the_columns_inside_each_inclusive_band(spectra: np.ndarray) -> None:
    mask = MaskBands([(1010.0, 1030.0), (1075.0, 1200.0)], wavelengths=AXIS).fit(spectra)
    kept = [0, 4, 5, 6, 7]
    np.testing.assert_array_equal(mask.transform(spectra), spectra[:, kept])
    np.testing.assert_array_equal(mask.wavelengths_out_, AXIS[kept])


def test_mask_bands_works_on_a_descending_axis(spectra: np.ndarray) -> None:
    descending = AXIS[::-1]
    mask = MaskBands([(1010.0, 1030.0)], wavelengths=descending).fit(spectra)
    kept = [i for i, w in enumerate(descending) if not 1010.0 <= w <= 1030.0]
    np.testing.assert_array_equal(mask.transform(spectra), spectra[:, kept])
    np.testing.assert_array_equal(mask.wavelengths_out_, descending[kept])


def test_mask_bands_with_no_band_or_bands_off_the_axis_keeps_every_column(spectra: np.ndarray) -> None:
    for bands in ([], [(1200.0, 1300.0)], [(-np.inf, 999.0)]):
        np.testing.assert_array_equal(MaskBands(bands, wavelengths=AXIS).fit_transform(spectra), spectra)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(1030.0, 1010.0)], r"bands must have lo <= hi, got \[\[1030.0, 1010.0\]\]"),
        ([(1000.0, 1010.0, 1020.0)], "bands must be a sequence of"),
        ([1000.0, 1010.0], "bands must be a sequence of"),
        ([(900.0, 1050.0), (1050.0, 1200.0)], r"drop every column of the axis \[1000, 1100\]"),
        ("water", "bands must be a sequence of"),
    ],
)
def test_bad_mask_bands_raise_value_error_at_fit(spectra: np.ndarray, bands, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaskBands(bands, wavelengths=AXIS).fit(spectra)


# --- Resample -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("input_order", [1, -1])
@pytest.mark.parametrize("output_order", [1, -1])
def test_linear_resample_equals_np_interp_on_each_row(spectra: np.ndarray, input_order: int, output_order: int) -> None:
    axis = AXIS[::input_order]
    new = np.array([1000.0, 1003.5, 1010.0, 1047.25, 1099.0, 1100.0])[::output_order]
    out = Resample(new, wavelengths=axis).fit(spectra).transform(spectra)
    ascending = np.argsort(axis)
    expected = np.vstack([np.interp(new, axis[ascending], row[ascending]) for row in spectra])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_linear_resample_returns_the_input_columns_at_the_input_wavelengths(spectra: np.ndarray) -> None:
    out = Resample(AXIS[[10, 3, 0]], wavelengths=AXIS).fit_transform(spectra)
    np.testing.assert_array_equal(out, spectra[:, [10, 3, 0]])


@pytest.mark.parametrize("input_order", [1, -1])
def test_cubic_resample_reproduces_a_cubic_polynomial_on_an_uneven_axis(input_order: int) -> None:
    # A not-a-knot cubic spline is exact for cubic polynomials, whatever the knot spacing.
    axis = np.array([1.0, 1.3, 2.0, 2.2, 3.1, 4.0, 4.4, 5.0])[::input_order]
    coefficients = np.array([[0.5, -2.0, 1.0, 3.0], [-1.0, 0.0, 2.0, -4.0]])
    new = np.linspace(1.0, 5.0, 17)[::-1]
    out = Resample(new, wavelengths=axis, kind="cubic").fit_transform(
        np.vstack([np.polyval(c, axis) for c in coefficients])
    )
    np.testing.assert_allclose(out, np.vstack([np.polyval(c, new) for c in coefficients]), rtol=0, atol=1e-10)


def test_linear_resample_reproduces_a_straight_line_but_not_a_parabola() -> None:
    axis = np.array([0.0, 0.5, 2.0, 3.0])
    new = np.array([0.25, 1.0, 2.5])
    line = Resample(new, wavelengths=axis).fit_transform((2.0 - 3.0 * axis)[None, :])
    np.testing.assert_allclose(line[0], 2.0 - 3.0 * new, atol=1e-12)
    parabola = Resample(new, wavelengths=axis).fit_transform((axis**2)[None, :])
    assert np.abs(parabola[0] - new**2).max() > 0.1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"new_wavelengths": [990.0, 1000.0, 1100.5]},
            r"new_wavelengths \[990.0, 1100.5\] lie outside .*\[1000, 1100\]",
        ),
        ({"new_wavelengths": [1000.0, 1050.0], "kind": "quadratic"}, "kind must be 'linear' or 'cubic'"),
        ({"new_wavelengths": [1000.0, 1050.0, 1020.0]}, "new_wavelengths must be strictly monotonic"),
        ({"new_wavelengths": []}, "new_wavelengths must be a non-empty 1D array"),
        ({"new_wavelengths": [[1000.0, 1050.0]]}, "new_wavelengths must be a non-empty 1D array"),
        ({"new_wavelengths": [1000.0, np.nan]}, "new_wavelengths must be a non-empty 1D array of finite values"),
    ],
)
def test_bad_resample_params_raise_value_error_at_fit(spectra: np.ndarray, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Resample(wavelengths=AXIS, **params).fit(spectra)


# --- shared behaviour ---------------------------------------------------------------------------------------


def _estimators() -> list:
    return [
        Crop(1020.0, 1080.0, wavelengths=AXIS),
        MaskBands([(1030.0, 1050.0)], wavelengths=AXIS),
        Resample(np.linspace(1001.0, 1099.0, 7), wavelengths=AXIS),
        Resample(np.linspace(1001.0, 1099.0, 7), wavelengths=AXIS, kind="cubic"),
    ]


@pytest.mark.parametrize("estimator", _estimators(), ids=repr)
def test_output_width_matches_wavelengths_out(spectra: np.ndarray, estimator) -> None:
    out = estimator.fit_transform(spectra)
    assert out.shape == (spectra.shape[0], estimator.wavelengths_out_.size)


@pytest.mark.parametrize("estimator", _estimators(), ids=repr)
def test_each_output_row_depends_only_on_its_input_row(spectra: np.ndarray, estimator) -> None:
    # What the row_wise_stateless trait promises: fitting/transforming any subset gives the same rows.
    full = estimator.fit(spectra).transform(spectra)
    np.testing.assert_allclose(estimator.fit(spectra[2:4]).transform(spectra[2:4]), full[2:4], rtol=0, atol=1e-12)


@pytest.mark.parametrize("estimator", _estimators(), ids=repr)
def test_transform_before_fit_raises_not_fitted(spectra: np.ndarray, estimator) -> None:
    with pytest.raises(NotFittedError):
        estimator.transform(spectra)


@pytest.mark.parametrize("cls", [Crop, MaskBands, Resample])
def test_traits_declare_a_wavelength_aware_axis_change(cls: type) -> None:
    assert cls.traits.wavelength_aware and cls.traits.changes_axis
    assert cls.traits.row_wise_stateless and not cls.traits.y_aware


def test_axis_of_one_step_feeds_the_next_step(spectra: np.ndarray) -> None:
    # The engine wires wavelengths_out_ of a step into the wavelengths of the next one.
    crop = Crop(1010.0, 1090.0, wavelengths=AXIS).fit(spectra)
    new = np.array([1015.0, 1045.0, 1085.0])
    pipeline = make_pipeline(Crop(1010.0, 1090.0, wavelengths=AXIS), Resample(new, wavelengths=crop.wavelengths_out_))
    expected = np.vstack([np.interp(new, AXIS, row) for row in spectra])
    np.testing.assert_allclose(pipeline.fit_transform(spectra), expected, rtol=0, atol=1e-12)


# --- scikit-learn API conformance ---------------------------------------------------------------------------
# sklearn's generic checks feed data of 1 to 20+ columns, so no fixed ``wavelengths`` can match them. These
# subclasses change one thing only: with ``wavelengths=None`` the axis is the column index 0, 1, ..., n - 1 (given
# values are still checked by ``check_axis``). Every other line of fit/transform is the code under test.


class _IndexAxis:
    def _input_axis(self, n_features: int) -> np.ndarray:
        if self.wavelengths is None:
            return np.arange(n_features, dtype=np.float64)
        return super()._input_axis(n_features)


class _IndexAxisCrop(_IndexAxis, Crop):
    pass


class _IndexAxisMaskBands(_IndexAxis, MaskBands):
    pass


class _IndexAxisResample(_IndexAxis, Resample):
    pass


@parametrize_with_checks(
    [
        _IndexAxisCrop(0.0, 2.0),
        _IndexAxisMaskBands([(0.5, 1.5)]),
        _IndexAxisResample([0.0]),  # the only point inside every axis, including the 1-column one
        _IndexAxisResample([0.0], kind="cubic"),
    ],
    expected_failed_checks=lambda estimator: (
        {"check_fit2d_1feature": "a cubic spline needs 2 input wavelengths; refused at fit by design"}
        if getattr(estimator, "kind", None) == "cubic"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)


def test_index_axis_subclass_still_validates_given_wavelengths(spectra: np.ndarray) -> None:
    with pytest.raises(ValueError, match="wavelengths has 10 values"):
        _IndexAxisCrop(0.0, 2.0, wavelengths=AXIS[:-1]).fit(spectra)
