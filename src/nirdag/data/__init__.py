"""Spectral data layer: SpectraDataset, loaders, embedded datasets, content hashing."""

from nirdag.data.csv_loader import load_csv
from nirdag.data.dataset import DatasetSchema, SpectraDataset
from nirdag.data.embedded import tecator

__all__ = ["DatasetSchema", "SpectraDataset", "load_csv", "tecator"]
