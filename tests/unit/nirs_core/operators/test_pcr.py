"""Unit tests of PCR: one fit serves every component count and equals PCA followed by least squares."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from nirdag import datasets
from nirs_core.operators.pcr import PCR

K = 20


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Pin BLAS to one thread: on a loaded 2-core machine two OpenBLAS threads made one SVD ~100x slower."""
    with threadpool_limits(1):
        yield


def _pca_regression(k: int):
    # "auto" already picks the exact LAPACK SVD at these sizes; pinned so that a change of sklearn's heuristic
    # (to its randomized solver) cannot turn the reference into an approximation.
    return make_pipeline(PCA(k, svd_solver="full"), LinearRegression())


@pytest.fixture(scope="module")
def tecator_fat() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ds = datasets.tecator()
    train, test = ds.rows("train"), ds.rows("test")
    X, fat = np.asarray(ds.spectra), np.asarray(ds.target("fat"))
    return X[train], fat[train], X[test], fat[test]


@pytest.fixture(scope="module")
def synthetic_y() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ds = datasets.synthetic(300, 200, seed=3)
    train, test = ds.rows("train"), ds.rows("test")
    X, y = np.asarray(ds.spectra), np.asarray(ds.target("y"))
    return X[train], y[train], X[test], y[test]


@pytest.mark.parametrize("data", ["tecator_fat", "synthetic_y"])
def test_every_k_equals_pca_then_linear_regression(data: str, request: pytest.FixtureRequest) -> None:
    X_train, y_train, X_test, _ = request.getfixturevalue(data)
    predictions = PCR(K).fit(X_train, y_train).predict_all(X_test)
    assert predictions.shape == (K, X_test.shape[0], 1)
    scale = y_train.std()
    for k in (1, 2, 5, 10, 15, 20):
        expected = _pca_regression(k).fit(X_train, y_train).predict(X_test)
        np.testing.assert_allclose(predictions[k - 1, :, 0] / scale, expected / scale, rtol=1e-8, atol=1e-8,
                                   err_msg=f"{data}: k={k}")


def test_two_targets_equal_pca_then_linear_regression(tecator_fat) -> None:
    X_train, fat, X_test, _ = tecator_fat
    Y = np.column_stack([fat, np.sqrt(fat) + X_train[:, 40]])
    prediction = PCR(8).fit(X_train, Y).predict(X_test)
    assert prediction.shape == (X_test.shape[0], 2)
    expected = _pca_regression(8).fit(X_train, Y).predict(X_test)
    np.testing.assert_allclose(prediction / Y.std(axis=0), expected / Y.std(axis=0), rtol=1e-8, atol=1e-8)


def test_predict_all_equals_separate_fits_for_every_k(synthetic_y) -> None:
    X_train, y_train, X_test, _ = synthetic_y
    predictions = PCR(12).fit(X_train, y_train).predict_all(X_test)
    for k in range(1, 13):
        single = PCR(k).fit(X_train, y_train).predict(X_test)
        np.testing.assert_allclose(predictions[k - 1, :, 0], single, rtol=0, atol=1e-10 * y_train.std(),
                                   err_msg=f"k={k}")


def test_predict_is_the_largest_model_and_1d_for_1d_y(tecator_fat) -> None:
    X_train, y_train, X_test, _ = tecator_fat
    model = PCR(6).fit(X_train, y_train)
    prediction = model.predict(X_test)
    assert prediction.shape == (X_test.shape[0],)
    np.testing.assert_array_equal(prediction, model.predict_all(X_test)[-1, :, 0])
    assert not np.allclose(model.predict_all(X_test)[0], model.predict_all(X_test)[-1])


def test_components_beyond_the_rank_of_x_add_nothing() -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 3)) @ rng.standard_normal((3, 12))  # rank 3 (after centring too)
    y = X[:, 0] - 2.0 * X[:, 5] + 0.1 * rng.standard_normal(30)
    predictions = PCR(8).fit(X, y).predict_all(X)
    assert np.isfinite(predictions).all()
    for k in range(4, 9):
        np.testing.assert_allclose(predictions[k - 1], predictions[2], rtol=0, atol=1e-9, err_msg=f"k={k}")


@pytest.mark.parametrize("n_components", [0, 2.5, True, "3", 13])
def test_bad_n_components_is_named_at_fit(n_components: object) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 12)), rng.standard_normal(20)  # limit min(20 - 1, 12) = 12
    with pytest.raises(ValueError, match=rf"PCR: n_components={re.escape(repr(n_components))} .*\[1, 12\]"):
        PCR(n_components).fit(X, y)


@parametrize_with_checks([PCR()])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
