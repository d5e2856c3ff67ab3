"""The decision provenance graph as a rich tree for the terminal."""

from __future__ import annotations

from rich.tree import Tree

from relspec.provenance import DecisionProvenanceGraph

# How the semantic views were joined: the engine's own plumbing, shown with --verbose only.
INTERNAL_KINDS = frozenset({"view_join"})


def provenance_tree(graph: DecisionProvenanceGraph, *, verbose: bool = False) -> Tree:
    """Each decision under the first decision it depends on; evidence is left to ``--format json``. The views'
    join decisions are left out unless ``verbose`` (a last line says how many)."""
    root = Tree(f"run {graph.run_id}  pipeline {graph.pipeline_hash[:8]}  dataset {graph.dataset_hash[:8]}")
    nodes: dict[str, Tree] = {}
    hidden = 0
    for d in graph.decisions:
        if d.kind in INTERNAL_KINDS and not verbose:
            hidden += 1
            continue
        parent = nodes.get(d.depends_on[0], root) if d.depends_on else root
        nodes[d.id] = parent.add(f"[bold]{d.kind}[/bold] {_escape(d.summary)}  [dim]({_escape(d.reason)})[/dim]")
    if hidden:
        root.add(f"[dim]{hidden} view join decision(s) not shown (--verbose)[/dim]")
    return root


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
