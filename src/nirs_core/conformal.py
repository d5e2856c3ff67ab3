"""Split-conformal prediction intervals from out-of-fold residuals: the conformity scores a bundle carries and the
finite-sample quantile that turns them into an interval.

With n conformity scores ``s_i`` (exchangeable with the score of a new sample) the interval
``ŷ ± q · σ`` with ``q`` the ``ceil((n + 1) c)``-th smallest score covers the new sample's value with probability at
least ``c`` (Vovk et al. 2005; Lei et al. 2018, "Distribution-free predictive inference for regression").
``σ = 1`` for the plain absolute residual; ``σ = sqrt(1 + h)`` with ``h`` the sample's leverage for the normalised
score (the factor of the PLS prediction error). When the rank exceeds n, no finite bound has that guarantee: the
quantile is ``inf``.

numpy and msgspec only: a bundle computes intervals without the engine.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec
import numpy as np

IntervalScale = Literal["absolute", "leverage"]
INTERVAL_SCALES: tuple[str, ...] = ("absolute", "leverage")


class ConformalCalibration(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
                           omit_defaults=True):
    """The conformity scores of a regression chain, per target in the chain's target order, each sorted ascending:
    ``absolute`` ``|y - ŷ_cv|``, and ``leverage`` ``|y - ŷ_cv| / sqrt(1 + h)`` (empty when the chain has no latent
    model and domain to compute leverage with). ``source`` says where the residuals came from."""

    targets: tuple[str, ...]
    absolute: tuple[tuple[float, ...], ...]
    leverage: tuple[tuple[float, ...], ...] = ()
    source: Literal["pooled_cv"] = "pooled_cv"

    def scores(self, scale: IntervalScale) -> tuple[tuple[float, ...], ...]:
        return self.absolute if scale == "absolute" else self.leverage


def check_coverage(coverage: float) -> float:
    """``coverage`` as a float strictly between 0 and 1; a ValueError naming it otherwise."""
    c = float(coverage)
    if not 0.0 < c < 1.0:
        raise ValueError(f"interval coverage must be strictly between 0 and 1 (e.g. 0.9), got {coverage!r}")
    return c


def conformal_rank(n: int, coverage: float) -> int:
    """The 1-based rank ``ceil((n + 1) · coverage)`` of the score that bounds the interval (may exceed n)."""
    # a tolerance against binary fractions: (n + 1) * 0.9 for n = 9 is 9.000000000000002, whose ceil is not 10
    return math.ceil((n + 1) * check_coverage(coverage) - 1e-9)


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The finite-sample conformal quantile of ``scores`` at ``coverage``: the ``ceil((n + 1) c)``-th smallest score,
    ``inf`` when that rank exceeds n (too few scores for the coverage asked)."""
    values = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"conformity scores must be finite and non-empty, got {values.size} values")
    rank = conformal_rank(values.size, coverage)
    return float("inf") if rank > values.size else float(values[rank - 1])


def conformity_scores(y_true: np.ndarray, y_pred: np.ndarray, leverage: np.ndarray | None = None) -> np.ndarray:
    """``|y - ŷ|``, divided by ``sqrt(1 + h)`` when the rows' leverage is given; sorted ascending."""
    residual = np.abs(np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64))
    if leverage is not None:
        residual = residual / leverage_scale(leverage)
    return np.sort(residual)


def leverage_scale(leverage: np.ndarray) -> np.ndarray:
    """``sqrt(1 + h)``: the width factor of the normalised score for rows of leverage ``h``."""
    return np.sqrt(1.0 + np.asarray(leverage, dtype=np.float64))
