"""Parity of PLSSweep with scikit-learn's PLSRegression(k, scale=False) for every k in 1..20, to 1e-8 relative."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from threadpoolctl import threadpool_limits

from nirdag import datasets
from nirs_core.operators import SNV, PLSSweep

K = 20
RTOL = 1e-8


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Pin BLAS to one thread: on a loaded 2-core machine two OpenBLAS threads made one SVD ~100x slower."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def tecator_train() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ds = datasets.tecator()
    rows = ds.rows("train")
    return np.asarray(ds.spectra[rows]), np.asarray(ds.target("fat")[rows]), np.asarray(ds.target("protein")[rows])


def _assert_sweep_equals(sweep: np.ndarray, reference: np.ndarray, Y: np.ndarray, k: int, case: str) -> None:
    """|sweep - reference| <= 1e-8 (|reference| + std of the target), per target; names k and the worst ratio.

    Both sides are divided by each target's std so that assert_allclose(rtol=1e-8, atol=1e-8) applies that
    per-target absolute tolerance (assert_allclose itself takes a scalar atol).
    """
    Y = Y.reshape(Y.shape[0], -1)
    scale = Y.std(axis=0)
    reference = reference.reshape(Y.shape)
    worst = float(np.max(np.abs(sweep - reference) / (np.abs(reference) + scale)))
    np.testing.assert_allclose(
        sweep / scale, reference / scale, rtol=RTOL, atol=RTOL,
        err_msg=f"{case}: k={k}, max |sweep - reference| / (|reference| + std(y)) = {worst:.3g}",
    )


def _assert_sweep_matches_sklearn(X: np.ndarray, Y: np.ndarray, case: str, **pls_options: float) -> None:
    predictions = PLSSweep(K).fit(X, Y).predict_all(X)
    assert predictions.shape == (K, X.shape[0], Y.reshape(X.shape[0], -1).shape[1])
    for k in range(1, K + 1):
        expected = PLSRegression(n_components=k, scale=False, **pls_options).fit(X, Y).predict(X)
        _assert_sweep_equals(predictions[k - 1], expected, Y, k, case)


@pytest.mark.parametrize("preprocessing", ["raw", "snv"])
def test_sweep_matches_sklearn_on_tecator_fat_for_k_1_to_20(
    tecator_train: tuple[np.ndarray, np.ndarray, np.ndarray], preprocessing: str
) -> None:
    X, fat, _ = tecator_train
    if preprocessing == "snv":
        X = SNV().fit_transform(X)
    _assert_sweep_matches_sklearn(X, fat, f"tecator fat ({preprocessing})")


@pytest.mark.parametrize("seed", [0, 7])
def test_sweep_matches_sklearn_on_seeded_synthetic_for_k_1_to_20(seed: int) -> None:
    ds = datasets.synthetic(300, 200, seed=seed)
    _assert_sweep_matches_sklearn(np.asarray(ds.spectra), np.asarray(ds.target("y")), f"synthetic seed={seed}")


def _exact_pls2_predictions(X: np.ndarray, Y: np.ndarray, n_components: int) -> np.ndarray:
    """Reference PLS2 (Wold's NIPALS with regression deflation) whose weight vector is computed exactly.

    Component a's X weight is the dominant left singular vector of X_a' Y_a (X_a, Y_a deflated); NIPALS reaches
    it by power iteration, here it comes from an SVD. B_k = W_k (P_k' W_k)^-1 Q_k'. Returns (K, n, targets).
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xa, Ya = X - x_mean, Y - y_mean
    W, P, Q = [], [], []
    for _ in range(n_components):
        w = np.linalg.svd(Xa.T @ Ya, full_matrices=False)[0][:, 0]
        t = Xa @ w
        p, q = Xa.T @ t / (t @ t), Ya.T @ t / (t @ t)
        Xa, Ya = Xa - np.outer(t, p), Ya - np.outer(t, q)
        W.append(w)
        P.append(p)
        Q.append(q)
    W, P, Q = np.array(W).T, np.array(P).T, np.array(Q).T
    out = []
    for k in range(1, n_components + 1):
        B = W[:, :k] @ np.linalg.solve(P[:, :k].T @ W[:, :k], Q[:, :k].T)
        out.append((X - x_mean) @ B + y_mean)
    return np.array(out)


def test_sweep_matches_exact_pls2_on_two_tecator_targets_for_k_1_to_20(
    tecator_train: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, fat, protein = tecator_train
    Y = np.column_stack([fat, protein])
    predictions = PLSSweep(K).fit(X, Y).predict_all(X)
    reference = _exact_pls2_predictions(X, Y, K)
    for k in range(1, K + 1):
        _assert_sweep_equals(predictions[k - 1], reference[k - 1], Y, k, "tecator fat+protein vs exact PLS2")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "sklearn's PLSRegression finds each PLS2 weight vector by NIPALS power iteration stopped at tol=1e-6; "
        "on Tecator fat+protein its predictions differ from the exact PLS2 solution from k=2 on, by up to "
        "2.3e-3 x std(y) (k=12). "
        "PLSSweep equals the exact solution to 1e-8 (test above) and sklearn approaches it as its tol shrinks "
        "(test below). Single-target PLS needs no iteration, hence exact parity there."
    ),
)
def test_sweep_matches_sklearn_default_on_two_tecator_targets_for_k_1_to_20(
    tecator_train: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, fat, protein = tecator_train
    _assert_sweep_matches_sklearn(X, np.column_stack([fat, protein]), "tecator fat+protein vs sklearn default")


def test_sklearn_two_target_gap_to_the_sweep_shrinks_with_its_convergence_tolerance(
    tecator_train: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, fat, protein = tecator_train
    Y = np.column_stack([fat, protein])
    predictions = PLSSweep(K).fit(X, Y).predict_all(X)

    def worst_gap(tol: float) -> float:
        gaps = [
            np.max(np.abs(predictions[k - 1] - PLSRegression(k, scale=False, tol=tol, max_iter=100_000)
                          .fit(X, Y).predict(X)) / Y.std(axis=0))
            for k in range(1, K + 1)
        ]
        return float(max(gaps))

    loose, tight = worst_gap(1e-6), worst_gap(1e-14)
    assert tight < 1e-5
    assert tight < loose / 1_000
