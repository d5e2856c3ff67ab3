"""Pictures of the Hamilton DAG of a plan (Graphviz): SVG/PNG/PDF need the `dot` binary, DOT does not."""

from __future__ import annotations

from pathlib import Path

import graphviz
from hamilton import driver

from hamilton_pipeline.errors import PictureError

PICTURE_FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_DOT = "apt-get install -y graphviz"


def dag_graph(dr: driver.Driver) -> graphviz.Digraph:
    """The driver's DAG as a graphviz object (renders itself in a notebook)."""
    graph = dr.display_all_functions(None, show_legend=True, orient="LR", show_schema=False)
    if graph is None:
        raise PictureError("Hamilton could not draw the DAG: the `graphviz` Python package is missing")
    return graph


def write_dag(dr: driver.Driver, path: str | Path) -> Path:
    """Write the DAG picture to ``path``; the format is the file suffix (svg, png, pdf or dot)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in PICTURE_FORMATS:
        raise PictureError(f"cannot draw {path.name!r}: the suffix must be one of {', '.join(PICTURE_FORMATS)}")
    graph = dag_graph(dr)
    if fmt == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise PictureError(
            f"drawing {fmt.upper()} needs Graphviz's `dot` binary, which is not installed: run "
            f"`{INSTALL_DOT}` (Debian/Ubuntu), or write `-o {path.with_suffix('.dot').name}` instead"
        ) from None
    path.write_bytes(data)
    return path
