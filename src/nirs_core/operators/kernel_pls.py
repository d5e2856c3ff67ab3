"""Kernel PLS regression (RBF, polynomial or linear kernel), fitted once with K components, predicting every k <= K."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import check_n_components

KERNELS = ("rbf", "poly", "linear")


class KernelPLS(RegressorMixin, BaseEstimator):
    """Kernel PLS regression of one target in a reproducing kernel Hilbert space (Rosipal & Trejo 2001).

    R. Rosipal & L. J. Trejo, "Kernel partial least squares regression in reproducing kernel Hilbert space",
    J. Machine Learning Research 2 (2001) 97-123. With the centred training kernel K (``J K J``, J = I - 11'/n,
    as scikit-learn's ``KernelCenterer``) and the centred target y, each component takes the score
    ``t = K u / |K u|`` with ``u = y / |y|`` (the NIPALS loop converges at once for one target), then deflates
    ``K <- (I - tt')K(I - tt')`` and ``y <- y - t t'y``. The k-component model is
    ``y = mean + K_new U_k (T_k' K U_k)^-1 T_k' y`` (K, y undeflated; ``K_new`` the new rows' kernel against the
    training rows, centred as the training kernel was), so
    one fit serves every k <= K. With the linear kernel it is PLS regression (the test checks it).

    Parameters
    ----------
    n_components : int, default=2
        Largest number of components (K), in [1, n_samples - 1].
    kernel : {'rbf', 'poly', 'linear'}, default='rbf'
        ``exp(-gamma |x - x'|^2)``, ``(gamma x.x' + coef0)^degree`` or ``x.x'`` (as scikit-learn's pairwise
        kernels of the same names; computed here with numpy).
    gamma : float, default=0.0
        Kernel coefficient, finite and >= 0; 0 means 1 / n_features (for spectra on another scale, set it: a
        good start is 1 / the median squared distance between training rows).
    degree : int, default=2
        Degree of the polynomial kernel, >= 1.
    coef0 : float, default=1.0
        Constant term of the polynomial kernel, finite.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_samples, n_features)
        The training rows (new rows are compared with them).
    coef_all_ : ndarray of shape (n_components, n_samples)
        Dual coefficients of the k-component model in ``coef_all_[k - 1]``, applied to the centred kernel of new rows.
    y_mean_ : float
        Mean of the training target.
    kernel_column_means_ : ndarray of shape (n_samples,)
        Column means of the training kernel (new rows' kernels are centred with them).
    kernel_mean_ : float
        Mean of the training kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import KernelPLS
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(80, 2))
    >>> y = np.sin(2 * X[:, 0]) * X[:, 1]  # no linear model fits this
    >>> rbf = KernelPLS(n_components=10, kernel="rbf", gamma=1.0).fit(X, y)
    >>> lin = KernelPLS(n_components=2, kernel="linear").fit(X, y)
    >>> err = lambda m: float(np.sqrt(np.mean((m.predict(X) - y) ** 2)))
    >>> bool(err(rbf) < err(lin) / 3)
    True
    """

    def __init__(self, n_components: int = 2, kernel: str = "rbf", gamma: float = 0.0, degree: int = 2,
                 coef0: float = 1.0):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        self._check(X.shape)
        self.X_fit_ = X
        K_raw = self._kernel(X, X)
        self.kernel_column_means_ = K_raw.mean(axis=0)
        self.kernel_mean_ = float(self.kernel_column_means_.mean())
        K = self._centred(K_raw)
        self.y_mean_ = float(y.mean())
        f = y - self.y_mean_
        n, k_max = X.shape[0], int(self.n_components)
        T, U = np.zeros((n, k_max)), np.zeros((n, k_max))
        Kd, fd = K.copy(), f.copy()
        for a in range(k_max):
            norm_f = float(np.linalg.norm(fd))
            u = fd / norm_f if norm_f > 0 else fd
            t = Kd @ u
            norm_t = float(np.linalg.norm(t))
            if norm_t == 0:  # the kernel holds no more variation: later components repeat the last model
                T, U, k_max = T[:, :a], U[:, :a], a
                break
            t /= norm_t
            T[:, a], U[:, a] = t, u
            Kd = Kd - np.outer(t, t @ Kd)
            Kd = Kd - np.outer(Kd @ t, t)
            fd = fd - t * float(t @ fd)
        self.coef_all_ = np.zeros((int(self.n_components), n))
        for k in range(1, int(self.n_components) + 1):
            j = min(k, k_max)
            if j == 0:
                continue
            inner = T[:, :j].T @ K @ U[:, :j]
            self.coef_all_[k - 1] = U[:, :j] @ np.linalg.solve(inner, T[:, :j].T @ f)
        return self

    def predict_all(self, X) -> np.ndarray:
        """Predictions of every k-component model, shape (n_components, n_samples, 1)."""
        check_is_fitted(self, "coef_all_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        K_new = self._centred(self._kernel(X, self.X_fit_))
        return (K_new @ self.coef_all_.T).T[:, :, None] + self.y_mean_

    def predict(self, X) -> np.ndarray:
        """Predictions of the ``n_components`` model (1D)."""
        return self.predict_all(X)[-1, :, 0]

    def _check(self, shape: tuple[int, int]) -> None:
        n_samples = shape[0]
        if isinstance(self.n_components, bool) or not isinstance(self.n_components, int) or \
                not 1 <= self.n_components <= n_samples - 1:
            check_n_components(self.n_components, (n_samples, n_samples), "KernelPLS")
        if self.kernel not in KERNELS:
            raise ValueError(f"KernelPLS: kernel must be one of {list(KERNELS)}, got {self.kernel!r}")
        gamma = self.gamma
        if isinstance(gamma, bool) or not isinstance(gamma, int | float) or not 0 <= gamma < np.inf:
            raise ValueError(f"KernelPLS: gamma must be a finite number >= 0, got {gamma!r}")
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or self.degree < 1:
            raise ValueError(f"KernelPLS: degree must be an integer >= 1, got {self.degree!r}")
        if isinstance(self.coef0, bool) or not isinstance(self.coef0, int | float) or not np.isfinite(self.coef0):
            raise ValueError(f"KernelPLS: coef0 must be a finite number, got {self.coef0!r}")

    def _centred(self, K: np.ndarray) -> np.ndarray:
        """A kernel against the training rows centred in feature space as the training kernel was."""
        return K - self.kernel_column_means_[None, :] - K.mean(axis=1, keepdims=True) + self.kernel_mean_

    def _kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        gamma = float(self.gamma) or 1.0 / A.shape[1]
        inner = A @ B.T
        if self.kernel == "rbf":
            squared = np.einsum("ij,ij->i", A, A)[:, None] + np.einsum("ij,ij->i", B, B)[None, :] - 2.0 * inner
            return np.exp(-gamma * np.maximum(squared, 0.0))
        if self.kernel == "poly":
            return (gamma * inner + float(self.coef0)) ** int(self.degree)
        return inner

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # as PLS with 2 components on the generic check data
        return tags
