"""The one look of nirdag's figures: the Okabe-Ito palette (colour-blind safe), font sizes, axis names, thinning.

matplotlib is imported only when a figure is made, so ``import nirdag`` stays light.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, BLACK = OKABE_ITO
GREY = "#7F7F7F"
SEQUENTIAL = "cividis"  # perceptually uniform and colour-blind safe, for y colouring and heatmaps

MAX_POINTS = 2_000  # scatter points per panel above which a figure draws an even subset (and says so)
MAX_SPECTRA = 200  # spectra drawn per panel at most (stated on the figure)
RASTER_ABOVE = 1_000  # scatter layers of more points are drawn as a raster image inside the SVG (small files)

_RC = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "figure.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "lines.linewidth": 1.4, "lines.markersize": 4,
    "legend.frameon": False, "figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "standard",
    "svg.fonttype": "none",  # text stays text in SVG: smaller files, selectable labels
    "image.cmap": SEQUENTIAL, "path.simplify": True,
}

_UNIT_LABELS = {"nm": "Wavelength (nm)", "cm-1": "Wavenumber (cm⁻¹)", "index": "Variable (index)"}

P = ParamSpec("P")
R = TypeVar("R")


def rc() -> dict[str, object]:
    """The rcParams of nirdag's figures (with the palette as the colour cycle)."""
    from cycler import cycler  # ships with matplotlib

    return {**_RC, "axes.prop_cycle": cycler(color=list(OKABE_ITO))}


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw under nirdag's rcParams (sizes, palette, grid), whatever the caller's matplotlib settings are."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib

        with matplotlib.rc_context(rc()):
            return draw(*args, **kwargs)

    return wrapper


def new_figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A Figure of the object API (no pyplot state): safe in threads and servers."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def axis_label(unit: str) -> str:
    """The x-axis name of a spectrum axis from ``datasets.wavelength_unit`` (nm, cm-1 or index)."""
    return _UNIT_LABELS.get(unit, f"Axis ({unit})")


def thin(n: int, limit: int = MAX_POINTS, keep: np.ndarray | None = None) -> np.ndarray:
    """Indices of at most ``limit`` (plus every ``keep`` index) of ``n`` points, evenly spaced: no randomness, so a
    figure of the same run is the same figure. All indices when ``n <= limit``."""
    if n <= limit:
        return np.arange(n)
    chosen = np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))
    if keep is not None and keep.size:
        chosen = np.union1d(chosen, np.flatnonzero(keep))
    return chosen


def dense(n: int) -> bool:
    """Whether a layer of ``n`` points is drawn as a raster inside vector output (keeps reports small)."""
    return n > RASTER_ABOVE


def thinned_note(shown: int, total: int, what: str = "points") -> str | None:
    """The sentence a thinned figure carries; None when everything is drawn."""
    return None if shown >= total else f"{shown:,} of {total:,} {what} drawn (even subset)"


def footnote(fig: Figure, *notes: str | None) -> None:
    """Write the figure's notes (thinning, what was left out) in its bottom-left corner."""
    text = "; ".join(n for n in notes if n)
    if text:
        fig.text(0.005, 0.005, text, fontsize=7, color=GREY, ha="left", va="bottom")


def no_data(ax: Axes, text: str) -> None:
    """An empty panel that says why it is empty."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
