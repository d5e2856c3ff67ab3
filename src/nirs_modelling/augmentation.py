"""Synthetic training rows for one fold fit: each augment step of a sweep group with its fold's own generator."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from nirs_core.augment import augment_block
from relspec.plan import AugmentRef


def fold_generator(ref: AugmentRef, fold_id: str) -> np.random.Generator:
    """The generator of one augment step in one fold: ``SeedSequence([seed, sha256(fold_id, step_hash)])``, so every
    fold (and the refit, ``fold_final``) draws differently and a run with the same seed draws the same."""
    digest = hashlib.sha256(f"{fold_id}\n{ref.step_hash}".encode()).digest()
    return np.random.default_rng([ref.seed, int.from_bytes(digest[:16], "little")])


def augment_training(
    refs: Sequence[AugmentRef], fold_id: str, X: np.ndarray, Y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The fold's training block (after its fitted steps) followed by the synthetic rows of ``refs``; the block
    itself when there are none. Only ever called on training rows (``nirs_modelling.compute.fit_group``)."""
    if not refs:
        return X, Y
    by_class = any(r.by_class for r in refs)
    return augment_block([(r.augmenter, fold_generator(r, fold_id)) for r in refs], X, Y, by_class=by_class)
