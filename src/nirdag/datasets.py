"""Embedded datasets: ``nirdag.datasets.tecator()``."""

from nirdag.data.embedded import tecator

__all__ = ["tecator"]
