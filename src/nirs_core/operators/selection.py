"""Wavelength selection decided on the fold's training rows: the variables of largest VIP in a PLS model, and CARS."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits, check_n_components
from nirs_core.operators.params import Param, check_params
from nirs_core.operators.pls import PLSSweep


def vip_scores(pls: PLSSweep, X: np.ndarray) -> np.ndarray:
    """VIP of every variable for a fitted PLS, all targets together (Wold et al. 1993; Chong & Jun 2005):

        VIP_j = sqrt(p * sum_a SS_a (w_ja / |w_a|)^2 / sum_a SS_a),   SS_a = sum over targets of q_a^2 t_a't_a

    with the scores ``t_a`` of the rows ``X`` the model was fitted on. For one target it is the usual VIP, whose
    squares average 1 over the variables."""
    scores = ((X - pls.x_mean_) / pls.x_scale_) @ pls.x_rotations_
    ss = (pls.y_loadings_**2).sum(axis=0) * np.einsum("ij,ij->j", scores, scores)
    weights = pls.x_weights_ / np.linalg.norm(pls.x_weights_, axis=0, keepdims=True)
    return np.sqrt(weights.shape[0] * ((weights**2) @ ss) / ss.sum())


class ColumnSelection(Operator):
    """A wavelength selection decided at fit on the training rows (``support_``, the columns kept, in order) and
    applied to any rows by keeping those columns; it needs ``y``. Every selection is fitted, y-aware and changes the
    axis (its kept columns differ from fold to fold)."""

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, changes_axis=True, y_aware=True)

    def transform(self, X):
        check_is_fitted(self, "support_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X[:, self.support_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def threshold_or_top(scores: np.ndarray, fewest: int, threshold: float | None) -> np.ndarray:
    """The columns kept by a score (ascending indices): the ``fewest`` of largest score, and with a ``threshold``
    also every column whose score exceeds it. Ties go to the lower column."""
    ranked = np.argsort(-scores, kind="stable")  # largest first; ties keep the lower column first
    kept = ranked[:fewest]
    if threshold is not None:
        kept = np.union1d(kept, np.flatnonzero(scores > threshold))
    return np.sort(kept)


class VIPSelect(ColumnSelection):
    """Keep the ``n_keep`` wavelengths of largest VIP in a PLS model of the fold's training rows.

    S. Wold, E. Johansson & M. Cocchi, "PLS - partial least-squares projections to latent structures", in 3D QSAR
    in Drug Design (1993) 523-550; I.-G. Chong & C.-H. Jun, "Performance of some variable selection methods when
    multicollinearity is present", Chemom. Intell. Lab. Syst. 78 (2005) 103-112. A PLS with ``n_components``
    (centred, unscaled, as ``pls``) is fitted on the rows given to ``fit`` only, each variable's VIP computed
    (:func:`vip_scores`), and the ``n_keep`` variables of largest VIP are kept in their original order (ties go to
    the lower column). Validation and test rows are reduced to the same columns. A fixed number, rather than the
    "VIP > 1" rule, keeps the width the same in every fold, so the model's component range can be checked before
    anything runs; ``vip_`` shows how many pass 1. The columns kept differ from fold to fold: they are the
    ``support_`` of each fold's fitted object (stored with the run's fitted objects, and in a bundle), and no
    wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PLS whose VIP ranks the variables, in [1, min(n_samples - 1, n_features)].
    n_keep : int, default=20
        Number of variables kept, in [1, n_features].

    Attributes
    ----------
    vip_ : ndarray of shape (n_features,)
        VIP of every input variable on the training rows.
    support_ : ndarray of shape (n_keep,)
        Indices of the kept variables, ascending.
    wavelengths_out_ : ndarray of shape (n_keep,)
        0 .. n_keep - 1: the output columns' index (the kept wavelengths differ between folds).

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import VIPSelect
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 8))
    >>> y = 3 * X[:, 2] - 2 * X[:, 5] + 0.1 * rng.normal(size=40)
    >>> VIPSelect(n_components=1, n_keep=2).fit(X, y).support_  # the two informative columns
    array([2, 5])
    """

    spec_name = "vip_select"
    parameter_constraints = MappingProxyType({
        "n_components": Param(int, ge=1),
        "n_keep": Param(int, ge=1),
    })

    def __init__(self, n_components: int = 5, n_keep: int = 20):
        self.n_components = n_components
        self.n_keep = n_keep

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        check_n_components(self.n_components, X.shape, "VIPSelect")
        if self.n_keep > X.shape[1]:
            raise ValueError(f"VIPSelect: n_keep={self.n_keep} is more than the {X.shape[1]} columns "
                             f"(n_features={X.shape[1]})")
        pls = PLSSweep(int(self.n_components)).fit(X, y)
        self.vip_ = vip_scores(pls, X)
        ranked = np.argsort(-self.vip_, kind="stable")  # largest first; ties keep the lower column first
        self.support_ = np.sort(ranked[: int(self.n_keep)])
        self.wavelengths_out_ = np.arange(int(self.n_keep), dtype=np.float64)
        return self

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. n_keep - 1, known from the parameter alone (which columns is decided per fold)."""
        check_params(self)
        if self.n_keep > n_features:
            raise ValueError(f"VIPSelect: n_keep={self.n_keep} is more than the {n_features} columns")
        return np.arange(int(self.n_keep), dtype=np.float64)



def cars_ratios(n_features: int, n_runs: int) -> np.ndarray:
    """The exponentially decreasing fraction of variables kept at runs 1..N: ``r_i = a exp(-k i)`` with r_1 = 1 and
    r_N = 2 / p, i.e. ``a = (p / 2)^(1 / (N - 1))`` and ``k = ln(p / 2) / (N - 1)`` (Li et al. 2009, eq. 3)."""
    a = (n_features / 2.0) ** (1.0 / (n_runs - 1))
    k = np.log(n_features / 2.0) / (n_runs - 1)
    return a * np.exp(-k * np.arange(1, n_runs + 1))


class CARS(ColumnSelection):
    """Competitive adaptive reweighted sampling (CARS; Li, Liang, Xu & Cao 2009): keep the wavelengths of the
    subset with the lowest cross-validated error among those that Monte Carlo runs of PLS shrink towards.

    H. Li, Y. Liang, Q. Xu & D. Cao, "Key wavelengths screening using competitive adaptive reweighted sampling
    method for multivariate calibration", Anal. Chim. Acta 648 (2009) 77-84. On the rows given to ``fit`` only,
    with p variables, for runs i = 1 .. ``n_runs``: draw ``sample_fraction`` of the rows (seeded), fit a PLS with
    ``n_components`` on the variables still kept, weigh them by ``|b_j| / sum |b|`` (b its regression vector), keep
    the ``round(r_i p)`` largest (:func:`cars_ratios`, at least ``min_keep``) and resample that many with
    probabilities proportional to the weights (adaptive reweighted sampling, with replacement; the distinct ones are
    kept). Each run's subset is scored by the RMSE of a ``cv_folds``-fold cross-validation of the PLS (contiguous
    folds, as ``contiguous_blocks``); the subset of lowest RMSE wins (ties: the smaller, then the earlier). Subsets
    smaller than ``min_keep`` are not candidates, so the output has at least ``min_keep`` columns — the width the
    compiler checks the model's components against. The columns kept differ between folds (each fold's
    ``support_``); no wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PLS models, >= 1 (fewer when a subset or a sample has fewer).
    n_runs : int, default=50
        Monte Carlo sampling runs (N), >= 2.
    sample_fraction : float, default=0.8
        Share of the rows drawn at each run, in (0, 1].
    cv_folds : int, default=5
        Folds of the cross-validation that scores each subset, >= 2.
    min_keep : int, default=10
        Fewest variables a candidate subset holds, >= 1 and at most the number of columns.
    random_state : int or None, default=None
        Seed of the sampling (a run sets it from its seed); None draws a fresh seed from OS entropy (never numpy's
        global random state).

    Attributes
    ----------
    support_ : ndarray of shape (n_kept,)
        Indices of the kept variables, ascending.
    subsets_ : list of ndarray
        The variables kept after each run, in run order.
    rmsecv_ : ndarray of shape (n_runs,)
        Cross-validated RMSE of each run's subset (NaN for a subset smaller than ``min_keep``).
    wavelengths_out_ : ndarray of shape (n_kept,)
        0 .. n_kept - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import CARS
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 30))
    >>> y = X[:, 3] - 2 * X[:, 17] + 0.05 * rng.normal(size=60)
    >>> cars = CARS(n_components=2, n_runs=20, min_keep=2, random_state=0).fit(X, y)
    >>> bool({3, 17} <= set(cars.support_.tolist()))  # the informative columns survive
    True
    """

    spec_name = "cars"
    parameter_constraints = MappingProxyType({
        "n_components": Param(int, ge=1),
        "n_runs": Param(int, ge=2),
        "sample_fraction": Param(float, gt=0, le=1),
        "cv_folds": Param(int, ge=2),
        "min_keep": Param(int, ge=1),
        "random_state": Param(int, ge=0, in_spec=False, optional=True),
    })

    def __init__(self, n_components: int = 5, n_runs: int = 50, sample_fraction: float = 0.8, cv_folds: int = 5,
                 min_keep: int = 10, random_state: int | None = None):
        self.n_components = n_components
        self.n_runs = n_runs
        self.sample_fraction = sample_fraction
        self.cv_folds = cv_folds
        self.min_keep = min_keep
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        n, p = X.shape
        if self.min_keep > p:
            raise ValueError(f"CARS: min_keep={self.min_keep} is more than the {p} columns (n_features={p})")
        if n < 2 * self.cv_folds:
            raise ValueError(f"CARS: {n} rows are too few for a {self.cv_folds}-fold cross-validation of each subset "
                             f"(at least {2 * self.cv_folds}; n_samples={n})")
        rng = np.random.default_rng(self.random_state)
        n_draw = max(2, int(np.rint(float(self.sample_fraction) * n)))
        kept = np.arange(p)
        self.subsets_ = []
        for ratio in cars_ratios(p, int(self.n_runs)):
            rows = rng.choice(n, size=n_draw, replace=False)
            weights = np.abs(pls_coefficients(X[np.ix_(rows, kept)], y[rows], int(self.n_components)))
            weights = weights / weights.sum() if weights.sum() > 0 else np.full(kept.size, 1.0 / kept.size)
            count = min(kept.size, max(int(np.rint(ratio * p)), int(self.min_keep)))
            strongest = np.argsort(-weights, kind="stable")[:count]
            drawn = rng.choice(strongest, size=count, replace=True, p=weights[strongest] / weights[strongest].sum())
            kept = kept[np.unique(drawn)]
            self.subsets_.append(kept)
        self.rmsecv_ = np.array([pls_cv_rmse(X[:, s], y, int(self.n_components), int(self.cv_folds))
                                 if s.size >= self.min_keep else np.nan for s in self.subsets_])
        best = min((i for i in range(len(self.subsets_)) if np.isfinite(self.rmsecv_[i])),
                   key=lambda i: (self.rmsecv_[i], self.subsets_[i].size, i), default=None)
        self.support_ = np.arange(p) if best is None else self.subsets_[best]
        self.wavelengths_out_ = np.arange(self.support_.size, dtype=np.float64)
        return self

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. min_keep - 1: the fewest columns CARS keeps (how many, and which, is decided per fold)."""
        check_params(self)
        if self.min_keep > n_features:
            raise ValueError(f"CARS: min_keep={self.min_keep} is more than the {n_features} columns")
        return np.arange(int(self.min_keep), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def pls_coefficients(X: np.ndarray, y: np.ndarray, n_components: int) -> np.ndarray:
    """The regression vector of a centred PLS with as many components as the data allow (at most n_components)."""
    k = min(n_components, X.shape[0] - 1, X.shape[1])
    return PLSSweep(k).fit(X, y).coef_all_[-1, :, 0]


def pls_cv_rmse(X: np.ndarray, y: np.ndarray, n_components: int, folds: int) -> float:
    """RMSE of the out-of-fold predictions of a PLS over ``folds`` contiguous blocks of rows."""
    errors = np.empty(y.size)
    for val in np.array_split(np.arange(y.size), folds):
        train = np.setdiff1d(np.arange(y.size), val)
        k = min(n_components, train.size - 1, X.shape[1])
        errors[val] = PLSSweep(k).fit(X[train], y[train]).predict(X[val]) - y[val]
    return float(np.sqrt(np.mean(errors**2)))
