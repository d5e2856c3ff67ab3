"""X scalers, local SNV and PCA features against scikit-learn or a numpy re-derivation written here; the fitted ones
learn from the rows given to fit only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler

from nirs_core.data import tecator
from nirs_core.operators import SNV, BlockScale, LocalSNV, MinMaxScale, ParetoScale, PCAFeatures, RangeScale
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

DATA = tecator()
TRAIN, OTHER = DATA.spectra[:60], DATA.spectra[60:90]


def test_minmax_equals_scikit_learn_min_max_scaler():
    expected = MinMaxScaler().fit(TRAIN).transform(OTHER)
    assert np.abs(MinMaxScale().fit(TRAIN).transform(OTHER) - expected).max() < 1e-12


def test_pareto_divides_the_centred_columns_by_the_root_of_their_sd():
    expected = (OTHER - TRAIN.mean(axis=0)) / np.sqrt(TRAIN.std(axis=0, ddof=1))
    assert np.abs(ParetoScale().fit(TRAIN).transform(OTHER) - expected).max() < 1e-12


def test_range_scaling_divides_the_centred_columns_by_their_range():
    expected = (OTHER - TRAIN.mean(axis=0)) / (TRAIN.max(axis=0) - TRAIN.min(axis=0))
    assert np.abs(RangeScale().fit(TRAIN).transform(OTHER) - expected).max() < 1e-12


@pytest.mark.parametrize("n_blocks", [1, 3, 7])
def test_block_scaling_gives_every_block_unit_total_variance(n_blocks):
    scaler = BlockScale(n_blocks=n_blocks).fit(TRAIN)
    out = scaler.transform(TRAIN)
    edges = np.cumsum([0, *scaler.block_sizes_])
    for a, b in itertools.pairwise(edges):
        assert out[:, a:b].var(axis=0, ddof=1).sum() == pytest.approx(1.0, rel=1e-12)
    block = np.array_split(np.arange(100), n_blocks)[0]
    expected = (OTHER[:, block] - TRAIN[:, block].mean(axis=0)) / np.sqrt(TRAIN[:, block].var(axis=0, ddof=1).sum())
    assert np.abs(scaler.transform(OTHER)[:, block] - expected).max() < 1e-12


@pytest.mark.parametrize("cls", [MinMaxScale, ParetoScale, RangeScale, BlockScale])
def test_a_constant_column_is_shifted_not_divided_by_zero(cls):
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    out = (cls(n_blocks=2) if cls is BlockScale else cls()).fit(X).transform(X)
    assert np.all(np.isfinite(out)) and np.allclose(out[:, 1], out[0, 1])


def test_the_scalers_are_fitted_on_the_training_rows_only():
    shifted = OTHER + 100.0
    for scaler in (MinMaxScale(), ParetoScale(), RangeScale(), BlockScale(n_blocks=2)):
        fitted = scaler.fit(TRAIN)
        assert np.array_equal(fitted.transform(TRAIN), type(scaler)(**scaler.get_params()).fit(TRAIN).transform(TRAIN))
        assert fitted.transform(shifted).mean() > 10  # the validation shift is not learnt away


def _local_snv_by_loops(X: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    out = np.empty_like(X)
    for i, x in enumerate(X):
        for j in range(x.size):
            w = x[max(0, j - half):j + half + 1]
            sd = w.std()
            out[i, j] = (x[j] - w.mean()) / (sd if sd > 0 else 1.0)
    return out


@pytest.mark.parametrize("window", [3, 11, 99])
def test_local_snv_equals_its_definition_written_with_loops(window):
    X = DATA.spectra[:4]
    assert np.abs(LocalSNV(window=window).fit_transform(X) - _local_snv_by_loops(X, window)).max() < 1e-9


def test_local_snv_at_the_middle_of_a_full_window_is_snv():
    X = DATA.spectra[:3, :99]
    assert np.abs(LocalSNV(window=99).fit_transform(X)[:, 49] - SNV().fit_transform(X)[:, 49]).max() < 1e-12
    flat = np.ones((1, 20))
    assert np.array_equal(LocalSNV(window=5).fit_transform(flat), np.zeros((1, 20)))
    with pytest.raises(ValueError, match="window=101 is wider than the 100 columns"):
        LocalSNV(window=101).fit(DATA.spectra[:2])


def test_pca_features_are_the_scores_of_scikit_learn_pca():
    ours = PCAFeatures(n_components=5).fit(TRAIN)
    theirs = PCA(5, svd_solver="full").fit(TRAIN)
    assert np.abs(ours.transform(OTHER) - theirs.transform(OTHER)).max() < 1e-9
    assert np.allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-9)
    assert np.array_equal(ours.wavelengths_out_, np.arange(5.0))
    with pytest.raises(ValueError, match=r"n_components=60 is out of range.*\[1, 59\]"):
        PCAFeatures(n_components=60).fit(TRAIN)


def test_new_steps_compile_fitted_per_fold_and_pca_bounds_the_model_components():
    spec = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_or_": [{"op": "minmax"}, {"op": "pareto"}, {"op": "range_scale"}, {"op": "block_scale", "n_blocks": 4},
                  {"op": "local_snv", "window": 15}]},
        {"op": "pca", "n_components": 8}, {"model": {"op": "pls", "n_components": [2, 8]}}]})
    plan = compile_plan(spec, DATA.schema())
    assert [h.step.op for h in plan.hoisted] == ["local_snv"]
    assert sorted(g.fitted_steps[0].op for g in plan.groups) == ["block_scale", "minmax", "pareto", "pca",
                                                                 "range_scale"]
    too_many = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "pca", "n_components": 4},
        {"model": {"op": "pls", "n_components": 6}}]})
    with pytest.raises(CompileError, match=r"n_components \[6\].*4 columns"):
        compile_plan(too_many, DATA.schema())
