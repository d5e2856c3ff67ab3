"""Export one refit chain of a workspace run as a bundle; read the facts a chain needs from the workspace tables."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from datafusion_engine import Workspace, WorkspaceSession
from nirdag.bundle.archive import object_name, write_bundle
from nirdag.bundle.artifacts import (
    Row,
    blob_of,
    chain_rows,
    fold_rows,
    load_workspace_chain,
    meta_row,
    stack_base_rows,
)
from nirdag.bundle.calibration import chain_calibration
from nirdag.bundle.errors import BundleError
from nirdag.bundle.fitted import FittedChain, no_stored_domain
from nirdag.bundle.manifest import (
    SCHEMA_VERSION,
    BaseChainEntry,
    ChainEntry,
    ExclusionEntry,
    FoldEntry,
    Manifest,
    SelectionEntry,
    StepEntry,
)
from nirdag.bundle.signing import signing_key
from nirs_core.diagnostics import Domain
from nirs_core.storage import ObjectStorage, is_object_uri
from relspec import ALL_TARGETS, decode_spec
from relspec.plan import FOLD_FINAL, POOLED_CV
from relspec.tasks import spec_targets
from semantics import domain_queries, fold_queries, queries

_ID_PREFIX_MIN = 8
_NEEDED_TABLES = {"runs", "chains", "scores", "datasets", "pipelines"}


@dataclass(frozen=True)
class ChainFacts:
    """What the workspace says about a run's chain: identities, target, training axis, metrics."""

    run_id: str
    chain: dict[str, Any]  # the chains table row
    targets: tuple[str, ...]
    dataset_hash: str
    wavelengths: np.ndarray
    wavelength_unit: str
    metrics: dict[str, float]
    classes: tuple[str, ...] = ()  # classification: the label of each class code; () for regression


def _found(row: Row | None, session: WorkspaceSession, what: str) -> Row:
    if row is None:
        raise BundleError(f"workspace {session.root}: {what}")
    return row


def resolve_chain(session: WorkspaceSession, run_id: str, chain: str) -> str:
    """``best`` (the refit chain ranked first by the run's ranking, ``chains.rank``: lowest RMSECV or mean_nrmse,
    or highest accuracy / balanced accuracy for a classifier), a full chain_id, or a unique prefix of >= 8."""
    if chain == "best":
        best = queries.best_refit_chain(session, run_id)
        if best is None and queries.unranked_refit_chains(session, run_id):
            raise BundleError(f"run {run_id!r} was made before nirdag stored its ranking (chains.rank is null), so "
                              "'best' is not known: give the chain id (--chain)")
        if best is None:
            raise BundleError(f"workspace {session.root}: run {run_id!r} has no refit chain")
        return best
    if len(chain) < _ID_PREFIX_MIN:
        raise BundleError(f"chain {chain!r}: give 'best', a full chain_id or a prefix of at least {_ID_PREFIX_MIN}")
    found = queries.chain_ids_with_prefix(session, run_id, chain)
    if len(found) != 1:
        raise BundleError(f"run {run_id!r} has {len(found)} chains matching {chain!r} (expected exactly one)")
    return found[0]


def _metric_name(score: Row, several_targets: bool) -> str:
    """``cv_rmse``, ``final_test_rmse``...; with several targets ``cv_rmse[fat]``... and ``cv_mean_nrmse`` (the
    pooled score over all of them)."""
    where = "cv" if score["fold_id"] == POOLED_CV else f"final_{score['partition']}"
    target = "" if not several_targets or score["target"] == ALL_TARGETS else f"[{score['target']}]"
    return f"{where}_{score['metric']}{target}"


def chain_facts(session: WorkspaceSession, run_id: str, chain: str = "best") -> ChainFacts:
    """Read a completed run's chain row, target, training wavelength axis and metrics."""
    missing = _NEEDED_TABLES - set(session.tables)
    if missing:
        raise BundleError(f"workspace {session.root} lacks tables {sorted(missing)}; run a pipeline into it first")
    run = _found(queries.run_row(session, run_id), session, f"no run {run_id!r}")
    if run["status"] != "completed":
        raise BundleError(f"run {run_id!r} is {run['status']}, not completed: it has no chain to export")
    spec_json = queries.pipeline_spec_json(session, run["pipeline_hash"])
    if spec_json is None:
        raise BundleError(f"workspace {session.root}: no pipeline {run['pipeline_hash']}")
    targets = spec_targets(decode_spec(msgspec.json.decode(spec_json)))
    chain_id = resolve_chain(session, run_id, chain)
    row = _found(queries.chain_row(session, run_id, chain_id), session, f"no chain {chain_id}")
    data = _found(queries.dataset_axis(session, run["dataset_hash"]), session, f"no dataset {run['dataset_hash']}")
    metrics = {_metric_name(s, len(targets) > 1): s["value"] for s in queries.chain_scores(session, run_id, chain_id)
               if math.isfinite(s["value"])}
    return ChainFacts(run_id=run_id, chain=row, targets=targets, dataset_hash=run["dataset_hash"],
                      wavelengths=np.asarray(data["wavelengths"], dtype=np.float64),
                      wavelength_unit=data["wavelength_unit"], metrics=dict(sorted(metrics.items())),
                      classes=_classes(session, run_id, chain_id))


def _classes(session: WorkspaceSession, run_id: str, chain_id: str) -> tuple[str, ...]:
    """The labels of a classification chain's class codes, read from its stored predictions (code -> label pairs
    as the run encoded them); () for a regression chain."""
    pairs = queries.class_labels(session, run_id, chain_id)
    if not pairs:
        return ()
    codes = [p["y_true"] for p in pairs]
    if codes != list(range(len(codes))) or len({p["label_true"] for p in pairs}) != len(pairs):
        raise BundleError(f"chain {chain_id[:8]}: its predictions do not map class codes 0..k-1 to distinct labels")
    return tuple(p["label_true"] for p in pairs)


def chain_domain(session: WorkspaceSession, run_id: str, chain_id: str) -> Domain | None:
    """The applicability domain the run stored for a chain (its ``domains`` row, as it is: never recomputed, so a
    bundle and its workspace agree bit for bit); None when there is none (or no ``domains`` table: older runs)."""
    if domain_queries.DOMAINS_TABLE not in session.tables:
        return None
    row = domain_queries.chain_domain(session, run_id, chain_id)
    if row is None:
        return None
    facts = {name: row[name] for name in Domain.__struct_fields__}
    try:
        return msgspec.convert(facts, Domain)
    except msgspec.ValidationError as exc:
        raise BundleError(f"workspace {session.root}: the domains row of chain {chain_id} of run {run_id!r} is not "
                          f"a valid domain: {exc}") from None


def refit_records(session: WorkspaceSession, run_id: str, chain_id: str) -> dict[str, Any]:
    """The manifest's ``selected_variables`` and ``sample_exclusions``: the chain's ``fold_final`` rows of the
    workspace tables of those names, as they are (none for a chain without selections or filters, or a run made
    before those tables existed)."""
    kept = fold_queries.fold_kept_variables(session, run_id, chain_id, FOLD_FINAL)
    by_step: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in kept:
        by_step.setdefault((r["step"], r["op"]), []).append(r)
    selections = tuple(SelectionEntry(step=step, op=op, variables=tuple(r["variable"] for r in rows),
                                      wavelengths=tuple(r["wavelength"] for r in rows))
                       for (step, op), rows in sorted(by_step.items()))
    excluded = tuple(ExclusionEntry(step=r["step"], op=r["op"], sample_id=r["sample_id"], reason=r["reason"])
                     for r in fold_queries.fold_exclusions(session, run_id, chain_id, FOLD_FINAL))
    return {"selected_variables": selections, "sample_exclusions": excluded}


def workspace_chain(workspace: Workspace, run_id: str, chain: str = "best", *, calibrated: bool = False
                    ) -> FittedChain:
    """Chain replay: a run's refit chain loaded from the workspace's verified blobs, with the domain it stored and,
    when ``calibrated``, the conformity scores of its stored out-of-fold predictions (prediction intervals)."""
    session = workspace.session()
    facts = chain_facts(session, run_id, chain)
    chain_id = facts.chain["chain_id"]
    fitted = load_workspace_chain(workspace, run_id, chain_id, facts.targets, facts.wavelengths,
                                  facts.wavelength_unit, facts.classes)
    domain = None if fitted.bases else chain_domain(session, run_id, chain_id)
    judged = replace(fitted, domain=domain, domain_note=no_stored_domain(run_id))
    if not calibrated:
        return replace(judged, calibration_note="the chain was loaded without its calibration (calibrated=False)")
    return replace(judged, calibration=chain_calibration(workspace, facts.dataset_hash, run_id, judged),
                   calibration_note=f"run {run_id} stored no out-of-fold predictions for this chain")


class _Members:
    """The bundle's members: each fitted object's verified blob bytes under its content name."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.data: dict[str, bytes] = {}

    def add(self, row: Row) -> str:
        data = blob_of(self.workspace.blobs, row)
        name = object_name(data)
        self.data[name] = data
        return name


def _folds(rows: list[Row], members: _Members) -> tuple[list[FoldEntry], list[Row]]:
    """The chain's fold entries (fold_final first) and the artifact rows of its fold_final fit, in chain order."""
    folds = fold_rows(rows)
    entries = [FoldEntry(fold_id=f.fold_id, steps=tuple(members.add(s) for s in f.steps), model=members.add(f.model),
                         y_transform=None if f.y_transform is None else members.add(f.y_transform)) for f in folds]
    final = folds[0].model
    by_id = {r["artifact_id"]: r for r in rows}
    return entries, [*(by_id[d] for d in final["depends_on"]), final]


def _step_entries(rows: list[Row]) -> tuple[StepEntry, ...]:
    return tuple(StepEntry(role=r["artifact_type"], op=r["op"], class_path=r["class_path"],
                           params=msgspec.json.decode(r["params_json"]), step_hash=r["step_hash"]) for r in rows)


def _chain_entry(c: Row, rows: list[Row]) -> ChainEntry:
    return ChainEntry(chain_id=c["chain_id"], pipeline_hash=c["pipeline_hash"], branch_name=c["branch_name"],
                      preprocessing=c["preprocessing"], model=c["model"], n_components=c["n_components"],
                      steps=_step_entries(rows))


def _stack_parts(session: WorkspaceSession, run_id: str, meta: Row, members: _Members
                 ) -> tuple[list[FoldEntry], tuple[BaseChainEntry, ...]]:
    """A stacked chain's meta-model (its one fold, fold_final) and its base chains' fold_final fitted chains."""
    bases = []
    for base_id, rows in stack_base_rows(session, run_id, meta):
        folds, final_rows = _folds(rows, members)
        row = _found(queries.chain_row(session, run_id, base_id), session, f"no chain {base_id}")
        bases.append(BaseChainEntry(chain=_chain_entry(row, final_rows), fold=folds[0]))
    fold = FoldEntry(fold_id=meta["fold_id"], steps=(), model=members.add(meta), y_transform=None)
    return [fold], tuple(bases)


def export_chain(workspace: Workspace, run_id: str, chain: str, path: str | Path, *,
                 key: str | bytes | None = None, nirdag_version: str,
                 storage_options: Mapping[str, str] | None = None) -> Path | str:
    """Write a bundle of a run's refit chain (``best`` or a chain id) to ``path``; signed when a key is set.

    ``path`` may be ``s3://bucket/key``: written with ``storage_options``, by default those of an object-store
    workspace (the same endpoint and credentials).

    A stacked chain's bundle holds its meta-model and its base chains' fold_final fitted chains (column order).
    Everything is read through the workspace's one session."""
    session = workspace.session()
    facts = chain_facts(session, run_id, chain)
    rows = chain_rows(session, run_id, facts.chain["chain_id"])
    members = _Members(workspace)
    meta = meta_row(rows)
    if meta is None:
        folds, final_rows = _folds(rows, members)
        bases: tuple[BaseChainEntry, ...] = ()
    else:
        folds, bases = _stack_parts(session, run_id, meta, members)
        final_rows = [meta]
    calibration = chain_calibration(workspace, facts.dataset_hash, run_id,
                                    workspace_chain(workspace, run_id, facts.chain["chain_id"]))
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, nirdag_version=nirdag_version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), run_id=run_id,
        training_dataset_hash=facts.dataset_hash, target_names=facts.targets,
        wavelengths=tuple(float(w) for w in facts.wavelengths), wavelength_unit=facts.wavelength_unit,
        chain=_chain_entry(facts.chain, final_rows), metrics=facts.metrics, folds=tuple(folds),
        members={name: _sha(data) for name, data in members.data.items()},
        task="classification" if facts.classes else "regression", classes=facts.classes, base_chains=bases,
        domain=None if meta is not None else chain_domain(session, run_id, facts.chain["chain_id"]),
        calibration=calibration,
        **refit_records(session, run_id, facts.chain["chain_id"]),
    )
    if storage_options is None and isinstance(workspace.layout.storage, ObjectStorage):
        storage_options = workspace.layout.storage.options
    return write_bundle(path, manifest, members.data, signing_key(key),
                        storage_options=storage_options if is_object_uri(path) else None)


def _sha(data: bytes) -> str:
    return object_name(data).removeprefix("objects/").removesuffix(".skops")
