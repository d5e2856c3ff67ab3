"""The per-fold tables of what sample filters dropped (``sample_exclusions``) and what column selections kept
(``selected_variables``), from the fold records of every sweep group's CV folds and of the refit chains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from nirs_core.operators.concat import FeatureConcat
from nirs_core.operators.filters import FILTER_REASONS, RowFilter
from nirs_core.operators.registry import class_path
from nirs_modelling.compute import hoisted_refs
from nirs_modelling.results import FinalFit, FoldRecord, GroupCV
from nirs_modelling.tables import Rows
from relspec.operator_map import instantiate, operator_class, output_axis
from relspec.plan import FOLD_FINAL, CompiledPlan, StepRef, SweepGroup

TABLES: tuple[str, ...] = ("sample_exclusions", "selected_variables")


@dataclass(frozen=True)
class FoldTables:
    """The ``sample_exclusions`` and ``selected_variables`` tables of one run (without run_id)."""

    tables: Mapping[str, pa.Table]


def _repeat(values: Sequence[str], times: int) -> pa.Array:
    """``values`` repeated ``times`` over (chain ids of a group, one block each)."""
    return pa.array(np.repeat(np.asarray(values, dtype=object), times), pa.string())


class _Builder:
    def __init__(self, plan: CompiledPlan, sample_ids: np.ndarray, wavelengths: np.ndarray):
        self.plan, self.ids, self.wavelengths = plan, sample_ids, wavelengths
        self.rows = {name: Rows(name) for name in TABLES}

    def group_axis(self, group: SweepGroup) -> np.ndarray | None:
        """The axis of the group's input columns (None when they are concatenated branch outputs)."""
        axis: np.ndarray | None = np.asarray(self.wavelengths, dtype=np.float64)
        for ref in hoisted_refs(self.plan, group):
            axis = _carried(ref, axis)
        return axis

    def add(self, group: SweepGroup, chain_ids: Sequence[str], fold_id: str, record: FoldRecord) -> None:
        if not chain_ids:
            return
        offset = len(hoisted_refs(self.plan, group))  # the chain's steps above the folds come first
        self._exclusions(group, chain_ids, fold_id, record, offset)
        if record.selection_step.size:
            self._selections(group, chain_ids, fold_id, record, offset, self.group_axis(group))

    def _exclusions(self, group: SweepGroup, chain_ids: Sequence[str], fold_id: str, record: FoldRecord,
                    offset: int) -> None:
        n = record.excluded_rows.size
        if not n:
            return
        filters: dict[int, RowFilter] = {}
        reasons, targets = [], []
        for step, code, t, value, limit in zip(record.excluded_step.tolist(), record.excluded_reason.tolist(),
                                              record.excluded_target.tolist(), record.excluded_value.tolist(),
                                              record.excluded_limit.tolist(), strict=True):
            est = filters.setdefault(step, instantiate(group.fitted_steps[step]))
            target = self.plan.targets[t] if t >= 0 else None
            targets.append(target)
            reasons.append(est.describe(code, value, limit, target))
        m = len(chain_ids)
        rows = record.excluded_rows
        self.rows["sample_exclusions"].add(
            chain_id=_repeat(chain_ids, n), fold_id=pa.array([fold_id] * (m * n), pa.string()),
            step=np.tile(offset + record.excluded_step, m),
            op=pa.array([group.fitted_steps[s].op for s in record.excluded_step.tolist()] * m, pa.string()),
            row=np.tile(rows, m), sample_id=pa.array(np.tile(self.ids[rows].astype(object), m), pa.string()),
            statistic=pa.array([FILTER_REASONS[c] for c in record.excluded_reason.tolist()] * m, pa.string()),
            target=pa.array(targets * m, pa.string()), value=np.tile(record.excluded_value, m),
            limit_value=np.tile(record.excluded_limit, m), reason=pa.array(reasons * m, pa.string()),
        )

    def _selections(self, group: SweepGroup, chain_ids: Sequence[str], fold_id: str, record: FoldRecord,
                    offset: int, axis: np.ndarray | None) -> None:
        """Each selection step's input columns: the axis is carried through the fitted steps of this fold (a
        selection's output is the kept part of its input; other steps change it as the compiler carries it)."""
        supports = {int(s): record.selected_column[record.selected_step == s] for s in record.selection_step}
        widths = dict(zip(record.selection_step.tolist(), record.selection_width.tolist(), strict=True))
        m = len(chain_ids)
        for i, ref in enumerate(group.fitted_steps):
            if i not in supports:
                axis = _carried(ref, axis)
                continue
            width = widths[i]
            if axis is None or axis.shape != (width,):  # the columns are not those of a known axis: their index
                axis = np.arange(width, dtype=np.float64)
            kept = np.zeros(width, dtype=bool)
            kept[supports[i]] = True
            self.rows["selected_variables"].add(
                chain_id=_repeat(chain_ids, width), fold_id=pa.array([fold_id] * (m * width), pa.string()),
                step=np.full(m * width, offset + i, dtype=np.int64), op=pa.array([ref.op] * (m * width), pa.string()),
                variable=np.tile(np.arange(width, dtype=np.int64), m), wavelength=np.tile(axis, m),
                kept=np.tile(kept, m),
            )
            axis = axis[supports[i]]

    def tables(self) -> FoldTables:
        return FoldTables({name: rows.table() for name, rows in self.rows.items()})


def _carried(ref: StepRef, axis: np.ndarray | None) -> np.ndarray | None:
    """The axis after a step, as the compiler carries it; None once the columns are concatenated branch outputs (or
    were already unknown). A sample filter keeps the axis."""
    if axis is None or ref.class_path == class_path(FeatureConcat):
        return None
    if issubclass(operator_class(ref.class_path), RowFilter):
        return axis
    return np.asarray(output_axis(ref, tuple(float(w) for w in axis)), dtype=np.float64)


def fold_tables(plan: CompiledPlan, cvs: Mapping[str, GroupCV], fits: Sequence[FinalFit], sample_ids: np.ndarray,
                wavelengths: np.ndarray) -> FoldTables:
    """``sample_exclusions`` and ``selected_variables`` of every chain's CV folds (``cvs``: the sweep groups'
    pooled CV, by group id, whose folds carry their records) and of the refit chains' ``fold_final`` fits."""
    b = _Builder(plan, sample_ids, wavelengths)
    refit = {f.chain_id: f for f in fits}
    for group in plan.groups:
        chains = [c.chain_id for c in plan.chains_of(group.group_id)]
        cv = cvs.get(group.group_id)
        for fold in cv.folds if cv is not None else ():
            b.add(group, chains, fold.fold_id, fold.record)
        for chain_id in chains:
            fit = refit.get(chain_id)
            if fit is not None:
                final = next(f for f in fit.fits if f.fold_id == FOLD_FINAL)
                b.add(group, [chain_id], FOLD_FINAL, final.record)
    return b.tables()
