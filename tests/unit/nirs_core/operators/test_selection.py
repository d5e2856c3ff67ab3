"""VIP selection: VIP equals the diagnostics' VIP and the formula written out, the largest n_keep are kept, it is
decided on the rows given to fit only, and as a spec step it is fitted per fold with a width known at compile time."""

from __future__ import annotations

import numpy as np
import pytest

from nirs_core.data import tecator
from nirs_core.diagnostics import latent_of, vip
from nirs_core.operators import PLSSweep, VIPSelect
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
