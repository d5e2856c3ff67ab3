"""``nirdag explain``: a run's refit chain explained per wavelength, written to the ``explanations`` table.

The chain, its fold models and its domain come from the workspace (``bundle.export.workspace_chain``); the spectra
from the run's stored dataset; the folds' validation rows from its stored out-of-fold predictions. The store merges
the rows on their natural key, in one commit: explaining again with the same method and block size replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from datafusion_engine import Workspace
from datafusion_engine.schemas import TABLE_SCHEMAS, ExplainAxis, ExplainMethod
from datafusion_engine.spectra_store import load_stored_dataset
from nirdag.bundle.export import chain_facts, workspace_chain
from nirdag.bundle.fitted import FittedChain, fitted_objects_of
from nirdag.explanations.errors import ExplainError
from nirdag.explanations.methods import (
    FoldRows,
    Importance,
    coefficients,
    default_block_size,
    final_latent,
    permutation,
    vip_scores,
)
from nirdag.explanations.shap_method import shap_values
from nirdag.sql import WorkspaceLike, resolve_run
from nirs_core.data import SpectraDataset
from nirs_modelling.diagnostics import input_axis
from semantics import explain_queries, queries

METHODS: tuple[str, ...] = get_args(ExplainMethod)
_AXIS: dict[str, ExplainAxis] = {"coefficients": "model_input", "vip": "model_input", "permutation": "spectra",
                                 "shap": "spectra"}


@dataclass(frozen=True)
class ExplainOptions:
    """How an explanation is computed: ``block_size`` (permutation; None: at most 128 blocks), ``n_repeats``
    (permutations per block and fold), ``seed`` (None: the run's seed), ``n_background`` and ``n_explained``
    (SHAP: calibration rows as the masker's background and rows explained)."""

    block_size: int | None = None
    n_repeats: int = 5
    seed: int | None = None
    n_background: int = 20
    n_explained: int = 20

    def check(self) -> None:
        bad = [f"{name} must be >= 1, got {value}" for name, value in (
            ("block_size", self.block_size if self.block_size is not None else 1), ("n_repeats", self.n_repeats),
            ("n_background", self.n_background), ("n_explained", self.n_explained)) if value < 1]
        if self.seed is not None and self.seed < 0:
            bad.append(f"seed must be >= 0, got {self.seed}")
        if bad:
            raise ExplainError("explain options: " + "; ".join(bad))


@dataclass(frozen=True)
class Explanation:
    """The rows an explanation wrote (the ``explanations`` table's columns) and what it explained."""

    run_id: str
    chain_id: str
    method: str
    block_size: int
    table: pa.Table
    unit: str  # the dataset's wavelength unit
    title: str  # how figures name the chain: ``snv, pls 9 (chain 1a2b3c4d)``


def _rows(dataset: SpectraDataset, ids: list[str], where: str) -> np.ndarray:
    index = {sid: i for i, sid in enumerate(dataset.sample_ids.tolist())}
    missing = [s for s in ids if s not in index]
    if missing:
        raise ExplainError(f"{where}: sample ids {missing[:5]} are not in the run's stored dataset")
    return np.asarray([index[s] for s in ids], dtype=np.int64)


def _fold_rows(handle: Workspace, run_id: str, chain: FittedChain, dataset: SpectraDataset) -> list[FoldRows]:
    """Each CV fold model with its validation rows (spectra and reference values, from the stored out-of-fold
    predictions)."""
    if not chain.folds:
        raise ExplainError(f"chain {chain.chain_id[:8]} has no CV fold models (a stacked chain keeps only its "
                           "refit meta-model): permutation importance on the folds needs them; use --method shap")
    oof = explain_queries.out_of_fold(handle.session(), run_id, chain.chain_id)
    out = []
    for stage in chain.folds:
        rows = oof.filter(pc.equal(oof.column("fold_id"), stage.fold_id))
        ids = sorted(set(rows.column("sample_id").to_pylist()))
        if not ids:
            raise ExplainError(f"chain {chain.chain_id[:8]}: fold {stage.fold_id} has no stored validation rows")
        Y = np.full((len(ids), len(chain.targets)), np.nan)
        where = {s: i for i, s in enumerate(ids)}
        for j, target in enumerate(chain.targets):
            part = rows.filter(pc.equal(rows.column("target"), target))
            Y[[where[s] for s in part.column("sample_id").to_pylist()], j] = part.column("y_true").to_numpy()
        out.append(FoldRows(stage, dataset.spectra[_rows(dataset, ids, f"fold {stage.fold_id}")], Y))
    return out


def _compute(handle: Workspace, run_id: str, chain: FittedChain, dataset: SpectraDataset, method: str,
             options: ExplainOptions, seed: int) -> Importance:
    ids = explain_queries.calibration_ids(handle.session(), run_id, chain.chain_id)
    X_cal = dataset.spectra[_rows(dataset, ids, f"chain {chain.chain_id[:8]}")]
    rng = np.random.default_rng(seed)
    if method in ("coefficients", "vip"):
        final_latent(chain, method)  # the method applies before anything is transformed
        width = chain.final.transform(X_cal[:1]).shape[1]
        axis = input_axis(chain.final.steps, dataset.wavelengths, width)
        return coefficients(chain, axis) if method == "coefficients" else vip_scores(chain, X_cal, axis)
    if method == "permutation":
        size = options.block_size or default_block_size(dataset.wavelengths.size)
        return permutation(chain, _fold_rows(handle, run_id, chain, dataset), dataset.wavelengths,
                           block_size=size, n_repeats=options.n_repeats, rng=rng)
    return shap_values(chain, X_cal, dataset.wavelengths, n_background=options.n_background,
                       n_explained=options.n_explained, rng=rng, seed=seed)


def _table(run_id: str, chain: FittedChain, method: str, result: Importance) -> pa.Table:
    p, t = result.values.shape
    std = None if result.std is None else result.std.T.reshape(-1)
    return pa.table({
        "run_id": pa.array([run_id] * (p * t), pa.string()),
        "chain_id": pa.array([chain.chain_id] * (p * t), pa.string()),
        "target": pa.array(np.repeat(np.asarray(chain.targets, dtype=object), p), pa.string()),
        "method": pa.array([method] * (p * t), pa.string()),
        "block_size": pa.array(np.full(p * t, result.block_size), pa.int64()),
        "variable": pa.array(np.tile(np.arange(p), t), pa.int64()),
        "axis": pa.array([_AXIS[method]] * (p * t), pa.string()),
        "wavelength": pa.array(np.tile(np.asarray(result.wavelengths, dtype=np.float64), t), pa.float64()),
        "importance": pa.array(result.values.T.reshape(-1), pa.float64()),
        "std": pa.array(std, pa.float64()) if std is not None else pa.nulls(p * t, pa.float64()),
    }, schema=TABLE_SCHEMAS["explanations"])


def explain(workspace: WorkspaceLike, run_id: str, *, chain: str = "best", method: str = "coefficients",
            options: ExplainOptions | None = None) -> Explanation:
    """Explain a run's refit chain per wavelength and write the rows to the ``explanations`` table.

    Parameters
    ----------
    workspace : path or Workspace
        The workspace holding the run.
    run_id : str
        A run id, a unique prefix or ``latest``.
    chain : str
        ``best`` (the refit chain ranked first), a chain id or a unique prefix of 8+ characters.
    method : {"coefficients", "vip", "permutation", "shap"}
        ``coefficients``: the refit model's regression vector on its input axis (after preprocessing); ``vip``:
        Wold's VIP of the refit PLS model; ``permutation``: RMSE increase on each CV fold's validation rows when a
        block of raw wavelengths is permuted (fold models, no refit); ``shap``: mean |SHAP value| of the refit
        predictions per raw wavelength (the optional ``nirdag[explain]`` extra).
    options : ExplainOptions, optional
        Block size, repeats, seed, SHAP sample sizes.

    Returns
    -------
    Explanation
        The rows written (run_id, chain_id, target, method, block_size, variable, axis, wavelength, importance,
        std).

    Examples
    --------
    >>> nirdag.explain("workspace", "latest", method="permutation").table  # doctest: +SKIP
    """
    options = options or ExplainOptions()
    if method not in METHODS:
        raise ExplainError(f"unknown explanation method {method!r}: expected one of {', '.join(METHODS)}")
    options.check()
    handle = Workspace.of(workspace).require()
    run = resolve_run(handle, run_id)
    facts = chain_facts(handle.session(), run, chain)
    if facts.classes:
        raise ExplainError(f"chain {facts.chain['chain_id'][:8]} is a classifier: explanations are computed for "
                           "regression chains")
    fitted = workspace_chain(handle, run, facts.chain["chain_id"])
    seed = options.seed if options.seed is not None else int(queries.run_row(handle.session(), run)["seed"])
    dataset = load_stored_dataset(handle, facts.dataset_hash)
    with fitted_objects_of(f"chain {fitted.chain_id}"), threadpool_limits(limits=1):  # BLAS as the engine runs it
        result = _compute(handle, run, fitted, dataset, method, options, seed)
    table = _table(run, fitted, method, result)
    handle.store.write("explanations", table)
    row = facts.chain
    model = row["model"] + (f" {row['n_components']}" if row["n_components"] is not None else "")
    return Explanation(run_id=run, chain_id=fitted.chain_id, method=method, block_size=result.block_size,
                       table=table, unit=dataset.wavelength_unit,
                       title=f"{row['branch_name']}, {model} (chain {fitted.chain_id[:8]})")
