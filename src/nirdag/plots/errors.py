"""Errors of the figures: each message is one line saying what is missing or wrong and what would be right."""

from nirs_core.errors import NirdagError


class PlotError(NirdagError):
    """A figure cannot be drawn as asked (unknown kind, chain or output suffix)."""


class MissingPlotData(PlotError):
    """The run does not hold what the figure draws (no test rows, no refit chain, no diagnostics table, a
    regression asked for a confusion matrix...); the message says what is missing, so a report can print it in
    place of the figure."""


class ChainNotFound(PlotError):
    """A chain reference matches no chain of the run, or several."""
