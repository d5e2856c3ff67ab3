"""Sample filters against an independent computation: T² (Beta limit) and Q (Jackson–Mudholkar limit from the
eigenvalues of the residual covariance) of a PCA by eigendecomposition, the robust z of the MAD, Tukey's fences by
the standard library's quantiles, and leverage from the hat matrix."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from scipy import stats

from nirs_core.operators import Leverage, XOutliers, YOutliers
from nirs_core.operators.filters import FILTER_REASONS


def _pca_eig(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, residual Q and all covariance eigenvalues (descending) of a centred PCA, by eigendecomposition."""
    Xc = X - X.mean(axis=0)
    values, vectors = np.linalg.eigh(Xc.T @ Xc / (X.shape[0] - 1))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    T = Xc @ vectors[:, :k]
    E = Xc - T @ vectors[:, :k].T
    return T, (E**2).sum(axis=1), values


def _limits(X: np.ndarray, k: int, confidence: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    n = X.shape[0]
    T, q, eig = _pca_eig(X, k)
    t2 = (T**2 / T.var(axis=0, ddof=1)).sum(axis=1)
    t2_limit = (n - 1) ** 2 / n * stats.beta.ppf(confidence, k / 2, (n - k - 1) / 2)
    rest = np.clip(eig[k:], 0, None)
    th1, th2, th3 = rest.sum(), (rest**2).sum(), (rest**3).sum()
    h0 = 1 - 2 * th1 * th3 / (3 * th2**2)
    z = stats.norm.ppf(confidence)
    q_limit = th1 * (z * np.sqrt(2 * th2 * h0**2) / th1 + 1 + th2 * h0 * (h0 - 1) / th1**2) ** (1 / h0)
    return t2, q, t2_limit, q_limit


@pytest.fixture(scope="module")
def spectra() -> np.ndarray:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(80, 3)) * [3.0, 1.5, 0.7]
    X = scores @ rng.normal(size=(3, 30)) + 0.05 * rng.normal(size=(80, 30))
    X[5] += 0.8 * np.sin(np.linspace(0, 6, 30))  # off the model plane: a Q outlier
    X[11] = X[11] + 6.0 * (X[11] - X.mean(axis=0))  # far along the plane: a T² outlier
    return X


@pytest.mark.parametrize("stat", ["both", "t2", "q"])
def test_x_outliers_match_t2_and_q_limits_computed_independently(spectra, stat):
    t2, q, t2_limit, q_limit = _limits(spectra, 3, 0.99)
    f = XOutliers(n_components=3, confidence=0.99, stat=stat).fit(spectra)
    assert f.t2_limit_ == pytest.approx(t2_limit, rel=1e-10)
    assert f.q_limit_ == pytest.approx(q_limit, rel=1e-8)
    np.testing.assert_allclose(f.t2_, t2, rtol=1e-8)
    np.testing.assert_allclose(f.q_, q, rtol=1e-8, atol=1e-12)
    over_t2, over_q = t2 > t2_limit, q > q_limit
    expected = {"both": over_t2 | over_q, "t2": over_t2, "q": over_q}[stat]
    np.testing.assert_array_equal(~f.keep_, expected)
    assert {"both": {5, 11}, "t2": {11}, "q": {5}}[stat] <= set(np.flatnonzero(expected).tolist())
    for row in np.flatnonzero(~f.keep_):
        name = FILTER_REASONS[f.reason_[row]]
        value, limit = (t2[row], t2_limit) if name == "t2" else (q[row], q_limit)
        assert f.value_[row] == pytest.approx(value, rel=1e-8) and f.limit_[row] == pytest.approx(limit, rel=1e-8)
        assert f.describe(f.reason_[row], f.value_[row], f.limit_[row], None).startswith(
            f"{'T2' if name == 't2' else 'Q'} {value:.4g} > limit {limit:.4g} at 0.99")
    assert np.all(f.reason_[f.keep_] == -1) and np.all(np.isnan(f.value_[f.keep_]))


def test_a_row_over_both_limits_is_named_by_the_larger_ratio(spectra):
    t2, q, t2_limit, q_limit = _limits(spectra, 3, 0.99)
    f = XOutliers(n_components=3, confidence=0.99).fit(spectra)
    both = np.flatnonzero((t2 > t2_limit) & (q > q_limit))
    for row in both:
        assert FILTER_REASONS[f.reason_[row]] == ("q" if q[row] / q_limit > t2[row] / t2_limit else "t2")
    assert FILTER_REASONS[f.reason_[5]] == "q" and FILTER_REASONS[f.reason_[11]] == "t2"


def test_y_outliers_by_mad_drop_robust_z_above_the_threshold():
    rng = np.random.default_rng(0)
    Y = rng.normal(10, 2, size=(50, 2))
    Y[3, 0], Y[17, 1], Y[40, 0] = 30.0, -5.0, 16.5
    f = YOutliers(method="mad", threshold=3.5).fit(np.zeros((50, 4)), Y)
    dropped = set()
    for j in range(2):
        med = statistics.median(Y[:, j].tolist())
        mad = statistics.median([abs(v - med) for v in Y[:, j].tolist()])
        z = np.abs(Y[:, j] - med) / (1.4826 * mad)
        dropped |= set(np.flatnonzero(z > 3.5).tolist())
        assert f.centre_[j] == pytest.approx(med) and f.scale_[j] == pytest.approx(1.4826 * mad)
    assert set(np.flatnonzero(~f.keep_).tolist()) == dropped and {3, 17} <= dropped
    assert f.target_[17] == 1 and FILTER_REASONS[f.reason_[17]] == "y_mad"
    assert f.describe(f.reason_[3], f.value_[3], f.limit_[3], "fat").startswith("fat robust z ")


def test_y_outliers_by_iqr_drop_values_outside_tukeys_fences():
    y = np.array([10.0, 11, 9, 10.5, 9.5, 10.2, 30.0, 9.8, 10.9, -4.0, 10.1])
    q1, _, q3 = statistics.quantiles(y.tolist(), n=4, method="inclusive")  # linear interpolation, as numpy's
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    f = YOutliers(method="iqr").fit(np.zeros((y.size, 3)), y)
    assert (f.lower_[0], f.upper_[0]) == pytest.approx((low, high))
    np.testing.assert_array_equal(~f.keep_, (y < low) | (y > high))
    assert [FILTER_REASONS[c] for c in f.reason_[[6, 9]]] == ["y_above_fence", "y_below_fence"]
    assert f.describe(f.reason_[9], f.value_[9], f.limit_[9], "fat") == (
        f"fat -4 < lower fence {low:.4g} (Q1 - 1.5 IQR)")


def test_leverage_matches_the_hat_matrix_of_the_pca_scores(spectra):
    T, _, _ = _pca_eig(spectra, 2)
    n = spectra.shape[0]
    hat = 1 / n + np.diag(T @ np.linalg.pinv(T.T @ T) @ T.T)
    f = Leverage(n_components=2, threshold=2.5).fit(spectra)
    np.testing.assert_allclose(f.leverage_, hat, rtol=1e-8)
    assert f.limit_value_ == pytest.approx(2.5 * (1 + 2) / n)  # the mean leverage is (1 + k) / n
    np.testing.assert_array_equal(~f.keep_, hat > 2.5 * hat.mean())
    assert 11 in np.flatnonzero(~f.keep_)


@pytest.mark.parametrize(("est", "message"), [
    (XOutliers(stat="bogus"), "stat must be 'both', 't2' or 'q', got 'bogus'"),
    (XOutliers(confidence=1.0), "confidence"),
    (YOutliers(method="zscore"), "method must be 'mad' or 'iqr'"),
    (Leverage(threshold=1.0), "threshold"),
    (XOutliers(n_components=79), "n_components=79 is too many for 80 training rows"),
])
def test_bad_parameters_are_refused_at_fit(spectra, est, message):
    with pytest.raises(ValueError, match=message):
        est.fit(spectra, np.arange(80.0))


def test_a_target_whose_mad_is_zero_is_refused():
    y = np.array([5.0] * 8 + [6.0, 7.0])
    with pytest.raises(ValueError, match="the MAD of target column 0 is 0 on these 10 rows"):
        YOutliers().fit(np.zeros((10, 2)), y)


def test_a_filter_has_no_transform_so_nothing_can_drop_a_spectrum_at_predict_time(spectra):
    for est in (XOutliers(n_components=2), YOutliers(), Leverage(n_components=2)):
        assert not hasattr(est.fit(spectra, np.arange(80.0)), "transform")
