"""Typed errors of the modelling layer."""

from __future__ import annotations

from nirs_core.errors import NirdagError


class ModellingError(NirdagError):
    """Base of the errors a fold fit raises on purpose."""


class SampleFilterError(ModellingError):
    """A sample filter left too few training rows for the steps and the model after it."""
