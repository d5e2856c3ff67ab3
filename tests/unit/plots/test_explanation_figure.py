"""The explanation figure on hand-made rows of the `explanations` table: a panel per method, a band where there is
a spread, nothing to draw is said."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from datafusion_engine.schemas import TABLE_SCHEMAS
from nirdag.plots.errors import MissingPlotData
from nirdag.plots.explanation import explanation


def _rows(method: str, block: int, n: int, std: bool) -> list[dict]:
    axis = "spectra" if method in ("permutation", "shap") else "model_input"
    return [{"run_id": "r", "chain_id": "c" * 64, "target": "fat", "method": method, "block_size": block,
             "variable": i, "axis": axis, "wavelength": 900.0 + 2 * i, "importance": float(np.sin(i)),
             "std": 0.1 if std else None} for i in range(n)]


def test_one_panel_per_method_with_a_band_for_the_permutation_spread():
    table = pa.Table.from_pylist(_rows("coefficients", 1, 50, False) + _rows("permutation", 5, 10, True),
                                 schema=TABLE_SCHEMAS["explanations"])
    fig = explanation(table, unit="nm", title="snv, pls 4 (chain cccccccc)")
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["coefficients", "permutation, blocks of 5 wavelengths"]
    assert len(fig.axes[0].collections) == 0 and len(fig.axes[1].collections) == 1  # the ±1 SD band
    assert fig.axes[-1].get_xlabel().startswith("Wavelength")


def test_no_rows_is_missing_data():
    with pytest.raises(MissingPlotData, match="run `nirdag explain` first"):
        explanation(pa.Table.from_pylist([], schema=TABLE_SCHEMAS["explanations"]), unit="nm", title="t")
