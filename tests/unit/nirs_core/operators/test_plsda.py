"""Unit tests of PLSDA: PLS on one-hot classes, every component count from one fit, clipped probabilities."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from nirs_core.operators import PLSSweep
from nirs_core.operators.plsda import PLSDA, _clip_to_proba

LABELS = np.array(["pork", "beef", "lamb"])  # not sorted: classes_ must come out sorted


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Pin BLAS to one thread: on a loaded 2-core machine two OpenBLAS threads made one SVD ~100x slower."""
    with threadpool_limits(1):
        yield


def _three_class_spectra(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spectra of three classes, each with an absorption band at its own position, plus scatter and noise."""
    rng = np.random.default_rng(seed)
    axis = np.linspace(0.0, 1.0, 80)
    bands = np.exp(-0.5 * ((axis[None, :] - np.array([[0.25], [0.5], [0.75]])) / 0.05) ** 2)
    codes = np.repeat(np.arange(3), n_per_class)
    rng.shuffle(codes)
    n = codes.size
    spectra = (
        rng.uniform(0.8, 1.2, (n, 1)) * (0.5 + bands[codes])
        + rng.normal(0.0, 0.05, (n, 1))
        + rng.normal(0.0, 0.02, (n, axis.size))
    )
    return spectra, LABELS[codes]


@pytest.fixture(scope="module")
def three_classes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = _three_class_spectra(40, seed=1)
    return X[:90], y[:90], X[90:], y[90:]


def test_separable_three_class_problem_is_classified_accurately(three_classes) -> None:
    X_train, y_train, X_test, y_test = three_classes
    model = PLSDA(n_components=4).fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.95


def test_string_labels_round_trip_with_sorted_classes(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    model = PLSDA(n_components=3).fit(X_train, y_train)
    np.testing.assert_array_equal(model.classes_, ["beef", "lamb", "pork"])
    predicted = model.predict(X_test)
    assert predicted.dtype.kind == "U"
    assert set(predicted) <= set(LABELS)
    np.testing.assert_array_equal(predicted, model.classes_[np.argmax(model.decision_function(X_test), axis=1)])


def test_probabilities_of_every_k_lie_in_unit_interval_and_sum_to_one(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    far = 3.0 * X_test  # extrapolated rows push scores outside [0, 1], so clipping is exercised
    proba = PLSDA(n_components=5).fit(X_train, y_train).predict_all_proba(np.vstack([X_test, far]))
    assert proba.shape == (5, 2 * X_test.shape[0], 3)
    assert proba.min() >= 0.0
    assert proba.max() <= 1.0
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_predict_proba_is_the_clipped_renormalised_decision(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    model = PLSDA(n_components=4).fit(X_train, y_train)
    rows = np.vstack([X_test, 3.0 * X_test])
    scores = model.decision_function(rows)
    assert ((scores < 0) | (scores > 1)).any(), "the test needs scores outside [0, 1]"
    clipped = np.clip(scores, 0.0, 1.0)
    np.testing.assert_allclose(model.predict_proba(rows), clipped / clipped.sum(axis=1, keepdims=True), atol=1e-15)


def test_clipping_ties_out_of_range_scores_and_makes_all_zero_rows_uniform() -> None:
    scores = np.array([[1.3, -0.1, -0.2], [0.6, 0.6, -0.2], [-0.1, -0.5, 0.0], [0.2, 0.3, 0.5]])
    expected = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.2, 0.3, 0.5]])
    np.testing.assert_allclose(_clip_to_proba(scores), expected, rtol=0, atol=1e-15)


def test_class_scores_sum_to_one_because_the_indicators_do(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    scores = PLSDA(n_components=6).fit(X_train, y_train).decision_function_all(X_test)
    np.testing.assert_allclose(scores.sum(axis=-1), 1.0, rtol=0, atol=1e-10)


def test_every_k_of_one_fit_equals_a_separate_fit_with_k_components(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    sweep = PLSDA(n_components=6).fit(X_train, y_train)
    labels, scores = sweep.predict_all(X_test), sweep.decision_function_all(X_test)
    proba = sweep.predict_all_proba(X_test)
    assert labels.shape == (6, X_test.shape[0])
    for k in range(1, 7):
        single = PLSDA(n_components=k).fit(X_train, y_train)
        np.testing.assert_allclose(scores[k - 1], single.decision_function(X_test), rtol=0, atol=1e-10)
        np.testing.assert_allclose(proba[k - 1], single.predict_proba(X_test), rtol=0, atol=1e-10)
        np.testing.assert_array_equal(labels[k - 1], single.predict(X_test))


def _one_hot(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return (y[:, None] == classes[None, :]).astype(float)


@pytest.mark.parametrize("scale", [False, True])
def test_scores_are_pls_sweep_predictions_of_the_one_hot_classes(three_classes, scale: bool) -> None:
    X_train, y_train, X_test, _ = three_classes
    model = PLSDA(n_components=5, scale=scale).fit(X_train, y_train)
    one_hot = _one_hot(y_train, model.classes_)
    # scale=True: columns of X and of the indicators divided by their std (ddof=1), scores back in indicator units.
    sx = X_train.std(axis=0, ddof=1) if scale else 1.0
    sy = one_hot.std(axis=0, ddof=1) if scale else 1.0
    expected = PLSSweep(5).fit(X_train / sx, one_hot / sy).predict_all(X_test / sx) * sy
    np.testing.assert_allclose(model.decision_function_all(X_test), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("scale", [False, True])
def test_scores_agree_with_sklearn_pls_regression_on_one_hot_classes(three_classes, scale: bool) -> None:
    X_train, y_train, X_test, _ = three_classes
    model = PLSDA(n_components=5, scale=scale).fit(X_train, y_train)
    one_hot = _one_hot(y_train, model.classes_)
    scores = model.decision_function_all(X_test)
    for k in range(1, 6):
        # With 3+ indicator columns sklearn's NIPALS finds each weight vector by power iteration (default tol 1e-6
        # left gaps of 2e-3 here); at tol=1e-14 the measured gap is below 4e-7, hence the 1e-5 tolerance.
        reference = PLSRegression(n_components=k, scale=scale, tol=1e-14, max_iter=100_000).fit(X_train, one_hot)
        np.testing.assert_allclose(scores[k - 1], reference.predict(X_test), rtol=0, atol=1e-5, err_msg=f"k={k}")


def test_two_classes_give_one_decision_value_per_row_positive_for_the_second_class(three_classes) -> None:
    X_train, y_train, X_test, _ = three_classes
    keep = y_train != "lamb"
    model = PLSDA(n_components=3).fit(X_train[keep], y_train[keep])
    decision = model.decision_function(X_test)
    assert decision.shape == (X_test.shape[0],)
    assert model.decision_function_all(X_test).shape == (3, X_test.shape[0])
    np.testing.assert_array_equal(model.predict(X_test), model.classes_[(decision > 0).astype(int)])
    proba = model.predict_proba(X_test)
    assert proba.shape == (X_test.shape[0], 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_components", [0, 2.5, True, "3", 31])
def test_bad_n_components_is_named_at_fit(n_components: object) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 30)), np.tile(["a", "b"], 16)  # limit min(32 - 1, 30) = 30
    with pytest.raises(ValueError, match=rf"PLSDA: n_components={re.escape(repr(n_components))} .*\[1, 30\]"):
        PLSDA(n_components=n_components).fit(X, y)


def test_a_single_class_is_refused_at_fit() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"at least two classes.*'only'"):
        PLSDA().fit(rng.standard_normal((10, 5)), np.full(10, "only"))


@parametrize_with_checks([PLSDA(), PLSDA(scale=True)])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)
