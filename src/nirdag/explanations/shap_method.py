"""SHAP values of a chain's refit predictions over raw wavelengths, through the optional ``shap`` package
(``pip install 'nirdag[explain]'``), imported only when asked."""

from __future__ import annotations

import numpy as np

from nirdag.bundle.fitted import FittedChain
from nirdag.explanations.errors import ExplainError
from nirdag.explanations.methods import Importance

INSTALL = "pip install 'nirdag[explain]'"


def _shap():
    try:
        import shap  # optional heavy dependency (numba), behind a clear error
    except ImportError:
        raise ExplainError(f"method 'shap' needs the optional shap package: {INSTALL}") from None
    return shap


def shap_values(chain: FittedChain, X_cal: np.ndarray, wavelengths: np.ndarray, *, n_background: int,
                n_explained: int, rng: np.random.Generator, seed: int) -> Importance:
    """Mean |SHAP value| (p, t) per raw wavelength of the refit chain's predictions, by shap's permutation explainer
    (an independent masker over a background of ``n_background`` calibration rows, drawn by ``rng``) over
    ``n_explained`` calibration rows (also drawn by ``rng``).

    shap seeds numpy's global generator with ``seed`` while it runs; the caller's global state is put back after,
    so nothing outside sees it."""
    shap = _shap()
    n = X_cal.shape[0]
    background = X_cal[np.sort(rng.choice(n, size=min(n_background, n), replace=False))]
    explained = X_cal[np.sort(rng.choice(n, size=min(n_explained, n), replace=False))]
    p = X_cal.shape[1]
    out = np.empty((p, len(chain.targets)))
    state = np.random.get_state()
    try:
        for j in range(len(chain.targets)):
            def f(X: np.ndarray, j: int = j) -> np.ndarray:
                return chain.refit_predictions(np.asarray(X, dtype=np.float64))[:, j]  # a stack too

            masker = shap.maskers.Independent(background, max_samples=background.shape[0])
            explainer = shap.PermutationExplainer(f, masker, seed=seed)
            values = explainer(explained, max_evals=2 * p + 1, silent=True).values
            out[:, j] = np.abs(np.asarray(values, dtype=np.float64)).mean(axis=0)
    finally:
        np.random.set_state(state)
    return Importance(out, None, wavelengths)
