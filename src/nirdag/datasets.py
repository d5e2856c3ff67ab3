"""Datasets at hand: ``nirdag.datasets.tecator()``, ``nirdag.datasets.synthetic(...)``, ``nirdag.datasets.list()``."""

from nirs_core.data.embedded import list_datasets as list
from nirs_core.data.embedded import tecator
from nirs_core.data.synthetic import synthetic

__all__ = ["list", "synthetic", "tecator"]
