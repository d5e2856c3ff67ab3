"""The `nirdag explain` verb (registered on the `nirdag` app by nirdag.cli)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

_out = Console(width=None if sys.stdout.isatty() else 160)

Method = Literal["coefficients", "vip", "permutation", "shap"]


def _say(text: str) -> None:
    _out.print(text, markup=False, highlight=False, soft_wrap=True)


def explain(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")],
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder (Delta tables).")
                         ] = Path("workspace"),
    chain: Annotated[str, typer.Option(help="'best' (the refit chain ranked first), a chain_id or a prefix of >= 8 "
                                            "characters.")] = "best",
    method: Annotated[Method, typer.Option(
        help="coefficients (the refit model's regression vector, on its input axis after preprocessing), vip "
             "(PLS), permutation (RMSE increase on each CV fold's validation rows, blocks of raw wavelengths), "
             "shap (mean |SHAP value| per raw wavelength; needs nirdag[explain]).")] = "coefficients",
    block_size: Annotated[int | None, typer.Option(help="permutation: neighbouring wavelengths permuted together "
                                                        "(default: at most 128 blocks).")] = None,
    n_repeats: Annotated[int, typer.Option(help="permutation: permutations per block and fold.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Seed of permutation and SHAP (default: the run's).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the importance over wavelength to this "
                                                            ".svg, .png or .pdf file.")] = None,
) -> None:
    """Per-wavelength importance of a run's refit chain, written to the `explanations` table (and drawn)."""
    from nirdag.explanations import ExplainOptions
    from nirdag.explanations import explain as run_explain
    from nirdag.plots import check_output

    if plot is not None:
        check_output(plot)  # before anything is computed
    options = ExplainOptions(block_size=block_size, n_repeats=n_repeats, seed=seed)
    result = run_explain(workspace, run_id, chain=chain, method=method, options=options)
    table = result.table
    blocks = f", blocks of {result.block_size}" if result.block_size > 1 else ""
    _say(f"run {result.run_id} chain {result.chain_id[:8]}: {method}{blocks}, {table.num_rows} rows written to "
         "table explanations")
    for target in dict.fromkeys(table.column("target").to_pylist()):
        rows = [r for r in table.to_pylist() if r["target"] == target]
        top = sorted(rows, key=lambda r: -abs(r["importance"]))[:5]
        _say(f"  {target}: largest at " + ", ".join(f"{r['wavelength']:g} ({r['importance']:.4g})" for r in top))
    if plot is not None:
        from nirdag.plots import save
        from nirdag.plots.explanation import explanation

        _say(f"wrote {save(explanation(table, unit=result.unit, title=result.title), plot)}")
