"""Embedded datasets shipped with the package (see resources/*_SOURCE.md for where they come from)."""

from __future__ import annotations

from importlib import resources

import numpy as np

from nirs_core.data.dataset import SpectraDataset
from nirs_core.data.loading import load_csv

_TECATOR_TARGETS = ("moisture", "fat", "protein")
TECATOR_TRAIN_ROWS = 172  # rows 1-172: training (C, rows 1-129) + monitoring (M, rows 130-172) subsets
TECATOR_TEST_ROWS = 43  # rows 173-215: test (T) subset
TECATOR_EXTRAPOLATION_ROWS = 25  # rows 216-240: extrapolation sets E1, E2
_SUBSETS = np.array(["C"] * 129 + ["M"] * 43 + ["T"] * 43 + ["E"] * 25)


def tecator(*, include_extrapolation: bool = False) -> SpectraDataset:
    """Tecator meat spectra: 100 channels 850-1050 nm, targets moisture/fat/protein (percent).

    Rows 1-172 are ``train``, 173-215 ``test``. Rows 216-240 (extrapolation sets E1/E2) are left out unless
    ``include_extrapolation=True``, where they join the ``test`` partition. Metadata column ``subset`` holds the
    original StatLib subset of each row: C (training), M (monitoring), T (test), E (extrapolation).
    """
    source = resources.files("nirs_core.data") / "resources" / "tecator.csv"
    with resources.as_file(source) as path:
        full = load_csv(path, targets=_TECATOR_TARGETS, id_column="sample",
                        wavelengths=np.linspace(850.0, 1050.0, 100), wavelength_unit="nm", name="tecator")
    n_keep = TECATOR_TRAIN_ROWS + TECATOR_TEST_ROWS + (TECATOR_EXTRAPOLATION_ROWS if include_extrapolation else 0)
    partition = np.where(np.arange(n_keep) < TECATOR_TRAIN_ROWS, "train", "test")
    return SpectraDataset(
        name="tecator", sample_ids=full.sample_ids[:n_keep], spectra=full.spectra[:n_keep],
        wavelengths=full.wavelengths, wavelength_unit="nm",
        targets={k: v[:n_keep] for k, v in full.targets.items()}, partition=partition,
        metadata={"subset": _SUBSETS[:n_keep]},
    )


EMBEDDED = {"tecator": tecator}


def list_datasets() -> list[str]:
    """Names of the embedded datasets (each is a function of ``nirdag.datasets``)."""
    return sorted(EMBEDDED)
