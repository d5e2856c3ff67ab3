"""Locally weighted PLS (LWPLS): a PLS model fitted for each new spectrum, weighting the training rows by their
similarity to it; one pass gives the prediction of every component count."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import check_n_components


class LWPLS(RegressorMixin, BaseEstimator):
    """Locally weighted PLS regression of one target (Kim et al. 2013) for non-linear calibrations.

    S. Kim, R. Okajima, M. Kano & S. Hasebe, "Development of soft-sensor using locally weighted PLS with adaptive
    similarity measure", Chemom. Intell. Lab. Syst. 124 (2013) 43-49. Nothing is fitted but the training rows;
    for each query x the training row i gets the similarity weight

        omega_i = exp(-d_i / (bandwidth * sd(d))),  d_i = |x_i - x| (Euclidean), sd with ddof=1

    and a weighted PLS (NIPALS on the omega-weighted centred rows; Kim et al.'s algorithm) predicts x: with
    ``X_w, y_w`` the omega-weighted means, ``E = X - X_w``, ``f = y - y_w``, ``e = x - X_w`` and ``Omega =
    diag(omega)``, each component a takes ``w = E' Omega f / |E' Omega f|``, ``t = E w``, ``p = E' Omega t /
    t' Omega t``, ``q = f' Omega t / t' Omega t``, adds ``(e w) q`` to the prediction and deflates E, f, e. The
    prediction after a components is the model with a components, so one pass serves the whole sweep. It is computed
    in the equivalent improved-kernel form (Dayal & MacGregor 1997), which deflates only ``E' Omega f`` and equals
    ikpls' PLS fitted with the weights as sample weights (the tests check both). A large
    ``bandwidth`` weighs all rows alike (ordinary PLS); a small one makes the model local.

    Parameters
    ----------
    n_components : int, default=2
        Largest number of components (K), in [1, min(n_samples - 1, n_features)].
    bandwidth : float, default=1.0
        lambda of the similarity, finite and > 0, in units of the standard deviation of the distances.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_samples, n_features)
        The training rows (the model of a query is fitted on them).
    y_fit_ : ndarray of shape (n_samples,)
        The training target.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import LWPLS
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(80, 3))
    >>> y = np.sin(X[:, 0]) + 0.1 * X[:, 1]  # non-linear in X
    >>> local = LWPLS(n_components=2, bandwidth=0.25).fit(X, y)
    >>> wide = LWPLS(n_components=2, bandwidth=1e6).fit(X, y)  # every row weighs alike: global PLS
    >>> err = lambda m: float(np.sqrt(np.mean((m.predict(X) - y) ** 2)))
    >>> bool(err(local) < err(wide) / 2)
    True
    """

    def __init__(self, n_components: int = 2, bandwidth: float = 1.0):
        self.n_components = n_components
        self.bandwidth = bandwidth

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=3)
        check_n_components(self.n_components, X.shape, "LWPLS")
        bandwidth = self.bandwidth
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, int | float) or not 0 < bandwidth < np.inf:
            raise ValueError(f"LWPLS: bandwidth must be a finite number > 0, got {bandwidth!r}")
        self.X_fit_, self.y_fit_ = X, y
        return self

    def predict_all(self, X) -> np.ndarray:
        """Predictions of every k-component local model, shape (n_components, n_samples, 1)."""
        check_is_fitted(self, "X_fit_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = np.empty((int(self.n_components), X.shape[0], 1))
        for row, x in enumerate(X):  # one local model per query
            out[:, row, 0] = self._local(x)
        return out

    def predict(self, X) -> np.ndarray:
        """Predictions of the ``n_components`` local models (1D)."""
        return self.predict_all(X)[-1, :, 0]

    def _local(self, x: np.ndarray) -> np.ndarray:
        X, y = self.X_fit_, self.y_fit_
        diff = X - x
        d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        sd = d.std(ddof=1)
        omega = np.exp(-d / (float(self.bandwidth) * sd)) if sd > 0 else np.ones_like(d)
        omega /= omega.sum()
        x_w, y_w = omega @ X, float(omega @ y)
        E, e = X - x_w, x - x_w
        # Improved kernel form (Dayal & MacGregor 1997, weighted): E is never deflated; only the cross-covariance
        # s = E' Omega f is, and the rotations r (t = E r) replace the deflated weights. Same model as the
        # deflating NIPALS of the class docstring, with two products by E per component instead of four.
        s_vec = E.T @ (omega * (y - y_w))
        K = int(self.n_components)
        R, P = np.zeros((K, X.shape[1])), np.zeros((K, X.shape[1]))
        predictions, current = np.empty(K), y_w
        for a in range(K):
            norm = float(np.linalg.norm(s_vec))
            if norm == 0:  # nothing left to explain: later components add nothing
                predictions[a:] = current
                break
            w = s_vec / norm
            r = w - R[:a].T @ (P[:a] @ w)
            t = E @ r
            tt = float(omega @ (t * t))
            p = E.T @ (omega * t) / tt
            q = float(s_vec @ r) / tt
            s_vec = s_vec - p * (q * tt)
            R[a], P[a] = r, p
            current += float(e @ r) * q
            predictions[a] = current
        return predictions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # as PLS with 2 components on the generic check data
        return tags
