"""Errors of the spectral data layer."""

from nirs_core.errors import NirdagError


class DataError(NirdagError):
    """A dataset could not be loaded or is not usable as given."""


class SpectraFileError(DataError):
    """A spectra file is malformed; the message names the file, row and column."""


class EmptyDatasetError(DataError):
    """A dataset (or the selected part of it) has no samples or no wavelengths."""


class MissingColumnError(DataError):
    """A required column (target, id, partition) is absent; the message lists the columns found."""


class UnusedOptionError(DataError):
    """A loading option was given for a format that does not read it; the message names option and format."""
