"""OPLS and OPLS-DA: predictions equal PLS (PLS-DA) with as many components (Trygg & Wold 2002), equal a
re-derivation that filters new rows one orthogonal component at a time, orthogonal scores are orthogonal to y, one
fit serves every count."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.data import SpectraDataset, tecator
from nirs_core.operators import OPLS, OPLSDA, PLSDA
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

DATA = tecator()
X, Y = DATA.spectra[:120], DATA.target("fat")[:120]
X_NEW = DATA.spectra[120:170]


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_opls_predicts_as_pls_with_the_same_number_of_components(k):
    pls = PLSRegression(k, scale=False, tol=1e-15, max_iter=5000).fit(X, Y)
    opls = OPLS(n_components=k).fit(X, Y)
    # equal in exact arithmetic; the sequential deflations of both drift apart as k grows (1e-7 at k = 10 on Tecator)
    assert np.abs(opls.predict(X_NEW) - pls.predict(X_NEW).ravel()).max() < 1e-8 * np.ptp(Y)


def _opls_by_hand(X: np.ndarray, y: np.ndarray, n_orth: int, X_new: np.ndarray) -> np.ndarray:
    """Trygg & Wold (2002), Table 1, for one y: extract n_orth orthogonal components, then predict new rows by
    removing each orthogonal component from them in turn (t_o,new = x w_o; x <- x - t_o,new p_o')."""
    xm, ym = X.mean(axis=0), y.mean()
    E, yc = X - xm, y - ym
    w = E.T @ yc / (yc @ yc)
    w /= np.linalg.norm(w)
    filters = []
    for _ in range(n_orth):
        t = E @ w
        p = E.T @ t / (t @ t)
        w_o = p - (w @ p) / (w @ w) * w
        w_o /= np.linalg.norm(w_o)
        t_o = E @ w_o
        p_o = E.T @ t_o / (t_o @ t_o)
        E = E - np.outer(t_o, p_o)
        filters.append((w_o, p_o))
    t = E @ w
    c = (yc @ t) / (t @ t)
    E_new = X_new - xm
    for w_o, p_o in filters:
        E_new = E_new - np.outer(E_new @ w_o, p_o)
    return ym + c * (E_new @ w)


def test_every_count_of_one_fit_equals_the_published_algorithm_re_derived():
    opls = OPLS(n_components=6).fit(X, Y)
    every = opls.predict_all(X_NEW)[:, :, 0]
    for j in range(6):
        assert np.abs(every[j] - _opls_by_hand(X, Y, j, X_NEW)).max() < 1e-9


def test_orthogonal_scores_are_orthogonal_to_y_and_the_weights_to_w():
    opls = OPLS(n_components=4).fit(X, Y)
    E = X - opls.x_mean_
    for w_o, p_o in zip(opls.orthogonal_weights_, opls.orthogonal_loadings_, strict=True):
        t_o = E @ w_o
        assert abs(t_o @ (Y - Y.mean())) < 1e-8 * np.linalg.norm(t_o) * np.linalg.norm(Y - Y.mean())
        assert abs(w_o @ opls.predictive_weights_) < 1e-12
        E = E - np.outer(t_o, p_o)


def test_a_constant_target_and_too_many_components_are_refused():
    with pytest.raises(ValueError, match="y is constant"):
        OPLS(2).fit(X, np.full(Y.size, 3.0))
    with pytest.raises(ValueError, match=r"OPLS: n_components=101 is out of range"):
        OPLS(101).fit(X, Y)


def test_opls_is_a_spec_model_swept_by_one_fit():
    spec = decode_spec({"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                                       {"model": {"op": "opls", "n_components": {"_range_": [1, 6]}}}]})
    plan = compile_plan(spec, DATA.schema())
    (group,) = plan.groups
    assert group.model.op == "opls" and group.model.params == {"n_components": 6}
    assert [c.n_components for c in plan.chains] == [1, 2, 3, 4, 5, 6]


def test_opls_on_several_targets_or_labels_is_refused_with_the_spec_path():
    spec = decode_spec({"target": ["fat", "protein"], "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"model": {"op": "opls", "n_components": 2}}]})
    with pytest.raises(CompileError, match=r"`opls` models one target.*\$\.pipeline\[1\]\.model\.op"):
        compile_plan(spec, DATA.schema())


@parametrize_with_checks([OPLS()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _graded(n_classes: int) -> SpectraDataset:
    fat = DATA.target("fat")
    cuts = np.quantile(fat[DATA.rows("train")], np.linspace(0, 1, n_classes + 1)[1:-1])
    grade = np.asarray([f"g{int(np.searchsorted(cuts, v))}" for v in fat])
    return SpectraDataset(name=f"graded{n_classes}", sample_ids=DATA.sample_ids, spectra=DATA.spectra,
                          wavelengths=DATA.wavelengths, wavelength_unit="nm", partition=DATA.partition,
                          targets={"grade": grade})


def test_oplsda_predicts_as_two_class_plsda_and_a_thresholded_pls():
    labels = _graded(2).target("grade")[:120]
    for k in (1, 3, 6):
        ours = OPLSDA(k).fit(X, labels).predict(X_NEW)
        assert np.array_equal(ours, PLSDA(k).fit(X, labels).predict(X_NEW))
        score = PLSRegression(k, scale=False, tol=1e-15, max_iter=5000).fit(X, labels == "g1").predict(X_NEW)
        assert np.array_equal(ours == "g1", score.ravel() > 0.5)
    with pytest.raises(ValueError, match=r"OPLSDA separates two classes: .* multiclass \(3 classes\)"):
        OPLSDA(2).fit(X, _graded(3).target("grade")[:120])


def test_oplsda_is_a_classification_model_for_two_classes_only():
    spec = {"target": "grade", "pipeline": [{"split": {"kind": "stratified", "n_splits": 3}},
                                            {"model": {"op": "oplsda", "n_components": {"_range_": [1, 4]}}}]}
    two = _graded(2)
    plan = compile_plan(decode_spec(spec), two.schema(), dataset=two)
    assert plan.task == "classification" and plan.groups[0].model.op == "oplsda"
    three = _graded(3)
    with pytest.raises(CompileError, match=r"`oplsda` separates two classes, but the target has 3.*\.model\.op`"):
        compile_plan(decode_spec(spec), three.schema(), dataset=three)
    numeric = {**spec, "target": "fat"}
    with pytest.raises(CompileError, match="`oplsda` classifies class labels"):
        compile_plan(decode_spec(numeric), DATA.schema())


@parametrize_with_checks([OPLSDA()])
def test_oplsda_is_a_sklearn_compatible_classifier(estimator, check):
    check(estimator)
