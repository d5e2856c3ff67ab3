"""Spectral data layer: SpectraDataset, loaders, embedded and synthetic datasets, content hashing."""

from nirs_core.data.dataset import DatasetSchema, SpectraDataset
from nirs_core.data.embedded import list_datasets, tecator
from nirs_core.data.from_parts import NonFiniteRowsDropped, dataset_from_parts
from nirs_core.data.loading import detect_format, load_csv, load_parts
from nirs_core.data.parts import SpectraParts
from nirs_core.data.synthetic import synthetic

__all__ = [
    "DatasetSchema", "NonFiniteRowsDropped", "SpectraDataset", "SpectraParts", "dataset_from_parts",
    "detect_format", "list_datasets", "load_csv", "load_parts", "synthetic", "tecator",
]
