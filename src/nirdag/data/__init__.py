"""Spectral data layer: SpectraDataset, loaders, embedded and synthetic datasets, content hashing."""

from nirdag.data.dataset import DatasetSchema, SpectraDataset
from nirdag.data.embedded import list_datasets, tecator
from nirdag.data.from_parts import NonFiniteRowsDropped, dataset_from_parts
from nirdag.data.loading import detect_format, load_csv, load_parts
from nirdag.data.parts import SpectraParts
from nirdag.data.synthetic import synthetic

__all__ = [
    "DatasetSchema", "NonFiniteRowsDropped", "SpectraDataset", "SpectraParts", "dataset_from_parts",
    "detect_format", "list_datasets", "load_csv", "load_parts", "synthetic", "tecator",
]
