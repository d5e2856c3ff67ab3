"""The spectral augmenters against plain numpy: each kind's arithmetic, the row counts, determinism by seed."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from nirs_core.augment import Crop, Drift, Mixup, Multiplicative, Noise, Shift, Stretch, augment_block
from nirs_modelling.augmentation import augment_training
from relspec.plan import AugmentRef


def _block(n: int = 30, p: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).cumsum(axis=1)
    return X, X[:, :1] * 2.0 + 1.0


def _interp_rows(X: np.ndarray, positions: np.ndarray) -> np.ndarray:
    idx = np.arange(X.shape[1], dtype=np.float64)
    return np.stack([np.interp(pos, idx, row) for pos, row in zip(positions, X, strict=True)])


def test_shift_stretch_and_crop_are_linear_interpolations_of_their_source():
    X, Y = _block()
    p, idx = X.shape[1], np.arange(X.shape[1], dtype=np.float64)
    for augmenter, positions in (
        (Shift(max_shift=2.5), lambda r: idx[None, :] - r.uniform(-2.5, 2.5, size=(30, 1))),
        (
            Stretch(max_stretch=0.05),
            lambda r: (p - 1) / 2 + (idx[None, :] - (p - 1) / 2) / (1 + r.uniform(-0.05, 0.05, size=(30, 1))),
        ),
        (Crop(min_fraction=0.8), lambda r: _crop_positions(r, p)),
    ):
        X_new, Y_new = augmenter.synthesize(X, Y, np.random.default_rng(5))
        np.testing.assert_allclose(X_new, _interp_rows(X, positions(np.random.default_rng(5))), atol=1e-12)
        np.testing.assert_array_equal(Y_new, Y)


def _crop_positions(rng: np.random.Generator, p: int) -> np.ndarray:
    length = rng.uniform(0.8, 1.0, size=(30, 1)) * (p - 1)
    start = rng.uniform(0.0, 1.0, size=(30, 1)) * (p - 1 - length)
    return start + np.linspace(0, 1, p)[None, :] * length


@pytest.mark.parametrize("order", [1, 2])
def test_drift_adds_a_polynomial_baseline_of_its_order(order):
    X, Y = _block()
    added = Drift(scale=0.5, order=order).synthesize(X, Y, np.random.default_rng(1))[0] - X
    t = np.linspace(-1, 1, X.shape[1])
    for row in added:
        coef = np.polyfit(t, row, 2)
        np.testing.assert_allclose(np.polyval(coef, t), row, atol=1e-9)
        assert (abs(coef[0]) < 1e-9) == (order == 1)


def test_multiplicative_scales_each_spectrum_and_noise_has_the_asked_spread():
    X, Y = _block(n=400)
    gains = Multiplicative(scale=0.05).synthesize(X, Y, np.random.default_rng(2))[0] / X
    np.testing.assert_allclose(gains, gains[:, :1] * np.ones_like(gains), rtol=1e-12)
    residual = Noise(scale=0.1).synthesize(X, Y, np.random.default_rng(3))[0] - X
    assert residual.std() == pytest.approx(0.1 * X.std(), rel=0.02)


def test_mixup_mixes_within_a_bin_and_keeps_linear_relations():
    X, Y = _block(n=200)
    X_new, Y_new = Mixup(alpha=0.5, n_bins=4, n_copies=2).synthesize(X, Y, np.random.default_rng(4))
    np.testing.assert_allclose(Y_new, X_new[:, :1] * 2.0 + 1.0, atol=1e-12)  # y = 2 x0 + 1 survives convex mixing
    edges = np.quantile(Y[:, 0], [0.25, 0.5, 0.75])
    bins = np.searchsorted(edges, Y[:, 0], side="right")
    src_bins = np.tile(bins, 2)
    lo = np.array([Y[bins == b, 0].min() for b in range(4)])[src_bins]
    hi = np.array([Y[bins == b, 0].max() for b in range(4)])[src_bins]
    assert np.all((Y_new[:, 0] >= lo - 1e-12) & (Y_new[:, 0] <= hi + 1e-12))


def test_mixup_of_a_classifier_mixes_within_a_class():
    codes = np.repeat([0.0, 1.0, 2.0], 10)[:, None]
    X = np.repeat(codes, 5, axis=1) * 10.0  # every spectrum of class c is 10 c
    X_new, Y_new = Mixup(n_copies=3).synthesize(X, codes, np.random.default_rng(0), by_class=True)
    np.testing.assert_allclose(X_new, np.repeat(Y_new, 5, axis=1) * 10.0)


def test_counts_follow_n_copies_or_fraction_and_both_are_refused():
    X, Y = _block(n=40)
    Xa, Ya = augment_block(
        [(Noise(n_copies=3), np.random.default_rng(0)), (Shift(fraction=0.25), np.random.default_rng(1))], X, Y
    )
    assert Xa.shape == (40 + 120 + 10, X.shape[1]) and Ya.shape == (170, 1)
    np.testing.assert_array_equal(Xa[:40], X)  # the real rows come first, untouched
    with pytest.raises(msgspec.ValidationError, match="not both"):
        msgspec.convert({"kind": "noise", "n_copies": 2, "fraction": 0.5}, Noise)


def test_a_fold_draws_the_same_every_time_and_folds_draw_differently():
    X, Y = _block()
    ref = AugmentRef(augmenter=Noise(), step_hash="ab" * 32, seed=7)
    a, b = augment_training((ref,), "fold_0", X, Y)[0], augment_training((ref,), "fold_0", X, Y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, augment_training((ref,), "fold_1", X, Y)[0])
    assert augment_training((), "fold_0", X, Y)[0] is X
