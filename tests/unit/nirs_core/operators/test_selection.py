"""VIP selection and CARS. VIP equals the diagnostics' VIP and the formula written out, the largest n_keep are kept,
decided on the rows given to fit only; CARS equals its algorithm re-derived, is seeded by the run and guarantees
min_keep columns; both are fitted per fold with a width the compiler checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from nirs_core.data import tecator
from nirs_core.diagnostics import latent_of, vip
from nirs_core.operators import CARS, PLSSweep, VIPSelect
from nirs_core.operators.selection import cars_ratios
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

DATA = tecator()
X, Y = DATA.spectra[:120], DATA.target("fat")[:120]


def _vip_by_hand(X: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Chong & Jun (2005), eq. (1), from scikit-learn-free NIPALS PLS1 written out."""
    E, f = X - X.mean(axis=0), y - y.mean()
    W, T, Q = [], [], []
    for _ in range(k):
        w = E.T @ f
        w /= np.linalg.norm(w)
        t = E @ w
        p, q = E.T @ t / (t @ t), (f @ t) / (t @ t)
        E, f = E - np.outer(t, p), f - q * t
        W.append(w), T.append(t), Q.append(q)
    W, ss = np.column_stack(W), np.array(Q) ** 2 * np.einsum("ij,ij->j", np.column_stack(T), np.column_stack(T))
    return np.sqrt(X.shape[1] * (W**2 @ ss) / ss.sum())


def test_vip_equals_the_diagnostics_and_the_formula_written_out():
    selector = VIPSelect(n_components=6, n_keep=10).fit(X, Y)
    pls = PLSSweep(6).fit(X, Y)
    from_diagnostics = vip(latent_of(pls, 6), (X - pls.x_mean_) @ pls.x_rotations_)[:, 0]
    assert np.allclose(selector.vip_, from_diagnostics, rtol=1e-10)
    assert np.allclose(selector.vip_, _vip_by_hand(X, Y, 6), rtol=1e-6)
    assert np.mean(selector.vip_**2) == pytest.approx(1.0)


def test_the_largest_vips_are_kept_in_column_order():
    selector = VIPSelect(n_components=4, n_keep=15).fit(X, Y)
    expected = np.sort(np.argsort(-selector.vip_)[:15])
    assert np.array_equal(selector.support_, expected)
    assert np.array_equal(selector.transform(DATA.spectra[150:160]), DATA.spectra[150:160][:, expected])
    with pytest.raises(ValueError, match=r"n_keep=101 is more than the 100 columns"):
        VIPSelect(n_keep=101).fit(X, Y)


def test_the_selection_is_decided_on_the_fitted_rows_only():
    first, other = VIPSelect(4, 10).fit(X[:60], Y[:60]), VIPSelect(4, 10).fit(X[60:], Y[60:])
    assert not np.array_equal(first.vip_, other.vip_)
    assert np.array_equal(VIPSelect(4, 10).fit(X[:60], Y[:60]).support_, first.support_)


def test_vip_select_compiles_as_a_fitted_step_bounding_the_model_components():
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                          {"op": "vip_select", "n_components": 5, "n_keep": 12},
                                          {"model": {"op": "pls", "n_components": [2, 8]}}]}
    plan = compile_plan(decode_spec(spec), DATA.schema())
    assert [r.op for r in plan.groups[0].fitted_steps] == ["vip_select"]
    too_many = {**spec, "pipeline": [*spec["pipeline"][:3], {"model": {"op": "pls", "n_components": 13}}]}
    with pytest.raises(CompileError, match=r"n_components \[13\].*12 columns"):
        compile_plan(decode_spec(too_many), DATA.schema())
    cropped = {**spec, "pipeline": [*spec["pipeline"][:3], {"op": "crop", "start": 900, "stop": 1000},
                                    spec["pipeline"][3]]}
    with pytest.raises(CompileError, match="after vip_select the columns are its features"):
        compile_plan(decode_spec(cropped), DATA.schema())


def test_the_exponentially_decreasing_ratios_run_from_all_to_two_variables():
    ratios = cars_ratios(100, 50)
    assert ratios[0] == pytest.approx(1.0) and ratios[-1] * 100 == pytest.approx(2.0)
    assert np.all(np.diff(ratios) < 0)


def _cars_by_hand(X, y, k, runs, fraction, folds, min_keep, seed):
    """Li et al. (2009) written out with scikit-learn's PLS and the same draws from the same Generator."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    a, decay = (p / 2) ** (1 / (runs - 1)), np.log(p / 2) / (runs - 1)
    kept, subsets = np.arange(p), []
    for i in range(1, runs + 1):
        rows = rng.choice(n, size=max(2, int(np.rint(fraction * n))), replace=False)
        pls = PLSRegression(min(k, rows.size - 1, kept.size), scale=False, tol=1e-15, max_iter=5000)
        b = np.abs(pls.fit(X[np.ix_(rows, kept)], y[rows]).coef_.ravel())
        w = b / b.sum()
        count = min(kept.size, max(int(np.rint(a * np.exp(-decay * i) * p)), min_keep))
        top = np.argsort(-w, kind="stable")[:count]
        kept = kept[np.unique(rng.choice(top, size=count, replace=True, p=w[top] / w[top].sum()))]
        subsets.append(kept)
    scores = []
    for s in subsets:
        if s.size < min_keep:
            scores.append(np.inf)
            continue
        pred = np.empty(n)
        for val in np.array_split(np.arange(n), folds):
            train = np.setdiff1d(np.arange(n), val)
            model = PLSRegression(min(k, train.size - 1, s.size), scale=False, tol=1e-15, max_iter=5000)
            pred[val] = model.fit(X[np.ix_(train, s)], y[train]).predict(X[np.ix_(val, s)]).ravel()
        scores.append(np.sqrt(np.mean((pred - y) ** 2)))
    best = min(range(runs), key=lambda i: (scores[i], subsets[i].size, i))
    return subsets, subsets[best]


def test_cars_equals_its_published_algorithm_re_derived():
    Xs, ys = X[:80], Y[:80]
    cars = CARS(n_components=4, n_runs=15, sample_fraction=0.8, cv_folds=4, min_keep=5, random_state=11).fit(Xs, ys)
    subsets, support = _cars_by_hand(Xs, ys, 4, 15, 0.8, 4, 5, 11)
    assert [s.tolist() for s in cars.subsets_] == [s.tolist() for s in subsets]
    assert cars.support_.tolist() == support.tolist()


def test_cars_finds_the_informative_wavelengths_and_is_seeded():
    rng = np.random.default_rng(1)
    Xr = rng.normal(size=(80, 40))
    yr = 2 * Xr[:, 5] - Xr[:, 30] + 0.05 * rng.normal(size=80)
    first = CARS(n_components=2, n_runs=25, min_keep=2, random_state=3).fit(Xr, yr)
    assert {5, 30} <= set(first.support_.tolist()) and first.support_.size < 10
    again = CARS(n_components=2, n_runs=25, min_keep=2, random_state=3).fit(Xr, yr)
    assert np.array_equal(first.support_, again.support_)
    assert all(s.size >= 1 for s in first.subsets_) and first.support_.size >= 2


def test_cars_gets_the_run_seed_and_guarantees_min_keep_columns_to_the_model():
    spec = {"target": "fat", "seed": 7, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "cars", "n_runs": 10, "min_keep": 8},
        {"model": {"op": "pls", "n_components": [2, 8]}}]}
    (step,) = compile_plan(decode_spec(spec), DATA.schema()).groups[0].fitted_steps
    assert step.op == "cars" and step.params["random_state"] == 7
    assert compile_plan(decode_spec(spec), DATA.schema()).groups[0].fitted_steps[0].step_hash == step.step_hash
    other = compile_plan(decode_spec({**spec, "seed": 8}), DATA.schema()).groups[0].fitted_steps[0]
    assert other.step_hash != step.step_hash
    too_many = {**spec, "pipeline": [*spec["pipeline"][:2], {"model": {"op": "pls", "n_components": 9}}]}
    with pytest.raises(CompileError, match=r"n_components \[9\].*8 columns"):
        compile_plan(decode_spec(too_many), DATA.schema())
