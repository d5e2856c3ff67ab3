"""The `nirdag plot` and `nirdag report` verbs (registered on the `nirdag` app by nirdag.cli)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nirdag.cli_storage import WorkspaceOpt
from nirdag.plots.kinds import PLOT_KINDS

_out = Console(width=None if sys.stdout.isatty() else 160)

RunArg = Annotated[str | None, typer.Argument(help="Run id, a unique prefix of one, or 'latest' (default: the "
                                                   "latest completed run).")]
ChainOpt = Annotated[str, typer.Option(help="'best' (the chain ranked first), a chain_id or a prefix of >= 8 "
                                            "characters.")]


def _say(text: str) -> None:
    _out.print(text, markup=False, highlight=False, soft_wrap=True)


def plot(
    kind: Annotated[str, typer.Argument(help=f"Figure kind: {', '.join(PLOT_KINDS)}.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Figure file: .svg, .png or .pdf.")],
    run_id: RunArg = None,
    workspace: WorkspaceOpt = Path("workspace"),
    chain: ChainOpt = "best",
    target: Annotated[str | None, typer.Option(help="Target to draw (default: the run's first).")] = None,
) -> None:
    """Draw one figure of a run (matplotlib) to an SVG, PNG or PDF file."""
    from nirdag.plots import check_kind, check_output, save
    from nirdag.report import plot as plot_run

    check_output(output)
    figure = plot_run(workspace, check_kind(kind), run_id, chain=chain, target=target)
    _say(f"wrote {save(figure, output)}")


def report(
    run_id: RunArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write.")] = Path("report.html"),
    workspace: WorkspaceOpt = Path("workspace"),
    chain: ChainOpt = "best",
    pdf: Annotated[Path | None, typer.Option(help="Also write the report as this PDF.")] = None,
) -> None:
    """Write a run's calibration report: one self-contained HTML page (inline SVG figures; opens offline)."""
    from nirdag.report import write_report

    for path in write_report(workspace, output, run_id, chain=chain, pdf=pdf):
        _say(f"wrote {path} ({path.stat().st_size:,} bytes)")
