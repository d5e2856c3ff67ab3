"""nirdag's figures of a run (matplotlib, loaded on the first figure): ``r.plot.<kind>(chain="best")``."""

from nirdag.plots.accessor import RunPlots, draw
from nirdag.plots.errors import ChainNotFound, MissingPlotData, PlotError
from nirdag.plots.kinds import DESCRIPTIONS, PLOT_KINDS, PlotKind, check_kind
from nirdag.plots.render import check_output, save, svg_text
from nirdag.plots.source import RunData

__all__ = ["DESCRIPTIONS", "PLOT_KINDS", "ChainNotFound", "MissingPlotData", "PlotError", "PlotKind", "RunData",
           "RunPlots", "check_kind", "check_output", "draw", "save", "svg_text"]
