"""Figures of a classification chain: the confusion matrices and the per-class precision, recall and F1."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from nirdag.plots import style
from nirdag.plots.errors import MissingPlotData
from nirdag.plots.source import where
from relspec.plan import FOLD_FINAL, POOLED_CV

# The confusion matrices and class scores drawn: the pooled out-of-fold predictions and the refit's test rows.
_PANELS = ((POOLED_CV, "val", "CV (pooled out-of-fold)"), (FOLD_FINAL, "test", "test (refit)"))


def _panels(table: pa.Table) -> list[tuple[str, pa.Table]]:
    found = [(name, rows) for fold, part, name in _PANELS
             if (rows := where(table, fold_id=fold, partition=part)).num_rows]
    if not found:
        raise MissingPlotData("the chain has neither pooled CV nor refit test rows in this table")
    return found


@style.styled
def confusion(table: pa.Table, *, title: str) -> Figure:
    """Counts of true (rows) against predicted (columns) labels; the colour is the share of the true class."""
    panels = _panels(table)
    labels = sorted(set(table.column("label_true").to_pylist()) | set(table.column("label_pred").to_pylist()))
    index = {label: i for i, label in enumerate(labels)}
    size = 2.2 + 0.45 * len(labels)
    fig = style.new_figure(size * len(panels) + 1.0, size + 0.6)
    axes = np.atleast_1d(fig.subplots(1, len(panels), squeeze=False)).ravel()
    image = None
    for ax, (name, rows) in zip(axes, panels, strict=True):
        counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
        for r in rows.to_pylist():
            counts[index[r["label_true"]], index[r["label_pred"]]] += r["count"]
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(share, vmin=0.0, vmax=1.0, cmap=style.SEQUENTIAL)
        for (i, j), n in np.ndenumerate(counts):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                    color="black" if share[i, j] > 0.5 else "white")
        ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("True")
        ax.set_title(f"{name}, n = {counts.sum()}")
        ax.grid(False)
    fig.colorbar(image, ax=list(axes), label="Share of the true class", shrink=0.8)
    fig.suptitle(f"Confusion matrix: {title}")
    return fig


@style.styled
def class_scores(table: pa.Table, *, title: str) -> Figure:
    """Per-class precision, recall and F1 as bars (pooled CV, refit test), the support in the tick labels."""
    panels = _panels(table)
    fig = style.new_figure(7.5, 2.8 * len(panels) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(panels), 1, squeeze=False)).ravel()
    colours = (style.BLUE, style.ORANGE, style.GREEN)
    for ax, (name, rows) in zip(axes, panels, strict=True):
        data = sorted(rows.to_pylist(), key=lambda r: r["label"])
        x = np.arange(len(data))
        for i, (metric, colour) in enumerate(zip(("precision", "recall", "f1"), colours, strict=True)):
            values = np.array([r[metric] for r in data], dtype=float)
            ax.bar(x + (i - 1) * 0.27, np.nan_to_num(values), width=0.27, color=colour, label=metric)
        ax.set_xticks(x, [f"{r['label']}\n(n={r['support']})" for r in data])
        ax.set_ylim(0.0, 1.05)
        ax.set_ylabel("Score")
        ax.set_title(name)
        ax.legend(loc="lower right", ncols=3)
    fig.suptitle(f"Per-class scores: {title}")
    style.footnote(fig, "undefined scores (no sample predicted or present) drawn as 0")
    return fig
