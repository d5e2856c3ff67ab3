"""MC-UVE, interval PLS and selectivity-ratio selection against their algorithms re-derived here with
scikit-learn's PLSRegression (and plain numpy), on the rows given to fit only, seeded, with a width the compiler
checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from nirs_core.data import tecator
from nirs_core.diagnostics import latent_of, selectivity_ratio
from nirs_core.operators import MCUVE, IntervalPLS, PLSSweep, SRSelect
from relspec import CompileError, SpecError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

DATA = tecator()
X, Y = DATA.spectra[:100], DATA.target("fat")[:100]


def _pls(k: int) -> PLSRegression:
    return PLSRegression(k, scale=False, tol=1e-15, max_iter=5000)


def _mc_uve_by_hand(X, y, k, runs, fraction, n_keep, threshold, seed):
    """Cai et al. (2008): coefficients of PLS models of seeded sub-samples, stability mean / std (ddof=1)."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    draw = min(n - 1, max(2, int(np.rint(fraction * n))))
    B = []
    for _ in range(runs):
        rows = rng.choice(n, size=draw, replace=False)
        B.append(_pls(min(k, draw - 1)).fit(X[rows], y[rows]).coef_.ravel())
    B = np.array(B)
    s = np.abs(B.mean(axis=0) / B.std(axis=0, ddof=1))
    keep = set(np.argsort(-s, kind="stable")[:n_keep].tolist())
    if threshold is not None:
        keep |= set(np.flatnonzero(s > threshold).tolist())
    return s, sorted(keep)


def test_mc_uve_equals_its_algorithm_re_derived():
    ours = MCUVE(n_components=4, n_runs=12, sample_fraction=0.7, n_keep=10, random_state=5).fit(X, Y)
    stability, keep = _mc_uve_by_hand(X, Y, 4, 12, 0.7, 10, None, 5)
    np.testing.assert_allclose(np.abs(ours.stability_), stability, rtol=1e-6)
    assert ours.support_.tolist() == keep
    with_threshold = MCUVE(4, 12, 0.7, n_keep=3, threshold=float(np.median(stability)), random_state=5).fit(X, Y)
    assert with_threshold.support_.tolist() == _mc_uve_by_hand(X, Y, 4, 12, 0.7, 3, np.median(stability), 5)[1]
    assert with_threshold.support_.size == 50  # the half above the median (the 3 largest are among them)


def test_mc_uve_keeps_the_informative_variables_and_is_seeded():
    rng = np.random.default_rng(2)
    Xr = rng.normal(size=(80, 40))
    yr = 2 * Xr[:, 6] - Xr[:, 33] + 0.05 * rng.normal(size=80)
    first = MCUVE(n_components=2, n_runs=30, n_keep=2, random_state=1).fit(Xr, yr)
    assert first.support_.tolist() == [6, 33]
    again = MCUVE(n_components=2, n_runs=30, n_keep=2, random_state=1).fit(Xr, yr)
    assert np.array_equal(first.coefficients_, again.coefficients_)
    other = MCUVE(n_components=2, n_runs=30, n_keep=2, random_state=2).fit(Xr, yr)
    assert not np.array_equal(first.coefficients_, other.coefficients_)
    assert np.array_equal(first.transform(Xr[:5]), Xr[:5][:, [6, 33]])
    with pytest.raises(ValueError, match=r"n_keep=41 is more than the 40 columns"):
        MCUVE(n_keep=41).fit(Xr, yr)


def _cv_rmse(X, y, k, folds):
    pred = np.empty(y.size)
    for val in np.array_split(np.arange(y.size), folds):
        train = np.setdiff1d(np.arange(y.size), val)
        pred[val] = _pls(min(k, train.size - 1, X.shape[1])).fit(X[train], y[train]).predict(X[val]).ravel()
    return np.sqrt(np.mean((pred - y) ** 2))


def _ipls_by_hand(X, y, n_intervals, mode, k, folds):
    """Nørgaard et al. (2000): greedy forward / backward steps on contiguous intervals, stopping without a gain."""
    intervals = np.array_split(np.arange(X.shape[1]), n_intervals)

    def rmse(chosen):
        return _cv_rmse(X[:, np.concatenate([intervals[i] for i in sorted(chosen)])], y, k, folds)

    if mode == "forward":
        kept, best = [], np.inf
        while len(kept) < n_intervals:
            score, i = min((rmse([*kept, i]), i) for i in range(n_intervals) if i not in kept)
            if score >= best:
                break
            kept, best = [*kept, i], score
    else:
        kept = list(range(n_intervals))
        best = rmse(kept)
        while len(kept) > 1:
            score, i = min((rmse([j for j in kept if j != i]), i) for i in kept)
            if score >= best:
                break
            kept, best = [j for j in kept if j != i], score
    return sorted(kept)


@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_interval_pls_equals_its_algorithm_re_derived(mode):
    ours = IntervalPLS(n_intervals=8, mode=mode, n_components=4, cv=4).fit(X, Y)
    expected = _ipls_by_hand(X, Y, 8, mode, 4, 4)
    assert ours.selected_intervals_.tolist() == expected
    assert ours.support_.tolist() == np.concatenate([np.array_split(np.arange(100), 8)[i] for i in expected]).tolist()
    rmses = [r for _, r in ours.steps_]
    assert rmses == sorted(rmses, reverse=True) and len(set(rmses)) == len(rmses)  # every step lowered it


def test_interval_pls_finds_the_informative_interval_on_the_fitted_rows_only():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(60, 40))
    yr = Xr[:, 21] + Xr[:, 23] + 0.05 * rng.normal(size=60)
    assert IntervalPLS(n_intervals=8, n_components=2).fit(Xr, yr).selected_intervals_.tolist() == [4]  # 20..24
    # a target that depends on other columns in the second half of the rows: each half picks its own interval
    yr2 = np.where(np.arange(60) < 30, yr, Xr[:, 2] + Xr[:, 3])
    first = IntervalPLS(n_intervals=8, n_components=2, cv=3).fit(Xr[:30], yr2[:30])
    second = IntervalPLS(n_intervals=8, n_components=2, cv=3).fit(Xr[30:], yr2[30:])
    assert 4 in first.selected_intervals_ and 0 in second.selected_intervals_
    with pytest.raises(ValueError, match=r"n_intervals=41 is more than the 40 columns"):
        IntervalPLS(n_intervals=41).fit(Xr, yr)
    with pytest.raises(ValueError, match=r"5 rows are too few for a 5-fold"):
        IntervalPLS(n_intervals=4).fit(Xr[:5], yr[:5])


def _sr_by_hand(X, y, k):
    """Rajalahti et al. (2009) / Kvalheim (2010): target projection of the centred X on the PLS regression vector."""
    Xc = X - X.mean(axis=0)
    b = _pls(k).fit(X, y).coef_.ravel()
    t = Xc @ (b / np.linalg.norm(b))
    p = Xc.T @ t / (t @ t)
    explained = np.outer(t, p)
    return (explained**2).sum(axis=0) / ((Xc - explained) ** 2).sum(axis=0)


def test_selectivity_ratio_selection_equals_the_formula_and_the_diagnostics():
    ours = SRSelect(n_components=5, fraction=0.15).fit(X, Y)
    by_hand = _sr_by_hand(X, Y, 5)
    np.testing.assert_allclose(ours.selectivity_ratio_, by_hand, rtol=1e-6)
    pls = PLSSweep(5).fit(X, Y)
    np.testing.assert_allclose(ours.selectivity_ratio_, selectivity_ratio(latent_of(pls, 5), X)[:, 0], rtol=1e-12)
    assert ours.support_.tolist() == sorted(np.argsort(-by_hand)[:15].tolist())
    above = SRSelect(n_components=5, fraction=0.01, threshold=float(np.quantile(by_hand, 0.7))).fit(X, Y)
    assert above.support_.tolist() == np.flatnonzero(by_hand > np.quantile(by_hand, 0.7)).tolist()


def test_selectivity_ratio_keeps_the_informative_variables():
    rng = np.random.default_rng(4)
    Xr = rng.normal(size=(50, 20))
    yr = 3 * Xr[:, 4] - 2 * Xr[:, 15] + 0.1 * rng.normal(size=50)
    assert SRSelect(n_components=2, fraction=0.1).fit(Xr, yr).support_.tolist() == [4, 15]


@pytest.mark.parametrize(
    ("step", "width"),
    [
        ({"op": "mc_uve", "n_runs": 5, "n_keep": 12}, 12),
        ({"op": "ipls", "n_intervals": 8}, 12),  # 100 wavelengths in 8 intervals: the narrowest has 12
        ({"op": "sr_select", "fraction": 0.12}, 12),
    ],
)
def test_each_compiles_as_a_fitted_step_whose_width_bounds_the_model(step, width):
    spec = {
        "target": "fat",
        "seed": 9,
        "pipeline": [
            {"split": {"kind": "kfold", "n_splits": 3}},
            step,
            {"model": {"op": "pls", "n_components": [2, width]}},
        ],
    }
    (fitted,) = compile_plan(decode_spec(spec), DATA.schema()).groups[0].fitted_steps
    assert fitted.op == step["op"]
    assert fitted.params.get("random_state", 9) == 9  # MC-UVE gets the run's seed
    too_many = {**spec, "pipeline": [*spec["pipeline"][:2], {"model": {"op": "pls", "n_components": width + 1}}]}
    with pytest.raises(CompileError, match=rf"n_components \[{width + 1}\].*{width} columns"):
        compile_plan(decode_spec(too_many), DATA.schema())


@pytest.mark.parametrize(("step", "error", "message"), [
    ({"op": "ipls", "mode": "sideways"}, SpecError, r"Invalid enum value 'sideways' - at `\$\.pipeline\[1\]\.mode`"),
    ({"op": "mc_uve", "threshold": -1.0}, SpecError, r"> 0\.0 - at `\$\.pipeline\[1\]\.threshold`"),
    ({"op": "sr_select", "fraction": 0}, SpecError, r"> 0\.0 - at `\$\.pipeline\[1\]\.fraction`"),
    ({"op": "mc_uve", "sample_fraction": 1.0}, SpecError, r"< 1\.0 - at `\$\.pipeline\[1\]\.sample_fraction`"),
    ({"op": "ipls", "n_intervals": 101}, CompileError, r"n_intervals=101 is more than the 100 columns"),
    ({"op": "mc_uve", "n_keep": 101}, CompileError, r"n_keep=101 is more than the 100 columns"),
    ({"op": "ipls", "cv": 100}, CompileError, r"path 'main' cannot run on this data: .*too few for a 100-fold"),
])
def test_bad_parameters_are_refused_before_anything_runs(step, error, message):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, step,
                                          {"model": {"op": "pls", "n_components": [2]}}]}
    with pytest.raises(error, match=message):
        compile_plan(decode_spec(spec), DATA.schema())
