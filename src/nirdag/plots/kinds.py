"""The closed set of figure kinds (the same names in Python, ``RunResult.plot.<kind>``, and ``nirdag plot KIND``)."""

from __future__ import annotations

from typing import Literal, get_args

from nirdag.plots.errors import PlotError

PlotKind = Literal[
    "components", "pred_vs_measured", "residuals", "coefficients", "scores", "influence", "spectra",
    "fold_heatmap", "confusion", "class_scores", "explanation",
]
PLOT_KINDS: tuple[PlotKind, ...] = get_args(PlotKind)

DESCRIPTIONS: dict[PlotKind, str] = {
    "components": "RMSECV (rank metric) against components per preprocessing, ±1 SE band, chosen k marked",
    "pred_vs_measured": "predicted against measured (CV and test), 1:1 line, statistics box",
    "residuals": "residuals against the prediction and against the sample",
    "coefficients": "regression coefficients and VIP over the axis, with the mean spectrum",
    "scores": "scores t1 against t2 with the 95 % ellipse, coloured by y",
    "influence": "Hotelling T² against Q with the 95/99 % limits, outliers named",
    "spectra": "preprocessed calibration spectra per preprocessing path (at most 200 drawn)",
    "fold_heatmap": "rank metric per chain and CV fold",
    "confusion": "confusion matrices (classification)",
    "class_scores": "per-class precision, recall and F1 (classification)",
    "explanation": "per-wavelength importance stored by `nirdag explain`, one panel per method",
}

OUTPUT_SUFFIXES = (".svg", ".png", ".pdf")


def check_kind(kind: str) -> PlotKind:
    """``kind`` if it is a figure kind; a PlotError listing the kinds otherwise."""
    if kind not in PLOT_KINDS:
        raise PlotError(f"unknown plot kind {kind!r}; kinds: {', '.join(PLOT_KINDS)}")
    return kind  # type: ignore[return-value]
