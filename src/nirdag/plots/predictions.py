"""Figures of one chain's predictions: predicted against measured, and the residuals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nirdag.plots import style
from nirdag.plots.errors import MissingPlotData
from nirdag.plots.source import column
from relspec.plan import FOLD_FINAL, POOLED_CV

Scores = dict[tuple[str, str], dict[str, float]]
_LABELLED = 5  # largest residuals named by sample id


@dataclass(frozen=True)
class _Points:
    """Predictions of one kind (CV out-of-fold, test) of one chain and target."""

    name: str
    sample_id: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray

    @property
    def residual(self) -> np.ndarray:
        return self.y_pred - self.y_true


def _cv_points(predictions: pa.Table) -> _Points:
    val = predictions.filter(pc.and_(pc.equal(predictions.column("partition"), "val"),
                                     pc.not_equal(predictions.column("fold_id"), FOLD_FINAL)))
    return _Points("CV (out-of-fold)", val.column("sample_id").to_numpy(zero_copy_only=False),
                   column(val, "y_true"), column(val, "y_pred"))


def _test_points(predictions: pa.Table) -> _Points | None:
    """The refit's test predictions; for a chain that was not refit, the mean over its CV fold models."""
    test = predictions.filter(pc.equal(predictions.column("partition"), "test"))
    if test.num_rows == 0:
        return None
    final = test.filter(pc.equal(test.column("fold_id"), FOLD_FINAL))
    if final.num_rows:
        return _Points("test (refit)", final.column("sample_id").to_numpy(zero_copy_only=False),
                       column(final, "y_true"), column(final, "y_pred"))
    means = test.group_by("sample_id").aggregate([("y_true", "mean"), ("y_pred", "mean")])
    return _Points("test (mean of CV fold models)", means.column("sample_id").to_numpy(zero_copy_only=False),
                   column(means, "y_true_mean"), column(means, "y_pred_mean"))


def _points(predictions: pa.Table) -> tuple[_Points, _Points | None]:
    cv = _cv_points(predictions)
    if cv.sample_id.size == 0:
        raise MissingPlotData("the chain has no out-of-fold predictions")
    return cv, _test_points(predictions)


_STATS = (("rmse", "RMSE"), ("r2", "R²"), ("q2", "Q²"), ("bias", "bias"), ("sep", "SEP"), ("rpd", "RPD"),
          ("slope", "slope"), ("intercept", "intercept"), ("n", "n"))


def _stats_text(name: str, metrics: dict[str, float] | None) -> str | None:
    if not metrics:
        return None
    parts = [f"{label} {metrics[key]:.4g}" if key != "n" else f"n {int(metrics[key])}"
             for key, label in _STATS if key in metrics and np.isfinite(metrics[key])]
    return f"{name}: " + ", ".join(parts)


def _scatter(ax: Axes, x: np.ndarray, y: np.ndarray, colour: str, label: str, marker: str = "o") -> str | None:
    shown = style.thin(x.size)
    ax.scatter(x[shown], y[shown], s=10, color=colour, alpha=0.6, edgecolors="none", marker=marker, label=label,
               rasterized=style.dense(shown.size))
    return style.thinned_note(shown.size, x.size, f"{label} points")


@style.styled
def pred_vs_measured(predictions: pa.Table, scores: Scores, *, title: str, target: str) -> Figure:
    """Predicted against measured: CV out-of-fold and test points, the 1:1 line and a statistics box (the stored
    pooled-CV and refit-test scores)."""
    cv, test = _points(predictions)
    fig = style.new_figure(6.0, 5.6)
    ax = fig.add_subplot()
    notes = [_scatter(ax, cv.y_true, cv.y_pred, style.BLUE, cv.name)]
    if test is not None:
        notes.append(_scatter(ax, test.y_true, test.y_pred, style.VERMILION, test.name, marker="D"))
    values = np.concatenate([cv.y_true, cv.y_pred] + ([test.y_true, test.y_pred] if test is not None else []))
    lo, hi = np.nanmin(values), np.nanmax(values)
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=style.GREY, linewidth=1.0, label="1:1")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(f"Measured {target}")
    ax.set_ylabel(f"Predicted {target}")
    ax.set_title(f"Predicted vs measured: {title}")
    box = [_stats_text("CV", scores.get((POOLED_CV, "val"))), _stats_text("test", scores.get((FOLD_FINAL, "test")))]
    text = "\n".join(b for b in box if b)
    if text:
        ax.text(0.02, 0.98, _wrap(text), transform=ax.transAxes, va="top", ha="left", fontsize=7, family="monospace",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": style.GREY, "alpha": 0.9})
    ax.legend(loc="lower right")
    style.footnote(fig, *notes, None if test is not None else "no test rows in this run")
    return fig


def _wrap(text: str, width: int = 46) -> str:
    lines = []
    for line in text.split("\n"):
        current = ""
        for part in line.split(", "):
            candidate = f"{current}, {part}" if current else part
            if len(candidate) > width and current:
                lines.append(current + ",")
                current = "  " + part
            else:
                current = candidate
        lines.append(current)
    return "\n".join(lines)


def _label_largest(ax: Axes, x: np.ndarray, residual: np.ndarray, ids: np.ndarray) -> None:
    for i in np.argsort(-np.abs(np.nan_to_num(residual)))[:_LABELLED]:
        ax.annotate(str(ids[i]), (x[i], residual[i]), fontsize=6, xytext=(3, 3), textcoords="offset points")


@style.styled
def residuals(predictions: pa.Table, *, sample_ids: np.ndarray, title: str, target: str) -> Figure:
    """Residuals (predicted − measured) against the prediction and against the sample (dataset order), CV and
    test; the largest residuals are named by sample id."""
    cv, test = _points(predictions)
    order = {sid: i for i, sid in enumerate(sample_ids.tolist())}
    fig = style.new_figure(9.0, 4.2)
    by_pred, by_sample = fig.subplots(1, 2)
    notes = []
    for points, colour, marker in ((cv, style.BLUE, "o"), (test, style.VERMILION, "D")):
        if points is None:
            continue
        res = points.residual
        rows = np.array([order.get(s, -1) for s in points.sample_id.tolist()], dtype=float)
        notes.append(_scatter(by_pred, points.y_pred, res, colour, points.name, marker))
        _scatter(by_sample, rows, res, colour, points.name, marker)
        _label_largest(by_sample, rows, res, points.sample_id)
    for ax in (by_pred, by_sample):
        ax.axhline(0.0, color=style.GREY, linewidth=1.0)
        ax.set_ylabel(f"Residual {target} (predicted − measured)")
    by_pred.set_xlabel(f"Predicted {target}")
    by_sample.set_xlabel("Sample (dataset row)")
    by_pred.legend(loc="best")
    fig.suptitle(f"Residuals: {title}")
    style.footnote(fig, *notes, None if test is not None else "no test rows in this run")
    return fig
