"""MC-UVE, interval PLS and selectivity-ratio selection in real runs: decided on each fold's training rows, with
the run's seed, exactly as the same scikit-learn pipeline in cross_val_predict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline

import nirdag
from nirs_core.data import SpectraDataset
from nirs_core.operators import MCUVE, SNV, IntervalPLS, SRSelect


@pytest.fixture(scope="module")
def small(tecator) -> SpectraDataset:
    rows = np.concatenate([tecator.rows("train")[:48], tecator.rows("test")[:8]])
    mask = np.zeros(tecator.n_samples, dtype=bool)
    mask[rows] = True
    return tecator.select(mask=mask, copy=True)


@pytest.mark.parametrize(("step", "selector"), [
    ({"op": "mc_uve", "n_components": 3, "n_runs": 15, "n_keep": 12},
     MCUVE(n_components=3, n_runs=15, n_keep=12, random_state=4)),
    ({"op": "ipls", "n_intervals": 5, "mode": "backward", "n_components": 3, "cv": 3},
     IntervalPLS(n_intervals=5, mode="backward", n_components=3, cv=3)),
    ({"op": "sr_select", "n_components": 3, "fraction": 0.2, "threshold": 0.5},
     SRSelect(n_components=3, fraction=0.2, threshold=0.5)),
], ids=["mc_uve", "ipls", "sr_select"])
def test_the_selection_is_decided_per_fold_as_in_a_scikit_learn_pipeline(small, tmp_path, step, selector):
    spec = {"target": "fat", "seed": 4, "pipeline": [{"split": {"kind": "contiguous_blocks", "n_splits": 4}},
                                                     {"op": "snv"}, step,
                                                     {"model": {"op": "pls", "n_components": [3]}}]}
    run = nirdag.run(spec, small, workspace=tmp_path / "ws", seed=4)
    train = small.rows("train")
    X, y = small.spectra[train], small.target("fat")[train]
    pipeline = make_pipeline(SNV(), selector, PLSRegression(3, scale=False))
    expected = cross_val_predict(pipeline, X, y, cv=KFold(4, shuffle=False)).ravel()
    rows = run.sql(f"SELECT s.value FROM scores s WHERE s.run_id = '{run.run_id}' AND s.fold_id = 'cv' "
                   "AND s.metric = 'rmse'").to_pylist()
    assert [r["value"] for r in rows] == [pytest.approx(np.sqrt(np.mean((expected - y) ** 2)), rel=1e-9)]
