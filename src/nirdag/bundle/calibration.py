"""A regression chain's conformal calibration from its workspace: the conformity scores of its pooled out-of-fold
predictions, plain and divided by ``sqrt(1 + h)`` with ``h`` each validation row's leverage under its fold model."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from datafusion_engine import Workspace
from datafusion_engine.spectra_store import load_stored_dataset
from nirdag.bundle.errors import BundleError
from nirdag.bundle.fitted import FittedChain, FittedStage, fitted_objects_of
from nirs_core.conformal import ConformalCalibration, conformity_scores
from nirs_core.diagnostics import latent_of
from semantics import explain_queries


def _index(ids: np.ndarray, wanted: list[str], what: str) -> np.ndarray:
    where = {sid: i for i, sid in enumerate(ids.tolist())}
    missing = [s for s in wanted if s not in where]
    if missing:
        raise BundleError(f"{what}: sample ids {missing[:5]} are not in the run's stored dataset")
    return np.asarray([where[s] for s in wanted], dtype=np.int64)


def fold_leverage(stage: FittedStage, n_components: int | None, X_train: np.ndarray, X_val: np.ndarray
                  ) -> np.ndarray | None:
    """Leverage ``h = 1/n + Σ_a t_a² / (t_a' t_a)`` of validation rows under a fold model, from the scores of the
    fold's own training rows (both through the fold's fitted transformers); None without a latent model."""
    latent = latent_of(stage.model, n_components)
    if latent is None:
        return None
    T_train = latent.scores(stage.transform(X_train))
    T_val = latent.scores(stage.transform(X_val))
    ss = np.einsum("ij,ij->j", T_train, T_train)
    return 1.0 / X_train.shape[0] + np.einsum("ij,ij->i", T_val, T_val / ss[None, :])


def _leverages(workspace: Workspace, dataset_hash: str, run_id: str, chain: FittedChain, oof: pa.Table
               ) -> dict[tuple[str, str], float] | None:
    """(fold_id, sample_id) -> leverage of each out-of-fold row under its fold model; None when the chain has no
    latent model with a stored domain (a stack, a kernel or local model) or no fold models."""
    if chain.bases or chain.domain is None or not chain.folds:
        return None
    session = workspace.session()
    dataset = load_stored_dataset(workspace, dataset_hash)
    calibration = explain_queries.calibration_ids(session, run_id, chain.chain_id)
    out: dict[tuple[str, str], float] = {}
    # BLAS on one thread, as the engine and predict run it (faster here, and the same arithmetic)
    with fitted_objects_of(f"chain {chain.chain_id}"), threadpool_limits(limits=1):
        for stage in chain.folds:
            rows = oof.filter(pc.equal(oof.column("fold_id"), stage.fold_id))
            val = sorted(set(rows.column("sample_id").to_pylist()))  # every target's rows of the fold
            held = set(val)
            train = [s for s in calibration if s not in held]
            if not val or not train:
                raise BundleError(f"chain {chain.chain_id}: fold {stage.fold_id} has {len(val)} validation and "
                                  f"{len(train)} training rows stored; cannot compute its leverage")
            what = f"run {run_id!r} chain {chain.chain_id[:8]}"
            X = dataset.spectra
            h = fold_leverage(stage, chain.n_components, X[_index(dataset.sample_ids, train, what)],
                              X[_index(dataset.sample_ids, val, what)])
            if h is None:
                return None
            out.update({(stage.fold_id, s): float(v) for s, v in zip(val, h, strict=True)})
    return out


def chain_calibration(workspace: Workspace, dataset_hash: str, run_id: str, chain: FittedChain
                      ) -> ConformalCalibration | None:
    """The chain's conformity scores per target from its stored out-of-fold predictions; None for a classifier or
    a chain without out-of-fold predictions."""
    if chain.classes:
        return None
    oof = explain_queries.out_of_fold(workspace.session(), run_id, chain.chain_id)
    if oof.num_rows == 0:
        return None
    leverage = _leverages(workspace, dataset_hash, run_id, chain, oof)
    absolute, scaled = [], []
    for target in chain.targets:
        rows = oof.filter(pc.equal(oof.column("target"), target))
        if rows.num_rows == 0:
            raise BundleError(f"chain {chain.chain_id}: no out-of-fold predictions of target {target!r} stored")
        y_true = rows.column("y_true").to_numpy()
        y_pred = rows.column("y_pred").to_numpy()
        keep = np.isfinite(y_true) & np.isfinite(y_pred)  # a row whose reference value is missing scores nothing
        absolute.append(tuple(conformity_scores(y_true[keep], y_pred[keep]).tolist()))
        if leverage is not None:
            keys = zip(rows.column("fold_id").to_pylist(), rows.column("sample_id").to_pylist(), strict=True)
            h = np.asarray([leverage.get(k, np.nan) for k in keys], dtype=np.float64)
            both = keep & np.isfinite(h)
            scaled.append(tuple(conformity_scores(y_true[both], y_pred[both], h[both]).tolist()))
    return ConformalCalibration(targets=chain.targets, absolute=tuple(absolute), leverage=tuple(scaled))
