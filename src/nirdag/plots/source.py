"""What the figures read from a run: the chain asked for, and its tables through the workspace's named queries.

Every reader returns Arrow tables or numpy arrays and raises :class:`MissingPlotData` with one sentence when the
run does not hold what is asked (no such table yet, no rows for the chain, no test rows, the other task).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datafusion_engine import Workspace, WorkspaceSession
from nirdag.plots.errors import ChainNotFound, MissingPlotData, PlotError
from nirs_core.data import SpectraDataset
from relspec import CompiledPlan
from semantics import plot_queries, queries

_ID_PREFIX_MIN = 8

# What each diagnostics table is, for the sentence saying it is missing.
_TABLE_WHAT = {
    "component_diagnostics": "component diagnostics (errors and explained variance per component count)",
    "variable_importance": "variable importance (coefficients, VIP)",
    "sample_diagnostics": "sample diagnostics (scores, T², Q, leverage)",
    "confusion": "confusion matrices",
    "class_scores": "per-class scores",
}


@dataclass(frozen=True)
class Chain:
    """The chain a figure is about: its ``chains`` row and the target drawn."""

    row: dict[str, Any]
    target: str

    @property
    def chain_id(self) -> str:
        return self.row["chain_id"]

    @property
    def title(self) -> str:
        """``snv, PLS 9 (chain 1a2b3c4d)``: how figures name a chain."""
        k = self.row["n_components"]
        model = self.row["model"] + (f" {k}" if k is not None else "")
        return f"{self.row['branch_name']}, {model} (chain {self.chain_id[:8]})"


@dataclass(frozen=True)
class RunData:
    """A completed run as the figures see it: the workspace handle, the run id, its compiled plan and dataset."""

    handle: Workspace
    run_id: str
    plan: CompiledPlan
    dataset: SpectraDataset

    @property
    def session(self) -> WorkspaceSession:
        """The workspace's shared session (reused while its tables are unchanged)."""
        return self.handle.session()

    @property
    def task(self) -> str:
        return self.plan.task

    @property
    def unit(self) -> str:
        return self.dataset.wavelength_unit

    def has_test_rows(self) -> bool:
        return len(self.plan.test_rows) > 0

    def target(self, target: str | None) -> str:
        """``target`` checked against the run's targets; default the first."""
        if target is None:
            return self.plan.targets[0]
        if target not in self.plan.targets:
            raise PlotError(f"run {self.run_id!r} has no target {target!r} (targets: {', '.join(self.plan.targets)})")
        return target

    def chain(self, chain: str = "best", target: str | None = None) -> Chain:
        """``best`` (the chain ranked first, ``chains.rank = 1``), a full chain id or a unique prefix of >= 8."""
        session = self.session
        if chain == "best":
            row = plot_queries.top_chain(session, self.run_id)
            if row is None:
                raise PlotError(f"run {self.run_id!r} has no ranked chain, so 'best' is not known: give a chain id")
            return Chain(row, self.target(target))
        if len(chain) < _ID_PREFIX_MIN:
            raise PlotError(f"chain {chain!r}: give 'best', a full chain_id or a prefix of at least {_ID_PREFIX_MIN}")
        found = queries.chain_ids_with_prefix(session, self.run_id, chain)
        if len(found) != 1:
            raise ChainNotFound(f"run {self.run_id!r} has {len(found)} chains matching {chain!r} (expected exactly "
                                "one)")
        return Chain(queries.chain_row(session, self.run_id, found[0]), self.target(target))

    def require_task(self, task: str, kind: str) -> None:
        if self.task != task:
            other = "pred_vs_measured, residuals" if self.task == "regression" else "confusion, class_scores"
            raise MissingPlotData(f"{kind} draws a {task} run; run {self.run_id} is a {self.task} ({other} "
                                  "draw it)")

    def diagnostics(self, table: str, chain: Chain) -> pa.Table:
        """One of the diagnostics tables (``component_diagnostics``, ``sample_diagnostics``...) for a chain."""
        what = _TABLE_WHAT[table]
        if table not in self.session.tables:
            raise MissingPlotData(f"the workspace has no {what} yet (table {table} is absent: the run predates them)")
        reader = getattr(plot_queries, table)
        rows = reader(self.session, self.run_id, chain.chain_id, chain.target)
        if rows.num_rows == 0:
            refit = "" if chain.row["refit"] else " (it was not refit: only refit chains have them)"
            raise MissingPlotData(f"chain {chain.chain_id[:8]} has no {what}{refit}")
        return rows

    def predictions(self, chain: Chain) -> pa.Table:
        return plot_queries.chain_predictions(self.session, self.run_id, chain.chain_id, chain.target)

    def scores(self, chain: Chain, level: str = "spectrum") -> dict[tuple[str, str], dict[str, float]]:
        """A chain's pooled CV (``("cv", "val")``) and refit (``("fold_final", "test")``...) metrics of its target,
        per spectrum or (``level="sample"``, with replicates declared; empty otherwise) per sample."""
        out: dict[tuple[str, str], dict[str, float]] = {}
        for r in plot_queries.chain_scores(self.session, self.run_id, chain.chain_id, level).to_pylist():
            if r["target"] == chain.target:
                out.setdefault((r["fold_id"], r["partition"]), {})[r["metric"]] = r["value"]
        return out

    def curve_scores(self, target: str | None = None) -> tuple[pa.Table, str]:
        """Every chain's values of the metric the run-wide figures draw, and its name: the run's rank metric on
        its rank target; with several targets, the rmse of ``target`` (default the first), since ``mean_nrmse``
        has no per-fold value."""
        if len(self.plan.targets) > 1:
            metric, table = "rmse", plot_queries.metric_scores(self.session, self.run_id, "rmse", self.target(target))
        else:
            metric, table = self.plan.rank_metric, plot_queries.rank_metric_scores(self.session, self.run_id)
        if table.num_rows == 0:
            raise MissingPlotData(f"run {self.run_id} has no {metric} scores")
        return table, metric

    def mean_train_spectrum(self) -> np.ndarray:
        """The mean of the calibration spectra before preprocessing (drawn under the coefficients)."""
        rows = np.asarray(self.plan.final_fold.train_rows, dtype=np.int64)
        return np.asarray(self.dataset.spectra[rows]).mean(axis=0)


def column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64 with nulls as NaN."""
    return pc.fill_null(table.column(name).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def where(table: pa.Table, **equal: str) -> pa.Table:
    """The rows of ``table`` whose columns equal the given values."""
    mask = None
    for name, value in equal.items():
        m = pc.equal(table.column(name), value)
        mask = m if mask is None else pc.and_(mask, m)
    return table if mask is None else table.filter(mask)
