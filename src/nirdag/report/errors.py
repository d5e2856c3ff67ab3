"""Errors of the calibration report."""

from nirs_core.errors import NirdagError


class ReportError(NirdagError):
    """A report cannot be written as asked (an output file of the wrong kind)."""
