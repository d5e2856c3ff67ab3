"""Seeded spectral augmenters: synthetic training spectra made from real ones (numpy only).

An augmenter is a frozen msgspec struct tagged by ``kind`` (the spec's ``augment: {kind: ...}``); it never fits
anything and never sees a validation or test row: the fold fit hands it the training block only
(:func:`augment_block`), after the preprocessing, and the model is fitted on the real rows followed by the synthetic
ones. The number of synthetic rows is ``n_copies`` per real row (default 1) or ``fraction`` of the real rows (their
sources drawn by the generator). Every random draw comes from the ``numpy.random.Generator`` passed in.

Kinds: ``noise`` (additive white noise), ``multiplicative`` (a gain per spectrum), ``shift`` and ``stretch`` of the
axis (linear interpolation, in channels), ``drift`` (an offset and a linear or quadratic baseline), ``mixup``
(convex combinations of two spectra and their targets within a target quantile bin, or within a class) and ``crop``
(a random window resampled to the full width). Comparable augmenters: Bjerrum, Glahder and Skov, "Data augmentation
of spectral data for convolutional neural network (CNN) based deep chemometrics" (arXiv:1710.01927, 2017: offset,
slope, multiplicative); Zhang et al., "mixup: beyond empirical risk minimization" (ICLR 2018).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
import numpy as np

_STRICT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}
MAX_COPIES = 100


class _Augmenter(msgspec.Struct, tag_field="kind", **_STRICT):
    """Base of the augmenters: how many synthetic rows, from which real rows, with which seed."""

    # synthetic rows per real training row (default 1), or `fraction` x the real rows (sources drawn at random)
    n_copies: Annotated[int, msgspec.Meta(ge=1, le=MAX_COPIES)] | None = None
    fraction: Annotated[float, msgspec.Meta(gt=0.0, le=MAX_COPIES)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=0)] | None = None  # default: the run's seed

    def __post_init__(self) -> None:
        if self.n_copies is not None and self.fraction is not None:
            raise ValueError("give `n_copies` or `fraction`, not both")

    @property
    def kind(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    def n_synthetic(self, n_real: int) -> int:
        """How many rows :meth:`synthesize` makes from ``n_real`` training rows."""
        if self.fraction is not None:
            return max(1, round(self.fraction * n_real)) if n_real else 0
        return (self.n_copies or 1) * n_real

    def sources(self, n_real: int, rng: np.random.Generator) -> np.ndarray:
        """The real row each synthetic row is made from."""
        if self.fraction is None:
            return np.tile(np.arange(n_real), self.n_copies or 1)
        m = self.n_synthetic(n_real)
        return np.sort(rng.choice(n_real, size=m, replace=m > n_real))

    def synthesize(
        self, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator, *, by_class: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Synthetic spectra ``(m, p)`` and their targets ``(m, t)`` made from the real block ``X``, ``Y``.
        ``by_class``: ``Y`` holds class codes (only mixup reads it: it then mixes within a class)."""
        src = self.sources(X.shape[0], rng)
        return self._spectra(X, src, rng), Y[src]

    def _spectra(self, X: np.ndarray, src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


def _resampled(X: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Each row of ``X`` read at fractional channel ``positions`` (one row of positions per row), linearly
    interpolated and clamped to the ends (as ``numpy.interp``)."""
    p = X.shape[1]
    pos = np.clip(positions, 0.0, p - 1.0)
    lo = np.minimum(np.floor(pos).astype(np.int64), p - 2) if p > 1 else np.zeros_like(pos, dtype=np.int64)
    frac = pos - lo
    rows = np.arange(X.shape[0])[:, None]
    if p == 1:
        return X.copy()
    return X[rows, lo] * (1.0 - frac) + X[rows, lo + 1] * frac


class Noise(_Augmenter, tag="noise"):
    """Additive white noise of standard deviation ``scale`` x the standard deviation of the training block."""

    scale: Annotated[float, msgspec.Meta(ge=0.0)] = 0.01

    def _spectra(self, X, src, rng):
        sd = float(X.std()) if X.size else 0.0
        return X[src] + rng.normal(0.0, self.scale * sd, size=(src.size, X.shape[1]))


class Multiplicative(_Augmenter, tag="multiplicative"):
    """Each synthetic spectrum is its source times a gain ``1 + N(0, scale)`` (multiplicative scatter)."""

    scale: Annotated[float, msgspec.Meta(ge=0.0)] = 0.02

    def _spectra(self, X, src, rng):
        return X[src] * (1.0 + rng.normal(0.0, self.scale, size=(src.size, 1)))


class Shift(_Augmenter, tag="shift"):
    """The source shifted along the axis by ``U(-max_shift, max_shift)`` channels (a positive shift moves features
    to higher channels; the ends are held)."""

    max_shift: Annotated[float, msgspec.Meta(ge=0.0)] = 1.0

    def _spectra(self, X, src, rng):
        d = rng.uniform(-self.max_shift, self.max_shift, size=(src.size, 1))
        return _resampled(X[src], np.arange(X.shape[1])[None, :] - d)


class Stretch(_Augmenter, tag="stretch"):
    """The source's axis stretched about its centre by a factor ``1 + U(-max_stretch, max_stretch)``."""

    max_stretch: Annotated[float, msgspec.Meta(ge=0.0, lt=0.5)] = 0.01

    def _spectra(self, X, src, rng):
        s = 1.0 + rng.uniform(-self.max_stretch, self.max_stretch, size=(src.size, 1))
        c = (X.shape[1] - 1) / 2.0
        return _resampled(X[src], c + (np.arange(X.shape[1])[None, :] - c) / s)


class Drift(_Augmenter, tag="drift"):
    """A baseline added to the source: ``a0 + a1 t`` (``order: 1``) or ``+ a2 t^2`` (``order: 2``), t from -1 to 1
    across the axis, each coefficient ``N(0, scale x the block's standard deviation)``."""

    scale: Annotated[float, msgspec.Meta(ge=0.0)] = 0.01
    order: Literal[1, 2] = 1

    def _spectra(self, X, src, rng):
        sd = float(X.std()) if X.size else 0.0
        t = np.linspace(-1.0, 1.0, X.shape[1])
        powers = np.vstack([t**k for k in range(self.order + 1)])  # (order + 1, p)
        coef = rng.normal(0.0, self.scale * sd, size=(src.size, self.order + 1))
        return X[src] + coef @ powers


class Mixup(_Augmenter, tag="mixup"):
    """``lam x_i + (1 - lam) x_j`` and the same mix of their targets, ``lam ~ Beta(alpha, alpha)``, with the partner
    ``j`` drawn from the source's bin: ``n_bins`` quantile bins of the first target (a classifier: its class, and
    the target is the source's class)."""

    alpha: Annotated[float, msgspec.Meta(gt=0.0)] = 0.4
    n_bins: Annotated[int, msgspec.Meta(ge=1)] = 5

    def bins(self, Y: np.ndarray, by_class: bool) -> np.ndarray:
        """The bin of every real row."""
        y = Y[:, 0]
        if by_class:
            return np.unique(y, return_inverse=True)[1]
        edges = np.quantile(y, np.linspace(0.0, 1.0, self.n_bins + 1)[1:-1])
        return np.searchsorted(edges, y, side="right")

    def synthesize(self, X, Y, rng, *, by_class=False):
        src = self.sources(X.shape[0], rng)
        bins = self.bins(Y, by_class)
        partner = np.empty_like(src)
        for b in np.unique(bins[src]):
            members = np.flatnonzero(bins == b)
            mine = np.flatnonzero(bins[src] == b)
            partner[mine] = members[rng.integers(0, members.size, size=mine.size)]
        lam = rng.beta(self.alpha, self.alpha, size=(src.size, 1))
        X_new = lam * X[src] + (1.0 - lam) * X[partner]
        Y_new = Y[src] if by_class else lam * Y[src] + (1.0 - lam) * Y[partner]
        return X_new, Y_new


class Crop(_Augmenter, tag="crop"):
    """A random window of at least ``min_fraction`` of the channels, resampled back to the full width."""

    min_fraction: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.9

    def _spectra(self, X, src, rng):
        p = X.shape[1]
        length = rng.uniform(self.min_fraction, 1.0, size=(src.size, 1)) * (p - 1)
        start = rng.uniform(0.0, 1.0, size=(src.size, 1)) * (p - 1 - length)
        return _resampled(X[src], start + np.linspace(0.0, 1.0, p)[None, :] * length)


Augmenter = Noise | Multiplicative | Shift | Stretch | Drift | Mixup | Crop
AUGMENTER_KINDS: tuple[str, ...] = tuple(
    t.__struct_config__.tag for t in (Noise, Multiplicative, Shift, Stretch, Drift, Mixup, Crop)
)


def augment_block(
    augmenters: Sequence[tuple[Augmenter, np.random.Generator]], X: np.ndarray, Y: np.ndarray, *, by_class: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The training block ``X`` ``(n, p)``, ``Y`` ``(n, t)`` followed by every augmenter's synthetic rows, each
    made from the real rows with its own generator (augmenters add up, they do not compound).

    Examples
    --------
    >>> import numpy as np
    >>> X, Y = np.ones((4, 3)), np.arange(4.0)[:, None]
    >>> Xa, Ya = augment_block([(Noise(n_copies=2), np.random.default_rng(0))], X, Y)
    >>> Xa.shape, Ya[:, 0].tolist()
    ((12, 3), [0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0])
    """
    blocks_X, blocks_Y = [X], [Y]
    for augmenter, rng in augmenters:
        X_new, Y_new = augmenter.synthesize(X, Y, rng, by_class=by_class)
        blocks_X.append(X_new)
        blocks_Y.append(Y_new)
    return np.concatenate(blocks_X), np.concatenate(blocks_Y)
