"""DS, PDS and slope/bias against an independent numpy implementation, and on synthetic instrument differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from sklearn.cross_decomposition import PLSRegression

from nirs_core.data.synthetic import synthetic
from nirs_core.transfer import (
    MIN_TRANSFER_PAIRS,
    TransferError,
    fit_ds,
    fit_pds,
    fit_slope_bias,
)


def _pairs(n: int = 15, p: int = 40, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, p)).cumsum(axis=1)
    S = 0.8 * np.roll(P, 1, axis=1) + 0.05 * rng.normal(size=(n, p)) + 0.3
    return P, S


def _reference_pds(P: np.ndarray, S: np.ndarray, X: np.ndarray, w: int) -> np.ndarray:
    """Textbook PDS, one lstsq per channel, applied channel by channel."""
    ms, mp = S.mean(0), P.mean(0)
    out = np.empty_like(X)
    for j in range(P.shape[1]):
        lo, hi = max(0, j - w), min(P.shape[1], j + w + 1)
        b = np.linalg.lstsq(S[:, lo:hi] - ms[lo:hi], P[:, j] - mp[j], rcond=None)[0]
        out[:, j] = (X[:, lo:hi] - ms[lo:hi]) @ b + mp[j]
    return out


def test_pds_matches_a_channel_by_channel_lstsq():
    P, S = _pairs()
    X = _pairs(seed=9)[1]
    np.testing.assert_allclose(fit_pds(P, S, window=3).apply(X), _reference_pds(P, S, X, 3), rtol=1e-9, atol=1e-9)


def test_ds_matches_the_pseudo_inverse():
    P, S = _pairs()
    X = _pairs(seed=9)[1]
    F = np.linalg.pinv(S - S.mean(0)) @ (P - P.mean(0))
    np.testing.assert_allclose(fit_ds(P, S).apply(X), (X - S.mean(0)) @ F + P.mean(0), rtol=1e-8, atol=1e-8)


def test_ridge_and_truncation_follow_their_definitions():
    P, S = _pairs()
    Sc, Pc = S - S.mean(0), P - P.mean(0)
    lam = 1e-3 * np.linalg.norm(Sc, 2) ** 2
    F_ridge = np.linalg.solve(Sc.T @ Sc + lam * np.eye(S.shape[1]), Sc.T @ Pc)
    np.testing.assert_allclose(fit_ds(P, S, ridge=1e-3).apply(S), Sc @ F_ridge + P.mean(0), atol=1e-8)
    U, s, Vt = np.linalg.svd(Sc, full_matrices=False)
    F_k = Vt[:4].T @ np.diag(1 / s[:4]) @ U[:, :4].T @ Pc
    np.testing.assert_allclose(fit_ds(P, S, n_components=4).apply(S), Sc @ F_k + P.mean(0), atol=1e-8)


def _instrument_b(X: np.ndarray) -> np.ndarray:
    """The same samples on another instrument: shifted by 1.5 channels and broadened (Gaussian, sigma 2)."""
    idx = np.arange(X.shape[1], dtype=np.float64)
    shifted = np.stack([np.interp(idx - 1.5, idx, row) for row in X])
    return gaussian_filter1d(shifted, 2.0, axis=1, mode="nearest")


@pytest.mark.parametrize("method", ["pds", "ds"])
def test_transfer_brings_secondary_rmsep_within_20_percent_of_the_primary(method):
    data = synthetic(260, 120, seed=11, noise=2e-4, band_shape="gaussian")
    X, y = np.asarray(data.spectra), data.target("y")
    cal, test, standards = np.arange(0, 160), np.arange(160, 260), np.arange(0, 160, 6)
    model = PLSRegression(n_components=8, scale=False).fit(X[cal], y[cal])
    X_b = _instrument_b(X)

    def rmsep(spectra: np.ndarray) -> float:
        return float(np.sqrt(np.mean((model.predict(spectra).ravel() - y[test]) ** 2)))

    primary, raw = rmsep(X[test]), rmsep(X_b[test])
    fit = fit_pds(X[standards], X_b[standards], window=4) if method == "pds" else fit_ds(X[standards], X_b[standards])
    transferred = rmsep(fit.apply(X_b[test]))
    assert raw > 3 * primary  # the instruments really differ
    assert transferred <= 1.2 * primary, (primary, raw, transferred)


def test_slope_bias_recovers_a_known_line():
    rng = np.random.default_rng(0)
    pred = rng.normal(size=(20, 2))
    corr = fit_slope_bias(pred * [1.5, 0.5] + [2.0, -1.0], pred, source="reference")
    np.testing.assert_allclose(corr.slope, [1.5, 0.5])
    np.testing.assert_allclose(corr.intercept, [2.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(corr.apply(pred), pred * [1.5, 0.5] + [2.0, -1.0])


def test_too_few_or_mismatched_pairs_are_refused_with_counts():
    P, S = _pairs()
    with pytest.raises(TransferError, match=f"3 transfer pairs, at least {MIN_TRANSFER_PAIRS}"):
        fit_pds(P[:3], S[:3])
    with pytest.raises(TransferError, match="one shape"):
        fit_ds(P, S[:, :-1])
    with pytest.raises(TransferError, match="not both"):
        fit_ds(P, S, n_components=2, ridge=0.1)
    with pytest.raises(TransferError, match="40 wavelengths"):
        fit_ds(P, S).apply(S[:, :10])
