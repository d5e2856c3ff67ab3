"""Figures of the whole run: the rank metric against the component count per preprocessing, and chain x fold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from nirdag.plots import style
from nirdag.plots.errors import MissingPlotData
from relspec.plan import FOLD_FINAL, POOLED_CV

MAX_HEATMAP_CHAINS = 40


@dataclass
class _ChainCurve:
    """One chain's values of the rank metric: pooled CV, each fold's validation and test value, the refit test."""

    branch: str
    n_components: int | None
    rank: int | None
    pooled: float = np.nan
    folds: dict[str, float] = field(default_factory=dict)
    fold_tests: list[float] = field(default_factory=list)
    refit_test: float = np.nan


def _curves(scores: pa.Table) -> dict[str, _ChainCurve]:
    chains: dict[str, _ChainCurve] = {}
    for r in scores.to_pylist():
        c = chains.setdefault(r["chain_id"], _ChainCurve(r["branch_name"], r["n_components"], r["rank"]))
        fold, part, value = r["fold_id"], r["partition"], r["value"]
        if fold == POOLED_CV and part == "val":
            c.pooled = value
        elif fold == FOLD_FINAL:
            if part == "test":
                c.refit_test = value
        elif part == "val":
            c.folds[fold] = value
        elif part == "test":
            c.fold_tests.append(value)
    return chains


def _names(metric: str) -> tuple[str, str]:
    """How the CV and the test value of ``metric`` are called on the figures (RMSECV/RMSEP for rmse)."""
    return ("RMSECV", "RMSEP") if metric == "rmse" else (f"CV {metric}", f"test {metric}")


def _se(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan


@style.styled
def components(scores: pa.Table, *, metric: str, chosen: str | None, target: str) -> Figure:
    """The run's rank metric against the component count, one line per preprocessing: pooled CV with a ±1 SE band
    across folds (SD of the fold values / sqrt(folds)), the mean test value of the CV fold models (dashed) and the
    refit's test value (square); the chosen chain is marked with a star.

    ``scores`` holds the rows of :func:`semantics.plot_queries.rank_metric_scores`.
    """
    chains = _curves(scores)
    swept = {cid: c for cid, c in chains.items() if c.n_components is not None}
    if not swept:
        raise MissingPlotData("no chain of this run has a component count (the models have no components)")
    by_branch: dict[str, list[_ChainCurve]] = defaultdict(list)
    for c in swept.values():
        by_branch[c.branch].append(c)
    cv_name, test_name = _names(metric)
    fig = style.new_figure(9.0, 4.6)
    ax = fig.add_subplot()
    colours = style.OKABE_ITO
    for i, (branch, curve) in enumerate(sorted(by_branch.items(), key=lambda kv: min(c.rank or 0 for c in kv[1]))):
        curve.sort(key=lambda c: c.n_components)
        colour = colours[i % len(colours)]
        k = np.array([c.n_components for c in curve], dtype=float)
        pooled = np.array([c.pooled for c in curve])
        se = np.array([_se(list(c.folds.values())) for c in curve])
        ax.plot(k, pooled, "-o", color=colour, markersize=3, label=f"{branch} {cv_name}")
        ax.fill_between(k, pooled - se, pooled + se, color=colour, alpha=0.15, linewidth=0)
        tests = np.array([np.mean(c.fold_tests) if c.fold_tests else np.nan for c in curve])
        if np.isfinite(tests).any():
            ax.plot(k, tests, "--", color=colour, linewidth=1.0, label=f"{branch} {test_name} (fold models)")
        refit = np.array([c.refit_test for c in curve])
        if np.isfinite(refit).any():
            ax.plot(k, refit, "s", color=colour, markersize=5, markerfacecolor="none")
    if chosen in swept:
        best = swept[chosen]
        ax.plot([best.n_components], [best.pooled], "*", color=style.BLACK, markersize=13, zorder=5,
                label=f"chosen: {best.branch}, k = {best.n_components}")
        ax.axvline(best.n_components, color=style.GREY, linestyle=":", linewidth=1.0)
    ax.set_xlabel("Components")
    ax.set_ylabel(f"{cv_name} / {test_name} ({target})")
    ax.set_title(f"{cv_name} against components per preprocessing (band: ±1 SE across folds)")
    fig.legend(loc="outside right upper", fontsize=7)
    left_out = len(chains) - len(swept)
    style.footnote(fig, "squares: refit test value" if any(np.isfinite(c.refit_test) for c in swept.values())
                   else None, f"{left_out} chains without components not drawn" if left_out else None)
    return fig


@style.styled
def fold_heatmap(scores: pa.Table, *, metric: str, limit: int = MAX_HEATMAP_CHAINS) -> Figure:
    """Chain x fold values of the rank metric on each fold's validation rows, the ``limit`` best chains by rank."""
    chains = _curves(scores)
    ranked = sorted(((cid, c) for cid, c in chains.items() if c.folds), key=lambda kv: (kv[1].rank or 0, kv[0]))
    if not ranked:
        raise MissingPlotData("no chain of this run has per-fold scores")
    shown = ranked[:limit]
    folds = sorted({f for _, c in shown for f in c.folds}, key=lambda f: int(f.rsplit("_", 1)[-1]))
    grid = np.array([[c.folds.get(f, np.nan) for f in folds] for _, c in shown])
    fig = style.new_figure(6.5, 1.6 + 0.22 * len(shown))
    ax = fig.add_subplot()
    image = ax.imshow(grid, aspect="auto", cmap=style.SEQUENTIAL + ("_r" if metric != "rmse" else ""))
    ax.set_xticks(range(len(folds)), folds)
    labels = [f"{c.rank}. {c.branch}" + (f" k={c.n_components}" if c.n_components is not None else "")
              + f" ({cid[:8]})" for cid, c in shown]
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.grid(False)
    if grid.size <= 120:  # values written in the cells while they stay legible (and cheap to lay out)
        mid = np.nanmean(grid)
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=6,
                        color="white" if (v < mid) == (metric == "rmse") else "black")
    fig.colorbar(image, ax=ax, label=f"{metric} on the fold's validation rows")
    ax.set_title(f"{metric} per chain and fold (rows: chains by rank)")
    style.footnote(fig, f"the {len(shown)} best of {len(ranked)} chains drawn" if len(shown) < len(ranked) else None)
    return fig
