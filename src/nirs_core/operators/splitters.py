"""Sample splitters for NIRS calibration: Kennard-Stone and SPXY selection, and scikit-learn k-fold splitters.

Distance-based selection (Kennard-Stone, SPXY) holds the full n x n distance matrix in float64: 8 n^2 bytes, i.e.
about 200 MB for 5,000 rows. It is meant for calibration sets up to a few thousand spectra.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import pdist, squareform
from sklearn.model_selection import BaseCrossValidator, GroupKFold, StratifiedKFold
from sklearn.utils import check_array, check_consistent_length

# --- distance-based selection -------------------------------------------------------------------------------


def _check_X(X: object, owner: str) -> np.ndarray:
    X = check_array(X, dtype=np.float64, input_name="X")
    if X.shape[0] < 2:
        raise ValueError(f"{owner}: X has {X.shape[0]} rows; at least 2 are needed")
    return X


def _check_y(y: object, n_samples: int, owner: str) -> np.ndarray:
    if y is None:
        raise ValueError(f"{owner}: y is required (SPXY distances combine X and y)")
    y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
    if y.ndim > 2 or y.shape[0] != n_samples:
        raise ValueError(f"{owner}: y has shape {y.shape}; expected ({n_samples},) or ({n_samples}, n_targets)")
    return y.reshape(n_samples, -1)


def _euclidean(A: np.ndarray) -> np.ndarray:
    return squareform(pdist(A, metric="euclidean"))


def _spxy_distances(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """d_xy(i, j) = d_x(i, j) / max d_x + d_y(i, j) / max d_y (Galvão et al. 2005); a zero maximum adds nothing."""
    dx, dy = _euclidean(X), _euclidean(Y)
    max_x, max_y = dx.max(), dy.max()
    return (dx / max_x if max_x > 0 else dx) + (dy / max_y if max_y > 0 else dy)


def maximin_order(distances: np.ndarray) -> np.ndarray:
    """Order all rows by Kennard-Stone maximin selection on a symmetric distance matrix.

    The first two are the most distant pair (lower index first); each next row is the one whose distance to its
    nearest already-selected row is largest. Ties go to the lowest index, so the order is deterministic. Each step
    updates the nearest-selected distances of all rows with one vectorised ``minimum``: O(n^2) time overall.
    """
    n = distances.shape[0]
    first, second = np.unravel_index(np.argmax(distances), distances.shape)
    order = np.empty(n, dtype=np.intp)
    order[:2] = sorted((int(first), int(second)))
    if n == 2:
        return order
    nearest = np.minimum(distances[first], distances[second])
    nearest[order[:2]] = -np.inf
    for position in range(2, n):
        chosen = int(np.argmax(nearest))
        order[position] = chosen
        nearest = np.minimum(nearest, distances[chosen])
        nearest[chosen] = -np.inf
    return order


def _n_test(test_size: object, n_samples: int, owner: str) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, Real):
        raise ValueError(f"{owner}: test_size must be a float in (0, 1) or an int, got {test_size!r}")
    if isinstance(test_size, Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = int(np.ceil(test_size * n_samples))
    else:
        raise ValueError(f"{owner}: test_size={test_size} must be in (0, 1) when given as a fraction")
    if not 1 <= n_test <= n_samples - 2:
        raise ValueError(
            f"{owner}: test_size={test_size} gives {n_test} test rows out of {n_samples}; it must leave at least "
            "1 test row and 2 training rows"
        )
    return n_test


def kennard_stone_split(X, test_size: float | int = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Split rows into a training set chosen by Kennard-Stone and the remaining test set.

    R. W. Kennard & L. A. Stone, "Computer aided design of experiments", Technometrics 11 (1969) 137-148: maximin
    selection on the Euclidean distances between the rows of X (see :func:`maximin_order`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Spectra.
    test_size : float or int
        Fraction in (0, 1) of rows for the test set (rounded up), or their number.

    Returns
    -------
    train_idx, test_idx : ndarray of int
        Both in Kennard-Stone selection order: ``train_idx[:2]`` is the most distant pair.
    """
    X = _check_X(X, "kennard_stone_split")
    n_test = _n_test(test_size, X.shape[0], "kennard_stone_split")
    order = maximin_order(_euclidean(X))
    return order[: X.shape[0] - n_test], order[X.shape[0] - n_test :]


def spxy_split(X, y, test_size: float | int = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Split rows into a training set chosen by SPXY and the remaining test set.

    R. K. H. Galvão et al., "A method for calibration and validation subset partitioning", Talanta 67 (2005)
    736-740: Kennard-Stone maximin on d_x / max(d_x) + d_y / max(d_y), the Euclidean distances on X and on y each
    normalised by their largest value.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Spectra.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Reference values.
    test_size : float or int
        Fraction in (0, 1) of rows for the test set (rounded up), or their number.

    Returns
    -------
    train_idx, test_idx : ndarray of int
        Both in SPXY selection order.
    """
    X = _check_X(X, "spxy_split")
    Y = _check_y(y, X.shape[0], "spxy_split")
    n_test = _n_test(test_size, X.shape[0], "spxy_split")
    order = maximin_order(_spxy_distances(X, Y))
    return order[: X.shape[0] - n_test], order[X.shape[0] - n_test :]


# --- k-fold splitters ---------------------------------------------------------------------------------------


def _check_n_splits(n_splits: object, owner: str, n_samples: int | None = None) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, Integral) or n_splits < 2:
        raise ValueError(f"{owner}: n_splits must be an integer >= 2, got {n_splits!r}")
    if n_samples is not None and n_splits > n_samples:
        raise ValueError(f"{owner}: n_splits={n_splits} is greater than the number of samples {n_samples}")
    return int(n_splits)


def _seed(random_state: object, shuffle: bool, owner: str) -> int | None:
    """An int seed for scikit-learn from ``random_state`` (int, numpy Generator or None); never the global RNG.

    ``None`` with shuffling draws a fresh seed from OS entropy: folds then differ between calls.
    """
    if not shuffle:
        if random_state is not None:
            raise ValueError(f"{owner}: random_state={random_state!r} has no effect when shuffle is False; pass None")
        return None
    if random_state is None:
        return int(np.random.default_rng().integers(2**32))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    if isinstance(random_state, bool) or not isinstance(random_state, Integral) or not 0 <= random_state < 2**32:
        raise ValueError(
            f"{owner}: random_state must be None, an int in [0, 2**32) or a numpy Generator, got {random_state!r}"
        )
    return int(random_state)


class _OrderedKFold(BaseCrossValidator):
    """k-fold on a maximin selection order: the row at position i of the order goes to fold ``i % n_splits``.

    Consecutive rows of a maximin order are spread over the whole space, so every fold spans it too.
    """

    def __init__(self, n_splits: int = 5):
        self.n_splits = n_splits

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return _check_n_splits(self.n_splits, type(self).__name__)

    def _iter_test_indices(self, X=None, y=None, groups=None):
        owner = type(self).__name__
        X = _check_X(X, owner)
        n_splits = _check_n_splits(self.n_splits, owner, X.shape[0])
        order = self._order(X, y)
        for fold in range(n_splits):
            yield np.sort(order[fold::n_splits])

    def _order(self, X: np.ndarray, y: object) -> np.ndarray:
        raise NotImplementedError


class KennardStoneKFold(_OrderedKFold):
    """Deterministic k-fold whose folds each span the X space: Kennard-Stone order, fold = position % n_splits.

    Kennard & Stone (1969) maximin order on Euclidean distances of X (see :func:`maximin_order`); ``y`` and
    ``groups`` are ignored. Memory is O(n_samples^2) (module docstring).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 2.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import KennardStoneKFold
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> [test.tolist() for _, test in KennardStoneKFold(n_splits=2).split(X)]
    [[0, 2, 3], [1, 4, 5]]
    """

    def _order(self, X: np.ndarray, y: object) -> np.ndarray:
        return maximin_order(_euclidean(X))


class SPXYKFold(_OrderedKFold):
    """Deterministic k-fold whose folds each span the joint X-y space: SPXY order, fold = position % n_splits.

    Galvão et al. (2005) distances (see :func:`spxy_split`); ``y`` is required, ``groups`` is ignored. Memory is
    O(n_samples^2) (module docstring).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 2.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import SPXYKFold
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]]), np.arange(6.0)
    >>> [test.tolist() for _, test in SPXYKFold(n_splits=2).split(X, y)]
    [[0, 2, 3], [1, 4, 5]]
    """

    def _order(self, X: np.ndarray, y: object) -> np.ndarray:
        return maximin_order(_spxy_distances(X, _check_y(y, X.shape[0], type(self).__name__)))


def quantile_bins(y: np.ndarray, n_bins: int) -> np.ndarray:
    """Label each value with its rank quantile bin: bins of equal size (within one), ties broken by row order."""
    ranks = np.empty(y.size, dtype=np.intp)
    ranks[np.argsort(y, kind="stable")] = np.arange(y.size)
    return ranks * n_bins // y.size


class BinnedStratifiedKFold(BaseCrossValidator):
    """Stratified k-fold for a continuous target: stratify on rank-quantile bins of y.

    y is cut into ``n_bins`` bins of equal count (by rank; see :func:`quantile_bins`) and the bin labels are split
    by scikit-learn's ``StratifiedKFold``, so every fold covers the range of y.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 2.
    n_bins : int or None, default=None
        Number of bins, in [1, n_samples // n_splits] so that every bin has at least one row per fold. ``None``
        (default) takes the finest such binning, ``n_samples // n_splits``: each fold then gets one row from each
        bin of ``n_splits`` consecutive y values.
    shuffle : bool, default=True
        Shuffle rows within each bin before assigning folds.
    random_state : int, numpy Generator or None, default=None
        Seed of the shuffle; an int gives the same folds on every call, a Generator is drawn from once per
        ``split``, ``None`` draws a fresh seed from OS entropy (never the global numpy RNG). Must be None when
        ``shuffle`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import BinnedStratifiedKFold
    >>> folds = BinnedStratifiedKFold(n_splits=2, shuffle=False).split(np.zeros((8, 1)), np.arange(8.0))
    >>> [test.tolist() for _, test in folds]  # each fold gets one row of every pair of neighbouring y values
    [[0, 2, 4, 6], [1, 3, 5, 7]]
    """

    def __init__(self, n_splits: int = 5, n_bins: int | None = None, shuffle: bool = True, random_state=None):
        self.n_splits = n_splits
        self.n_bins = n_bins
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return _check_n_splits(self.n_splits, "BinnedStratifiedKFold")

    def split(self, X, y=None, groups=None):
        owner = "BinnedStratifiedKFold"
        if y is None:
            raise ValueError(f"{owner}: y is required (the folds are stratified on bins of y)")
        check_consistent_length(X, y)
        y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{owner}: y must be 1D with one value per row of X, got shape {y.shape}")
        n_splits = _check_n_splits(self.n_splits, owner, y.size)
        max_bins = y.size // n_splits
        n_bins = max_bins if self.n_bins is None else self.n_bins
        if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or not 1 <= n_bins <= max_bins:
            raise ValueError(
                f"{owner}: n_bins={self.n_bins!r} must be an integer in [1, {max_bins}] (n_samples // n_splits) "
                "so that every bin has a row for every fold"
            )
        seed = _seed(self.random_state, bool(self.shuffle), owner)
        folds = StratifiedKFold(n_splits, shuffle=bool(self.shuffle), random_state=seed)
        yield from folds.split(np.zeros((y.size, 1)), quantile_bins(y, int(n_bins)))


class GroupAwareKFold(BaseCrossValidator):
    """k-fold on groups: all rows of a group (e.g. repeated scans of one sample) fall in the same fold.

    Delegates to scikit-learn's ``GroupKFold`` (shuffle support exists since 1.6, the minimum version of this
    project). With ``shuffle=True`` the distinct groups are permuted with the seed and cut into ``n_splits`` runs of
    equal group count (folds balance groups, not rows); with ``shuffle=False`` groups are assigned largest first to
    the fold with the fewest rows (folds balance rows, deterministically).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 2 and at most the number of distinct groups.
    shuffle : bool, default=True
        Shuffle the groups before assigning folds.
    random_state : int, numpy Generator or None, default=None
        Seed of the shuffle; an int gives the same folds on every call, a Generator is drawn from once per
        ``split``, ``None`` draws a fresh seed from OS entropy (never the global numpy RNG). Must be None when
        ``shuffle`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import GroupAwareKFold
    >>> groups = np.array(["a", "a", "b", "b", "c", "c"])
    >>> folds = GroupAwareKFold(n_splits=3, shuffle=False).split(np.zeros((6, 1)), groups=groups)
    >>> [test.tolist() for _, test in folds]
    [[4, 5], [2, 3], [0, 1]]
    """

    # Route ``groups`` to ``split`` under scikit-learn metadata routing, as its own group splitters do.
    __metadata_request__split = {"groups": True}  # noqa: RUF012

    def __init__(self, n_splits: int = 5, shuffle: bool = True, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return _check_n_splits(self.n_splits, "GroupAwareKFold")

    def split(self, X, y=None, groups=None):
        owner = "GroupAwareKFold"
        if groups is None:
            raise ValueError(f"{owner}: groups is required (one group label per row, e.g. the sample id)")
        check_consistent_length(X, groups)
        groups = check_array(groups, dtype=None, ensure_2d=False, input_name="groups")
        if groups.ndim != 1:
            raise ValueError(f"{owner}: groups must be 1D with one label per row of X, got shape {groups.shape}")
        n_groups = np.unique(groups).size
        n_splits = _check_n_splits(self.n_splits, owner)
        if n_splits > n_groups:
            raise ValueError(f"{owner}: n_splits={n_splits} is greater than the number of groups {n_groups}")
        seed = _seed(self.random_state, bool(self.shuffle), owner)
        folds = GroupKFold(n_splits, shuffle=bool(self.shuffle), random_state=seed)
        yield from folds.split(np.zeros((groups.size, 1)), groups=groups)


class VenetianBlindsKFold(BaseCrossValidator):
    """Venetian-blinds k-fold: blinds of ``thickness`` consecutive rows are dealt to the folds in turn.

    The row at position p (in the order given) is validated in fold ``(p // thickness) % n_splits``, the classic
    deterministic NIRS scheme (PLS_Toolbox, mdatools' ``cv = list("ven", k)``): with rows sorted by time or by
    reference value, every fold spans the whole run. ``y`` and ``groups`` are ignored.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, >= 2.
    thickness : int, default=1
        Consecutive rows per blind, >= 1.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import VenetianBlindsKFold
    >>> [test.tolist() for _, test in VenetianBlindsKFold(n_splits=3).split(np.zeros((7, 1)))]
    [[0, 3, 6], [1, 4], [2, 5]]
    >>> [test.tolist() for _, test in VenetianBlindsKFold(n_splits=2, thickness=2).split(np.zeros((6, 1)))]
    [[0, 1, 4, 5], [2, 3]]
    """

    def __init__(self, n_splits: int = 5, thickness: int = 1):
        self.n_splits = n_splits
        self.thickness = thickness

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return _check_n_splits(self.n_splits, "VenetianBlindsKFold")

    def _iter_test_indices(self, X=None, y=None, groups=None):
        owner = "VenetianBlindsKFold"
        n_samples = check_array(X, dtype=None, ensure_all_finite=False, input_name="X").shape[0]
        n_splits = _check_n_splits(self.n_splits, owner, n_samples)
        thickness = self.thickness
        if isinstance(thickness, bool) or not isinstance(thickness, Integral) or thickness < 1:
            raise ValueError(f"{owner}: thickness must be an integer >= 1, got {thickness!r}")
        fold_of = (np.arange(n_samples) // int(thickness)) % n_splits
        for fold in range(n_splits):
            test = np.flatnonzero(fold_of == fold)
            if test.size == 0:
                raise ValueError(f"{owner}: fold {fold} is empty: {n_samples} rows in blinds of {thickness} do not "
                                 f"reach {n_splits} folds")
            yield test
