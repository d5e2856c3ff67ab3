"""Shared fixtures: one real run of the Tecator example into a temporary workspace (real Hamilton, Delta, SQL), and
Tecator with a label target for classification runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nirdag
from nirdag.api import RunResult
from nirs_core.data import SpectraDataset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tecator_pls.yaml"


@pytest.fixture(scope="session")
def tecator():
    return nirdag.datasets.tecator()


@pytest.fixture(scope="session")
def tecator_run(tmp_path_factory, tecator) -> RunResult:
    workspace = tmp_path_factory.mktemp("ws") / "workspace"
    return nirdag.run(EXAMPLE, tecator, workspace=workspace, seed=0)


@pytest.fixture(scope="session")
def labelled(tecator) -> SpectraDataset:
    """Tecator with a label target `grade` (fat terciles of the train rows: low, mid, high), numeric `fat` and
    Tecator's metadata."""
    fat = tecator.target("fat")
    cuts = np.quantile(fat[tecator.rows("train")], [1 / 3, 2 / 3])
    grade = np.where(fat <= cuts[0], "low", np.where(fat <= cuts[1], "mid", "high"))
    return SpectraDataset(name="tecator_graded", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                          wavelengths=tecator.wavelengths, wavelength_unit="nm", partition=tecator.partition,
                          targets={"grade": grade, "fat": fat},
                          metadata={c: tecator.metadata[c] for c in tecator.metadata.column_names})


@pytest.fixture(scope="session")
def example_spec() -> Path:
    return EXAMPLE
