"""The figure of explanations: per-wavelength importance of a chain, one panel per method (or target) explained."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure

from nirdag.plots import style
from nirdag.plots.errors import MissingPlotData
from nirdag.plots.source import column

_YLABEL = {"coefficients": "Coefficient", "vip": "VIP", "permutation": "RMSE increase", "shap": "mean |SHAP|"}
_AXIS_NOTE = {"model_input": "the model's input axis (after preprocessing)", "spectra": "the raw spectrum"}


@style.styled
def explanation(rows: pa.Table, *, unit: str, title: str) -> Figure:
    """Importance over wavelength, one panel per (method, block size, target) of ``rows`` (the ``explanations``
    table's columns), with a ±1 standard deviation band where the method has a spread (permutation)."""
    if rows.num_rows == 0:
        raise MissingPlotData("no explanation rows to draw: run `nirdag explain` first")
    groups = sorted({(r["method"], r["block_size"], r["target"], r["axis"])
                     for r in rows.select(["method", "block_size", "target", "axis"]).to_pylist()})
    fig = style.new_figure(8.0, 2.4 * len(groups) + 0.8)
    axes = np.atleast_1d(fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0])
    on: dict[str, list[str]] = {}
    for ax, (method, block, target, axis) in zip(axes, groups, strict=True):
        mask = pc.and_(pc.and_(pc.equal(rows.column("method"), method), pc.equal(rows.column("block_size"), block)),
                       pc.equal(rows.column("target"), target))
        part = rows.filter(mask)
        x, y, spread = column(part, "wavelength"), column(part, "importance"), column(part, "std")
        colour = style.ORANGE if method == "vip" else style.BLUE
        ax.plot(x, y, color=colour, linewidth=1.2, marker="o" if block > 1 else None, markersize=3)
        if np.isfinite(spread).any():
            ax.fill_between(x, y - spread, y + spread, color=colour, alpha=0.2, linewidth=0, label="±1 SD")
            ax.legend(loc="upper right")
        if method == "vip":
            ax.axhline(1.0, color=style.GREY, linestyle="--", linewidth=0.9)
        else:
            ax.axhline(0.0, color=style.GREY, linewidth=0.8)
        ax.set_ylabel(f"{_YLABEL[method]} ({target})")
        ax.set_title(f"{method}" + (f", blocks of {block} wavelengths" if block > 1 else ""), loc="left")
        on.setdefault(axis, []).append(method)
    axes[-1].set_xlabel(style.axis_label(unit))
    fig.suptitle(f"Explanation: {title}")
    style.footnote(fig, "; ".join(f"{', '.join(dict.fromkeys(m))} on {_AXIS_NOTE[a]}" for a, m in on.items()))
    return fig
