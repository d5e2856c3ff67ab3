"""Errors of bundles and fitted artifacts: each message names the file or member and what failed."""

from nirs_core.errors import NirdagError


class BundleError(NirdagError):
    """A bundle or a stored fitted object cannot be trusted or used; the message says what failed and where."""


class TamperedBundleError(BundleError):
    """A bundle's bytes do not match its manifest or signature (member changed, added or removed; manifest edited)."""


class UntrustedTypeError(BundleError):
    """A serialized object holds types outside the allow-list (or is a pickle); the message lists them."""


class SpectraMismatchError(BundleError):
    """New spectra do not fit the chain: wavelength count or axis differs from training, or values are NaN/inf."""
