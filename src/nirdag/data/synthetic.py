"""Seeded synthetic NIR-like spectra: Gaussian absorption bands, scatter, baseline and noise, with a linear target."""

from __future__ import annotations

import numpy as np

from nirdag.data.dataset import SpectraDataset


def synthetic(
    n_samples: int, n_wavelengths: int, *, seed: int, n_constituents: int = 6, test_fraction: float = 0.2,
    noise: float = 1e-3,
) -> SpectraDataset:
    """Spectra of mixtures of ``n_constituents`` absorbers over 1000-2500 nm, with multiplicative scatter,
    a sloped baseline and white noise; the target ``y`` is the concentration of the first constituent plus noise.

    The last ``test_fraction`` of the rows form the ``test`` partition. Same arguments, same dataset (bit for bit).
    """
    if n_samples < 2 or n_wavelengths < 2:
        raise ValueError(f"need at least 2 samples and 2 wavelengths, got {n_samples} x {n_wavelengths}")
    rng = np.random.default_rng(seed)
    axis = np.linspace(1000.0, 2500.0, n_wavelengths)
    centres = rng.uniform(1100.0, 2400.0, size=(n_constituents, 3))
    widths = rng.uniform(20.0, 120.0, size=(n_constituents, 3))
    heights = rng.uniform(0.2, 1.0, size=(n_constituents, 3))
    bands = np.einsum(
        "cb,cbw->cw", heights, np.exp(-0.5 * ((axis[None, None, :] - centres[..., None]) / widths[..., None]) ** 2)
    )
    conc = rng.dirichlet(np.ones(n_constituents), size=n_samples)
    pure = conc @ bands
    scatter = rng.normal(1.0, 0.08, size=(n_samples, 1))
    offset = rng.normal(0.0, 0.05, size=(n_samples, 1))
    slope = rng.normal(0.0, 0.02, size=(n_samples, 1)) * np.linspace(-1.0, 1.0, n_wavelengths)[None, :]
    spectra = scatter * pure + offset + slope + rng.normal(0.0, noise, size=(n_samples, n_wavelengths))
    y = 100.0 * conc[:, 0] + rng.normal(0.0, 0.2, size=n_samples)
    n_test = round(n_samples * test_fraction)
    partition = np.where(np.arange(n_samples) < n_samples - n_test, "train", "test")
    spectra.setflags(write=False)
    return SpectraDataset(
        name=f"synthetic_{n_samples}x{n_wavelengths}_s{seed}",
        sample_ids=np.char.add("s", np.arange(n_samples).astype(str)),
        spectra=spectra, wavelengths=axis, wavelength_unit="nm", targets={"y": y}, partition=partition,
    )
