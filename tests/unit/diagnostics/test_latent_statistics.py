"""T², Q, leverage, the limits, VIP and the selectivity ratio of nirs_core.diagnostics against an independent
computation from scikit-learn's fitted PLSRegression on the same rows (numpy/scipy, 1e-9 relative)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.cross_decomposition import PLSRegression

from nirs_core.data import tecator
from nirs_core.diagnostics import (
    fit_domain,
    latent_of,
    q_limit,
    sample_statistics,
    selectivity_ratio,
    studentized_residuals,
    verdict,
    vip,
    x_explained_cumulative,
)
from nirs_core.operators import PCR, PLSDA, PLSSweep

RTOL = 1e-9


@pytest.fixture(scope="module")
def data():
    ds = tecator()
    y = ds.targets["fat"]
    return ds.spectra[:150], y[:150], ds.spectra[150:215], y[150:215]


def _reference(X, y, Xnew, k):
    """Everything computed from sklearn's PLSRegression arrays and the textbook formulas."""
    ref = PLSRegression(k, scale=False).fit(X, y)
    T, P, W, q = ref.x_scores_, ref.x_loadings_, ref.x_weights_, ref.y_loadings_[0]
    n = X.shape[0]
    mean = X.mean(axis=0)
    s2 = T.var(axis=0, ddof=1)
    Tn = (Xnew - mean) @ ref.x_rotations_
    E = (X - mean) - T @ P.T
    En = (Xnew - mean) - Tn @ P.T
    lam = np.linalg.eigvalsh(E.T @ E / (n - 1))
    lam = lam[lam > lam.max() * 1e-12]
    th = [np.sum(lam**i) for i in (1, 2, 3)]
    h0 = 1 - 2 * th[0] * th[2] / (3 * th[1] ** 2)
    z = stats.norm.ppf(0.95)
    qlim = th[0] * (z * np.sqrt(2 * th[1] * h0**2) / th[0] + 1 + th[1] * h0 * (h0 - 1) / th[0] ** 2) ** (1 / h0)
    ss = q**2 * (T**2).sum(axis=0)
    wn = W / np.linalg.norm(W, axis=0)
    b = ref.x_rotations_ @ q
    tt = (X - mean) @ (b / np.linalg.norm(b))
    pt = (X - mean).T @ tt / (tt @ tt)
    xtp = np.outer(tt, pt)
    return {
        "t2_cal": (T**2 / s2).sum(axis=1), "t2_new": (Tn**2 / s2).sum(axis=1),
        "q_cal": (E**2).sum(axis=1), "q_new": (En**2).sum(axis=1),
        "lev_new": 1 / n + (Tn**2 / (T**2).sum(axis=0)).sum(axis=1),
        "t2_lim_cal": (n - 1) ** 2 / n * stats.beta.ppf(0.95, k / 2, (n - k - 1) / 2),
        "t2_lim_new": k * (n**2 - 1) / (n * (n - k)) * stats.f.ppf(0.99, k, n - k),
        "q_lim": qlim, "vip": np.sqrt(X.shape[1] * (wn**2 @ ss) / ss.sum()),
        "sr": (xtp**2).sum(axis=0) / ((X - mean - xtp) ** 2).sum(axis=0), "coef": b,
        "scores_new": Tn,
    }


@pytest.mark.parametrize("k", [1, 3, 8])
def test_pls_statistics_equal_an_independent_computation(data, k):
    X, y, Xn, _ = data
    ref = _reference(X, y, Xn, k)
    model = PLSSweep(n_components=12).fit(X, y)
    latent = latent_of(model, k)
    domain = fit_domain(latent, X)
    cal = sample_statistics(latent, domain, X, calibration=True)
    new = sample_statistics(latent, domain, Xn, calibration=False)
    np.testing.assert_allclose(cal["t2"], ref["t2_cal"], rtol=RTOL)
    np.testing.assert_allclose(new["t2"], ref["t2_new"], rtol=RTOL)
    np.testing.assert_allclose(cal["q"], ref["q_cal"], rtol=RTOL)
    np.testing.assert_allclose(new["q"], ref["q_new"], rtol=RTOL)
    np.testing.assert_allclose(new["leverage"], ref["lev_new"], rtol=RTOL)
    np.testing.assert_allclose(np.abs(new["scores"]), np.abs(ref["scores_new"]), rtol=1e-7)
    assert domain.t2_limit_calibration_95 == pytest.approx(ref["t2_lim_cal"], rel=RTOL)
    assert domain.t2_limit_prediction_99 == pytest.approx(ref["t2_lim_new"], rel=RTOL)
    assert domain.q_limit_95 == pytest.approx(ref["q_lim"], rel=1e-7)
    np.testing.assert_allclose(vip(latent, latent.scores(X))[:, 0], ref["vip"], rtol=RTOL)
    np.testing.assert_allclose(selectivity_ratio(latent, X)[:, 0], ref["sr"], rtol=1e-8)
    np.testing.assert_allclose(latent.coefficients[:, 0], ref["coef"], rtol=1e-8, atol=1e-10)


def test_vip_squares_average_one_and_the_cumulative_x_variance_rises(data):
    X, y, _, _ = data
    latent = latent_of(PLSSweep(n_components=6).fit(X, y), 6)
    v = vip(latent, latent.scores(X))[:, 0]
    assert np.mean(v**2) == pytest.approx(1.0, rel=1e-12)  # Wold's VIP: sum of squares = p
    cum = x_explained_cumulative(latent, X)
    assert np.all(np.diff(cum) > 0) and 0 < cum[0] < cum[-1] <= 1


def test_limits_use_the_calibration_n_and_a_shifted_spectrum_is_an_outlier(data):
    X, y, Xn, _ = data
    latent = latent_of(PLSSweep(n_components=5).fit(X, y), 5)
    domain = fit_domain(latent, X)
    assert domain.n == X.shape[0] and domain.k == 5
    shifted = Xn[:1] + np.linspace(0.0, 1.0, X.shape[1])  # a strong, sloped baseline shift
    stats_ = sample_statistics(latent, domain, np.vstack([Xn, shifted]), calibration=False)
    assert stats_["domain"][-1] == "outlier"
    assert np.mean(stats_["domain"][:-1] != "outlier") >= 0.9
    # the limit of a batch of new samples does not depend on how many there are (mdatools#82)
    one = sample_statistics(latent, domain, Xn[:2], calibration=False)
    assert one["t2_limit_95"][0] == stats_["t2_limit_95"][0]


def test_pcr_and_plsda_expose_their_latent_structure(data):
    X, y, _, _ = data
    pcr = PCR(n_components=4).fit(X, y)
    latent = latent_of(pcr, 4)
    T = latent.scores(X)
    np.testing.assert_allclose(T @ latent.y_loadings.T + y.mean(), pcr.predict_all(X)[3], rtol=1e-9)
    labels = np.where(y > np.median(y), "high", "low")
    plsda = PLSDA(n_components=3).fit(X, labels)
    lat = latent_of(plsda, 2)
    assert lat.k == 2 and lat.y_loadings.shape == (2, 2)
    assert latent_of(object(), 3) is None


def test_verdict_and_studentized_residuals():
    t2, q = np.array([1.0, 5.0, 9.0, np.nan]), np.array([0.1, 0.1, 0.1, 0.1])
    assert verdict(t2, q, (4.0, 8.0), (np.nan, np.nan)).tolist() == ["regular", "extreme", "outlier", "regular"]
    assert np.isnan(q_limit((0.0, 0.0, 0.0), 0.95))
    r = studentized_residuals(np.array([1.0]), np.array([0.2]), sse_cal=8.0, n=10, k=1, calibration=True)
    assert r[0] == pytest.approx(1.0 / (1.0 * np.sqrt(0.8)))
