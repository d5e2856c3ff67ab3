"""Re-deciding a run's ranking and refit choice under another refit rule from its stored out-of-fold predictions:
the sweep groups' ``GroupCV`` are rebuilt from the ``predictions`` rows (the float64 values as stored, so the same
bits the engine ranked), then ranked and chosen by the engine's own functions (:func:`compute.rank_chains`,
:func:`selection.choose_refit`). Nothing is fitted."""

from __future__ import annotations

import msgspec
import numpy as np
import pyarrow as pa

from nirs_modelling.compute import gather_cv, rank_chains
from nirs_modelling.results import FoldSweep, GroupCV
from nirs_modelling.selection import choose_refit
from relspec.counterfactual import Decided, RefitQuestion
from relspec.errors import CounterfactualError
from relspec.plan import CompiledPlan


def _index(predictions: pa.Table) -> dict[tuple[str, str, str, str], float]:
    """(chain_id, fold_id, sample_id, target) -> y_pred of the stored ``val`` rows."""
    cols = [predictions.column(c).to_pylist() for c in ("chain_id", "fold_id", "sample_id", "target")]
    return dict(zip(zip(*cols, strict=True), predictions.column("y_pred").to_numpy(), strict=True))


def rebuild_cvs(plan: CompiledPlan, sample_ids: np.ndarray, predictions: pa.Table) -> tuple[GroupCV, ...]:
    """Every sweep group's and stack's CV folds as the engine held them (validation predictions only), from the
    stored ``val`` rows of the run's CV folds. A value the run did not store is a :class:`CounterfactualError`."""
    stored = _index(predictions)
    out = []
    for group in (*plan.groups, *plan.stacks):
        ids, rows = plan.chain_rows(group.group_id)
        serving = {row: chain for chain, row in reversed(list(zip(ids, rows, strict=True)))}  # first chain per row
        if len(serving) != len(group.component_values):
            raise CounterfactualError(f"group {group.group_id[:8]} has a component count no chain holds")
        folds = []
        for fold in plan.folds:
            samples = sample_ids[list(fold.val_rows)].tolist()
            try:
                pred = np.array([[[stored[(serving[k], fold.fold_id, s, t)] for t in plan.targets] for s in samples]
                                 for k in range(len(group.component_values))], dtype=np.float64)
            except KeyError as exc:
                raise CounterfactualError(f"the run stored no out-of-fold prediction {exc.args[0]!r}: its "
                                          "predictions cannot be re-ranked") from None
            folds.append(FoldSweep(fold_id=fold.fold_id, val_rows=np.asarray(fold.val_rows, dtype=np.int64),
                                   val_pred=pred, test_pred=np.empty((pred.shape[0], 0, pred.shape[2]))))
        out.append(gather_cv(group, folds))  # type: ignore[arg-type]  # a stack pools its folds the same way
    return tuple(out)


def redecide(plan: CompiledPlan, question: RefitQuestion | None, cvs: tuple[GroupCV, ...],
             targets: np.ndarray) -> Decided:
    """The ranking and refit chains under the plan's refit rule changed by ``question`` (None: the plan's own).
    The changed plan is never compiled or run: it only carries the rule to the engine's ranking and choice."""
    refit = plan.refit if question is None else msgspec.structs.replace(
        plan.refit, **{k: v for k, v in (("metric", question.metric), ("select", question.select),
                                         ("top_k", question.top_k)) if v is not None})
    asked = msgspec.structs.replace(plan, refit=refit)
    ranking = rank_chains(asked, cvs, targets)
    choice = choose_refit(asked, ranking, {cv.group_id: cv for cv in cvs}, targets)
    return Decided(metric=asked.rank_metric, select=refit.select, top_k=refit.top_k,
                   ranking=tuple(r.chain_id for r in ranking), metric_values=tuple(r.cv_value for r in ranking),
                   refit=tuple(c.chain_id for c in choice.chosen),
                   refit_components=tuple(c.n_components for c in choice.chosen))
