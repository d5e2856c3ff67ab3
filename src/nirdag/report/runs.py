"""The run a figure or a report is about: a run id of a workspace, or its latest completed run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nirdag.api import RunResult
from nirdag.plots import PlotKind, draw
from nirdag.plots.source import RunData
from nirdag.workspace import Workspace
from semantics import queries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WorkspaceLike = Workspace | str | Path


def open_run(workspace: WorkspaceLike, run_id: str | None = None) -> RunResult:
    """The completed run ``run_id`` of ``workspace``: a run id, a unique prefix of one, or ``latest`` (the default:
    its newest completed run)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    resolved = queries.resolve_run(ws.handle.require().session(), run_id or queries.LATEST)
    return ws.run(resolved)


def plot(workspace: WorkspaceLike, kind: PlotKind | str, run_id: str | None = None, *, chain: str = "best",
         target: str | None = None) -> Figure:
    """The figure ``kind`` of a workspace's run (default: its latest completed run); see
    :class:`nirdag.plots.RunPlots` for the kinds.

    Examples
    --------
    >>> fig = nirdag.plot("ws", "pred_vs_measured")            # doctest: +SKIP
    >>> nirdag.plots.save(fig, "pred.svg")                     # doctest: +SKIP
    """
    result = open_run(workspace, run_id)
    return draw(RunData(result.handle, result.run_id, result.plan, result.dataset), kind, chain=chain,
                target=target)
