"""LWPLS and kernel PLS: each equals a re-derivation written here, reduces to PLS in its limit (all weights equal;
the linear kernel), predicts every component count from one fit, and is a spec model."""

from __future__ import annotations

import numpy as np
import pytest
from ikpls.numpy import PLS as IKPLS
from sklearn.cross_decomposition import PLSRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.data import tecator
from nirs_core.operators import LWPLS, KernelPLS
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

DATA = tecator()
X, Y = DATA.spectra[:100], DATA.target("fat")[:100]
X_NEW = DATA.spectra[100:130]


def _pls(k: int) -> np.ndarray:
    return PLSRegression(k, scale=False, tol=1e-15, max_iter=5000).fit(X, Y).predict(X_NEW).ravel()


def _lwpls_by_hand(x: np.ndarray, k: int, bandwidth: float) -> float:
    """Kim et al. (2013) written with the weight matrix Omega = diag(omega) and matrix products."""
    d = np.linalg.norm(X - x, axis=1)
    omega = np.exp(-d / (bandwidth * np.std(d, ddof=1)))
    W = np.diag(omega / omega.sum())
    xw, yw = np.diag(W) @ X, np.diag(W) @ Y
    E, f, e, pred = X - xw, Y - yw, x - xw, yw
    for _ in range(k):
        w = E.T @ W @ f
        w /= np.linalg.norm(w)
        t = E @ w
        p = E.T @ W @ t / (t @ W @ t)
        q = (f @ W @ t) / (t @ W @ t)
        tq = e @ w
        pred += tq * q
        E, f, e = E - np.outer(t, p), f - t * q, e - tq * p
    return float(pred)


@pytest.mark.parametrize("bandwidth", [0.3, 2.0])
def test_lwpls_equals_the_weighted_nipals_re_derived(bandwidth):
    every = LWPLS(n_components=5, bandwidth=bandwidth).fit(X, Y).predict_all(X_NEW[:6])[:, :, 0]
    for k in (1, 3, 5):
        expected = [_lwpls_by_hand(x, k, bandwidth) for x in X_NEW[:6]]
        assert np.abs(every[k - 1] - expected).max() < 1e-8


def test_lwpls_equals_ikpls_weighted_pls_fitted_for_each_query():
    """ikpls (Improved Kernel PLS) with sample weights = the similarity weights: the same local model."""
    queries = X_NEW[:8]
    every = LWPLS(n_components=6, bandwidth=0.5).fit(X, Y).predict_all(queries)[:, :, 0]
    for i, x in enumerate(queries):
        d = np.linalg.norm(X - x, axis=1)
        weights = np.exp(-d / (0.5 * d.std(ddof=1)))
        local = IKPLS(algorithm=1, center_X=True, center_Y=True, scale_X=False, scale_Y=False)
        expected = local.fit(X, Y, 6, sample_weight=weights).predict(x[None, :])[:, 0, 0]
        assert np.abs(every[:, i] - expected).max() < 1e-9


def test_lwpls_with_equal_weights_is_pls():
    every = LWPLS(n_components=6, bandwidth=1e13).fit(X, Y).predict_all(X_NEW)[:, :, 0]
    for k in (1, 3, 6):
        assert np.abs(every[k - 1] - _pls(k)).max() < 1e-6


def test_kernel_pls_with_the_linear_kernel_is_pls():
    every = KernelPLS(n_components=6, kernel="linear").fit(X, Y).predict_all(X_NEW)[:, :, 0]
    for k in (1, 3, 6):
        assert np.abs(every[k - 1] - _pls(k)).max() < 1e-7


def _kpls_by_hand(k: int, gamma: float) -> np.ndarray:
    """Rosipal & Trejo (2001) with explicit centring matrices: K_c = J K J, test kernel (K_t - 1 K / n) J."""
    n = X.shape[0]
    J = np.eye(n) - np.ones((n, n)) / n
    K = rbf_kernel(X, X, gamma=gamma)
    Kc = J @ K @ J
    Kt = (rbf_kernel(X_NEW, X, gamma=gamma) - np.ones((X_NEW.shape[0], n)) @ K / n) @ J
    y = Y - Y.mean()
    Kd, yd, T, U = Kc.copy(), y.copy(), [], []
    for _ in range(k):
        u = yd / np.linalg.norm(yd)
        t = Kd @ u
        t /= np.linalg.norm(t)
        T.append(t), U.append(u)
        P = np.eye(n) - np.outer(t, t)
        Kd, yd = P @ Kd @ P, yd - t * (t @ yd)
    T, U = np.column_stack(T), np.column_stack(U)
    return Y.mean() + Kt @ U @ np.linalg.inv(T.T @ Kc @ U) @ T.T @ y


def test_rbf_kernel_pls_equals_rosipal_and_trejo_re_derived():
    gamma = 0.05
    every = KernelPLS(n_components=4, kernel="rbf", gamma=gamma).fit(X, Y).predict_all(X_NEW)[:, :, 0]
    for k in (1, 2, 4):
        assert np.abs(every[k - 1] - _kpls_by_hand(k, gamma)).max() < 1e-6 * np.ptp(Y)


def test_bad_model_parameters_are_refused():
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        LWPLS(bandwidth=0).fit(X, Y)
    with pytest.raises(ValueError, match="kernel must be one of"):
        KernelPLS(kernel="sigmoid").fit(X, Y)
    with pytest.raises(ValueError, match=r"KernelPLS: n_components=100 is out of range"):
        KernelPLS(n_components=100).fit(X, Y)


def test_local_and_kernel_pls_are_spec_models_swept_by_one_fit():
    for model in ({"op": "lwpls", "n_components": {"_range_": [1, 4]}, "bandwidth": 0.5},
                  {"op": "kernel_pls", "n_components": [2, 4], "kernel": "poly", "degree": 3, "gamma": 0.01}):
        spec = decode_spec({"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                                           {"model": model}]})
        (group,) = compile_plan(spec, DATA.schema()).groups
        assert group.model.op == model["op"] and group.model.params["n_components"] == 4
    two = decode_spec({"target": ["fat", "protein"], "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"model": {"op": "lwpls", "n_components": 2}}]})
    with pytest.raises(CompileError, match="`lwpls` models one target"):
        compile_plan(two, DATA.schema())


@parametrize_with_checks([LWPLS(), KernelPLS()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
