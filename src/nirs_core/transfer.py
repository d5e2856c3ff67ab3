"""Calibration transfer between instruments: direct standardisation (DS), piecewise direct standardisation (PDS) and
slope/bias correction, fitted from paired transfer standards (numpy only).

A spectral transfer maps spectra measured on a *secondary* instrument onto the *primary* instrument's response, so a
model calibrated on the primary predicts them: ``x_primary ~ (x_secondary - m_s) F + m_p`` (Wang, Veltkamp and
Kowalski, Anal. Chem. 63 (1991) 2750-2756). DS fits ``F`` over the whole spectrum; PDS fits one small regression per
primary channel on a window of secondary channels around it, so ``F`` is banded. Every least-squares solve is
regularised through its SVD (truncation to ``n_components`` singular values, or ridge filter factors).

Slope/bias correction (Bouveresse et al., Chemom. Intell. Lab. Syst. 32 (1996) 201-213) instead corrects a model's
predictions, per target: ``y = intercept + slope * y_pred``.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nirs_core.errors import NirdagError

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}
RCOND = 1e-10  # singular values below RCOND x the largest are dropped (numpy's pinv does the same, at 1e-15)
MIN_TRANSFER_PAIRS = 5  # fewer transfer standards than this cannot estimate a transfer worth trusting


class TransferError(NirdagError):
    """Transfer standards or a transfer model that cannot be used (unmatched, too few, another axis)."""


def _array(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(data, dtype="<f8").reshape(shape)


def _bytes(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def _solve(A: np.ndarray, B: np.ndarray, n_components: int | None, ridge: float | None) -> np.ndarray:
    """``argmin ||A W - B||`` through the SVD of ``A``: the first ``n_components`` singular values (default all
    above ``RCOND`` x the largest), or ridge filter factors ``s / (s^2 + ridge * s_max^2)``."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        return np.zeros((A.shape[1], B.shape[1]))
    if ridge is not None:
        f = s / (s**2 + ridge * s[0] ** 2)
    else:
        keep = int(np.sum(s > RCOND * s[0]))
        keep = keep if n_components is None else min(keep, n_components)
        f = np.where(np.arange(s.size) < keep, 1.0 / np.where(s > 0, s, 1.0), 0.0)
    return Vt.T @ (f[:, None] * (U.T @ B))


class SpectralTransfer(msgspec.Struct, **_FROZEN):
    """A fitted DS or PDS transfer: secondary spectra -> the primary instrument's response.

    ``coef_a`` / ``coef_b`` hold float64 arrays (little-endian bytes): for DS the factors ``(p, r)`` and ``(r, p)``
    of ``F = A B`` (rank r <= pairs); for PDS the band ``(p, 2 window + 1)`` (``coef_b`` empty).
    """

    method: Literal["ds", "pds"]
    n_pairs: int
    n_wavelengths: int
    window: int  # PDS half-width in channels (the window is 2 window + 1 channels); 0 for DS
    regularisation: Literal["svd", "ridge"]
    n_components: int | None  # svd truncation (None: every singular value above RCOND x the largest)
    ridge: float | None  # ridge strength relative to the largest squared singular value
    rank: int  # DS: the rank of the stored factors; PDS: 2 window + 1
    mean_secondary: bytes
    mean_primary: bytes
    coef_a: bytes
    coef_b: bytes = b""

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Secondary spectra ``(n, p)`` as the primary instrument would have measured them."""
        X = np.asarray(X, dtype=np.float64)
        p = self.n_wavelengths
        if X.ndim != 2 or X.shape[1] != p:
            raise TransferError(
                f"a {self.method.upper()} transfer maps spectra of {p} wavelengths, got shape {X.shape}"
            )
        Xc = X - _array(self.mean_secondary, (p,))
        if self.method == "ds":
            out = (Xc @ _array(self.coef_a, (p, self.rank))) @ _array(self.coef_b, (self.rank, p))
        else:
            w = self.window
            windows = sliding_window_view(np.pad(Xc, ((0, 0), (w, w))), 2 * w + 1, axis=1)
            out = np.einsum("npk,pk->np", windows, _array(self.coef_a, (p, 2 * w + 1)))
        return out + _array(self.mean_primary, (p,))


def _regularisation(n_components: int | None, ridge: float | None) -> Literal["svd", "ridge"]:
    if n_components is not None and ridge is not None:
        raise TransferError("give n_components (truncated SVD) or ridge, not both")
    if n_components is not None and n_components < 1:
        raise TransferError(f"n_components must be >= 1, got {n_components}")
    if ridge is not None and not ridge > 0:
        raise TransferError(f"ridge must be > 0, got {ridge}")
    return "ridge" if ridge is not None else "svd"


def _pairs(primary: np.ndarray, secondary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P, S = np.asarray(primary, dtype=np.float64), np.asarray(secondary, dtype=np.float64)
    if P.ndim != 2 or P.shape != S.shape:
        raise TransferError(
            f"primary and secondary transfer spectra must be matrices of one shape, got {P.shape} and {S.shape}"
        )
    if P.shape[0] < MIN_TRANSFER_PAIRS:
        raise TransferError(f"{P.shape[0]} transfer pairs, at least {MIN_TRANSFER_PAIRS} are needed")
    if not (np.isfinite(P).all() and np.isfinite(S).all()):
        raise TransferError("transfer spectra contain NaN or inf")
    return P, S


def fit_ds(
    primary: np.ndarray, secondary: np.ndarray, *, n_components: int | None = None, ridge: float | None = None
) -> SpectralTransfer:
    """Direct standardisation from paired spectra (rows of ``primary`` and ``secondary`` are the same samples).

    ``F`` is the regularised least-squares solution of ``(Xs - ms) F = Xp - mp``; with n < p pairs its rank is at
    most n - 1, so it is stored as ``A (p x r) B (r x p)``: ``A = V_r diag(f_r)`` and ``B = U_r' (Xp - mp)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> P = rng.normal(size=(8, 20)); S = 0.9 * P + 0.1
    >>> bool(np.allclose(fit_ds(P, S).apply(S), P))
    True
    """
    regularisation = _regularisation(n_components, ridge)
    P, S = _pairs(primary, secondary)
    ms, mp = S.mean(axis=0), P.mean(axis=0)
    U, s, Vt = np.linalg.svd(S - ms, full_matrices=False)
    if ridge is not None:
        f = s / (s**2 + ridge * s[0] ** 2)
    else:
        keep = int(np.sum(s > RCOND * s[0])) if s.size and s[0] > 0 else 0
        keep = keep if n_components is None else min(keep, n_components)
        f = 1.0 / s[:keep]
        U, Vt = U[:, :keep], Vt[:keep]
    A, B = Vt.T * f[None, :], U.T @ (P - mp)
    return SpectralTransfer(
        method="ds",
        n_pairs=P.shape[0],
        n_wavelengths=P.shape[1],
        window=0,
        regularisation=regularisation,
        n_components=n_components,
        ridge=ridge,
        rank=A.shape[1],
        mean_secondary=_bytes(ms),
        mean_primary=_bytes(mp),
        coef_a=_bytes(A),
        coef_b=_bytes(B),
    )


def fit_pds(
    primary: np.ndarray,
    secondary: np.ndarray,
    *,
    window: int = 5,
    n_components: int | None = None,
    ridge: float | None = None,
) -> SpectralTransfer:
    """Piecewise direct standardisation: for each primary channel j, ``Xp[:, j] - mp[j]`` regressed on the centred
    secondary channels ``j - window .. j + window`` (clipped at the ends of the axis), regularised as in
    :func:`fit_ds` (``n_components`` caps each window's rank).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> P = rng.normal(size=(12, 30)); S = np.roll(P, 1, axis=1)
    >>> float(np.abs(fit_pds(P, S, window=2).apply(S)[:, 1:-1] - P[:, 1:-1]).max()) < 1e-8
    True
    """
    regularisation = _regularisation(n_components, ridge)
    if window < 0:
        raise TransferError(f"the PDS window half-width must be >= 0, got {window}")
    P, S = _pairs(primary, secondary)
    n, p = P.shape
    ms, mp = S.mean(axis=0), P.mean(axis=0)
    Sc, Pc = S - ms, P - mp
    band = np.zeros((p, 2 * window + 1))
    for j in range(p):
        lo, hi = max(0, j - window), min(p, j + window + 1)
        coef = _solve(Sc[:, lo:hi], Pc[:, j : j + 1], n_components, ridge)[:, 0]
        band[j, lo - (j - window) : hi - (j - window)] = coef
    return SpectralTransfer(
        method="pds",
        n_pairs=n,
        n_wavelengths=p,
        window=window,
        regularisation=regularisation,
        n_components=n_components,
        ridge=ridge,
        rank=2 * window + 1,
        mean_secondary=_bytes(ms),
        mean_primary=_bytes(mp),
        coef_a=_bytes(band),
    )


class SlopeBias(msgspec.Struct, **_FROZEN):
    """Per-target correction of a chain's predictions: ``y = intercept + slope * y_pred``.

    ``source`` says what it was fitted on: ``transfer_standards`` (the chain's predictions of the primary spectra
    regressed on its predictions of the secondary ones) or ``reference`` (reference values of new samples regressed
    on the chain's predictions of them).
    """

    slope: tuple[float, ...]
    intercept: tuple[float, ...]
    n_pairs: int
    source: Literal["transfer_standards", "reference"]

    def apply(self, pred: np.ndarray) -> np.ndarray:
        """Predictions ``(n, n_targets)`` corrected target by target."""
        pred = np.asarray(pred, dtype=np.float64)
        return np.asarray(self.intercept) + np.asarray(self.slope) * pred


def fit_slope_bias(
    y_target: np.ndarray, y_pred: np.ndarray, *, source: Literal["transfer_standards", "reference"]
) -> SlopeBias:
    """Least-squares slope and intercept of ``y_target`` on ``y_pred``, column by column (both ``(n, n_targets)``).

    Examples
    --------
    >>> import numpy as np
    >>> yp = np.arange(6.0)[:, None]
    >>> fit_slope_bias(2 * yp + 1, yp, source="reference").slope
    (2.0,)
    """
    yt, yp = np.atleast_2d(np.asarray(y_target, dtype=np.float64)), np.atleast_2d(np.asarray(y_pred, dtype=np.float64))
    if yt.shape != yp.shape:
        raise TransferError(f"slope/bias needs values and predictions of one shape, got {yt.shape} and {yp.shape}")
    if yt.shape[0] < MIN_TRANSFER_PAIRS:
        raise TransferError(f"{yt.shape[0]} pairs for slope/bias, at least {MIN_TRANSFER_PAIRS} are needed")
    if not (np.isfinite(yt).all() and np.isfinite(yp).all()):
        raise TransferError("slope/bias values contain NaN or inf")
    dp = yp - yp.mean(axis=0)
    ss = (dp**2).sum(axis=0)
    if np.any(ss == 0):
        raise TransferError("slope/bias: the predictions of the pairs are constant; a slope cannot be estimated")
    slope = (dp * (yt - yt.mean(axis=0))).sum(axis=0) / ss
    intercept = yt.mean(axis=0) - slope * yp.mean(axis=0)
    return SlopeBias(
        slope=tuple(float(v) for v in slope),
        intercept=tuple(float(v) for v in intercept),
        n_pairs=yt.shape[0],
        source=source,
    )
