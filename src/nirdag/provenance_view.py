"""The decision provenance graph as a rich tree for the terminal."""

from __future__ import annotations

from rich.tree import Tree

from relspec.provenance import DecisionProvenanceGraph


def provenance_tree(graph: DecisionProvenanceGraph) -> Tree:
    """Each decision under the first decision it depends on; evidence is left to ``--format json``."""
    root = Tree(f"run {graph.run_id}  pipeline {graph.pipeline_hash[:8]}  dataset {graph.dataset_hash[:8]}")
    nodes: dict[str, Tree] = {}
    for d in graph.decisions:
        parent = nodes.get(d.depends_on[0], root) if d.depends_on else root
        nodes[d.id] = parent.add(f"[bold]{d.kind}[/bold] {_escape(d.summary)}  [dim]({_escape(d.reason)})[/dim]")
    return root


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
