"""Orthogonal projections of spectra: OSC (removes variation orthogonal to y) and EPO (removes a nuisance subspace)."""

from __future__ import annotations

from numbers import Integral
from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params


def _check_n_components(value: object, limit: int, owner: str, why: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= limit:
        raise ValueError(f"{owner}: n_components={value!r} must be an integer in [1, {limit}] ({why})")
    return int(value)


def _sign_fixed(rows: np.ndarray) -> np.ndarray:
    """Flip each row so its largest-magnitude entry is positive (SVD signs are arbitrary; fitted attributes are not)."""
    pivot = rows[np.arange(rows.shape[0]), np.abs(rows).argmax(axis=1)]
    return rows * np.where(pivot < 0, -1.0, 1.0)[:, None]


def _rank_tolerance(singular_values: np.ndarray, shape: tuple[int, ...]) -> float:
    top = singular_values[0] if singular_values.size else 0.0
    return float(top * max(shape) * np.finfo(np.float64).eps)


class OSC(Operator):
    """Orthogonal signal correction: remove from X the largest-variance components orthogonal to y.

    Implements Fearn's closed-form formulation (T. Fearn, "On orthogonal signal correction", Chemom. Intell. Lab.
    Syst. 50 (2000) 47-52) of the OSC of Wold, Antti, Lindgren & Öhman (Chemom. Intell. Lab. Syst. 44 (1998)
    175-185). With X and Y centred on the fit rows and M = I - X'Y (Y'XX'Y)^+ Y'X the projector removing the
    directions X'Y, each component takes the weight w as the first right singular vector of X M (so the score
    t = X w maximises variance subject to t'Y = 0), the loading p = X't / (t't), and deflates X <- X - t p'.
    Since t'Y = 0, X'Y is unchanged by deflation, so M is computed once; and since M p = w, deflating X removes the
    leading singular triplet of X M, so the k weights are the k leading right singular vectors of the first X M.

    ``transform`` centres new rows with the training mean, removes the scores on each stored weight in turn and adds
    the training mean back, so the output keeps the level of the input.

    Parameters
    ----------
    n_components : int, default=1
        Number of orthogonal components removed, in [1, min(n_samples - 1, n_features) - rank(X'Y)].

    Attributes
    ----------
    x_mean_ : ndarray of shape (n_features,)
        Mean spectrum of the fit rows.
    weights_ : ndarray of shape (n_components, n_features)
        Weights w of the removed components (unit norm).
    loadings_ : ndarray of shape (n_components, n_features)
        Loadings p of the removed components.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import OSC
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 6))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=20)
    >>> osc = OSC(n_components=1).fit(X, y)
    >>> osc.weights_.shape
    (1, 6)
    >>> bool(np.allclose((osc.transform(X) - osc.x_mean_) @ osc.weights_[0], 0.0))  # the removed direction is gone
    True
    """

    spec_name = "osc"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, y_aware=True)
    parameter_constraints = MappingProxyType({"n_components": Param(int, ge=1)})

    def __init__(self, n_components: int = 1):
        self.n_components = n_components

    def fit(self, X, y=None):
        if y is None:
            raise ValueError(
                "OSC requires y to be passed, but the target y is None: OSC removes the variation of X orthogonal to y"
            )
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        Y = y.reshape(X.shape[0], -1)
        Yc = Y - Y.mean(axis=0)
        if not np.any(Yc):
            raise ValueError("OSC: y is constant over the fit rows; there is no target to be orthogonal to")
        self.x_mean_ = X.mean(axis=0)
        Xc = X - self.x_mean_
        # Orthonormal basis Q of the directions X'Y: X M = X - (X Q) Q'.
        U, s, _ = np.linalg.svd(Xc.T @ Yc, full_matrices=False)
        Q = U[:, s > _rank_tolerance(s, (X.shape[1], Y.shape[1]))]
        limit = min(X.shape[0] - 1, X.shape[1]) - Q.shape[1]
        k = _check_n_components(
            self.n_components,
            limit,
            "OSC",
            f"min(n_samples - 1, n_features) - rank(X'Y) with {X.shape[0]} fit rows, {X.shape[1]} wavelengths "
            f"(n_features={X.shape[1]}) and "
            f"rank(X'Y)={Q.shape[1]}",
        )
        # Deflating X by (t, p) deflates Z = X M by its leading singular triplet (M p = w, t = s u), so the weights
        # of all components are the leading right singular vectors of the first Z: one SVD serves every component.
        _, sz, Vt = np.linalg.svd(Xc - (Xc @ Q) @ Q.T, full_matrices=False)
        carrying = int(np.count_nonzero(sz > np.linalg.norm(Xc) * max(Xc.shape) * np.finfo(np.float64).eps))
        if k > carrying:
            raise ValueError(
                f"OSC: n_components={self.n_components} is too large: only {carrying} components orthogonal to y "
                "carry variance in the fit rows"
            )
        weights = _sign_fixed(Vt[:k])
        loadings = np.empty_like(weights)
        for i, w in enumerate(weights):
            t = Xc @ w
            loadings[i] = Xc.T @ t / (t @ t)
            Xc = Xc - np.outer(t, loadings[i])
        self.weights_ = weights
        self.loadings_ = loadings
        return self

    def transform(self, X):
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xc = X - self.x_mean_
        for w, p in zip(self.weights_, self.loadings_, strict=True):
            Xc = Xc - np.outer(Xc @ w, p)
        return Xc + self.x_mean_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class EPO(Operator):
    """External parameter orthogonalisation: project spectra onto the complement of a nuisance subspace.

    Roger, Chauchard & Bellon-Maurel, "EPO-PLS external parameter orthogonalisation of PLS application to temperature
    -independent measurement of sugar content of intact fruits", Chemom. Intell. Lab. Syst. 66 (2003) 191-204.
    The rows of ``differences`` are spectral differences caused by the external parameter only (e.g. the same
    sample measured at two temperatures). With D = U S V' (no centring) and V_k the first ``n_components`` right
    singular vectors, the projection is P = I - V_k V_k' and ``transform(X) = X P``, computed as
    X - (X V_k) V_k' without forming the p x p matrix.

    The projection is fitted from ``differences`` only, never from the rows given to ``fit``, so the output row
    depends only on the same input row (trait ``row_wise_stateless``). Whether ``differences`` leaks information
    across folds is the caller's concern when building it: in a spec (``{op: epo, differences: [[...], ...],
    n_components: 1}``) it is a matrix written out, measured apart from the calibration set.

    Parameters
    ----------
    differences : array-like of shape (n_pairs, n_features)
        Difference spectra spanning the nuisance variation, on the same axis as X.
    n_components : int
        Number of leading directions of ``differences`` removed, in [1, rank(differences)].

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Orthonormal nuisance directions V_k' removed by the projection.
    singular_values_ : ndarray of shape (n_components,)
        Their singular values in ``differences``.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import EPO
    >>> epo = EPO(differences=np.array([[0.0, 1.0, 1.0, 0.0]]), n_components=1).fit(np.zeros((1, 4)))
    >>> epo.transform(np.array([[1.0, 2.0, 4.0, 3.0]]))  # the part along (0, 1, 1, 0) is removed
    array([[ 1., -1.,  1.,  3.]])
    """

    spec_name = "epo"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({
        "differences": Param(list[list[float]], required=True),
        "n_components": Param(int, ge=1),
    })

    def __init__(self, differences, n_components: int = 1):
        self.differences = differences
        self.n_components = n_components

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        check_params(self)
        D = self._difference_matrix(X.shape[1])
        _, s, Vt = np.linalg.svd(D, full_matrices=False)
        rank = int(np.count_nonzero(s > _rank_tolerance(s, D.shape)))
        k = _check_n_components(self.n_components, rank, "EPO", "the rank of differences")
        self.components_ = _sign_fixed(Vt[:k])
        self.singular_values_ = s[:k]
        return self

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        V = self.components_
        return X - (X @ V.T) @ V

    def _difference_matrix(self, n_features: int) -> np.ndarray:
        try:
            D = np.asarray(self.differences, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"EPO: differences must be a 2D numeric array, got {self.differences!r}") from None
        if D.ndim != 2 or D.shape[0] == 0 or D.shape[1] != n_features:
            raise ValueError(
                f"EPO: differences must have shape (n_pairs >= 1, {n_features}) to match the input columns, "
                f"got {D.shape}"
            )
        if not np.isfinite(D).all():
            raise ValueError("EPO: differences contains NaN or infinite values")
        return D
