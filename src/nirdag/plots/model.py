"""Figures of a refit chain's model: coefficients and VIP over the axis, the score plot, the influence plot."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from scipy import stats

from nirdag.plots import style
from nirdag.plots.errors import MissingPlotData
from nirdag.plots.source import column

MAX_LABELS = 15  # outliers named by sample id on the influence plot at most
ALPHA = 0.05


@style.styled
def coefficients(importance: pa.Table, *, wavelengths: np.ndarray, mean_spectrum: np.ndarray, unit: str,
                 title: str, target: str) -> Figure:
    """Regression coefficients and VIP over the model input's axis, with the mean calibration spectrum (raw, on
    the dataset's axis) underneath."""
    axis = column(importance, "wavelength")
    coef, vip = column(importance, "coefficient"), column(importance, "vip")
    fig = style.new_figure(8.0, 6.4)
    top, middle, bottom = fig.subplots(3, 1, sharex=True, height_ratios=[1.2, 1.0, 0.8])
    if np.isfinite(coef).any():
        top.plot(axis, coef, color=style.BLUE)
        top.axhline(0.0, color=style.GREY, linewidth=0.8)
    else:
        style.no_data(top, "the model has no coefficients")
    top.set_ylabel(f"Coefficient ({target})")
    if np.isfinite(vip).any():
        middle.plot(axis, vip, color=style.ORANGE)
        middle.fill_between(axis, 0.0, vip, where=vip >= 1.0, color=style.ORANGE, alpha=0.25, linewidth=0)
        middle.axhline(1.0, color=style.GREY, linestyle="--", linewidth=0.9, label="VIP = 1")
        middle.legend(loc="upper right")
    else:
        style.no_data(middle, "the model has no VIP (no latent components)")
    middle.set_ylabel("VIP")
    bottom.plot(wavelengths, mean_spectrum, color=style.BLACK, linewidth=1.0)
    bottom.set_ylabel("Mean spectrum")
    bottom.set_xlabel(style.axis_label(unit))
    fig.suptitle(f"Coefficients and VIP: {title}")
    style.footnote(fig, "bottom: mean of the calibration spectra before preprocessing")
    return fig


def _train_test(samples: pa.Table) -> tuple[pa.Table, pa.Table]:
    part = samples.column("partition")
    return samples.filter(pc.equal(part, "train")), samples.filter(pc.equal(part, "test"))


def t2_limit_two_components(n: int, confidence: float = 1 - ALPHA) -> float:
    """The calibration T² limit of a two-score plane (k = 2): (n−1)²/n · Beta(conf; 1, (n−3)/2)."""
    return (n - 1) ** 2 / n * stats.beta.ppf(confidence, 1.0, (n - 3) / 2.0)


def _by_class(ax: Axes, s1: np.ndarray, s2: np.ndarray, codes: np.ndarray, classes: tuple[str, ...], marker: str,
              name: str) -> None:
    """One palette colour per class code (test points outlined)."""
    for code, label in enumerate(classes):
        mine = codes == code
        ax.scatter(s1[mine], s2[mine], s=14, marker=marker, color=style.OKABE_ITO[code % len(style.OKABE_ITO)],
                   edgecolors=style.BLACK if name == "test" else "none", linewidths=0.4,
                   label=f"{label} ({name})", rasterized=style.dense(int(mine.sum())))


@style.styled
def scores(samples: pa.Table, *, title: str, target: str, classes: tuple[str, ...] = ()) -> Figure:
    """Scores t1 against t2 of the calibration (circles) and test (diamonds) samples, coloured by the measured
    value (a classifier's ``classes``: one palette colour per class), with the 95 % Hotelling ellipse of the
    calibration scores."""
    train, test = _train_test(samples)
    t1, t2 = column(train, "score_1"), column(train, "score_2")
    if not np.isfinite(t1).any():
        raise MissingPlotData("the model has no latent scores (no T²/Q diagnostics for this model)")
    if not np.isfinite(t2).any():
        raise MissingPlotData("the model has a single component: there is no t2 to draw against t1")
    n = int(np.isfinite(t1).sum())
    fig = style.new_figure(6.4, 5.4)
    ax = fig.add_subplot()
    y_all = np.concatenate([column(train, "y_true"), column(test, "y_true")])
    finite = y_all[np.isfinite(y_all)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    notes, mappable = [], None
    for part, marker, name in ((train, "o", "calibration"), (test, "D", "test")):
        if part.num_rows == 0:
            continue
        s1, s2, y = column(part, "score_1"), column(part, "score_2"), column(part, "y_true")
        shown = style.thin(s1.size)
        notes.append(style.thinned_note(shown.size, s1.size, f"{name} points"))
        if classes:
            _by_class(ax, s1[shown], s2[shown], y[shown], classes, marker, name)
            continue
        mappable = ax.scatter(s1[shown], s2[shown], c=y[shown], cmap=style.SEQUENTIAL, vmin=vmin, vmax=vmax, s=14,
                              marker=marker, edgecolors=style.BLACK if name == "test" else "none", linewidths=0.4,
                              label=name, rasterized=style.dense(shown.size))
    radius = np.sqrt(t2_limit_two_components(n))
    sd1, sd2 = np.nanstd(t1, ddof=1), np.nanstd(t2, ddof=1)
    ax.add_patch(Ellipse((0.0, 0.0), 2 * radius * sd1, 2 * radius * sd2, fill=False, edgecolor=style.VERMILION,
                         linestyle="--", linewidth=1.2, label="95 % ellipse (calibration)"))
    ax.axhline(0.0, color=style.GREY, linewidth=0.6)
    ax.axvline(0.0, color=style.GREY, linewidth=0.6)
    ax.set_xlabel("t1 (score of component 1)")
    ax.set_ylabel("t2 (score of component 2)")
    ax.set_title(f"Scores: {title}")
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, label=f"Measured {target}")
    ax.legend(loc="upper right")
    ax.autoscale_view()
    style.footnote(fig, *notes, None if test.num_rows else "no test rows in this run")
    return fig


def _limit_lines(ax: Axes, part: pa.Table, colour: str, name: str) -> None:
    for level, dash in (("95", "--"), ("99", "-")):
        t2_limit, q_limit = column(part, f"t2_limit_{level}"), column(part, f"q_limit_{level}")
        if np.isfinite(t2_limit).any():
            ax.axvline(np.nanmax(t2_limit), color=colour, linestyle=dash, linewidth=0.9,
                       label=f"{name} T² {level} %")
        if name == "calibration" and np.isfinite(q_limit).any():
            ax.axhline(np.nanmax(q_limit), color=style.GREY, linestyle=dash, linewidth=0.9, label=f"Q {level} %")


@style.styled
def influence(samples: pa.Table, *, title: str) -> Figure:
    """Hotelling T² against the Q residual, calibration and test samples, with the 95 % (dashed) and 99 % (solid)
    limits (calibration rows are judged by the Beta limit, test rows by the F limit); outliers are named."""
    train, test = _train_test(samples)
    if not np.isfinite(column(samples, "t2")).any():
        raise MissingPlotData("the model has no T²/Q diagnostics (no latent components)")
    fig = style.new_figure(8.4, 5.2)
    ax = fig.add_subplot()
    notes, labelled, outliers = [], 0, 0
    for part, colour, marker, name in ((train, style.BLUE, "o", "calibration"),
                                       (test, style.VERMILION, "D", "test")):
        if part.num_rows == 0:
            continue
        t2, q = column(part, "t2"), column(part, "q")
        domain = part.column("domain").to_numpy(zero_copy_only=False)
        shown = style.thin(t2.size, keep=domain == "outlier")
        ax.scatter(t2[shown], q[shown], s=12, color=colour, marker=marker, alpha=0.6, edgecolors="none", label=name,
                   rasterized=style.dense(shown.size))
        notes.append(style.thinned_note(shown.size, t2.size, f"{name} points (every outlier kept)"))
        _limit_lines(ax, part, colour, name)
        ids = part.column("sample_id").to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(domain == "outlier"):
            outliers += 1
            if labelled < MAX_LABELS:
                ax.annotate(str(ids[i]), (t2[i], q[i]), fontsize=6, xytext=(3, 3), textcoords="offset points")
                labelled += 1
    ax.set_xlabel("Hotelling T²")
    ax.set_ylabel("Q residual (squared reconstruction error)")
    ax.set_title(f"Influence: {title}")
    fig.legend(loc="outside right upper", fontsize=7)
    style.footnote(fig, *notes, f"{labelled} of {outliers} outliers named" if outliers > labelled else None,
                   None if test.num_rows else "no test rows in this run")
    return fig
