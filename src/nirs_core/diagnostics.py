"""What a latent-variable model (PLS, PCR, PLS-DA) says about the spectra it sees: scores, Hotelling T², Q residuals,
leverage, the limits of the calibration's domain, VIP and the selectivity ratio.

Definitions (k components, n calibration rows, ``Xs`` the centred — and scaled, when the model scales — spectra):

- scores ``T = Xs @ R``; Hotelling ``T² = Σ_a t_a² / s_a²`` with ``s_a²`` the calibration variance of score ``a``
  (ddof=1); ``Q = ‖Xs - T P'‖²`` per row (the squared residual of the spectrum after reconstruction from the k
  components); leverage ``h = 1/n + Σ_a t_a² / (t_a' t_a)`` over the calibration scores.
- T² limits at confidence ``1 - α``: for calibration rows the Beta limit ``(n-1)²/n · Beta(1-α; k/2, (n-k-1)/2)``;
  for new rows the prediction limit ``k (n²-1) / (n (n-k)) · F(1-α; k, n-k)``. Q limits: Jackson & Mudholkar (1979)
  from ``θ_i = Σ_j λ_j^i`` over the eigenvalues ``λ_j`` of the calibration residual covariance ``E'E / (n-1)``,
  with ``h0 = 1 - 2 θ1 θ3 / (3 θ2²)`` (floored at 0.001, as mdatools does). Every limit uses the calibration n.
- ``domain``: ``outlier`` when T² or Q exceeds its 99 % limit, ``extreme`` when one exceeds its 95 % limit, else
  ``regular``. A Q limit that is not defined (the k components reconstruct the calibration exactly) judges by T²
  alone.
- VIP (Wold): ``VIP_j = sqrt(p · Σ_a SS_a (w_ja / ‖w_a‖)² / Σ_a SS_a)``, ``SS_a = q_a² t_a' t_a`` the y variance
  explained by component ``a`` (per target). Selectivity ratio (Rajalahti et al. 2009): the explained over the
  residual variance of each variable for the target-projected component ``t_TP = Xs b / ‖b‖``.

numpy and scipy only: a bundle computes the domain of new spectra without the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import numpy as np
from scipy import stats

LatentKind = Literal["pls", "pcr"]
DOMAINS: tuple[str, ...] = ("regular", "extreme", "outlier")
_H0_FLOOR = 0.001


@dataclass(frozen=True)
class Latent:
    """The k-component latent structure of a fitted model, in the space ``Xs = (X - x_mean) / x_scale``.

    ``rotations`` R (p, k) give the scores ``Xs @ R``; ``loadings`` P (p, k) reconstruct ``T P'``; ``weights`` W
    (p, k); ``y_loadings`` Q (t, k) predict the (scaled) centred targets ``T Q'``; ``coefficients`` (p, t) apply to
    the centred unscaled spectra, as the model predicts.
    """

    kind: LatentKind
    x_mean: np.ndarray
    x_scale: np.ndarray
    rotations: np.ndarray
    loadings: np.ndarray
    weights: np.ndarray
    y_loadings: np.ndarray
    coefficients: np.ndarray

    @property
    def k(self) -> int:
        return int(self.rotations.shape[1])

    def standardise(self, X: np.ndarray) -> np.ndarray:
        centred = np.asarray(X, dtype=np.float64) - self.x_mean
        if np.all(self.x_scale == 1.0):  # unscaled models (the default): no division pass
            return centred
        centred /= self.x_scale
        return centred

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Scores (n, k) of spectra on the model's input axis."""
        return self.standardise(X) @ self.rotations

    def q_residuals(self, X: np.ndarray, T: np.ndarray | None = None) -> np.ndarray:
        """``Q`` of each row: squared norm of the standardised spectrum minus its reconstruction ``T P'``."""
        Xs = self.standardise(X)
        T = Xs @ self.rotations if T is None else T
        E = Xs - T @ self.loadings.T
        return np.einsum("ij,ij->i", E, E)


@dataclass(frozen=True)
class Projection:
    """Spectra as a latent model sees them, computed once: standardised ``Xs``, scores ``T = Xs R``, residual
    ``E = Xs - T P'`` and ``q`` (row sums of E²)."""

    Xs: np.ndarray
    T: np.ndarray
    E: np.ndarray
    q: np.ndarray


def project(latent: Latent, X: np.ndarray | Projection, *, standardised: bool = False) -> Projection:
    """The :class:`Projection` of spectra on the model's input axis (a Projection is returned as it is);
    ``standardised``: ``X`` is already ``latent.standardise(...)`` of them (shared by the counts of one model)."""
    if isinstance(X, Projection):
        return X
    Xs = X if standardised else latent.standardise(X)
    T = Xs @ latent.rotations
    E = Xs - T @ latent.loadings.T
    return Projection(Xs, T, E, np.einsum("ij,ij->i", E, E))


def latent_of(model: Any, n_components: int | None) -> Latent | None:
    """The latent structure of a fitted PLSSweep, PLSDA or PCR at ``n_components`` (of scikit-learn's
    PLSRegression at its own count); None for a model without one (or fitted before nirdag exposed it)."""
    if hasattr(model, "x_rotations_") and hasattr(model, "coef_all_"):  # PLSSweep, PLSDA
        k = int(n_components or model.coef_all_.shape[0])
        return Latent("pls", model.x_mean_, model.x_scale_, model.x_rotations_[:, :k], model.x_loadings_[:, :k],
                      model.x_weights_[:, :k], model.y_loadings_[:, :k], model.coef_all_[k - 1])
    if hasattr(model, "components_") and hasattr(model, "y_loadings_") and hasattr(model, "coef_all_"):  # PCR
        k = int(n_components or model.coef_all_.shape[0])
        V = model.components_[:k].T
        return Latent("pcr", model.x_mean_, np.ones_like(model.x_mean_), V, V, V, model.y_loadings_[:, :k],
                      model.coef_all_[k - 1])
    if hasattr(model, "x_rotations_") and hasattr(model, "_x_mean"):  # sklearn PLSRegression
        coef = np.asarray(model.coef_, dtype=np.float64)
        coef = coef.T if coef.shape[0] != model.x_rotations_.shape[0] else coef
        return Latent("pls", model._x_mean, model._x_std, model.x_rotations_, model.x_loadings_, model.x_weights_,
                      model.y_loadings_, coef)
    return None


class Domain(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What the limits of a calibration need, a few numbers (a bundle carries it): the calibration's n and k, the
    variance (ddof=1) and sum of squares of each score, the residual eigenvalue power sums θ1..θ3 and the limits."""

    n: int
    k: int
    score_variances: tuple[float, ...]
    score_sums_of_squares: tuple[float, ...]
    theta: tuple[float, float, float]
    t2_limit_calibration_95: float
    t2_limit_calibration_99: float
    t2_limit_prediction_95: float
    t2_limit_prediction_99: float
    q_limit_95: float
    q_limit_99: float

    def t2_limits(self, calibration: bool) -> tuple[float, float]:
        if calibration:
            return self.t2_limit_calibration_95, self.t2_limit_calibration_99
        return self.t2_limit_prediction_95, self.t2_limit_prediction_99


def t2_limit_calibration(n: int, k: int, confidence: float) -> float:
    """Beta-based T² limit for the calibration samples themselves; NaN when n <= k + 1."""
    if n - k - 1 <= 0:
        return float("nan")
    return float((n - 1) ** 2 / n * stats.beta.ppf(confidence, k / 2, (n - k - 1) / 2))


def t2_limit_prediction(n: int, k: int, confidence: float) -> float:
    """F-based T² limit for a new sample: ``k (n²-1) / (n (n-k)) · F(confidence; k, n-k)``; NaN when n <= k."""
    if n - k <= 0:
        return float("nan")
    return float(k * (n**2 - 1) / (n * (n - k)) * stats.f.ppf(confidence, k, n - k))


def q_limit(theta: tuple[float, float, float], confidence: float) -> float:
    """Jackson–Mudholkar Q limit from the residual eigenvalue power sums; NaN when the residual is nil."""
    t1, t2, t3 = theta
    if not t1 > 0 or not t2 > 0:
        return float("nan")
    h0 = max(1.0 - 2.0 * t1 * t3 / (3.0 * t2**2), _H0_FLOOR)
    z = stats.norm.ppf(confidence)
    base = z * np.sqrt(2.0 * t2 * h0**2) / t1 + 1.0 + t2 * h0 * (h0 - 1.0) / t1**2
    return float(t1 * max(base, 0.0) ** (1.0 / h0))


def residual_theta(latent: Latent, X_cal: np.ndarray | Projection) -> tuple[float, float, float]:
    """θ1, θ2, θ3: sums of the first three powers of the eigenvalues of the calibration residual covariance
    ``C = E'E / (n-1)``, as traces (``tr C``, ``‖C‖_F²``, ``tr C³``) of the smaller Gram matrix of E (no
    eigendecomposition)."""
    proj = project(latent, X_cal)
    E, n = proj.E, proj.E.shape[0]
    G = (E.T @ E if E.shape[1] <= E.shape[0] else E @ E.T) / (n - 1)
    t1 = float(np.trace(G))
    # below the arithmetic's noise the residual is nil (the components reconstruct the calibration exactly)
    total = float(np.einsum("ij,ij->", proj.Xs, proj.Xs)) / (n - 1)
    if t1 <= total * 1e-24:
        return 0.0, 0.0, 0.0
    return t1, float(np.einsum("ij,ij->", G, G)), float(np.einsum("ij,ji->", G, G @ G))


def fit_domain(latent: Latent, X_cal: np.ndarray | Projection) -> Domain:
    """The calibration facts and limits of a model from its calibration spectra (on the model's input axis, or
    their :func:`project`)."""
    proj = project(latent, X_cal)
    n, k, T = proj.T.shape[0], latent.k, proj.T
    theta = residual_theta(latent, proj)
    return Domain(
        n=n, k=k, score_variances=tuple(float(v) for v in T.var(axis=0, ddof=1)),
        score_sums_of_squares=tuple(float(v) for v in np.einsum("ij,ij->j", T, T)), theta=theta,
        t2_limit_calibration_95=t2_limit_calibration(n, k, 0.95),
        t2_limit_calibration_99=t2_limit_calibration(n, k, 0.99),
        t2_limit_prediction_95=t2_limit_prediction(n, k, 0.95), t2_limit_prediction_99=t2_limit_prediction(n, k, 0.99),
        q_limit_95=q_limit(theta, 0.95), q_limit_99=q_limit(theta, 0.99),
    )


def verdict(t2: np.ndarray, q: np.ndarray, t2_limits: tuple[float, float], q_limits: tuple[float, float]
            ) -> np.ndarray:
    """``regular`` / ``extreme`` / ``outlier`` per row (an undefined limit, NaN, never trips)."""
    with np.errstate(invalid="ignore"):
        over99 = (t2 > t2_limits[1]) | (q > q_limits[1])
        over95 = (t2 > t2_limits[0]) | (q > q_limits[0])
    return np.where(over99, "outlier", np.where(over95, "extreme", "regular"))


def _ratio(value: np.ndarray, limit: float) -> np.ndarray:
    if not np.isfinite(limit) or limit <= 0:
        return np.full(value.shape, np.nan)
    return value / limit


def sample_statistics(latent: Latent, domain: Domain, X: np.ndarray | Projection, *, calibration: bool
                      ) -> dict[str, np.ndarray]:
    """Scores, ``t2``, ``q``, ``leverage``, ``t2_ratio``, ``q_ratio`` (value / 95 % limit) and ``domain`` of each
    row of ``X`` (on the model's input axis, or its :func:`project`); ``calibration`` rows are judged by the Beta T²
    limit, others by the prediction (F) limit."""
    proj = project(latent, X)
    T, q = proj.T, proj.q
    t2 = np.einsum("ij,ij->i", T, T / np.asarray(domain.score_variances)[None, :])
    leverage = 1.0 / domain.n + np.einsum("ij,ij->i", T, T / np.asarray(domain.score_sums_of_squares)[None, :])
    t2_limits = domain.t2_limits(calibration)
    q_limits = (domain.q_limit_95, domain.q_limit_99)
    return {
        "scores": T, "t2": t2, "q": q, "leverage": leverage, "t2_ratio": _ratio(t2, t2_limits[0]),
        "q_ratio": _ratio(q, q_limits[0]), "domain": verdict(t2, q, t2_limits, q_limits),
        "t2_limit_95": np.full(T.shape[0], t2_limits[0]), "t2_limit_99": np.full(T.shape[0], t2_limits[1]),
        "q_limit_95": np.full(T.shape[0], q_limits[0]), "q_limit_99": np.full(T.shape[0], q_limits[1]),
    }


def studentized_residuals(residual: np.ndarray, leverage: np.ndarray, sse_cal: float, n: int, k: int, *,
                          calibration: bool) -> np.ndarray:
    """``e / (s sqrt(1 - h))`` for calibration rows, ``e / (s sqrt(1 + h))`` for new rows; ``s² = SSE_cal /
    (n - k - 1)`` (NaN when n <= k + 1)."""
    dof = n - k - 1
    if dof <= 0:
        return np.full(residual.shape, np.nan)
    s = np.sqrt(sse_cal / dof)
    with np.errstate(invalid="ignore", divide="ignore"):
        return residual / (s * np.sqrt(1.0 - leverage if calibration else 1.0 + leverage))


def vip(latent: Latent, T_cal: np.ndarray) -> np.ndarray:
    """VIP (p, t) of each variable for each target from the calibration scores (PLS only)."""
    ss = (latent.y_loadings**2) * np.einsum("ij,ij->j", T_cal, T_cal)[None, :]  # (t, k)
    w = latent.weights / np.linalg.norm(latent.weights, axis=0, keepdims=True)  # (p, k)
    p = w.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(p * ((w**2) @ ss.T) / ss.sum(axis=1)[None, :])


def selectivity_ratios(Xs: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Selectivity ratio (p, t) of each column of ``Xs`` (the spectra as the model sees them: centred, scaled if
    it scales) for each regression vector ``b`` (p, t) in that space.

    With the target-projected scores ``t = Xs b / ‖b‖`` and loadings ``p_TP = Xs' t / t't``, the explained sum of
    squares of variable j is ``t't · p_j²`` and its residual ``‖x_j‖² - t't · p_j²`` (the residual is orthogonal
    to t); SR is their ratio. A zero regression vector or zero scores give NaN."""
    column_ss = np.einsum("ij,ij->j", Xs, Xs)
    out = np.full(b.shape, np.nan)
    for j in range(b.shape[1]):
        norm = np.linalg.norm(b[:, j])
        if norm == 0:
            continue
        t = Xs @ (b[:, j] / norm)
        tt = float(t @ t)
        if tt == 0:
            continue
        explained = (Xs.T @ t) ** 2 / tt
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = explained / np.maximum(column_ss - explained, 0.0)
    return out


def selectivity_ratio(latent: Latent, X_cal: np.ndarray | Projection) -> np.ndarray:
    """Selectivity ratio (p, t): per target, the variance of each variable explained by the target-projected
    component over its residual variance (calibration spectra, standardised as the model sees them).

    With ``t = Xs b / ‖b‖`` and ``p_TP = Xs' t / t't`` the explained sum of squares of variable j is
    ``t't · p_j²`` and its residual ``‖x_j‖² - t't · p_j²`` (the residual is orthogonal to t); the formula is
    :func:`selectivity_ratios`, which the ``sr_select`` operator uses too."""
    b = latent.rotations @ latent.y_loadings.T  # (p, t) regression vectors in the standardised space
    return selectivity_ratios(project(latent, X_cal).Xs, b)


def x_explained_cumulative(latent: Latent, X_cal: np.ndarray | Projection) -> np.ndarray:
    """Share (k,) of the standardised calibration X variance reconstructed by the first 1..k components.

    The scores of PLS and PCR are orthogonal and each residual is orthogonal to its score, so component a removes
    ``‖t_a‖² ‖p_a‖²`` of the sum of squares (Pythagoras); no reconstruction is formed."""
    if isinstance(X_cal, Projection):
        Xs, T = X_cal.Xs, X_cal.T
    else:
        Xs = latent.standardise(X_cal)
        T = Xs @ latent.rotations
    total = float(np.einsum("ij,ij->", Xs, Xs))
    removed = np.einsum("ij,ij->j", T, T) * np.einsum("ij,ij->j", latent.loadings, latent.loadings)
    return np.cumsum(removed) / total if total > 0 else np.full(latent.k, np.nan)
