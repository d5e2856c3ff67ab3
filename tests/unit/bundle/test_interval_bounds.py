"""FittedChain intervals on a hand-made two-target chain: each target's own conformal quantile, and what a chain
cannot give refused with a typed error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from nirdag.bundle import BundleError, FittedChain, FittedStage, predict_chain
from nirs_core.conformal import ConformalCalibration

RNG = np.random.default_rng(4)
X = RNG.normal(size=(30, 5))
Y = X @ RNG.normal(size=(5, 2))
MODEL = LinearRegression().fit(X, Y)
FAT = tuple(float(v) for v in np.sort(RNG.exponential(1.0, size=40)))
WATER = tuple(float(v) for v in np.sort(RNG.exponential(5.0, size=40)))


def _chain(**kwargs) -> FittedChain:
    facts = {"chain_id": "c" * 64, "targets": ("fat", "water"), "wavelengths": np.arange(5.0),
             "wavelength_unit": "nm", "n_components": None, "stages": (FittedStage("fold_final", (), MODEL),)}
    return FittedChain(**{**facts, **kwargs})


@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_each_target_gets_its_own_quantile(coverage):
    chain = _chain(calibration=ConformalCalibration(targets=("fat", "water"), absolute=(FAT, WATER)))
    out = predict_chain(chain, X[:7], interval=coverage)
    rank = math.ceil(41 * coverage - 1e-9)
    for target, scores in (("fat", FAT), ("water", WATER)):
        rows = out.filter(out.column("target").to_numpy(zero_copy_only=False) == target)
        y = rows.column("y_pred").to_numpy()
        np.testing.assert_allclose(rows.column("y_upper").to_numpy() - y, scores[rank - 1], rtol=1e-12)
        np.testing.assert_allclose(y - rows.column("y_lower").to_numpy(), scores[rank - 1], rtol=1e-12)


def test_too_few_scores_give_infinite_bounds():
    chain = _chain(calibration=ConformalCalibration(targets=("fat", "water"), absolute=(FAT[:9], WATER[:9])))
    out = predict_chain(chain, X[:2], interval=0.95)  # ceil(10 * 0.95) = 10 > 9 scores
    assert np.isinf(out.column("y_upper").to_numpy()).all() and np.isinf(out.column("y_lower").to_numpy()).all()


def test_leverage_scale_without_leverage_scores_is_refused():
    chain = _chain(calibration=ConformalCalibration(targets=("fat", "water"), absolute=(FAT, WATER)))
    with pytest.raises(BundleError, match=r"no leverage-scaled calibration scores.*'absolute'"):
        predict_chain(chain, X[:2], interval=0.9, interval_scale="leverage")


def test_a_calibration_of_other_targets_or_leverage_without_a_domain_is_refused():
    with pytest.raises(BundleError, match="calibration lists targets"):
        _chain(calibration=ConformalCalibration(targets=("fat",), absolute=(FAT,)))
    with pytest.raises(BundleError, match="no applicability domain"):
        _chain(calibration=ConformalCalibration(targets=("fat", "water"), absolute=(FAT, WATER),
                                                leverage=(FAT, WATER)))


def test_a_chain_without_calibration_says_why():
    chain = _chain(calibration_note="the bundle was written before nirdag carried them")
    with pytest.raises(BundleError, match=r"no calibration residuals.*written before"):
        predict_chain(chain, X[:2], interval=0.9)
