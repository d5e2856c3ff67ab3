"""classification_scores equals scikit-learn's accuracy_score and balanced_accuracy_score exactly, row by row."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from nirs_core.metrics import CLASSIFICATION_METRICS, HIGHER_IS_BETTER, classification_scores


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), m=st.integers(1, 4), k=st.integers(1, 5))
def test_scores_equal_scikit_learn_for_every_prediction_row(seed, n, m, k):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, size=n).astype(np.float64)
    y_pred = rng.integers(0, k + 1, size=(m, n)).astype(np.float64)  # may predict a class never true
    scores = classification_scores(y_true, y_pred)
    assert tuple(scores) == CLASSIFICATION_METRICS
    for row in range(m):
        assert scores["accuracy"][row] == accuracy_score(y_true, y_pred[row])
        with warnings.catch_warnings():  # sklearn warns when a predicted class is never true
            warnings.simplefilter("ignore")
            expected = balanced_accuracy_score(y_true, y_pred[row])
        assert scores["balanced_accuracy"][row] == expected
    assert (scores["n"] == n).all()


def test_labels_work_as_well_as_codes_and_accuracies_rank_higher_first():
    y_true = np.array(["a", "a", "a", "b"])
    scores = classification_scores(y_true, np.array([["a", "a", "a", "a"], ["a", "a", "b", "b"]]))
    assert scores["accuracy"].tolist() == [0.75, 0.75]
    assert scores["balanced_accuracy"].tolist() == [0.5, (2 / 3 + 1) / 2]
    assert {"accuracy", "balanced_accuracy"} <= HIGHER_IS_BETTER
