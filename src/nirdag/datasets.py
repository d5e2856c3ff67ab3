"""Datasets at hand: ``nirdag.datasets.tecator()``, ``nirdag.datasets.synthetic(...)``, ``nirdag.datasets.list()``."""

from nirdag.data.embedded import list_datasets as list
from nirdag.data.embedded import tecator
from nirdag.data.synthetic import synthetic

__all__ = ["list", "synthetic", "tecator"]
