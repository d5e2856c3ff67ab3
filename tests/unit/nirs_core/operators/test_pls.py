"""Unit tests of PLSSweep: one fit serves every component count and matches scikit-learn's PLSRegression."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from nirs_core.data import tecator
from nirs_core.operators import SNV, PLSSweep

K = 15


@pytest.fixture(scope="module")
def train_fat() -> tuple[np.ndarray, np.ndarray]:
    ds = tecator()
    rows = ds.rows("train")
    return np.asarray(ds.spectra[rows]), np.asarray(ds.target("fat")[rows])


@pytest.mark.parametrize("preprocessing", ["raw", "snv"])
def test_predict_all_matches_sklearn_pls_for_every_k(
    train_fat: tuple[np.ndarray, np.ndarray], preprocessing: str
) -> None:
    X, y = train_fat
    if preprocessing == "snv":
        X = SNV().fit_transform(X)
    predictions = PLSSweep(K).fit(X, y).predict_all(X)
    assert predictions.shape == (K, X.shape[0], 1)
    for k in range(1, K + 1):
        expected = PLSRegression(n_components=k, scale=False).fit(X, y).predict(X).ravel()
        np.testing.assert_allclose(predictions[k - 1, :, 0], expected, rtol=0, atol=1e-9,
                                   err_msg=f"k={k} ({preprocessing})")


def test_component_counts_give_different_predictions(train_fat: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = train_fat
    predictions = PLSSweep(3).fit(X, y).predict_all(X)
    assert not np.allclose(predictions[0], predictions[2])


def test_predict_returns_the_largest_model_as_1d_for_1d_y(train_fat: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = train_fat
    model = PLSSweep(5).fit(X, y)
    prediction = model.predict(X)
    assert prediction.shape == (X.shape[0],)
    np.testing.assert_array_equal(prediction, model.predict_all(X)[-1, :, 0])


def test_predict_is_2d_for_2d_y(train_fat: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = train_fat
    Y = np.column_stack([y, 2.0 * y + 1.0])
    prediction = PLSSweep(4).fit(X, Y).predict(X)
    assert prediction.shape == (X.shape[0], 2)


def test_predictions_on_unseen_rows_match_sklearn(train_fat: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = train_fat
    fit_rows, new_rows = slice(0, 120), slice(120, None)
    ours = PLSSweep(6).fit(X[fit_rows], y[fit_rows]).predict(X[new_rows])
    theirs = PLSRegression(6, scale=False).fit(X[fit_rows], y[fit_rows]).predict(X[new_rows]).ravel()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("shape", "n_components", "limit"),
    [((5, 20), 5, 4), ((30, 6), 7, 6)],  # limit = min(n_rows - 1, n_wavelengths)
)
def test_too_many_components_raise_value_error_stating_the_limit(
    shape: tuple[int, int], n_components: int, limit: int
) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal(shape), rng.standard_normal(shape[0])
    with pytest.raises(ValueError, match=rf"n_components={n_components}.*\[1, {limit}\]"):
        PLSSweep(n_components).fit(X, y)
    # The limit itself is accepted.
    assert PLSSweep(limit).fit(X, y).predict_all(X).shape[0] == limit


def test_zero_components_raise_value_error() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_components=0"):
        PLSSweep(0).fit(rng.standard_normal((10, 4)), rng.standard_normal(10))
