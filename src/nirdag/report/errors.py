"""Errors of the calibration report."""

from nirs_core.errors import NirdagError


class ReportError(NirdagError):
    """A report cannot be written as asked (no completed run, an output of the wrong kind)."""
