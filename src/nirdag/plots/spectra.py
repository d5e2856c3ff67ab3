"""The preprocessed calibration spectra of each preprocessing path of a run, and their figure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from nirdag.plots import style
from nirdag.plots.source import RunData
from nirs_modelling.compute import hoisted_refs
from nirs_modelling.targets import model_y, target_values
from relspec.operator_map import instantiate, output_axis
from relspec.plan import StepRef


@dataclass(frozen=True)
class BranchSpectra:
    """Some calibration spectra after one preprocessing path: its name, output axis and unit, and how many the
    calibration set has."""

    name: str
    axis: np.ndarray
    unit: str
    spectra: np.ndarray
    total: int


def _axis_after(refs: tuple[StepRef, ...], axis: tuple[float, ...], width: int, unit: str
                ) -> tuple[np.ndarray, str]:
    for ref in refs:
        axis = output_axis(ref, axis) if ref.op != "concat" else ()
    if len(axis) != width:  # a step that is not wavelength-wise (merge: features) leaves column indices
        return np.arange(width, dtype=np.float64), "index"
    return np.asarray(axis, dtype=np.float64), unit


def branch_spectra(data: RunData, limit: int = style.MAX_SPECTRA) -> list[BranchSpectra]:
    """For each distinct preprocessing path of the run's sweep groups, at most ``limit`` calibration spectra
    (an even subset) after it: row-wise steps applied as the run applied them, fitted steps (MSC, OSC, scalers)
    fitted on every calibration row, as the refit fits them."""
    plan, dataset = data.plan, data.dataset
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    shown = train[np.unique(np.linspace(0, train.size - 1, min(limit, train.size)).round().astype(np.int64))]
    names = {c.group_id: c.branch_name for c in plan.chains}
    y = model_y(target_values(plan, dataset)[train])
    out, seen = [], set()
    for group in plan.groups:
        hoisted = hoisted_refs(plan, group)
        key = tuple(r.step_hash for r in (*hoisted, *group.fitted_steps))
        if key in seen:
            continue
        seen.add(key)
        X_shown = np.asarray(dataset.spectra[shown])
        X_fit = np.asarray(dataset.spectra[train]) if group.fitted_steps else None
        for ref in hoisted:
            est = instantiate(ref).fit(X_shown)
            X_shown = est.transform(X_shown)
            X_fit = None if X_fit is None else est.transform(X_fit)
        for ref in group.fitted_steps:
            est = instantiate(ref).fit(X_fit, y)
            X_fit, X_shown = est.transform(X_fit), est.transform(X_shown)
        axis, unit = _axis_after((*hoisted, *group.fitted_steps), tuple(dataset.wavelengths.tolist()),
                                 X_shown.shape[1], dataset.wavelength_unit)
        label = " then ".join(r.label for r in (*hoisted, *group.fitted_steps)) or "raw"
        name = names.get(group.group_id, group.group_id)
        out.append(BranchSpectra(name if name == label else f"{name}: {label}", axis, unit, X_shown, train.size))
    return out


@style.styled
def spectra(branches: list[BranchSpectra]) -> Figure:
    """One panel per preprocessing path: at most 200 of its calibration spectra (the count is stated)."""
    n = len(branches)
    cols = 1 if n == 1 else 2
    rows = -(-n // cols)
    fig = style.new_figure(9.0 if cols == 2 else 7.0, 2.6 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, branch in zip(axes, branches, strict=False):
        # many overlapping lines: drawn as one raster image inside the SVG, which stays small and sharp enough
        lines = np.stack([np.broadcast_to(branch.axis, branch.spectra.shape), branch.spectra], axis=-1)
        ax.add_collection(LineCollection(lines, colors=style.BLUE, linewidths=0.5, alpha=0.35, rasterized=True))
        ax.autoscale_view()
        ax.set_title(f"{branch.name}", fontsize=8)
        ax.set_xlabel(style.axis_label(branch.unit))
        ax.text(0.99, 0.97, f"{branch.spectra.shape[0]} of {branch.total} calibration spectra drawn",
                transform=ax.transAxes, ha="right", va="top", fontsize=7, color=style.GREY)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Preprocessed spectra per preprocessing path")
    return fig
