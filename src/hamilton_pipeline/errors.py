"""Errors of the execution engine."""

from nirdag.errors import NirdagError


class PictureError(NirdagError):
    """A DAG picture cannot be drawn (unknown format, Graphviz's `dot` binary missing)."""
