"""Errors of the pipeline language and compiler."""

from nirs_core.errors import NirdagError


class SpecError(NirdagError):
    """A pipeline spec is invalid; the message names the spec path (e.g. ``$.pipeline[1].branch.snv[0].op``)."""


class CompileError(NirdagError):
    """A valid spec cannot be compiled against this dataset (missing target, too few rows for the folds...)."""


class CalibrationError(NirdagError):
    """A calibration option is invalid (an unknown mode or knob); the message names it and the choices."""


class CounterfactualError(NirdagError):
    """A counterfactual question is invalid (an unknown knob or value) or cannot be answered from a run's stored
    decisions; the message names the knob and what was expected."""
