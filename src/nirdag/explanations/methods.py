"""Per-wavelength importance of a fitted chain: its regression vector, VIP, and permutation importance on its CV
folds (pure functions over :class:`~nirdag.bundle.FittedChain` stages and arrays; the workspace side is
:mod:`nirdag.explanations.explain`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nirdag.bundle.fitted import FittedChain, FittedStage
from nirdag.explanations.errors import ExplainError
from nirs_core.diagnostics import Latent, latent_of, vip

MAX_BLOCKS = 128  # the default block size keeps a permutation explanation to at most this many blocks


@dataclass(frozen=True)
class Importance:
    """Importance (n_variables, n_targets), its spread (or None), and the axis value of each variable."""

    values: np.ndarray
    std: np.ndarray | None
    wavelengths: np.ndarray
    block_size: int = 1


@dataclass(frozen=True)
class FoldRows:
    """One CV fold's fitted chain and its validation rows: raw spectra and reference values (n_val, n_targets;
    NaN where a target is missing)."""

    stage: FittedStage
    X: np.ndarray
    Y: np.ndarray


def final_latent(chain: FittedChain, method: str) -> Latent:
    """The refit model's latent structure; an ExplainError when the model has none (a stack, a kernel or local
    model) — the methods that need one do not apply."""
    latent = None if chain.bases else latent_of(chain.final.model, chain.n_components)
    if latent is None:
        what = "a stacked chain" if chain.bases else f"its model {type(chain.final.model).__name__}"
        raise ExplainError(f"chain {chain.chain_id[:8]}: method {method!r} needs a latent-variable model (PLS, PCR), "
                           f"but it is {what}; use --method permutation or shap")
    return latent


def coefficients(chain: FittedChain, model_axis: np.ndarray) -> Importance:
    """The refit model's regression vector (p, t): applied to the centred preprocessed spectrum, on the model's
    input axis (the spectrum after the chain's preprocessing)."""
    latent = final_latent(chain, "coefficients")
    return Importance(np.asarray(latent.coefficients, dtype=np.float64), None, model_axis)


def vip_scores(chain: FittedChain, X_cal: np.ndarray, model_axis: np.ndarray) -> Importance:
    """VIP (Wold) of the refit PLS model from its calibration rows (raw spectra, through its transformers)."""
    latent = final_latent(chain, "vip")
    if latent.kind != "pls":
        raise ExplainError(f"chain {chain.chain_id[:8]}: VIP is defined for PLS weights, its model is a "
                           f"{latent.kind.upper()}; use --method coefficients or permutation")
    T = latent.scores(chain.final.transform(X_cal))
    return Importance(vip(latent, T), None, model_axis)


def default_block_size(n_wavelengths: int) -> int:
    """The smallest block size giving at most :data:`MAX_BLOCKS` blocks."""
    return max(1, math.ceil(n_wavelengths / MAX_BLOCKS))


def blocks(n_wavelengths: int, block_size: int) -> list[np.ndarray]:
    """Consecutive column blocks of ``block_size`` (the last one may be shorter)."""
    return [np.arange(s, min(s + block_size, n_wavelengths)) for s in range(0, n_wavelengths, block_size)]


def _rmse(pred: np.ndarray, Y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.nanmean((pred - Y) ** 2, axis=0))


def permutation(chain: FittedChain, folds: Sequence[FoldRows], wavelengths: np.ndarray, *, block_size: int,
                n_repeats: int, rng: np.random.Generator) -> Importance:
    """Permutation importance on the CV folds, refit-free: for each fold model and its own validation rows, each
    block of raw wavelengths permuted across rows (one permutation per block and repeat, the same for every column
    of the block), importance = RMSE(permuted) - RMSE(original). Mean and standard deviation (ddof=0) over
    folds x repeats; the order of draws is fold, repeat, block."""
    p = wavelengths.size
    parts = blocks(p, block_size)
    deltas = []  # (folds * repeats, n_blocks, n_targets)
    for fold in folds:
        base = _rmse(fold.stage.predict(fold.X, chain.n_components), fold.Y)
        for _ in range(n_repeats):
            rows = np.empty((len(parts), fold.Y.shape[1]))
            for b, cols in enumerate(parts):
                order = rng.permutation(fold.X.shape[0])
                X = fold.X.copy()
                X[:, cols] = fold.X[order][:, cols]
                rows[b] = _rmse(fold.stage.predict(X, chain.n_components), fold.Y) - base
            deltas.append(rows)
    stacked = np.asarray(deltas)
    axis = np.asarray([wavelengths[cols].mean() for cols in parts])
    return Importance(stacked.mean(axis=0), stacked.std(axis=0), axis, block_size)
