"""Export one refit chain of a workspace run as a bundle; read the facts a chain needs from the workspace tables."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from datafusion_engine.blobs import BlobStore
from datafusion_engine.errors import CorruptBlobError
from datafusion_engine.session import WorkspaceSession
from nirdag.bundle.archive import object_name, write_bundle
from nirdag.bundle.artifacts import chain_rows, fold_order, load_workspace_chain, meta_row, stack_base_rows
from nirdag.bundle.errors import BundleError
from nirdag.bundle.fitted import FittedChain
from nirdag.bundle.manifest import SCHEMA_VERSION, BaseChainEntry, ChainEntry, FoldEntry, Manifest, StepEntry
from nirdag.bundle.signing import signing_key
from nirs_core.metrics import HIGHER_IS_BETTER
from relspec import ALL_TARGETS, decode_spec
from relspec.tasks import spec_targets

_ID_PREFIX_MIN = 8


def _q(text: str) -> str:
    return text.replace("'", "''")


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


def _one(session: WorkspaceSession, query: str, what: str) -> dict[str, Any]:
    rows = session.sql(query).to_pylist()
    if len(rows) != 1:
        raise BundleError(f"workspace {session.root}: {what}")
    return rows[0]


def resolve_chain(session: WorkspaceSession, run_id: str, chain: str) -> str:
    """``best`` (the refit chain ranked first by its pooled CV rank metric on its rank target: lowest RMSECV or
    mean_nrmse, or highest accuracy / balanced accuracy for a classifier), a full chain_id, or a unique prefix of
    >= 8."""
    rid = _q(run_id)
    if chain == "best":
        higher = ", ".join(f"'{m}'" for m in sorted(HIGHER_IS_BETTER))
        return _one(session, (
            "SELECT c.chain_id FROM chains c JOIN scores s ON s.run_id = c.run_id AND s.chain_id = c.chain_id "
            f"WHERE c.run_id = '{rid}' AND c.refit AND s.fold_id = 'cv' AND s.target = coalesce(c.rank_target, "
            "s.target) AND s.metric = coalesce(c.rank_metric, 'rmse') "
            f"ORDER BY CASE WHEN s.metric IN ({higher}) THEN -s.value ELSE s.value END, c.n_components, c.chain_id "
            "LIMIT 1"), f"run {run_id!r} has no refit chain")["chain_id"]
    if len(chain) < _ID_PREFIX_MIN:
        raise BundleError(f"chain {chain!r}: give 'best', a full chain_id or a prefix of at least {_ID_PREFIX_MIN}")
    found = session.sql(f"SELECT chain_id FROM chains WHERE run_id = '{rid}' AND starts_with(chain_id, "
                        f"'{_q(chain)}')").column("chain_id").to_pylist()
    if len(found) != 1:
        raise BundleError(f"run {run_id!r} has {len(found)} chains matching {chain!r} (expected exactly one)")
    return found[0]


def chain_facts(workspace: str | Path, run_id: str, chain: str = "best") -> ChainFacts:
    """Read a completed run's chain row, target, training wavelength axis and metrics."""
    session = WorkspaceSession(workspace)
    missing = {"runs", "chains", "scores", "datasets", "pipelines"} - set(session.tables)
    if missing:
        raise BundleError(f"workspace {session.root} lacks tables {sorted(missing)}; run a pipeline into it first")
    run = _one(session, f"SELECT * FROM runs WHERE run_id = '{_q(run_id)}'", f"no run {run_id!r}")
    if run["status"] != "completed":
        raise BundleError(f"run {run_id!r} is {run['status']}, not completed: it has no chain to export")
    spec = decode_spec(msgspec.json.decode(_one(
        session, f"SELECT spec_json FROM pipelines WHERE pipeline_hash = '{_q(run['pipeline_hash'])}'",
        f"no pipeline {run['pipeline_hash']}")["spec_json"]))
    targets = spec_targets(spec)
    chain_id = resolve_chain(session, run_id, chain)
    row = _one(session, f"SELECT * FROM chains WHERE run_id = '{_q(run_id)}' AND chain_id = '{chain_id}'",
               f"no chain {chain_id}")
    data = _one(session, f"SELECT wavelengths, wavelength_unit FROM datasets WHERE dataset_hash = "
                f"'{_q(run['dataset_hash'])}'", f"no dataset {run['dataset_hash']}")
    scores = session.sql(f"SELECT fold_id, partition, target, metric, value FROM scores WHERE run_id = "
                         f"'{_q(run_id)}' AND chain_id = '{chain_id}' AND fold_id IN ('cv', 'fold_final')").to_pylist()
    # one target: cv_rmse, final_test_rmse...; several: cv_rmse[fat]... and cv_mean_nrmse over all of them
    metrics = {f"{'cv' if s['fold_id'] == 'cv' else 'final_' + s['partition']}_{s['metric']}"
               f"{'' if len(targets) == 1 or s['target'] == ALL_TARGETS else '[' + s['target'] + ']'}": s["value"]
               for s in scores if math.isfinite(s["value"])}
    return ChainFacts(run_id=run_id, chain=row, targets=targets, dataset_hash=run["dataset_hash"],
                      wavelengths=np.asarray(data["wavelengths"], dtype=np.float64),
                      wavelength_unit=data["wavelength_unit"], metrics=dict(sorted(metrics.items())),
                      classes=_classes(session, run_id, chain_id))


def _classes(session: WorkspaceSession, run_id: str, chain_id: str) -> tuple[str, ...]:
    """The labels of a classification chain's class codes, read from its stored predictions (code -> label pairs
    as the run encoded them); () for a regression chain."""
    pairs = session.sql(f"SELECT DISTINCT y_true, label_true FROM predictions WHERE run_id = '{_q(run_id)}' AND "
                        f"chain_id = '{chain_id}' AND label_true IS NOT NULL ORDER BY y_true").to_pylist()
    if not pairs:
        return ()
    codes = [p["y_true"] for p in pairs]
    if codes != list(range(len(codes))) or len({p["label_true"] for p in pairs}) != len(pairs):
        raise BundleError(f"chain {chain_id[:8]}: its predictions do not map class codes 0..k-1 to distinct labels")
    return tuple(p["label_true"] for p in pairs)


def workspace_chain(workspace: str | Path, run_id: str, chain: str = "best") -> FittedChain:
    """Chain replay: a run's refit chain loaded from the workspace's verified blobs."""
    facts = chain_facts(workspace, run_id, chain)
    return load_workspace_chain(workspace, run_id, facts.chain["chain_id"], facts.targets, facts.wavelengths,
                                facts.wavelength_unit, facts.classes)


def _folds_and_members(workspace: str | Path, rows: list[dict[str, Any]]
                       ) -> tuple[list[FoldEntry], dict[str, bytes], list[dict[str, Any]]]:
    blobs = BlobStore(workspace)
    by_id = {r["artifact_id"]: r for r in rows}
    members: dict[str, bytes] = {}

    def member(row: dict[str, Any]) -> str:
        try:
            data = blobs.get(row["blob_sha256"])  # verified by hash
        except CorruptBlobError as exc:
            raise BundleError(f"artifact {row['artifact_id']} ({row['op']}, {row['fold_id']}): {exc}") from None
        name = object_name(data)
        members[name] = data
        return name

    models = [r for r in rows if r["artifact_type"] == "model"]
    models.sort(key=lambda r: fold_order(r["fold_id"]))
    def entry(model: dict[str, Any]) -> FoldEntry:
        deps = [by_id[d] for d in model["depends_on"]]
        y_rows = [d for d in deps if d["artifact_type"] == "y_transform"]
        return FoldEntry(fold_id=model["fold_id"],
                         steps=tuple(member(d) for d in deps if d["artifact_type"] == "transformer"),
                         model=member(model), y_transform=member(y_rows[0]) if y_rows else None)

    folds = [entry(m) for m in models]
    final = models[0]
    return folds, members, [*(by_id[d] for d in final["depends_on"]), final]


def _step_entries(rows: list[dict[str, Any]]) -> tuple[StepEntry, ...]:
    return tuple(StepEntry(role=r["artifact_type"], op=r["op"], class_path=r["class_path"],
                           params=msgspec.json.decode(r["params_json"]), step_hash=r["step_hash"]) for r in rows)


def _chain_entry(c: dict[str, Any], rows: list[dict[str, Any]]) -> ChainEntry:
    return ChainEntry(chain_id=c["chain_id"], pipeline_hash=c["pipeline_hash"], branch_name=c["branch_name"],
                      preprocessing=c["preprocessing"], model=c["model"], n_components=c["n_components"],
                      steps=_step_entries(rows))


def _stack_parts(workspace: str | Path, run_id: str, meta: dict[str, Any]
                 ) -> tuple[list[FoldEntry], dict[str, bytes], tuple[BaseChainEntry, ...]]:
    """A stacked chain's meta-model (its one fold, fold_final) and its base chains' fold_final fitted chains."""
    session = WorkspaceSession(workspace)
    members: dict[str, bytes] = {}
    bases = []
    for base_id, rows in stack_base_rows(workspace, run_id, meta):
        folds, base_members, final_rows = _folds_and_members(workspace, rows)
        members.update(base_members)
        row = _one(session, f"SELECT * FROM chains WHERE run_id = '{_q(run_id)}' AND chain_id = '{_q(base_id)}'",
                   f"no chain {base_id}")
        bases.append(BaseChainEntry(chain=_chain_entry(row, final_rows), fold=folds[0]))
    try:
        data = BlobStore(workspace).get(meta["blob_sha256"])  # verified by hash
    except CorruptBlobError as exc:
        raise BundleError(f"artifact {meta['artifact_id']} ({meta['op']}, {meta['fold_id']}): {exc}") from None
    members[object_name(data)] = data
    fold = FoldEntry(fold_id=meta["fold_id"], steps=(), model=object_name(data), y_transform=None)
    return [fold], members, tuple(bases)


def export_chain(workspace: str | Path, run_id: str, chain: str, path: str | Path, *,
                 key: str | bytes | None = None, nirdag_version: str) -> Path:
    """Write a bundle of a run's refit chain (``best`` or a chain id) to ``path``; signed when a key is set.

    A stacked chain's bundle holds its meta-model and its base chains' fold_final fitted chains (column order)."""
    facts = chain_facts(workspace, run_id, chain)
    chain_id = facts.chain["chain_id"]
    rows = chain_rows(workspace, run_id, chain_id)
    meta = meta_row(rows)
    if meta is None:
        folds, members, final_rows = _folds_and_members(workspace, rows)
        bases: tuple[BaseChainEntry, ...] = ()
    else:
        folds, members, bases = _stack_parts(workspace, run_id, meta)
        final_rows = [meta]
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, nirdag_version=nirdag_version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), run_id=run_id,
        training_dataset_hash=facts.dataset_hash, target_names=facts.targets,
        wavelengths=tuple(float(w) for w in facts.wavelengths), wavelength_unit=facts.wavelength_unit,
        chain=_chain_entry(facts.chain, final_rows), metrics=facts.metrics, folds=tuple(folds),
        members={name: _sha(data) for name, data in members.items()},
        task="classification" if facts.classes else "regression", classes=facts.classes, base_chains=bases,
    )
    return write_bundle(path, manifest, members, signing_key(key))


def _sha(data: bytes) -> str:
    return object_name(data).removeprefix("objects/").removesuffix(".skops")
