"""Baselines through pybaselines: each equals pybaselines' own function on every row, ModPoly also a numpy
re-derivation of Lieber & Mahadevan-Jansen (2003), and all remove a known baseline under a peak."""

from __future__ import annotations

import numpy as np
import pytest
from pybaselines import morphological, polynomial, smooth, whittaker

from nirs_core.data import tecator
from nirs_core.operators import ARPLS, SNIP, IModPoly, ModPoly, RollingBall
from relspec.compile import compile_plan
from relspec.spec import decode_spec

X = tecator().spectra[:6]

CASES = [
    (ARPLS(lam=1e4, n_iter=30), lambda x: whittaker.arpls(x, lam=1e4, max_iter=30, tol=1e-3)[0]),
    (SNIP(max_half_window=12, smooth_half_window=2),
     lambda x: smooth.snip(x, max_half_window=12, smooth_half_window=2)[0]),
    (RollingBall(half_window=15), lambda x: morphological.rolling_ball(x, half_window=15)[0]),
    (ModPoly(poly_order=3), lambda x: polynomial.modpoly(x, poly_order=3, tol=1e-3, max_iter=250)[0]),
    (IModPoly(poly_order=2, num_std=0.5),
     lambda x: polynomial.imodpoly(x, poly_order=2, tol=1e-3, max_iter=250, num_std=0.5)[0]),
]


@pytest.mark.parametrize(("op", "reference"), CASES, ids=lambda c: type(c).__name__)
def test_each_row_is_corrected_by_the_pybaselines_function(op, reference):
    expected = np.vstack([x - reference(x) for x in X])
    assert np.abs(op.fit_transform(X) - expected).max() < 1e-12


def _modpoly_by_hand(x: np.ndarray, order: int, tol: float, max_iter: int) -> np.ndarray:
    """Lieber & Mahadevan-Jansen (2003): fit, clip the points above the fit to it, refit until the fit stops moving
    (relative change of the baseline below tol), on x positions scaled to [-1, 1]."""
    t = np.linspace(-1.0, 1.0, x.size)
    V = np.vander(t, order + 1)
    y = x.copy()
    base = V @ np.linalg.lstsq(V, y, rcond=None)[0]
    for _ in range(max_iter):
        y = np.minimum(y, base)
        new = V @ np.linalg.lstsq(V, y, rcond=None)[0]
        done = np.linalg.norm(new - base) / np.linalg.norm(base) < tol
        base = new
        if done:
            break
    return x - base


def test_modpoly_equals_its_published_algorithm_re_derived():
    expected = np.vstack([_modpoly_by_hand(x, 2, 1e-3, 250) for x in X])
    assert np.abs(ModPoly(poly_order=2).fit_transform(X) - expected).max() < 1e-8


@pytest.mark.parametrize("op", [ARPLS(lam=1e3), SNIP(max_half_window=15), RollingBall(half_window=8),
                                ModPoly(poly_order=1), IModPoly(poly_order=1)], ids=lambda o: type(o).__name__)
def test_a_sloped_baseline_under_a_peak_is_removed(op):
    t = np.linspace(0.0, 1.0, 100)
    peak = np.exp(-(((t - 0.5) / 0.03) ** 2))
    corrected = op.fit_transform((1.0 + 2.0 * t + peak)[None, :])[0]
    away_from_the_peak = np.r_[10:30, 70:90]  # and from the ends, where a rolling ball rises with the slope
    assert np.abs(corrected[away_from_the_peak]).max() < 0.05
    assert corrected[50] == pytest.approx(1.0, abs=0.12)


@pytest.mark.parametrize(("op", "message"), [
    (SNIP(max_half_window=60), "max_half_window=60 spans 121 columns, more than the 100"),
    (RollingBall(half_window=50), "half_window=50 spans 101 columns"),
    (ModPoly(poly_order=100), "poly_order=100 needs more than 100 columns"),
])
def test_a_window_or_order_too_large_for_the_spectra_is_refused(op, message):
    with pytest.raises(ValueError, match=message):
        op.fit(X)


def test_the_baselines_are_spec_operators_hoisted_above_the_folds():
    spec = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_or_": [{"op": "arpls", "lam": 1e4}, {"op": "snip"}, {"op": "rolling_ball"}, {"op": "modpoly"},
                  {"op": "imodpoly", "num_std": 2.0}]},
        {"model": {"op": "pls", "n_components": 2}}]})
    plan = compile_plan(spec, tecator().schema())
    assert sorted(h.step.op for h in plan.hoisted) == ["arpls", "imodpoly", "modpoly", "rolling_ball", "snip"]
    assert all(not g.fitted_steps for g in plan.groups)


@pytest.mark.parametrize("op", [ARPLS(), SNIP(), RollingBall(), ModPoly(), IModPoly()], ids=lambda o: type(o).__name__)
def test_a_flat_row_is_its_own_baseline_without_warnings(op, recwarn):
    flat = np.vstack([np.zeros(50), np.full(50, 0.5)])
    assert np.array_equal(op.fit_transform(flat), np.zeros((2, 50)))
    assert not recwarn.list
