"""SpectraParts: what a loader read from its source, before it is validated into a SpectraDataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SpectraParts:
    """Raw columns read by one loader. Every loader returns this; ``SpectraDataset.from_parts`` validates it.

    Attributes
    ----------
    source : str
        The path (file or folder) read, used in error messages.
    spectra : numpy.ndarray
        (n_samples, n_wavelengths) float64.
    wavelengths : numpy.ndarray or None
        (n_wavelengths,) float64 axis in the order measured, or None when the source has none.
    wavelength_unit : {"nm", "cm-1"} or None
        None when unknown (the dataset then guesses from the values or uses ``index``).
    sample_ids : numpy.ndarray or None
        (n_samples,) strings, or None (the dataset numbers rows from 1).
    targets : dict[str, numpy.ndarray]
        Target name -> (n_samples,) float64 (regression) or str (class labels). May be empty.
    metadata : dict[str, numpy.ndarray]
        Free columns (instrument, date, group/repetition id...), each (n_samples,).
    partition : numpy.ndarray or None
        (n_samples,) partition labels (``train``/``test``, or the ``cal``/``val``... labels ``dataset_from_parts``
        maps onto them), or None when the source gives no split.
    notes : tuple of str
        What the loader decided on its own (``id column 'sample_id'``), for the summary a user reads.
    """

    source: str
    spectra: np.ndarray
    wavelengths: np.ndarray | None = None
    wavelength_unit: str | None = None
    sample_ids: np.ndarray | None = None
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    partition: np.ndarray | None = None
    notes: tuple[str, ...] = ()
