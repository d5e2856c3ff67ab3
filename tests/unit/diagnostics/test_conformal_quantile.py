"""The finite-sample conformal quantile against a plain loop over ranks and against crepes' ConformalRegressor."""

from __future__ import annotations

import numpy as np
import pytest

from nirs_core.conformal import conformal_quantile, conformal_rank, conformity_scores, leverage_scale


def _plain_quantile(scores: np.ndarray, coverage: float) -> float:
    """The smallest score q such that at least (n + 1) * coverage of the n + 1 scores (the n and the new one,
    ranked last) are <= q: walk the sorted scores."""
    ordered = sorted(scores.tolist())
    n = len(ordered)
    for i, value in enumerate(ordered, start=1):
        if i >= (n + 1) * coverage - 1e-9:
            return value
    return float("inf")


@pytest.mark.parametrize("n", [5, 9, 19, 100, 257])
@pytest.mark.parametrize("coverage", [0.5, 0.8, 0.9, 0.95])
def test_quantile_equals_plain_rank_walk(n, coverage):
    scores = np.random.default_rng(n).exponential(size=n)
    assert conformal_quantile(scores, coverage) == _plain_quantile(scores, coverage)


def test_rank_of_nine_scores_at_ninety_percent_is_nine_not_ten():
    # (9 + 1) * 0.9 is 9.000000000000002 in binary: the rank must still be 9 (the largest score), not inf
    assert conformal_rank(9, 0.9) == 9
    assert conformal_quantile(np.arange(1.0, 10.0), 0.9) == 9.0


def test_too_few_scores_for_the_coverage_give_an_infinite_bound():
    assert conformal_quantile(np.arange(1.0, 10.0), 0.95) == float("inf")  # ceil(10 * 0.95) = 10 > 9


@pytest.mark.parametrize("coverage", [0.0, 1.0, 1.5, -0.1])
def test_coverage_outside_the_open_unit_interval_is_refused(coverage):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        conformal_quantile(np.ones(10), coverage)


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        conformal_quantile(np.array([1.0, np.nan]), 0.5)


@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_absolute_and_leverage_intervals_equal_crepes(coverage):
    crepes = pytest.importorskip("crepes")
    rng = np.random.default_rng(7)
    n, m = 300, 50
    y_cal, y_hat_cal = rng.normal(size=n), rng.normal(size=n)
    h_cal, h_new = rng.uniform(0.0, 0.4, size=n), rng.uniform(0.0, 0.4, size=m)
    y_hat_new = rng.normal(size=m)

    q = conformal_quantile(conformity_scores(y_cal, y_hat_cal), coverage)
    plain = crepes.ConformalRegressor()
    plain.fit(y_cal - y_hat_cal)
    reference = plain.predict_int(y_hat_new, confidence=coverage)
    np.testing.assert_allclose(np.c_[y_hat_new - q, y_hat_new + q], reference, rtol=0, atol=1e-12)

    q_lev = conformal_quantile(conformity_scores(y_cal, y_hat_cal, h_cal), coverage)
    sigma_cal, sigma_new = leverage_scale(h_cal), leverage_scale(h_new)
    normalised = crepes.ConformalRegressor()
    normalised.fit(y_cal - y_hat_cal, sigmas=sigma_cal)
    reference = normalised.predict_int(y_hat_new, sigmas=sigma_new, confidence=coverage)
    np.testing.assert_allclose(np.c_[y_hat_new - q_lev * sigma_new, y_hat_new + q_lev * sigma_new], reference,
                               rtol=0, atol=1e-12)
