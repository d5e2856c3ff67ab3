"""nirdag's figures of a run (matplotlib, loaded on the first figure): ``r.plot.<kind>(chain="best")``.

The names load on first use, so that the CLI's help (which lists ``PLOT_KINDS``) loads no plotting or query code.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "RunPlots": "nirdag.plots.accessor", "draw": "nirdag.plots.accessor",
    "ChainNotFound": "nirdag.plots.errors", "MissingPlotData": "nirdag.plots.errors",
    "PlotError": "nirdag.plots.errors",
    "DESCRIPTIONS": "nirdag.plots.kinds", "PLOT_KINDS": "nirdag.plots.kinds", "PlotKind": "nirdag.plots.kinds",
    "check_kind": "nirdag.plots.kinds",
    "check_output": "nirdag.plots.render", "save": "nirdag.plots.render", "svg_text": "nirdag.plots.render",
    "RunData": "nirdag.plots.source",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nirdag.plots' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
