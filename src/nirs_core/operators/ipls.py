"""Interval PLS (iPLS), forward and backward: keep the spectral intervals whose PLS model cross-validates best on
the fold's training rows."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from sklearn.utils.validation import validate_data

from nirs_core.operators.params import Param, check_params
from nirs_core.operators.selection import ColumnSelection, pls_cv_rmse


def intervals_of(n_features: int, n_intervals: int) -> list[np.ndarray]:
    """``n_intervals`` contiguous intervals of the columns, as equal as they can be (the first ``p % n`` one column
    wider; ``numpy.array_split``)."""
    return np.array_split(np.arange(n_features), n_intervals)


class IntervalPLS(ColumnSelection):
    """Interval PLS (iPLS; Nørgaard et al. 2000), forward or backward: keep the intervals of the axis whose PLS model
    has the lowest cross-validated error on the fold's training rows.

    L. Nørgaard, A. Saudland, J. Wagner, J. P. Nielsen, L. Munck & S. B. Engelsen, "Interval partial least-squares
    regression (iPLS): a comparative chemometric study with an example from near-infrared spectroscopy", Appl.
    Spectrosc. 54 (2000) 413-419. The columns are split into ``n_intervals`` contiguous intervals
    (:func:`intervals_of`). ``forward`` starts from no interval and at each step adds the one whose union with those
    kept gives the lowest RMSE of a ``cv``-fold cross-validation (contiguous blocks of the rows given to ``fit``,
    as ``contiguous_blocks``) of a PLS with ``n_components`` (fewer when the columns or rows are fewer);
    ``backward`` starts from all of them and at each step removes the one whose removal gives the lowest RMSE. Each
    stops when no step lowers the RMSE (forward also when every interval is in, backward when one is left); ties go
    to the lower interval. Only the rows given to ``fit`` are used. At least one interval is kept, so the output has
    at least the narrowest interval's columns — the width the compiler checks the model's components against. The
    kept columns differ from fold to fold (each fold's ``support_``); no wavelength-aware step may follow.

    Parameters
    ----------
    n_intervals : int, default=10
        Intervals the axis is split into, in [2, n_features].
    mode : {'forward', 'backward'}, default='forward'
        Add intervals to an empty set, or remove them from the full one.
    n_components : int, default=5
        Components of the PLS models, >= 1.
    cv : int, default=5
        Folds of the cross-validation that scores each set of intervals, >= 2.

    Attributes
    ----------
    intervals_ : list of ndarray
        The column indices of each interval.
    selected_intervals_ : ndarray
        The kept intervals, ascending.
    steps_ : list of tuple
        ``(interval, rmsecv)`` of each step taken: the interval added (forward) or removed (backward) and the RMSE of
        the set after it; the first entry of backward is ``(-1, rmsecv of all intervals)``.
    support_ : ndarray of shape (n_kept,)
        Indices of the kept variables, ascending.
    wavelengths_out_ : ndarray of shape (n_kept,)
        0 .. n_kept - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import IntervalPLS
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 40))
    >>> y = X[:, 12] + X[:, 14] + 0.05 * rng.normal(size=60)
    >>> IntervalPLS(n_intervals=8, n_components=2).fit(X, y).selected_intervals_  # columns 10..14
    array([2])
    """

    spec_name = "ipls"
    parameter_constraints = MappingProxyType(
        {
            "n_intervals": Param(int, ge=2),
            "mode": Param(str, options=("forward", "backward")),
            "n_components": Param(int, ge=1),
            "cv": Param(int, ge=2),
        }
    )

    def __init__(self, n_intervals: int = 10, mode: str = "forward", n_components: int = 5, cv: int = 5):
        self.n_intervals = n_intervals
        self.mode = mode
        self.n_components = n_components
        self.cv = cv

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        n, p = X.shape
        if self.n_intervals > p:
            raise ValueError(
                f"IntervalPLS: n_intervals={self.n_intervals} is more than the {p} columns (n_features={p})"
            )
        if n < 2 * self.cv:
            raise ValueError(
                f"IntervalPLS: {n} rows are too few for a {self.cv}-fold cross-validation of each set "
                f"of intervals (at least {2 * self.cv}; n_samples={n})"
            )
        self.intervals_ = intervals_of(p, int(self.n_intervals))
        chosen = self._forward(X, y) if self.mode == "forward" else self._backward(X, y)
        self.selected_intervals_ = np.array(sorted(chosen), dtype=np.int64)
        self.support_ = np.concatenate([self.intervals_[i] for i in self.selected_intervals_])
        self.wavelengths_out_ = np.arange(self.support_.size, dtype=np.float64)
        return self

    def _rmse(self, X: np.ndarray, y: np.ndarray, intervals: list[int]) -> float:
        columns = np.concatenate([self.intervals_[i] for i in sorted(intervals)])
        return pls_cv_rmse(X[:, columns], y, int(self.n_components), int(self.cv))

    def _forward(self, X: np.ndarray, y: np.ndarray) -> list[int]:
        kept: list[int] = []
        best = np.inf
        self.steps_ = []
        while len(kept) < len(self.intervals_):
            trials = [(self._rmse(X, y, [*kept, i]), i) for i in range(len(self.intervals_)) if i not in kept]
            rmse, interval = min(trials)  # ties: the lower interval
            if rmse >= best:
                break
            kept.append(interval)
            best = rmse
            self.steps_.append((interval, rmse))
        return kept

    def _backward(self, X: np.ndarray, y: np.ndarray) -> list[int]:
        kept = list(range(len(self.intervals_)))
        best = self._rmse(X, y, kept)
        self.steps_ = [(-1, best)]
        while len(kept) > 1:
            trials = [(self._rmse(X, y, [k for k in kept if k != i]), i) for i in kept]
            rmse, interval = min(trials)
            if rmse >= best:
                break
            kept.remove(interval)
            best = rmse
            self.steps_.append((interval, rmse))
        return kept

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. w - 1 with w the narrowest interval's width, the fewest columns kept (which is decided per fold)."""
        check_params(self)
        if self.n_intervals > n_features:
            raise ValueError(f"IntervalPLS: n_intervals={self.n_intervals} is more than the {n_features} columns")
        return np.arange(n_features // int(self.n_intervals), dtype=np.float64)
