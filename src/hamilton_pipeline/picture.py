"""Pictures of a plan's Hamilton DAG (Graphviz): SVG/PNG/PDF need the `dot` binary, DOT does not.

Drawn from the driver's own graph (``list_available_variables``): node labels say the operator and its key
parameters (Hamilton's ``display_name`` tag), folds of a sweep group collapse into one node unless asked, and an
executed run colours nodes by duration and marks cache hits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
from hamilton import driver

from hamilton_pipeline.errors import PictureError

PICTURE_FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_DOT = "apt-get install -y graphviz"
_FOLD = re.compile(r"^(?P<kind>\w+?)__(?P<fold>fold_\d+)__(?P<group>[0-9a-f]{8})$")
_STYLE = {
    "data": {"shape": "cylinder", "fillcolor": "#e8eef7"},
    "hoisted": {"shape": "box", "fillcolor": "#dff0d8"},
    "fold": {"shape": "box", "fillcolor": "#d9e7f5"},
    "gather": {"shape": "box", "fillcolor": "#fcf3cf", "style": "filled,rounded"},
    "result": {"shape": "note", "fillcolor": "#f5f5f5"},
}


@dataclass(frozen=True)
class RunOverlay:
    """What an executed run adds to the picture: seconds per node and the nodes served from the cache."""

    seconds: Mapping[str, float] = field(default_factory=dict)
    cached: frozenset[str] = frozenset()


def _kind(name: str, deps: set[str]) -> str:
    if not deps:
        return "data"
    if _FOLD.match(name):
        return "fold"
    if name.startswith(("cv__", "stack__")):
        return "gather"
    if "__" in name:
        return "hoisted"
    return "result"


def _collapsed(name: str, folds: bool) -> str:
    match = _FOLD.match(name)
    return name if folds or match is None else f"{match['kind']}__folds__{match['group']}"


def _heat(seconds: float, slowest: float) -> str:
    """White (instant) to red (the slowest node), on a log scale so that small nodes still show."""
    share = 0.0 if slowest <= 0 else math.log1p(1000 * seconds / slowest) / math.log1p(1000)
    green_blue = int(255 - 170 * share)
    return f"#ff{green_blue:02x}{max(green_blue - 40, 0):02x}"


def _duration(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def dag_graph(dr: driver.Driver, *, folds: bool = False, overlay: RunOverlay | None = None) -> graphviz.Digraph:
    """The driver's DAG as a graphviz object (renders itself in a notebook)."""
    variables = [v for v in dr.list_available_variables() if not v.is_external_input]
    members: dict[str, list] = {}
    for v in variables:
        members.setdefault(_collapsed(v.name, folds), []).append(v)
    seconds = {key: sum(overlay.seconds.get(v.name, 0.0) for v in vs) for key, vs in members.items()} \
        if overlay else {}
    slowest = max(seconds.values(), default=0.0)
    graph = graphviz.Digraph("nirdag", graph_attr={"rankdir": "LR", "fontname": "Helvetica"},
                             node_attr={"style": "filled", "fontname": "Helvetica", "fontsize": "11"})
    for key, vs in members.items():
        first = vs[0]
        kind = _kind(first.name, set(first.required_dependencies))
        label = first.tags.get("display_name", first.name)
        if len(vs) > 1:
            label = re.sub(r"fold_\d+$", f"{len(vs)} folds", label)
        attrs = dict(_STYLE[kind])
        if overlay is not None:
            hits = sum(v.name in overlay.cached for v in vs)
            label += f"\n{_duration(seconds[key])}" + (f" · {hits}/{len(vs)} cached" if hits else "")
            attrs["fillcolor"] = _heat(seconds[key], slowest)
            if hits:
                attrs["style"] = attrs.get("style", "filled") + ",dashed"
        graph.node(key, label=label, **attrs)
    edges = {(_collapsed(dep, folds), key) for key, vs in members.items() for v in vs
             for dep in v.required_dependencies if _collapsed(dep, folds) in members}
    for tail, head in sorted(edges):
        quiet = tail in {"targets", "spectra"} and head not in {"targets", "spectra"}
        graph.edge(tail, head, **({"color": "#b0b0b0"} if quiet else {}))
    return graph


def write_dag(dr: driver.Driver, path: str | Path, *, folds: bool = False, overlay: RunOverlay | None = None) -> Path:
    """Write the DAG picture to ``path``; the format is the file suffix (svg, png, pdf or dot)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in PICTURE_FORMATS:
        raise PictureError(f"cannot draw {path.name!r}: the suffix must be one of {', '.join(PICTURE_FORMATS)}")
    graph = dag_graph(dr, folds=folds, overlay=overlay)
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
