"""Every estimator of ours passes scikit-learn's check_estimator but for the checks nirs_core.operators.conformance
declares for its class, with a reason: exactly those fail (a declared check that passes fails this test too)."""

from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import check_estimator

from nirs_core import operators as ops
from nirs_core.operators.conformance import expected_failed_checks
from nirs_core.operators.registry import estimator_classes

# Parameters that suit the generic check data (2 to 10 columns): the smallest windows, one component. Estimators
# absent here are checked with their defaults.
CHECK_PARAMS = {
    ops.SavitzkyGolay: {"window_length": 3, "polyorder": 1}, ops.GapSegmentDerivative: {"segment": 1, "gap": 1},
    ops.SNIP: {"max_half_window": 1}, ops.RollingBall: {"half_window": 1}, ops.ModPoly: {"poly_order": 0},
    ops.IModPoly: {"poly_order": 0}, ops.LocalSNV: {"window": 3},
    ops.WaveletDenoise: {"wavelet": "haar", "level": 1}, ops.DWTFeatures: {"wavelet": "haar", "level": 1},
    ops.PCAFeatures: {"n_components": 1}, ops.Crop: {"start": 0.0, "stop": 1.0},
    ops.MaskBands: {"bands": [[0.0, 0.5]]}, ops.Resample: {"new_wavelengths": [0.5]},
    ops.EPO: {"differences": [[1.0, 0.0, 0.0]]}, ops.FeatureConcat: {"branches": [[ops.SNV()]]},
    ops.PLSSweep: {"n_components": 1}, ops.VIPSelect: {"n_components": 1, "n_keep": 1},
    ops.CARS: {"n_components": 1, "n_runs": 3, "min_keep": 1, "cv_folds": 2, "random_state": 0},
    ops.MCUVE: {"n_components": 1, "n_runs": 3, "n_keep": 1, "random_state": 0},
    ops.IntervalPLS: {"n_intervals": 2, "n_components": 1, "cv": 2}, ops.SRSelect: {"n_components": 1},
    ops.XOutliers: {"n_components": 1}, ops.Leverage: {"n_components": 1},
}


@pytest.mark.parametrize("cls", estimator_classes(), ids=lambda c: c.__name__)
def test_exactly_the_declared_checks_fail(cls):
    estimator = cls(**CHECK_PARAMS.get(cls, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    declared = expected_failed_checks(estimator)
    assert failed == set(declared), {"undeclared failures": sorted(failed - set(declared)),
                                     "declared but passing": sorted(set(declared) - failed)}
    assert all(reason.strip() for reason in declared.values())
