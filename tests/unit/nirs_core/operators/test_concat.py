"""FeatureConcat: branch outputs side by side, like scikit-learn's FeatureUnion of pipelines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline, make_union
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.operators import MSC, SNV, FeatureConcat, SavitzkyGolay


@parametrize_with_checks([FeatureConcat(), FeatureConcat(branches=[[SNV()], []])])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_equals_a_feature_union_of_pipelines():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.1, 1.0, size=(30, 40))
    ours = FeatureConcat(branches=[[MSC(), SavitzkyGolay(window_length=7, deriv=1)], [SNV()], []]).fit(X[:20])
    theirs = make_union(make_pipeline(MSC(), SavitzkyGolay(window_length=7, deriv=1)), SNV(), "passthrough")
    assert np.allclose(ours.transform(X[20:]), theirs.fit(X[:20]).transform(X[20:]), rtol=0, atol=1e-12)
    assert ours.transform(X).shape == (30, 120)


def test_no_branch_is_an_error():
    with pytest.raises(ValueError, match="at least one branch"):
        FeatureConcat(branches=[]).fit(np.ones((3, 4)))
