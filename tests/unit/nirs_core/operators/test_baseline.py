"""Unit tests of the penalised least-squares baselines (ASLS, airPLS): penalty, dense references, peak recovery, API."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators.baseline import ASLS, AirPLS, second_difference_penalty


def _dense_penalty(n: int) -> np.ndarray:
    diff2 = np.diff(np.eye(n), n=2, axis=0)
    return diff2.T @ diff2


def _asls_dense(x: np.ndarray, lam: float, p: float, n_iter: int) -> np.ndarray:
    """Eilers & Boelens' algorithm with dense matrices and no early stop: returns the baseline."""
    penalty = lam * _dense_penalty(x.size)
    w = np.ones_like(x)
    for _ in range(n_iter):
        z = np.linalg.solve(np.diag(w) + penalty, w * x)
        w = np.where(x > z, p, 1 - p)
    return z


def _airpls_dense(x: np.ndarray, lam: float, n_iter: int, tol: float) -> np.ndarray:
    """Zhang et al.'s algorithm with dense matrices: returns the baseline."""
    penalty = lam * _dense_penalty(x.size)
    w = np.ones_like(x)
    for t in range(1, n_iter + 1):
        z = np.linalg.solve(np.diag(w) + penalty, w * x)
        d = x - z
        total_negative = np.abs(d[d < 0]).sum()
        if total_negative <= tol * np.abs(x).sum():
            break
        w = np.zeros_like(x)
        w[d < 0] = np.exp(t * np.abs(d[d < 0]) / total_negative)
        w[0] = w[-1] = np.exp(t * np.abs(d[d < 0]).max() / total_negative)
    return z


def _peak_on_a_curved_baseline(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.linspace(-1.0, 1.0, n)
    peak = 2.0 * np.exp(-0.5 * ((t - 0.1) / 0.04) ** 2)
    baseline = 1.0 + 0.5 * t - 0.8 * t**2
    return t, peak, baseline


@pytest.fixture
def spectra() -> np.ndarray:
    rng = np.random.default_rng(9)
    t, peak, baseline = _peak_on_a_curved_baseline(120)
    tilt = rng.uniform(-0.5, 0.5, (6, 1)) * t
    return baseline + tilt + rng.uniform(0.5, 1.5, (6, 1)) * peak + 0.01 * rng.standard_normal((6, 120))


# --- penalty ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9])
def test_penalty_bands_are_the_upper_bands_of_dense_second_difference_penalty(n: int) -> None:
    bands = second_difference_penalty(n)
    dense = _dense_penalty(n) if n >= 3 else np.zeros((n, n))
    np.testing.assert_array_equal(bands[2], np.diag(dense))
    np.testing.assert_array_equal(bands[1, 1:], np.diag(dense, 1))
    np.testing.assert_array_equal(bands[0, 2:], np.diag(dense, 2))
    np.testing.assert_array_equal(bands[1, :1], 0.0)
    np.testing.assert_array_equal(bands[0, :2], 0.0)


def test_penalty_is_built_once_per_width_and_read_only() -> None:
    assert second_difference_penalty(57) is second_difference_penalty(57)
    with pytest.raises(ValueError, match="read-only"):
        second_difference_penalty(57)[2, 0] = 1.0


# --- ASLS ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "p", "n_iter"), [(1e5, 0.01, 10), (1e3, 0.05, 3), (1e7, 0.001, 20)])
def test_asls_equals_a_dense_reference(spectra: np.ndarray, lam: float, p: float, n_iter: int) -> None:
    out = ASLS(lam=lam, p=p, n_iter=n_iter).fit_transform(spectra)
    expected = np.stack([x - _asls_dense(x, lam, p, n_iter) for x in spectra])
    # W + lam D'D has a condition number up to ~1e11 at lam=1e7: two solvers agree to ~1e-8, not to 1e-15.
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_asls_recovers_a_peak_on_a_quadratic_baseline() -> None:
    # Tolerance: 5% of the peak height anywhere, 2.5% at the apex (measured: 0.047 and 0.025 of a height of 2).
    _, peak, baseline = _peak_on_a_curved_baseline()
    out = ASLS().fit_transform((baseline + peak)[None, :])[0]
    assert np.abs(out - peak).max() <= 0.1
    assert out[np.argmax(peak)] == pytest.approx(2.0, abs=0.05)


def test_asls_removes_a_straight_line_exactly() -> None:
    line = (0.3 + 0.01 * np.arange(50.0))[None, :]
    # A line is in the null space of the penalty; the residual is rounding amplified by the conditioning (~1e-9).
    np.testing.assert_allclose(ASLS().fit_transform(line), 0.0, atol=1e-7)


def test_asls_baseline_lies_under_the_peaks(spectra: np.ndarray) -> None:
    # With small p the baseline hugs the lower envelope: corrected spectra are almost nowhere negative.
    out = ASLS(p=0.001).fit_transform(spectra)
    assert (out > -0.05).mean() > 0.95


# --- airPLS -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lam", "n_iter", "tol"), [(1e5, 15, 1e-3), (1e3, 5, 1e-2), (1e6, 30, 0.0)])
def test_airpls_equals_a_dense_reference(spectra: np.ndarray, lam: float, n_iter: int, tol: float) -> None:
    out = AirPLS(lam=lam, n_iter=n_iter, tol=tol).fit_transform(spectra)
    expected = np.stack([x - _airpls_dense(x, lam, n_iter, tol) for x in spectra])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-7)


def test_airpls_recovers_a_peak_on_a_quadratic_baseline() -> None:
    # Tolerance: 5% of the peak height anywhere, 1% at the apex (measured: 0.055 and 0.009 of a height of 2).
    _, peak, baseline = _peak_on_a_curved_baseline()
    out = AirPLS().fit_transform((baseline + peak)[None, :])[0]
    assert np.abs(out - peak).max() <= 0.1
    assert out[np.argmax(peak)] == pytest.approx(2.0, abs=0.02)


def test_airpls_leaves_a_zero_row_at_zero() -> None:
    np.testing.assert_array_equal(AirPLS().fit_transform(np.zeros((1, 20))), 0.0)


# --- parameters, stateless row-wise, traits, scikit-learn API ---------------------------------------------------


@pytest.mark.parametrize(
    ("estimator", "bad"),
    [
        (ASLS(lam=0.0), "lam"),
        (ASLS(lam=-1.0), "lam"),
        (ASLS(lam=float("inf")), "lam"),
        (ASLS(p=0.0), "p must"),
        (ASLS(p=1.0), "p must"),
        (ASLS(p="0.1"), "p must"),
        (ASLS(n_iter=0), "n_iter"),
        (ASLS(n_iter=2.5), "n_iter"),
        (AirPLS(lam=0.0), "lam"),
        (AirPLS(n_iter=0), "n_iter"),
        (AirPLS(n_iter=701), "n_iter"),
        (AirPLS(tol=-1e-3), "tol"),
        (AirPLS(tol=float("nan")), "tol"),
    ],
)
def test_bad_baseline_params_raise_value_error_naming_them_at_fit(spectra: np.ndarray, estimator, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        estimator.fit(spectra)


@settings(max_examples=20, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(3, 30)), elements=st.floats(-100, 100)),
    data=st.data(),
)
def test_baselines_commute_with_row_selection(X: np.ndarray, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.integers(0, X.shape[0] - 1), min_size=1, max_size=6))
    for estimator in (ASLS(lam=1e3), AirPLS(lam=1e3)):
        np.testing.assert_array_equal(estimator.transform(X)[rows], estimator.transform(X[rows]))


@pytest.mark.parametrize("cls", [ASLS, AirPLS])
def test_baselines_are_row_wise_stateless(cls: type) -> None:
    assert cls.traits.row_wise_stateless is True
    assert not (cls.traits.wavelength_aware or cls.traits.changes_axis or cls.traits.y_aware)


@parametrize_with_checks([ASLS(), AirPLS()])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
