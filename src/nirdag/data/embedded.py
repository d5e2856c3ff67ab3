"""Embedded datasets shipped with the package (see resources/*_SOURCE.md for where they come from)."""

from __future__ import annotations

from importlib import resources

import numpy as np

from nirdag.data.csv_loader import load_csv
from nirdag.data.dataset import SpectraDataset

_TECATOR_TARGETS = ("moisture", "fat", "protein")
TECATOR_TRAIN_ROWS = 172  # rows 1-172: training (C) + monitoring (M) subsets
TECATOR_TEST_ROWS = 43  # rows 173-215: test (T) subset
TECATOR_EXTRAPOLATION_ROWS = 25  # rows 216-240: extrapolation sets E1, E2


def tecator(*, include_extrapolation: bool = False) -> SpectraDataset:
    """Tecator meat spectra: 100 channels 850-1050 nm, targets moisture/fat/protein (percent).

    Rows 1-172 are ``train``, 173-215 ``test``. Rows 216-240 (extrapolation sets E1/E2) are left out unless
    ``include_extrapolation=True``, where they join the ``test`` partition.
    """
    source = resources.files("nirdag.data") / "resources" / "tecator.csv"
    with resources.as_file(source) as path:
        full = load_csv(path, targets=_TECATOR_TARGETS, id_column="sample",
                        wavelengths=np.linspace(850.0, 1050.0, 100), wavelength_unit="nm", name="tecator")
    n_keep = TECATOR_TRAIN_ROWS + TECATOR_TEST_ROWS + (TECATOR_EXTRAPOLATION_ROWS if include_extrapolation else 0)
    partition = np.where(np.arange(n_keep) < TECATOR_TRAIN_ROWS, "train", "test")
    return SpectraDataset(
        name="tecator", sample_ids=full.sample_ids[:n_keep], spectra=full.spectra[:n_keep],
        wavelengths=full.wavelengths, wavelength_unit="nm",
        targets={k: v[:n_keep] for k, v in full.targets.items()}, partition=partition,
    )
