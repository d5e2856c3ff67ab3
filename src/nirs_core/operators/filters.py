"""Sample filters: steps that decide, on a fold's training rows, which of them the later steps and the model are fitted
on — X outliers by Hotelling T² / Q of a PCA, y outliers by MAD or IQR, high-leverage rows.

A filter is not a transformer: it has no ``transform`` and never changes a spectrum. ``fit(X, y)`` decides, for
the rows it is given, ``keep_`` (True: fitted on) and, for each dropped row, why (``reason_``, ``value_``,
``limit_``, ``target_``). The fold fit (``nirs_modelling.compute.fit_group``) is the one place that understands the
protocol: it removes the dropped rows from the fit of every later step of the chain, and predicts every validation
and test row. Nothing at predict time drops a spectrum (a bundle holds no filter; its applicability domain flags
outlying spectra instead).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from scipy import linalg
from sklearn.utils.validation import validate_data

from nirs_core.diagnostics import Latent, fit_domain, project, q_limit, sample_statistics, t2_limit_calibration
from nirs_core.operators.base import OperatorTraits, SpecOperator
from nirs_core.operators.params import Param, check_params

# Why a row was dropped: the code each filter writes to ``reason_`` (index into this tuple; -1 for a kept row).
FILTER_REASONS: tuple[str, ...] = ("t2", "q", "y_mad", "y_below_fence", "y_above_fence", "leverage")
KEPT = -1


class RowFilter(SpecOperator):
    """Base of the sample filters: ``fit(X, y)`` sets ``keep_`` and the reason of each dropped row; no transform.

    Attributes set by ``fit`` (one value per row given to it):

    keep_ : ndarray of bool
        True for a row the later steps are fitted on.
    reason_ : ndarray of int
        Index into :data:`FILTER_REASONS` of why a row was dropped (-1 for a kept row).
    value_, limit_ : ndarray of float
        The statistic that dropped the row and the limit it exceeded (NaN for a kept row).
    target_ : ndarray of int
        The target column whose value dropped the row (y filters), -1 otherwise.
    """

    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False)

    def _decided(self, n: int) -> None:
        self.keep_ = np.ones(n, dtype=bool)
        self.reason_ = np.full(n, KEPT, dtype=np.int64)
        self.value_ = np.full(n, np.nan)
        self.limit_ = np.full(n, np.nan)
        self.target_ = np.full(n, -1, dtype=np.int64)

    def _drop(self, rows: np.ndarray, reason: str, value: np.ndarray, limit: np.ndarray | float,
              target: int = -1) -> None:
        """Drop ``rows`` (a boolean mask) for ``reason``, unless an earlier test of this filter dropped them."""
        new = rows & self.keep_
        self.keep_ = self.keep_ & ~new
        self.reason_[new] = FILTER_REASONS.index(reason)
        self.value_[new] = np.broadcast_to(value, new.shape)[new]
        self.limit_[new] = np.broadcast_to(limit, new.shape)[new]
        self.target_[new] = target

    def describe(self, reason: int, value: float, limit: float, target: str | None) -> str:
        """A dropped row's reason in words (``T2 14.2 > limit 9.8 at 0.99``)."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.traits.y_aware
        return tags


def _pca_latent(X: np.ndarray, k: int, owner: str) -> Latent:
    """The k-component PCA of the rows ``X`` (centred, unscaled) as a :class:`~nirs_core.diagnostics.Latent`.

    Only the k leading directions are computed: the top eigenvectors of the smaller cross-product matrix (X'X, or
    XX' mapped back through X'), by LAPACK's deterministic subset eigensolver — a fraction of a full SVD's time on
    wide spectra (signs do not matter: T², Q and leverage are sign-free)."""
    n, p = X.shape
    mean = X.mean(axis=0)
    Xc = X - mean
    small = Xc.T @ Xc if p <= n else Xc @ Xc.T
    values, vectors = linalg.eigh(small, subset_by_index=[small.shape[0] - k, small.shape[0] - 1])
    values, vectors = values[::-1], vectors[:, ::-1]
    if not values[-1] > values[0] * 1e-12:
        raise ValueError(f"{owner}: n_components={k} exceeds the rank of the {n} training rows (component {k} "
                         "explains no variance)")
    V = vectors if p <= n else (Xc.T @ vectors) / np.sqrt(values)
    return Latent("pcr", mean, np.ones(p), V, V, V, np.zeros((1, k)), np.zeros((p, 1)))


def _check_pca(k: int, shape: tuple[int, int], owner: str) -> None:
    n, p = shape
    limit = min(n - 2, p)
    if k > limit:
        raise ValueError(f"{owner}: n_components={k} is too many for {n} training rows and {p} columns: the "
                         f"calibration T² limit needs n_components <= min(n_samples - 2, n_features) = {limit}")


class XOutliers(RowFilter):
    """Drop the training rows whose Hotelling T² or Q residual, in a PCA of those rows, exceeds its limit.

    A PCA with ``n_components`` (centred, unscaled) is fitted on the rows given to ``fit``; each row's T² is
    judged against the calibration (Beta) limit ``(n-1)²/n · Beta(confidence; k/2, (n-k-1)/2)`` and its Q against
    the Jackson–Mudholkar (1979) limit at ``confidence`` (:mod:`nirs_core.diagnostics`, as the domain of a model
    is). ``stat`` chooses the test: ``t2``, ``q`` or ``both`` (a row over either limit is dropped; the reason names
    the statistic over its limit by the larger ratio, T² first on a tie). A Q limit that is not defined (the
    components reconstruct the rows exactly) drops nothing by Q. One pass: the PCA is not refitted without the
    dropped rows.

    J. E. Jackson & G. S. Mudholkar, "Control procedures for residuals associated with principal component
    analysis", Technometrics 21 (1979) 341-349; N. D. Tracy, J. C. Young & R. L. Mason, "Multivariate control
    charts for individual observations", J. Quality Technology 24 (1992) 88-95.

    Parameters
    ----------
    n_components : int, default=5
        PCA components, in [1, min(n_samples - 2, n_features)].
    confidence : float, default=0.99
        Confidence of the limits, in (0.5, 1).
    stat : {"both", "t2", "q"}, default="both"
        Which statistic drops a row.

    Attributes
    ----------
    keep_, reason_, value_, limit_, target_ : ndarray of shape (n_samples,)
        Each row's decision: kept, and why it was dropped (see :class:`RowFilter`).
    t2_limit_, q_limit_ : float
        The limits of the rows given to ``fit`` (``q_limit_`` NaN when undefined).
    t2_, q_ : ndarray of shape (n_samples,)
        Each row's T² and Q.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import XOutliers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 10))
    >>> X[7] += 25.0  # one spectrum far from the others
    >>> f = XOutliers(n_components=2, confidence=0.999).fit(X)
    >>> np.flatnonzero(~f.keep_).tolist()
    [7]
    >>> f.describe(f.reason_[7], f.value_[7], f.limit_[7], None)
    'T2 57.46 > limit 12.49 at 0.999'

    """

    spec_name = "x_outliers"
    parameter_constraints = MappingProxyType({
        "n_components": Param(int, ge=1),
        "confidence": Param(float, gt=0.5, lt=1),
        "stat": Param(str, options=("both", "t2", "q")),
    })

    def __init__(self, n_components: int = 5, confidence: float = 0.99, stat: str = "both"):
        self.n_components = n_components
        self.confidence = confidence
        self.stat = stat

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=3)
        check_params(self)
        k = int(self.n_components)
        _check_pca(k, X.shape, "XOutliers")
        latent = _pca_latent(X, k, "XOutliers")
        proj = project(latent, X)  # once for the limits and the statistics
        domain = fit_domain(latent, proj)
        stats = sample_statistics(latent, domain, proj, calibration=True)
        self.t2_, self.q_ = stats["t2"], stats["q"]
        self.t2_limit_ = t2_limit_calibration(X.shape[0], k, float(self.confidence))
        self.q_limit_ = q_limit(domain.theta, float(self.confidence))
        n = X.shape[0]
        self._decided(n)
        t2_ratio = self.t2_ / self.t2_limit_
        q_defined = np.isfinite(self.q_limit_) and self.q_limit_ > 0  # undefined: Q drops nothing
        q_ratio = self.q_ / self.q_limit_ if q_defined else np.zeros(n)
        over_t2 = t2_ratio > 1 if self.stat in ("t2", "both") else np.zeros(n, dtype=bool)
        over_q = q_ratio > 1 if self.stat in ("q", "both") else np.zeros(n, dtype=bool)
        q_first = over_q & (~over_t2 | (q_ratio > t2_ratio))
        self._drop(q_first, "q", self.q_, self.q_limit_)
        self._drop(over_t2, "t2", self.t2_, self.t2_limit_)
        self._drop(over_q, "q", self.q_, self.q_limit_)
        return self

    def describe(self, reason: int, value: float, limit: float, target: str | None) -> str:
        name = {"t2": "T2", "q": "Q"}[FILTER_REASONS[reason]]
        return f"{name} {value:.4g} > limit {limit:.4g} at {self.confidence}"


class YOutliers(RowFilter):
    """Drop the training rows whose target is an outlier among those rows: by the median absolute deviation or by
    Tukey's interquartile fences, each target on its own.

    ``mad``: the robust z ``|y - median| / (1.4826 MAD)`` above ``threshold`` (default 3.5: the modified z-score
    rule of Iglewicz & Hoaglin 1993; 1.4826 MAD estimates the standard deviation of normal data). ``iqr``: y below
    ``Q1 - threshold IQR`` or above ``Q3 + threshold IQR`` (default 1.5: Tukey 1977; quartiles by linear
    interpolation, numpy's default). A row is dropped when any target is an outlier (the first such target is
    named). A MAD or IQR of 0 (most rows share one value) is refused: no row is judged by an undefined scale.

    B. Iglewicz & D. C. Hoaglin, "How to Detect and Handle Outliers", ASQC Quality Press (1993);
    J. W. Tukey, "Exploratory Data Analysis", Addison-Wesley (1977).

    Parameters
    ----------
    method : {"mad", "iqr"}, default="mad"
        The outlier rule.
    threshold : float or None, default=None
        Robust z limit (mad) or fence multiplier (iqr); None: 3.5 for mad, 1.5 for iqr.

    Attributes
    ----------
    keep_, reason_, value_, limit_, target_ : ndarray of shape (n_samples,)
        Each row's decision: kept, and why it was dropped (see :class:`RowFilter`).
    centre_, scale_ : ndarray of shape (n_targets,)
        mad: the median and 1.4826 MAD of each target; iqr: Q1 and the IQR.
    lower_, upper_ : ndarray of shape (n_targets,)
        The y values outside which a row is dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import YOutliers
    >>> y = np.array([10.0, 11, 9, 10.5, 9.5, 10.2, 30.0])
    >>> np.flatnonzero(~YOutliers(method="iqr").fit(np.zeros((7, 2)), y).keep_).tolist()
    [6]
    """

    spec_name = "y_outliers"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, y_aware=True)
    parameter_constraints = MappingProxyType({
        "method": Param(str, options=("mad", "iqr")),
        "threshold": Param(float, gt=0, optional=True),
    })
    _DEFAULTS: ClassVar[dict[str, float]] = {"mad": 3.5, "iqr": 1.5}

    def __init__(self, method: str = "mad", threshold: float | None = None):
        self.method = method
        self.threshold = threshold

    @property
    def threshold_(self) -> float:
        return float(self._DEFAULTS[self.method] if self.threshold is None else self.threshold)

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=3)
        check_params(self)
        Y = y.reshape(y.shape[0], -1)
        limit = self.threshold_
        if self.method == "mad":
            self.centre_ = np.median(Y, axis=0)
            self.scale_ = 1.4826 * np.median(np.abs(Y - self.centre_), axis=0)
            self.lower_, self.upper_ = self.centre_ - limit * self.scale_, self.centre_ + limit * self.scale_
        else:
            q1, q3 = np.percentile(Y, [25.0, 75.0], axis=0)
            self.centre_, self.scale_ = q1, q3 - q1
            self.lower_, self.upper_ = q1 - limit * self.scale_, q3 + limit * self.scale_
        flat = np.flatnonzero(~(self.scale_ > 0))
        if flat.size:
            what = "MAD" if self.method == "mad" else "IQR"
            raise ValueError(f"YOutliers: the {what} of target column {int(flat[0])} is 0 on these {Y.shape[0]} rows "
                             f"(most share the value {float(np.median(Y[:, flat[0]])):g}), so no row can be judged "
                             "an outlier by it")
        self._decided(Y.shape[0])
        for j in range(Y.shape[1]):
            if self.method == "mad":
                z = np.abs(Y[:, j] - self.centre_[j]) / self.scale_[j]
                self._drop(z > limit, "y_mad", z, limit, j)
            else:
                self._drop(Y[:, j] < self.lower_[j], "y_below_fence", Y[:, j], self.lower_[j], j)
                self._drop(Y[:, j] > self.upper_[j], "y_above_fence", Y[:, j], self.upper_[j], j)
        return self

    def describe(self, reason: int, value: float, limit: float, target: str | None) -> str:
        name, k = target or "y", self.threshold_
        if FILTER_REASONS[reason] == "y_mad":
            return f"{name} robust z {value:.4g} > {k:g} (|y - median| / 1.4826 MAD)"
        if FILTER_REASONS[reason] == "y_below_fence":
            return f"{name} {value:.4g} < lower fence {limit:.4g} (Q1 - {k:g} IQR)"
        return f"{name} {value:.4g} > upper fence {limit:.4g} (Q3 + {k:g} IQR)"


class Leverage(RowFilter):
    """Drop the training rows whose leverage, in a PCA of those rows, exceeds ``threshold`` times the mean.

    Leverage ``h_i = 1/n + Σ_a t_ia² / (t_a' t_a)`` over the scores of a PCA with ``n_components`` (centred,
    unscaled; :func:`nirs_core.diagnostics.sample_statistics`), whose mean is ``(1 + k) / n``; a row with
    ``h_i > threshold · mean(h)`` is dropped (2 or 3 times the mean are the usual rules: Hoaglin & Welsch 1978).

    D. C. Hoaglin & R. E. Welsch, "The hat matrix in regression and ANOVA", The American Statistician 32 (1978)
    17-22.

    Parameters
    ----------
    n_components : int, default=5
        PCA components, in [1, min(n_samples - 2, n_features)].
    threshold : float, default=3.0
        Multiple of the mean leverage above which a row is dropped, > 1.

    Attributes
    ----------
    keep_, reason_, value_, limit_, target_ : ndarray of shape (n_samples,)
        Each row's decision: kept, and why it was dropped (see :class:`RowFilter`).
    leverage_ : ndarray of shape (n_samples,)
        Each row's leverage.
    limit_value_ : float
        ``threshold`` times the mean leverage.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import Leverage
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(50, 6))
    >>> X[3] *= 12.0
    >>> np.flatnonzero(~Leverage(n_components=2, threshold=3.0).fit(X).keep_).tolist()
    [3]
    """

    spec_name = "leverage"
    parameter_constraints = MappingProxyType({
        "n_components": Param(int, ge=1),
        "threshold": Param(float, gt=1),
    })

    def __init__(self, n_components: int = 5, threshold: float = 3.0):
        self.n_components = n_components
        self.threshold = threshold

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=3)
        check_params(self)
        k = int(self.n_components)
        _check_pca(k, X.shape, "Leverage")
        latent = _pca_latent(X, k, "Leverage")
        proj = project(latent, X)
        self.leverage_ = sample_statistics(latent, fit_domain(latent, proj), proj, calibration=True)["leverage"]
        self.limit_value_ = float(self.threshold) * float(self.leverage_.mean())
        self._decided(X.shape[0])
        self._drop(self.leverage_ > self.limit_value_, "leverage", self.leverage_, self.limit_value_)
        return self

    def describe(self, reason: int, value: float, limit: float, target: str | None) -> str:
        return f"leverage {value:.4g} > limit {limit:.4g} ({self.threshold:g} x mean leverage)"
