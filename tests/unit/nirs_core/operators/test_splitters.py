"""Unit tests of the splitters: Kennard-Stone / SPXY selection, their k-folds, binned-stratified and group k-folds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from nirs_core.operators.splitters import (
    BinnedStratifiedKFold,
    GroupAwareKFold,
    KennardStoneKFold,
    SPXYKFold,
    kennard_stone_split,
    maximin_order,
    quantile_bins,
    spxy_split,
)


@pytest.fixture
def X() -> np.ndarray:
    return np.random.default_rng(11).normal(size=(40, 6))


@pytest.fixture
def y(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * 2.0 + np.random.default_rng(12).normal(size=X.shape[0])


def _reference_maximin(points: np.ndarray) -> list[int]:
    """Kennard-Stone written out with explicit loops, as in the 1969 description."""
    n = len(points)

    def dist(i: int, j: int) -> float:
        return float(np.sqrt(((points[i] - points[j]) ** 2).sum()))

    pairs = [(dist(i, j), i, j) for i in range(n) for j in range(i + 1, n)]
    best = max(d for d, _, _ in pairs)
    _, i, j = next(p for p in pairs if p[0] == best)
    chosen = [i, j]
    while len(chosen) < n:
        rest = [k for k in range(n) if k not in chosen]
        chosen.append(max(rest, key=lambda k: min(dist(k, c) for c in chosen)))
    return chosen


def _assert_partition(folds: list[tuple[np.ndarray, np.ndarray]], n_samples: int) -> None:
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n_samples))  # every index in exactly one test fold
    for train, test in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n_samples))


# --- Kennard-Stone and SPXY selection -----------------------------------------------------------------------


def test_kennard_stone_selects_the_two_most_distant_points_first(X: np.ndarray) -> None:
    X = X.copy()
    X[17] = 50.0
    X[3] = -50.0
    train, _ = kennard_stone_split(X, test_size=0.5)
    assert sorted(train[:2].tolist()) == [3, 17]


def test_kennard_stone_on_a_line_picks_the_ends_then_the_middle() -> None:
    points = np.arange(11.0)[:, None]
    train, test = kennard_stone_split(points, test_size=8)
    assert train.tolist() == [0, 10, 5]
    assert sorted(test.tolist()) == [1, 2, 3, 4, 6, 7, 8, 9]


def test_maximin_order_matches_a_loop_reference(X: np.ndarray) -> None:
    points = X[:15]
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    assert maximin_order(distances).tolist() == _reference_maximin(points)


@pytest.mark.parametrize(("test_size", "n_test"), [(0.25, 10), (0.26, 11), (5, 5)])
def test_kennard_stone_split_sizes_and_disjointness(X: np.ndarray, test_size, n_test: int) -> None:
    train, test = kennard_stone_split(X, test_size=test_size)
    assert test.size == n_test and train.size == X.shape[0] - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(X.shape[0]))


def test_spxy_on_identical_spectra_follows_y() -> None:
    y = np.array([3.0, -1.0, 7.5, 0.2, 4.4, 2.0, 9.0, 5.1])
    X = np.ones((y.size, 4))
    train, test = spxy_split(X, y, test_size=3)
    order = np.concatenate([train, test]).tolist()
    assert order == _reference_maximin(y[:, None])
    assert sorted(order[:2]) == [int(np.argmin(y)), int(np.argmax(y))]


def test_spxy_distances_normalise_x_and_y_by_their_maxima(X: np.ndarray, y: np.ndarray) -> None:
    # Scaling X or y by a constant leaves d_x / max(d_x) and d_y / max(d_y), so the selection, unchanged.
    reference = spxy_split(X, y, test_size=0.3)
    for scaled in (spxy_split(X * 1000.0, y, test_size=0.3), spxy_split(X, y * 1e-3, test_size=0.3)):
        for got, expected in zip(scaled, reference, strict=True):
            np.testing.assert_array_equal(got, expected)


def test_spxy_combines_normalised_distances_as_published(X: np.ndarray, y: np.ndarray) -> None:
    dx = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    dy = np.abs(y[:, None] - y[None, :])
    expected = maximin_order(dx / dx.max() + dy / dy.max())
    train, test = spxy_split(X, y, test_size=0.25)
    np.testing.assert_array_equal(np.concatenate([train, test]), expected)


@pytest.mark.parametrize(
    ("test_size", "message"),
    [(0.0, "test_size=0.0"), (1.0, "test_size=1.0"), (39, "test_size=39 gives 39 test rows"), ("a", "test_size")],
)
def test_bad_test_size_raises_value_error(X: np.ndarray, test_size, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kennard_stone_split(X, test_size=test_size)


def test_spxy_without_y_raises_value_error(X: np.ndarray) -> None:
    with pytest.raises(ValueError, match="y is required"):
        spxy_split(X, None)
    with pytest.raises(ValueError, match="y is required"):
        list(SPXYKFold(3).split(X))


# --- Kennard-Stone / SPXY k-fold ----------------------------------------------------------------------------


def test_kennard_stone_kfold_assigns_fold_by_position_in_the_selection_order(X: np.ndarray) -> None:
    order = np.concatenate(kennard_stone_split(X, test_size=1))
    folds = list(KennardStoneKFold(n_splits=3).split(X))
    _assert_partition(folds, X.shape[0])
    for k, (_, test) in enumerate(folds):
        np.testing.assert_array_equal(test, np.sort(order[k::3]))


def test_spxy_kfold_assigns_fold_by_position_in_the_selection_order(X: np.ndarray, y: np.ndarray) -> None:
    order = np.concatenate(spxy_split(X, y, test_size=1))
    folds = list(SPXYKFold(n_splits=4).split(X, y))
    _assert_partition(folds, X.shape[0])
    for k, (_, test) in enumerate(folds):
        np.testing.assert_array_equal(test, np.sort(order[k::4]))


def test_kennard_stone_kfold_puts_the_extreme_pair_in_different_folds() -> None:
    points = np.arange(9.0)[:, None]
    tests = [test.tolist() for _, test in KennardStoneKFold(n_splits=3).split(points)]
    assert 0 in tests[0] and 8 in tests[1]


@pytest.mark.parametrize("n_splits", [1, 41, 2.5])
def test_bad_n_splits_raise_value_error(X: np.ndarray, y: np.ndarray, n_splits) -> None:
    for splitter in (KennardStoneKFold(n_splits), SPXYKFold(n_splits), BinnedStratifiedKFold(n_splits, random_state=0)):
        with pytest.raises(ValueError, match="n_splits"):
            list(splitter.split(X, y))


def test_kfold_splitters_work_with_cross_val_score(X: np.ndarray, y: np.ndarray) -> None:
    for cv in (KennardStoneKFold(4), SPXYKFold(4), BinnedStratifiedKFold(4, random_state=0)):
        assert cross_val_score(Ridge(), X, y, cv=cv).shape == (4,)
    groups = np.repeat(np.arange(10), 4)
    assert cross_val_score(Ridge(), X, y, cv=GroupAwareKFold(5, random_state=0), groups=groups).shape == (5,)


# --- BinnedStratifiedKFold ----------------------------------------------------------------------------------


def test_quantile_bins_have_equal_counts_and_follow_the_rank_of_y() -> None:
    y = np.array([5.0, 1.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0])
    bins = quantile_bins(y, 4)
    assert np.bincount(bins).tolist() == [2, 2, 2, 2]
    assert bins.tolist() == [2, 0, 0, 3, 1, 2, 1, 3]


def test_binned_stratified_kfold_gives_each_fold_one_row_per_default_bin(y: np.ndarray) -> None:
    X = np.zeros((y.size, 1))
    folds = list(BinnedStratifiedKFold(n_splits=4, random_state=3).split(X, y))
    _assert_partition(folds, y.size)
    bins = quantile_bins(y, y.size // 4)
    for _, test in folds:
        assert sorted(bins[test].tolist()) == list(range(y.size // 4))


def test_binned_stratified_kfold_is_reproducible_with_a_seed(y: np.ndarray) -> None:
    X = np.zeros((y.size, 1))

    def folds(random_state) -> list[list[int]]:
        return [test.tolist() for _, test in BinnedStratifiedKFold(5, random_state=random_state).split(X, y)]

    assert folds(1) == folds(1)
    assert folds(1) != folds(2)
    assert folds(np.random.default_rng(9)) == folds(np.random.default_rng(9))


def test_binned_stratified_kfold_without_shuffle_is_deterministic(y: np.ndarray) -> None:
    X = np.zeros((y.size, 1))
    first = [t.tolist() for _, t in BinnedStratifiedKFold(5, shuffle=False).split(X, y)]
    assert first == [t.tolist() for _, t in BinnedStratifiedKFold(5, shuffle=False).split(X, y)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_bins": 9}, r"n_bins=9 must be an integer in \[1, 8\]"),
        ({"n_bins": 0}, "n_bins=0"),
        ({"shuffle": False, "random_state": 0}, "random_state=0 has no effect when shuffle is False"),
        ({"random_state": -1}, "random_state must be None, an int"),
        ({"random_state": "seed"}, "random_state must be None, an int"),
    ],
)
def test_bad_binned_stratified_params_raise_value_error(y: np.ndarray, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(BinnedStratifiedKFold(n_splits=5, **params).split(np.zeros((y.size, 1)), y))


def test_binned_stratified_kfold_needs_a_single_continuous_y(X: np.ndarray, y: np.ndarray) -> None:
    with pytest.raises(ValueError, match="y is required"):
        list(BinnedStratifiedKFold(5, random_state=0).split(X))
    with pytest.raises(ValueError, match="y must be 1D"):
        list(BinnedStratifiedKFold(5, random_state=0).split(X, np.column_stack([y, y])))


# --- GroupAwareKFold ----------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(st.integers(0, 12), min_size=6, max_size=60),
    n_splits=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
    shuffle=st.booleans(),
)
def test_group_aware_kfold_never_splits_a_group(groups: list[int], n_splits: int, seed: int, shuffle: bool) -> None:
    groups = np.asarray(groups)
    if np.unique(groups).size < n_splits:
        with pytest.raises(ValueError, match="greater than the number of groups"):
            list(GroupAwareKFold(n_splits).split(groups[:, None], groups=groups))
        return
    splitter = GroupAwareKFold(n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
    folds = list(splitter.split(np.zeros((groups.size, 1)), groups=groups))
    assert len(folds) == n_splits == splitter.get_n_splits()
    _assert_partition(folds, groups.size)
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_group_aware_kfold_is_reproducible_with_a_seed() -> None:
    groups = np.repeat(np.arange(20), 3)
    X = np.zeros((groups.size, 1))

    def folds(random_state) -> list[list[int]]:
        return [t.tolist() for _, t in GroupAwareKFold(4, random_state=random_state).split(X, groups=groups)]

    assert folds(5) == folds(5)
    assert folds(5) != folds(6)


def test_group_aware_kfold_requires_groups(X: np.ndarray) -> None:
    with pytest.raises(ValueError, match="groups is required"):
        list(GroupAwareKFold(3, random_state=0).split(X))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(GroupAwareKFold(3, random_state=0).split(X, groups=np.arange(5)))


def test_splitters_report_their_number_of_splits() -> None:
    for splitter in (KennardStoneKFold(3), SPXYKFold(3), BinnedStratifiedKFold(3), GroupAwareKFold(3)):
        assert splitter.get_n_splits() == 3
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        GroupAwareKFold(1).get_n_splits()
