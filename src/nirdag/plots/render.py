"""Figures to SVG text (for the report) and to files (.svg, .png, .pdf), under nirdag's style."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from nirdag.plots import style
from nirdag.plots.errors import PlotError
from nirdag.plots.kinds import OUTPUT_SUFFIXES
from nirs_core.files import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def check_output(path: str | Path) -> Path:
    """``path`` if its suffix is one a figure is written as; a PlotError naming them otherwise."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise PlotError(f"output {str(path)!r}: a figure is written as {', '.join(OUTPUT_SUFFIXES)} "
                        f"(got {path.suffix or 'no suffix'!r})")
    return path


def figure_bytes(fig: Figure, fmt: str, *, salt: str = "nirdag") -> bytes:
    """The figure in ``fmt`` (svg, png, pdf). ``salt`` seeds the SVG's element ids, so several SVGs inlined in one
    page never share an id, and the same figure gives the same bytes."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({**style.rc(), "svg.hashsalt": salt}):
        metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


_ID_USE = re.compile(r'(\sid="|href="#|url\(#)')


def svg_text(fig: Figure, *, salt: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (the XML prolog and doctype left out). Every element
    id (and every reference to one) starts with ``salt``: matplotlib names groups ``axes_1``... in every figure,
    and ids must be unique in a page holding several."""
    text = figure_bytes(fig, "svg", salt=salt).decode("utf-8")
    return _ID_USE.sub(lambda m: f"{m.group(1)}{salt}-", text[text.index("<svg"):])


def save(fig: Figure, path: str | Path) -> Path:
    """Write the figure to ``path`` (.svg, .png or .pdf, by its suffix), atomically."""
    path = check_output(path)
    write_atomic(path, figure_bytes(fig, path.suffix.lower().lstrip("."), salt=path.stem), prefix=".plot-")
    return path
