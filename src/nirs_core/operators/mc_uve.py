"""Monte Carlo uninformative variable elimination (MC-UVE): keep the wavelengths whose PLS regression coefficients
are stable over seeded sub-samples of the fold's training rows."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from sklearn.utils.validation import validate_data

from nirs_core.operators.params import Param, check_params
from nirs_core.operators.selection import ColumnSelection, pls_coefficients, threshold_or_top


def coefficient_stability(coefficients: np.ndarray) -> np.ndarray:
    """The stability ``mean(b_j) / std(b_j)`` (ddof=1) of each column of ``coefficients`` (runs, p); 0 where every
    run gives 0 (a constant variable), ±inf where the coefficient is the same non-zero value in every run."""
    mean, std = coefficients.mean(axis=0), coefficients.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stability = mean / std
    return np.where((std == 0) & (mean == 0), 0.0, stability)


class MCUVE(ColumnSelection):
    """Monte Carlo uninformative variable elimination (MC-UVE; Cai, Li & Shao 2008): keep the wavelengths whose PLS
    regression coefficient is most stable over random sub-samples of the fold's training rows.

    W. Cai, Y. Li & X. Shao, "A variable selection method based on uninformative variable elimination for
    multivariate calibration of near-infrared spectra", Chemom. Intell. Lab. Syst. 90 (2008) 188-194 (after
    V. Centner et al., Anal. Chem. 68 (1996) 3851-3858). On the rows given to ``fit`` only, for ``n_runs`` runs:
    draw ``sample_fraction`` of the rows without replacement (seeded), fit a PLS with ``n_components`` (centred,
    unscaled; fewer when the draw or the columns are fewer) and record its regression vector b. A variable's
    stability is ``mean(b_j) / std(b_j)`` over the runs (:func:`coefficient_stability`). Without a ``threshold``
    the ``n_keep`` variables of largest |stability| are kept; with one, every variable whose |stability| exceeds it,
    and never fewer than the ``n_keep`` largest — the width the compiler checks the model's components against.
    Kept columns stay in their original order (ties go to the lower column) and differ from fold to fold (each
    fold's ``support_``); no wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PLS models, >= 1.
    n_runs : int, default=100
        Monte Carlo sub-samples, >= 2.
    sample_fraction : float, default=0.8
        Share of the rows drawn at each run, in (0, 1).
    n_keep : int, default=20
        Variables kept (the fewest kept with a threshold), in [1, n_features].
    threshold : float or None, default=None
        Keep every variable whose |stability| exceeds it (> 0), with at least the ``n_keep`` largest.
    random_state : int or None, default=None
        Seed of the draws (a run sets it from its seed); None draws a fresh seed from OS entropy (never numpy's
        global random state).

    Attributes
    ----------
    coefficients_ : ndarray of shape (n_runs, n_features)
        The regression vector of each run.
    stability_ : ndarray of shape (n_features,)
        mean / std of each variable's coefficient over the runs.
    support_ : ndarray of shape (n_kept,)
        Indices of the kept variables, ascending.
    wavelengths_out_ : ndarray of shape (n_kept,)
        0 .. n_kept - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import MCUVE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 30))
    >>> y = X[:, 3] - 2 * X[:, 17] + 0.05 * rng.normal(size=60)
    >>> MCUVE(n_components=2, n_runs=30, n_keep=2, random_state=0).fit(X, y).support_
    array([ 3, 17])
    """

    spec_name = "mc_uve"
    parameter_constraints = MappingProxyType(
        {
            "n_components": Param(int, ge=1),
            "n_runs": Param(int, ge=2),
            "sample_fraction": Param(float, gt=0, lt=1),
            "n_keep": Param(int, ge=1),
            "threshold": Param(float, gt=0, optional=True),
            "random_state": Param(int, ge=0, in_spec=False, optional=True),
        }
    )

    def __init__(
        self,
        n_components: int = 5,
        n_runs: int = 100,
        sample_fraction: float = 0.8,
        n_keep: int = 20,
        threshold: float | None = None,
        random_state: int | None = None,
    ):
        self.n_components = n_components
        self.n_runs = n_runs
        self.sample_fraction = sample_fraction
        self.n_keep = n_keep
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=3)
        check_params(self)
        n, p = X.shape
        if self.n_keep > p:
            raise ValueError(f"MCUVE: n_keep={self.n_keep} is more than the {p} columns (n_features={p})")
        rng = np.random.default_rng(self.random_state)
        n_draw = min(n - 1, max(2, int(np.rint(float(self.sample_fraction) * n))))
        self.coefficients_ = np.empty((int(self.n_runs), p))
        for i in range(int(self.n_runs)):
            rows = rng.choice(n, size=n_draw, replace=False)
            self.coefficients_[i] = pls_coefficients(X[rows], y[rows], int(self.n_components))
        self.stability_ = coefficient_stability(self.coefficients_)
        self.support_ = threshold_or_top(np.abs(self.stability_), int(self.n_keep), self.threshold)
        self.wavelengths_out_ = np.arange(self.support_.size, dtype=np.float64)
        return self

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. n_keep - 1: the fewest columns kept (which, and with a threshold how many, is decided per fold)."""
        check_params(self)
        if self.n_keep > n_features:
            raise ValueError(f"MCUVE: n_keep={self.n_keep} is more than the {n_features} columns")
        return np.arange(int(self.n_keep), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
