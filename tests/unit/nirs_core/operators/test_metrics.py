"""Unit tests of regression_scores against direct numpy formulas, for a stack of predictions."""

from __future__ import annotations

import numpy as np
import pytest

from nirs_core.metrics import REGRESSION_METRICS, mean_nrmse, regression_scores


@pytest.fixture
def stack() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y_true = rng.normal(20.0, 5.0, size=25)
    y_pred = y_true[None, :] + rng.normal([[0.0], [1.5], [-3.0]], [[0.5], [2.0], [4.0]], size=(3, 25))
    return y_true, y_pred


def test_scores_have_one_value_per_prediction_row(stack: tuple[np.ndarray, np.ndarray]) -> None:
    scores = regression_scores(*stack)
    assert set(scores) == set(REGRESSION_METRICS)
    assert all(v.shape == (3,) for v in scores.values())


def test_scores_match_numpy_formulas_row_by_row(stack: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = stack
    scores = regression_scores(y_true, y_pred)
    for m in range(3):
        err = y_pred[m] - y_true
        assert scores["rmse"][m] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-12)
        assert scores["bias"][m] == pytest.approx(np.mean(err), rel=1e-12)
        assert scores["sep"][m] == pytest.approx(np.std(err, ddof=1), rel=1e-12)
        r2 = 1.0 - np.sum(err**2) / np.sum((y_true - y_true.mean()) ** 2)
        assert scores["r2"][m] == pytest.approx(r2, rel=1e-12)
        assert scores["n"][m] == 25.0


def test_rmse_squared_equals_bias_squared_plus_biased_sep(stack: tuple[np.ndarray, np.ndarray]) -> None:
    # The bias-variance identity MSE = bias^2 + SEP^2 (n-1)/n ties the three metrics together.
    y_true, y_pred = stack
    s = regression_scores(y_true, y_pred)
    n = y_true.size
    np.testing.assert_allclose(s["rmse"] ** 2, s["bias"] ** 2 + s["sep"] ** 2 * (n - 1) / n, rtol=1e-12)


def test_perfect_prediction_scores_zero_error_and_r2_one(stack: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, _ = stack
    s = regression_scores(y_true, y_true[None, :])
    assert s["rmse"][0] == 0.0
    assert s["bias"][0] == 0.0
    assert s["r2"][0] == 1.0


def test_single_prediction_vector_is_scored_as_one_row(stack: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = stack
    s = regression_scores(y_true, y_pred[1])
    assert s["rmse"].shape == (1,)
    assert s["rmse"][0] == pytest.approx(np.sqrt(np.mean((y_pred[1] - y_true) ** 2)), rel=1e-12)


def test_constant_truth_gives_nan_r2_and_single_sample_gives_nan_sep() -> None:
    assert np.isnan(regression_scores(np.full(4, 2.0), np.array([[1.0, 2.0, 3.0, 4.0]]))["r2"]).all()
    assert np.isnan(regression_scores(np.array([1.0]), np.array([[2.0]]))["sep"]).all()


def test_mean_nrmse_is_the_mean_over_targets_of_rmse_over_sd() -> None:
    rng = np.random.default_rng(4)
    y_true = rng.normal(size=(30, 3)) * np.array([1.0, 10.0, 100.0])
    y_pred = y_true[None] + rng.normal(size=(5, 30, 3)) * np.array([0.5, 5.0, 50.0])
    sd = np.array([1.0, 10.0, 100.0])
    got = mean_nrmse(y_true, y_pred, sd)
    expected = [np.mean([regression_scores(y_true[:, t], y_pred[m, :, t])["rmse"][0] / sd[t] for t in range(3)])
                for m in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # units do not matter: rescaling one target (and its sd) leaves the value unchanged
    scale = np.array([1.0, 1e-3, 7.0])
    np.testing.assert_allclose(mean_nrmse(y_true * scale, y_pred * scale, sd * scale), got, rtol=1e-12)
