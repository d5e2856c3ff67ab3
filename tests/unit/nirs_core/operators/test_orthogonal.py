"""Unit tests of OSC and EPO: closed-form references, removed subspaces, parameter errors, sklearn API checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirs_core.data import tecator
from nirs_core.operators.orthogonal import EPO, OSC
from relspec.compile import compile_plan
from relspec.operator_map import instantiate
from relspec.spec import decode_spec

N_FEATURES = 30


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2024)


@pytest.fixture
def data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(25, N_FEATURES)) + np.linspace(0.0, 3.0, N_FEATURES)
    y = X[:, :5].sum(axis=1) + 0.1 * rng.normal(size=25)
    return X, y


# --- OSC ----------------------------------------------------------------------------------------------------


def test_osc_first_weight_is_the_top_eigenvector_of_fearns_matrix(data: tuple[np.ndarray, np.ndarray]) -> None:
    # Fearn (2000): w1 is the leading eigenvector of M X'X M with M = I - X'y (y'XX'y)^-1 y'X (X, y centred).
    X, y = data
    Xc, yc = X - X.mean(axis=0), (y - y.mean())[:, None]
    a = Xc.T @ yc
    M = np.eye(N_FEATURES) - a @ np.linalg.inv(a.T @ a) @ a.T
    _, vectors = np.linalg.eigh(M @ Xc.T @ Xc @ M)
    w1 = vectors[:, -1]
    weight = OSC(n_components=1).fit(X, y).weights_[0]
    np.testing.assert_allclose(np.abs(weight @ w1), 1.0, atol=1e-10)


def test_osc_weights_match_fearns_algorithm_recomputed_after_each_deflation(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    # The step-by-step algorithm: recompute M and the eigenvector on the deflated X for every component.
    X, y = data
    Xc, yc = X - X.mean(axis=0), (y - y.mean())[:, None]
    osc = OSC(n_components=3).fit(X, y)
    for weight, loading in zip(osc.weights_, osc.loadings_, strict=True):
        a = Xc.T @ yc
        M = np.eye(N_FEATURES) - a @ np.linalg.inv(a.T @ a) @ a.T
        w = np.linalg.eigh(M @ Xc.T @ Xc @ M)[1][:, -1]
        w = w if w @ weight > 0 else -w
        t = Xc @ w
        p = Xc.T @ t / (t @ t)
        np.testing.assert_allclose(weight, w, atol=1e-9)
        np.testing.assert_allclose(loading, p, atol=1e-9)
        Xc = Xc - np.outer(t, p)


def test_osc_removed_part_is_orthogonal_to_y_and_keeps_the_covariance_with_y(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    yc = y - y.mean()
    out = OSC(n_components=3).fit(X, y).transform(X)
    removed = X - out
    np.testing.assert_allclose(removed.T @ yc, 0.0, atol=1e-9)
    np.testing.assert_allclose(out.T @ yc, X.T @ yc, atol=1e-9)
    # The level of the spectra is kept: removed scores are centred on the fit rows.
    np.testing.assert_allclose(out.mean(axis=0), X.mean(axis=0), atol=1e-12)


def test_osc_removes_an_interferent_uncorrelated_with_y_exactly(rng: np.random.Generator) -> None:
    # X = y s1 + c s2 with c centred and exactly orthogonal to y: one OSC component removes c s2 and nothing else.
    n = 20
    s1, s2 = rng.normal(size=N_FEATURES), rng.normal(size=N_FEATURES)
    y = rng.normal(size=n)
    yc = y - y.mean()
    c = rng.normal(size=n) * 5.0
    c -= c.mean()
    c -= (c @ yc) / (yc @ yc) * yc
    X = 10.0 + np.outer(y, s1) + np.outer(c, s2)
    out = OSC(n_components=1).fit(X, y).transform(X)
    np.testing.assert_allclose(out, 10.0 + np.outer(y, s1) + np.outer(np.full(n, c.mean()), s2), atol=1e-9)


def test_osc_scores_of_successive_components_are_mutually_orthogonal(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    osc = OSC(n_components=3).fit(X, y)
    Xc = X - osc.x_mean_
    scores = []
    for w, p in zip(osc.weights_, osc.loadings_, strict=True):
        t = Xc @ w
        scores.append(t)
        Xc = Xc - np.outer(t, p)
    T = np.column_stack(scores)
    gram = T.T @ T
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-8)


def test_osc_handles_a_multi_column_target(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    Y = np.column_stack([y, X[:, 10] - X[:, 11]])
    removed = X - OSC(n_components=2).fit(X, Y).transform(X)
    np.testing.assert_allclose(removed.T @ (Y - Y.mean(axis=0)), 0.0, atol=1e-9)


def test_osc_transform_of_new_rows_uses_only_the_fit_rows(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    first = OSC(n_components=2).fit(X[:15], y[:15])
    changed = X.copy()
    changed[15:] = changed[15:] * 3.0 - 1.0
    second = OSC(n_components=2).fit(changed[:15], y[:15])
    np.testing.assert_array_equal(first.transform(X[15:]), second.transform(X[15:]))
    assert not np.allclose(OSC(n_components=2).fit(X[10:], y[10:]).transform(X[:3]), first.transform(X[:3]))


@pytest.mark.parametrize(
    ("n_components", "message"),
    [
        # the declared constraint (an int >= 1), then the limit the data sets
        (0, "OSC: n_components must be an integer >= 1, got 0"),
        (1.5, "n_components must be an integer >= 1, got 1.5"),
        (True, "n_components must be an integer >= 1, got True"),
        (24, r"n_components=24 must be an integer in \[1, 23\]"),
    ],
)
def test_bad_osc_n_components_raises_value_error_at_fit(
    data: tuple[np.ndarray, np.ndarray], n_components, message: str
) -> None:
    X, y = data  # 25 rows, 30 columns, rank(X'y) = 1: at most min(24, 30) - 1 = 23 components
    with pytest.raises(ValueError, match=message):
        OSC(n_components=n_components).fit(X, y)


def test_osc_without_y_raises_value_error_naming_y(data: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="OSC requires y to be passed"):
        OSC().fit(data[0])


def test_osc_with_a_constant_y_raises_value_error(data: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="y is constant"):
        OSC().fit(data[0], np.full(data[0].shape[0], 3.0))


def test_osc_refuses_components_without_variance(rng: np.random.Generator) -> None:
    # X has rank 2 (one direction along y, one orthogonal): a second orthogonal component does not exist.
    y = rng.normal(size=12)
    X = np.outer(y, rng.normal(size=8)) + np.outer(rng.normal(size=12), rng.normal(size=8))
    OSC(n_components=1).fit(X, y)
    with pytest.raises(ValueError, match="n_components=2 is too large: only 1 components"):
        OSC(n_components=2).fit(X, y)


# --- EPO ----------------------------------------------------------------------------------------------------


def test_epo_equals_x_times_the_projection_on_the_complement_of_the_top_eigenvectors(
    rng: np.random.Generator,
) -> None:
    # Roger et al. (2003): P = I - V_k V_k' with V_k the leading eigenvectors of D'D.
    D = rng.normal(size=(6, N_FEATURES)) * np.linspace(3.0, 0.5, 6)[:, None]
    X = rng.normal(size=(9, N_FEATURES))
    _, vectors = np.linalg.eigh(D.T @ D)
    V = vectors[:, ::-1][:, :2]
    P = np.eye(N_FEATURES) - V @ V.T
    np.testing.assert_allclose(EPO(D, n_components=2).fit(X).transform(X), X @ P, atol=1e-12)


def test_epo_removes_a_nuisance_direction_whatever_its_amount(rng: np.random.Generator) -> None:
    # Spectra shifted along a temperature signature t: EPO fitted on differences along t makes them identical.
    signature = rng.normal(size=N_FEATURES)
    D = np.outer(rng.normal(size=4), signature)
    base = rng.normal(size=(5, N_FEATURES))
    epo = EPO(D).fit(base)
    shifted = base + np.outer(rng.normal(size=5) * 10.0, signature)
    np.testing.assert_allclose(epo.transform(shifted), epo.transform(base), atol=1e-10)
    np.testing.assert_allclose(epo.transform(D), 0.0, atol=1e-10)


def test_epo_is_an_orthogonal_projection(rng: np.random.Generator) -> None:
    D = rng.normal(size=(5, N_FEATURES))
    X = rng.normal(size=(7, N_FEATURES))
    epo = EPO(D, n_components=3).fit(X)
    once = epo.transform(X)
    np.testing.assert_allclose(epo.transform(once), once, atol=1e-12)
    np.testing.assert_allclose((X - once) @ once.T, 0.0, atol=1e-10)
    np.testing.assert_allclose(epo.components_ @ epo.components_.T, np.eye(3), atol=1e-12)


def test_epo_ignores_the_fit_rows(rng: np.random.Generator) -> None:
    D = rng.normal(size=(3, N_FEATURES))
    X = rng.normal(size=(8, N_FEATURES))
    np.testing.assert_array_equal(EPO(D).fit(X[:2]).components_, EPO(D).fit(X * 5.0).components_)


@pytest.mark.parametrize(
    ("differences", "n_components", "message"),
    [
        (np.ones((3, N_FEATURES - 1)), 1, r"differences must have shape \(n_pairs >= 1, 30\)"),
        (np.ones(N_FEATURES), 1, "differences must have shape"),
        (np.full((2, N_FEATURES), np.nan), 1, "differences contains NaN"),
        ([["a"] * N_FEATURES], 1, "differences must be a 2D numeric array"),
        (np.outer([1.0, 2.0, -1.0], np.ones(N_FEATURES)), 2, r"n_components=2 must be an integer in \[1, 1\]"),
        (np.eye(3, N_FEATURES), 0, "n_components must be an integer >= 1, got 0"),
    ],
)
def test_bad_epo_params_raise_value_error_at_fit(differences, n_components: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EPO(differences, n_components=n_components).fit(np.zeros((4, N_FEATURES)))


# --- shared -------------------------------------------------------------------------------------------------


def test_traits() -> None:
    assert OSC.traits.y_aware and not OSC.traits.row_wise_stateless
    # EPO's projection comes from the `differences` parameter, never from the fit rows.
    assert EPO.traits.row_wise_stateless and not EPO.traits.y_aware
    for cls in (OSC, EPO):
        assert not cls.traits.wavelength_aware and not cls.traits.changes_axis


def test_transform_before_fit_raises_not_fitted(data: tuple[np.ndarray, np.ndarray]) -> None:
    for estimator in (OSC(), EPO(np.eye(2, N_FEATURES))):
        with pytest.raises(NotFittedError):
            estimator.transform(data[0])


# --- scikit-learn API conformance ---------------------------------------------------------------------------
# EPO's `differences` must have the data width, which varies across sklearn's generic checks. The subclass below
# changes one thing only: with ``differences=None`` it uses a fixed 2-row difference matrix of the data width
# (given values still go through EPO's validation).


class _WidthMatchedEPO(EPO):
    def _difference_matrix(self, n_features: int) -> np.ndarray:
        if self.differences is None:
            return np.vstack([np.ones(n_features), np.cos(np.arange(n_features))])
        return super()._difference_matrix(n_features)


def test_width_matched_epo_still_validates_given_differences() -> None:
    with pytest.raises(ValueError, match="differences must have shape"):
        _WidthMatchedEPO(np.ones((2, 3))).fit(np.zeros((4, 5)))


# With 1 column no component orthogonal to y exists: OSC refuses it naming n_features=1, as scikit-learn expects.
@parametrize_with_checks([OSC(n_components=1), _WidthMatchedEPO(None, n_components=1)])
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)


def test_epo_is_written_in_a_spec_with_its_difference_matrix():
    data = tecator()
    differences = (data.spectra[1:4] - data.spectra[0]).tolist()  # stand-ins for spectra of one sample, 3 conditions
    spec = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "epo", "differences": differences, "n_components": 2},
        {"model": {"op": "pls", "n_components": 3}}]})
    plan = compile_plan(spec, data.schema())
    (hoisted,) = plan.hoisted
    assert hoisted.step.label == "epo(differences=<3x100 matrix>, n_components=2)"
    epo = instantiate(hoisted.step).fit(data.spectra)
    expected = EPO(differences=np.asarray(differences), n_components=2).fit(data.spectra).transform(data.spectra)
    assert np.array_equal(epo.transform(data.spectra), expected)
