"""Arrow tables of a run's results (chains, predictions, scores), built vectorised from node outputs."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import pyarrow as pa

from datafusion_engine.schemas import TABLE_SCHEMAS
from nirs_core.metrics import mean_nrmse, task_scores
from nirs_modelling.compute import target_sd
from nirs_modelling.replicates import SampleLevel
from nirs_modelling.results import FinalFit, GroupCV, RankedChain
from relspec.plan import ALL_TARGETS, FOLD_FINAL, POOLED_CV, CompiledPlan


def _without_run_id(name: str) -> pa.Schema:
    schema = TABLE_SCHEMAS[name]
    return schema.remove(schema.get_field_index("run_id"))


def _strings(codes: np.ndarray, values: Sequence[str]) -> pa.Array:
    """A string array ``values[codes]`` built in Arrow (no Python string per row)."""
    dictionary = pa.array(list(values), type=pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), dictionary).dictionary_decode()


def _constant(value: str, length: int) -> pa.Array:
    return _strings(np.zeros(length, dtype=np.int32), [value])


class Rows:
    """Column chunks of one long table; blocks are appended as Arrow/numpy arrays, never row by row."""

    def __init__(self, name: str):
        self.schema = _without_run_id(name)
        self.chunks: dict[str, list[pa.Array]] = {n: [] for n in self.schema.names}

    def add(self, **columns: pa.Array | np.ndarray) -> None:
        for f in self.schema:
            self.chunks[f.name].append(pa.array(columns[f.name], type=f.type))

    def table(self) -> pa.Table:
        columns = [pa.chunked_array(self.chunks[f.name], type=f.type) for f in self.schema]
        return pa.Table.from_arrays(columns, schema=self.schema)


def _labels(plan: CompiledPlan, codes: np.ndarray) -> pa.Array:
    """The class labels of float codes (null for a NaN code); all null for a regression plan."""
    if plan.task == "regression":
        return pa.nulls(codes.size, pa.string())
    known = np.isfinite(codes)
    indices = pa.array(np.where(known, codes, 0).astype(np.int32), mask=~known)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(plan.classes), pa.string())).dictionary_decode()


def _prediction_block(rows: Rows, plan: CompiledPlan, chain_ids: Sequence[str], fold_id: str, partition: str,
                      sample_ids: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Add an (n_chains x n_samples x n_targets) block of predictions in long format, one chunk per target (with
    labels for classification)."""
    m, n, _ = y_pred.shape
    for j, target in enumerate(plan.targets):
        true, pred = np.tile(y_true[:, j], m), y_pred[:, :, j].reshape(-1)
        rows.add(
            chain_id=_strings(np.repeat(np.arange(m, dtype=np.int32), n), chain_ids),
            fold_id=_constant(fold_id, m * n), partition=_constant(partition, m * n),
            sample_id=_strings(np.tile(np.arange(n, dtype=np.int32), m), sample_ids.tolist()),
            target=_constant(target, m * n), y_true=true, y_pred=pred, label_true=_labels(plan, true),
            label_pred=_labels(plan, pred),
        )


def _score_rows(rows: Rows, chain_ids: Sequence[str], fold_id: str, partition: str, target: str,
                scores: dict[str, np.ndarray], level: str = "spectrum") -> None:
    m, k = len(chain_ids), len(scores)
    rows.add(
        chain_id=_strings(np.tile(np.arange(m, dtype=np.int32), k), chain_ids), fold_id=_constant(fold_id, m * k),
        partition=_constant(partition, m * k), target=_constant(target, m * k),
        metric=_strings(np.repeat(np.arange(k, dtype=np.int32), m), list(scores)),
        value=np.concatenate(list(scores.values())), level=_constant(level, m * k),
    )


def _score_block(rows: Rows, plan: CompiledPlan, chain_ids: Sequence[str], fold_id: str, partition: str,
                 y_true: np.ndarray, y_pred: np.ndarray, level: str = "spectrum") -> None:
    """Add every metric of the plan's task per target for an (n_chains x n_samples x n_targets) block; the pooled
    CV block of a regression also gets ``q2`` = 1 - PRESS / SS of its y values (its r2, named as tools name it)."""
    if y_true.shape[0] == 0:
        return
    for j, target in enumerate(plan.targets):
        scores = task_scores(plan.task, y_true[:, j], y_pred[:, :, j])
        if fold_id == POOLED_CV and plan.task == "regression":
            scores["q2"] = scores["r2"]
        _score_rows(rows, chain_ids, fold_id, partition, target, scores, level)


def cv_predictions_table(plan: CompiledPlan, cvs: Sequence[GroupCV], sample_ids: np.ndarray,
                         targets: np.ndarray) -> pa.Table:
    """Out-of-fold (``val``) and per-fold ``test`` predictions of every chain."""
    rows = Rows("predictions")
    test = np.asarray(plan.test_rows, dtype=np.int64)
    for cv in cvs:
        ids, stack = plan.chain_rows(cv.group_id)
        for f in cv.folds:
            _prediction_block(rows, plan, ids, f.fold_id, "val", sample_ids[f.val_rows],
                              targets[f.val_rows], f.val_pred[list(stack)])
            _prediction_block(rows, plan, ids, f.fold_id, "test", sample_ids[test], targets[test],
                              f.test_pred[list(stack)])
    return rows.table()


def refit_predictions_table(plan: CompiledPlan, fits: Sequence[FinalFit], sample_ids: np.ndarray,
                            targets: np.ndarray) -> pa.Table:
    """``fold_final`` predictions (train and test partitions) of the refit chains."""
    rows = Rows("predictions")
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    test = np.asarray(plan.test_rows, dtype=np.int64)
    for fit in fits:
        for partition, r, pred in (("train", train, fit.train_pred), ("test", test, fit.test_pred)):
            _prediction_block(rows, plan, [fit.chain_id], FOLD_FINAL, partition, sample_ids[r],
                              targets[r], pred[None])
    return rows.table()


def scores_table(plan: CompiledPlan, cvs: Sequence[GroupCV], fits: Sequence[FinalFit],
                 targets: np.ndarray) -> pa.Table:
    """Scores per chain x fold x partition x target x metric, plus the pooled out-of-fold score (fold_id ``cv``);
    with several targets also the pooled ``mean_nrmse`` over all of them (target ``*``). Every row is at
    ``level`` ``spectrum``; a regression plan whose dataset declares replicates also gets the same rows at
    ``level`` ``sample``: each sample's mean prediction over its replicates
    (:class:`nirs_modelling.replicates.SampleLevel`)."""
    rows = Rows("scores")
    test = np.asarray(plan.test_rows, dtype=np.int64)
    train = np.asarray(plan.final_fold.train_rows, dtype=np.int64)
    _level_scores(rows, plan, cvs, fits, targets, train, test, "spectrum")
    if plan.replicate_groups is not None and plan.task == "regression":  # a class code has no mean
        level = SampleLevel(plan)
        _level_scores(rows, plan, [level.cv(cv) for cv in cvs], [level.fit(f) for f in fits], targets,
                      level.train_rows, level.test_rows, "sample")
    return rows.table()


def _level_scores(rows: Rows, plan: CompiledPlan, cvs: Sequence[GroupCV], fits: Sequence[FinalFit],
                  targets: np.ndarray, train: np.ndarray, test: np.ndarray, level: str) -> None:
    """The score rows of one level; ``train`` and ``test`` are the rows the refit predictions are aligned with."""
    sd = target_sd(plan, targets)
    for cv in cvs:
        ids, stack = plan.chain_rows(cv.group_id)
        pick = list(stack)
        for f in cv.folds:
            _score_block(rows, plan, ids, f.fold_id, "val", targets[f.val_rows], f.val_pred[pick], level)
            _score_block(rows, plan, ids, f.fold_id, "test", targets[test], f.test_pred[pick], level)
        _score_block(rows, plan, ids, POOLED_CV, "val", targets[cv.oof_rows], cv.oof_pred[pick], level)
        if len(plan.targets) > 1:  # the ranking over all targets, so SQL can reproduce it
            _score_rows(rows, ids, POOLED_CV, "val", ALL_TARGETS, {
                "mean_nrmse": mean_nrmse(targets[cv.oof_rows], cv.oof_pred[pick], sd)}, level)
    for fit in fits:
        _score_block(rows, plan, [fit.chain_id], FOLD_FINAL, "train", targets[train], fit.train_pred[None], level)
        _score_block(rows, plan, [fit.chain_id], FOLD_FINAL, "test", targets[test], fit.test_pred[None], level)


def chains_table(plan: CompiledPlan, ranking: Sequence[RankedChain], fits: Sequence[FinalFit]) -> pa.Table:
    """One row per chain of the plan; ``refit`` marks the chains refit as ``fold_final``; ``rank`` and ``cv_loss``
    are the chain's place in ``ranking`` (the engine's, best first; it holds every chain) and the loss it ranks by."""
    refit_ids = {f.chain_id for f in fits}
    ranked = {r.chain_id: (i, r) for i, r in enumerate(ranking, start=1)}
    unranked = [c.chain_id[:8] for c in plan.chains if c.chain_id not in ranked]
    if unranked:
        raise ValueError(f"the ranking misses {len(unranked)} chain(s) of the plan: {', '.join(unranked[:5])}")
    rows = [
        {
            "chain_id": c.chain_id, "pipeline_hash": plan.pipeline_hash, "branch_path": list(c.branch_path),
            "branch_name": c.branch_name, "preprocessing": c.preprocessing, "model": c.model,
            "n_components": c.n_components, "params_json": msgspec.json.encode(c.params, order="sorted").decode(),
            "dataset_hash": plan.dataset_hash, "refit": c.chain_id in refit_ids, "rank_metric": plan.rank_metric,
            "rank_target": plan.refit.target or ALL_TARGETS, "rank": ranked[c.chain_id][0],
            "cv_loss": ranked[c.chain_id][1].cv_loss, "rank_level": plan.rank_level,
        }
        for c in plan.chains
    ]
    return pa.Table.from_pylist(rows, schema=_without_run_id("chains"))
