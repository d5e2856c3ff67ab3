"""Seeded synthetic NIR spectra: Beer-Lambert mixtures of absorption bands, scatter, baseline drift and noise."""

from __future__ import annotations

from typing import Literal

import numpy as np

from nirs_core.data.dataset import SpectraDataset

BandShape = Literal["gaussian", "voigt"]


def _bands(rng: np.random.Generator, axis: np.ndarray, n_constituents: int, shape: BandShape) -> np.ndarray:
    """Molar absorptivity of each constituent (n_constituents, n_wavelengths): 3 bands each.

    ``voigt`` uses the pseudo-Voigt profile (a mix of a Gaussian and a Lorentzian of the same width).
    """
    lo, hi = float(axis.min()), float(axis.max())
    centres = rng.uniform(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), size=(n_constituents, 3, 1))
    widths = rng.uniform(0.01, 0.08, size=(n_constituents, 3, 1)) * (hi - lo)
    heights = rng.uniform(0.2, 1.0, size=(n_constituents, 3, 1))
    u = (axis[None, None, :] - centres) / widths
    profile = np.exp(-0.5 * u**2)
    if shape == "voigt":
        eta = rng.uniform(0.2, 0.6, size=(n_constituents, 3, 1))
        profile = (1.0 - eta) * profile + eta / (1.0 + u**2)
    return (heights * profile).sum(axis=1)


def synthetic(
    n_samples: int, n_wavelengths: int, seed: int, *, n_constituents: int = 6, test_fraction: float = 0.2,
    noise: float = 1e-3, band_shape: BandShape = "voigt", nonlinear: bool = False,
    wavelength_range: tuple[float, float] = (1000.0, 2500.0),
) -> SpectraDataset:
    """Physically plausible NIR absorbance spectra with a known target.

    Each sample mixes ``n_constituents`` absorbers with random concentrations (Dirichlet) by Beer-Lambert
    (absorbance = path length x sum of concentration x absorptivity); a random path length and a multiplicative
    scatter factor scale it, an additive offset and a smooth (quadratic) baseline drift are added, then white noise.
    The target ``y`` is 100 x the first constituent's concentration plus noise; with ``nonlinear`` it also depends
    on an interaction with the second constituent and saturates (a tougher case for linear models).
    The last ``test_fraction`` of the rows form the ``test`` partition. All randomness comes from one local
    ``numpy.random.Generator(seed)``: same arguments, same dataset, bit for bit.
    """
    if n_samples < 2 or n_wavelengths < 2:
        raise ValueError(f"need at least 2 samples and 2 wavelengths, got {n_samples} x {n_wavelengths}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    axis = np.linspace(*wavelength_range, n_wavelengths)
    absorptivity = _bands(rng, axis, n_constituents, band_shape)
    conc = rng.dirichlet(np.ones(n_constituents), size=n_samples)
    path = rng.normal(1.0, 0.05, size=(n_samples, 1))
    absorbance = path * (conc @ absorptivity)
    t = np.linspace(-1.0, 1.0, n_wavelengths)[None, :]
    scatter = rng.normal(1.0, 0.08, size=(n_samples, 1))
    offset = rng.normal(0.0, 0.05, size=(n_samples, 1))
    drift = rng.normal(0.0, 0.02, size=(n_samples, 1)) * t + rng.normal(0.0, 0.01, size=(n_samples, 1)) * t**2
    spectra = scatter * absorbance + offset + drift + rng.normal(0.0, noise, size=(n_samples, n_wavelengths))
    y = 100.0 * conc[:, 0]
    if nonlinear:
        y = 100.0 * conc[:, 0] * (1.0 + 2.0 * conc[:, 1]) / (1.0 + 3.0 * conc[:, 0])
    y = y + rng.normal(0.0, 0.2, size=n_samples)
    n_test = round(n_samples * test_fraction)
    partition = np.where(np.arange(n_samples) < n_samples - n_test, "train", "test")
    spectra.setflags(write=False)
    return SpectraDataset(
        name=f"synthetic_{n_samples}x{n_wavelengths}_s{seed}",
        sample_ids=np.char.add("s", np.arange(n_samples).astype(str)),
        spectra=spectra, wavelengths=axis, wavelength_unit="nm", targets={"y": y}, partition=partition,
    )
