"""A run's fitted objects as content-addressed blobs indexed in the `artifacts` table, and back as a FittedChain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa

from datafusion_engine import Workspace, WorkspaceSession
from datafusion_engine.blobs import BlobStore
from datafusion_engine.errors import CorruptBlobError
from datafusion_engine.schemas import TABLE_SCHEMAS
from nirdag.bundle import serialize
from nirdag.bundle.errors import BundleError
from nirdag.bundle.fitted import FittedChain, FittedStage
from nirs_core.operators.filters import RowFilter
from nirs_modelling.compute import hoisted_refs
from nirs_modelling.results import FinalFit
from relspec.hashing import sha256_of
from relspec.operator_map import operator_class
from relspec.plan import FOLD_FINAL, ChainSpec, CompiledPlan, StepRef
from semantics import queries


def step_keys(step_hashes: Sequence[str]) -> list[str]:
    """Identity of each step in its chain: sha256 of the chain's step hashes up to and including it."""
    return [sha256_of("step", list(step_hashes[: i + 1])) for i in range(len(step_hashes))]


def artifact_id(chain_id: str, step_key: str, fold_id: str) -> str:
    return sha256_of("artifact", chain_id, step_key, fold_id)


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


@dataclass
class _Blobs:
    """Serialises each distinct fitted object of a run once and stores it (deduplicated by content)."""

    store: BlobStore
    written: list[str]
    _done: dict[int, tuple[str, int]]

    def put(self, obj: Any) -> tuple[str, int]:
        if id(obj) not in self._done:
            data = serialize.dumps(obj)
            digest, new = self.store.put(data)
            if new:
                self.written.append(digest)
            self._done[id(obj)] = (digest, len(data))
        return self._done[id(obj)]


def _chain_rows(plan: CompiledPlan, chain: ChainSpec, fit: FinalFit, blobs: _Blobs) -> list[dict[str, Any]]:
    group = next(g for g in plan.groups if g.group_id == chain.group_id)
    refs: list[StepRef] = [*hoisted_refs(plan, group), *group.fitted_steps]
    kinds = ["transformer"] * len(refs)
    if group.y_transform is not None:  # chain.step_hashes: transforms, then the y transform, then the model
        refs.append(group.y_transform)
        kinds.append("y_transform")
    # a sample filter fitted nothing a prediction uses (its decision is the run's sample_exclusions): no artifact
    kept = [i for i, ref in enumerate(refs) if not issubclass(operator_class(ref.class_path), RowFilter)]
    positions = [*kept, len(chain.step_hashes) - 1]  # each fitted object's place in the chain (the model last)
    keys = step_keys(chain.step_hashes)
    rows = []
    for stage in fit.fits:
        objects = [*fit.hoisted, *stage.steps, *([stage.y_transform] if group.y_transform else []), stage.model]
        before: list[str] = []
        for at, obj in zip(positions, objects, strict=True):
            is_model = at == len(chain.step_hashes) - 1
            op, params = (chain.model, chain.params) if is_model else (refs[at].op, refs[at].params)
            digest, size = blobs.put(obj)
            aid = artifact_id(chain.chain_id, keys[at], stage.fold_id)
            rows.append({
                "artifact_id": aid, "artifact_type": "model" if is_model else kinds[at],
                "chain_id": chain.chain_id, "fold_id": stage.fold_id, "step_key": keys[at],
                "step_hash": chain.step_hashes[at], "op": op, "class_path": _class_path(obj),
                "params_json": msgspec.json.encode(params, order="sorted").decode(),
                "n_components": chain.n_components if is_model else None, "depends_on": list(before),
                "blob_sha256": digest, "size_bytes": size, "dataset_hash": plan.dataset_hash, "ref_count": 0,
            })
            before.append(aid)
    return rows


def _stack_rows(plan: CompiledPlan, chain: ChainSpec, fit: FinalFit, blobs: _Blobs) -> list[dict[str, Any]]:
    """A stacked chain's meta-model: it depends on its base chains' fold_final models, in its column order."""
    stack = next(s for s in plan.stacks if s.group_id == chain.group_id)
    chains = {c.chain_id: c for c in plan.chains}
    sources = [artifact_id(b, step_keys(chains[b].step_hashes)[-1], FOLD_FINAL) for b in stack.base_chains]
    key = step_keys(chain.step_hashes)[-1]
    rows = []
    for stage in fit.fits:
        digest, size = blobs.put(stage.model)
        rows.append({
            "artifact_id": artifact_id(chain.chain_id, key, stage.fold_id), "artifact_type": "meta_model",
            "chain_id": chain.chain_id, "fold_id": stage.fold_id, "step_key": key,
            "step_hash": chain.step_hashes[-1], "op": chain.model, "class_path": _class_path(stage.model),
            "params_json": msgspec.json.encode(chain.params, order="sorted").decode(),
            "n_components": chain.n_components, "depends_on": sources,
            "blob_sha256": digest, "size_bytes": size, "dataset_hash": plan.dataset_hash, "ref_count": 0,
        })
    return rows


def persist_fits(workspace: Workspace, plan: CompiledPlan, fits: Sequence[FinalFit]) -> tuple[pa.Table, list[str]]:
    """Store the fitted objects of the refit chains as blobs; return their artifact rows (without run_id) and the
    blobs newly written (removed again if the run fails and nothing else references them)."""
    blobs = _Blobs(workspace.blobs, [], {})
    chains = {c.chain_id: c for c in plan.chains}
    stacks = {s.group_id for s in plan.stacks}
    rows = []
    for fit in fits:
        chain = chains[fit.chain_id]
        rows += (_stack_rows if chain.group_id in stacks else _chain_rows)(plan, chain, fit, blobs)
    schema = TABLE_SCHEMAS["artifacts"]
    return pa.Table.from_pylist(rows, schema=schema.remove(schema.get_field_index("run_id"))), blobs.written


def fold_order(fold_id: str) -> tuple[int, int]:
    """Sort key: ``fold_final`` first, then ``fold_0``, ``fold_1``... by number."""
    return (0, 0) if fold_id == FOLD_FINAL else (1, int(fold_id.removeprefix("fold_")))


Row = dict[str, Any]


@dataclass(frozen=True)
class FoldRows:
    """One fold's fitted objects of a chain, from its artifact rows: the model, its transformers in order and the
    y transform that inverts its predictions (None without y processing)."""

    fold_id: str
    model: Row
    steps: tuple[Row, ...]
    y_transform: Row | None


def fold_rows(rows: list[Row]) -> list[FoldRows]:
    """Per fold of a chain (``fold_final`` first, then ``fold_0``, ``fold_1``...), the model's ``depends_on`` read
    into its transformers and y transform; a dependency missing from ``rows`` is a BundleError."""
    by_id = {r["artifact_id"]: r for r in rows}
    models = sorted((r for r in rows if r["artifact_type"] == "model"), key=lambda r: fold_order(r["fold_id"]))
    folds = []
    for model in models:
        missing = [d for d in model["depends_on"] if d not in by_id]
        if missing:
            raise BundleError(f"model artifact {model['artifact_id']} of {model['fold_id']} depends on missing "
                              f"artifacts {missing}")
        deps = [by_id[d] for d in model["depends_on"]]
        y_rows = [d for d in deps if d["artifact_type"] == "y_transform"]
        folds.append(FoldRows(model["fold_id"], model, tuple(d for d in deps if d["artifact_type"] == "transformer"),
                              y_rows[0] if y_rows else None))
    return folds


def stages_from_rows(rows: list[Row], load: Callable[[Row], Any]) -> tuple[FittedStage, ...]:
    """Fitted stages from artifact rows (see :func:`fold_rows`); ``load(row)`` returns the fitted object of a row
    (verified and allow-listed by the caller). A y transform inverts the model's predictions to the target's scale.
    """
    return tuple(FittedStage(f.fold_id, tuple(load(s) for s in f.steps), load(f.model),
                             None if f.y_transform is None else load(f.y_transform)) for f in fold_rows(rows))


def chain_rows(session: WorkspaceSession, run_id: str, chain_id: str) -> list[Row]:
    """The artifact rows of one chain of a run; a chain that was not refit has none (a clear error)."""
    if "artifacts" not in session.tables:
        raise BundleError(f"workspace {session.root} has no artifacts table: no run kept fitted objects")
    rows = queries.artifact_rows(session, run_id, chain_id)
    if not rows:
        raise BundleError(f"run {run_id!r} kept no fitted objects for chain {chain_id!r}; only refit chains "
                          f"(refit.top_k) keep them: {queries.chains_with_artifacts(session, run_id)}")
    return rows


def blob_of(blobs: BlobStore, row: Row) -> bytes:
    """The bytes of an artifact row's blob, verified by hash; a missing or changed blob is a BundleError naming the
    artifact."""
    try:
        return blobs.get(row["blob_sha256"])
    except CorruptBlobError as exc:
        raise BundleError(f"artifact {row['artifact_id']} ({row['op']}, {row['fold_id']}): {exc}") from None


def load_blob(blobs: BlobStore, row: Row) -> Any:
    """The fitted object of an artifact row: blob verified by hash, loaded through the allow-list."""
    where = f"blob {row['blob_sha256']} (artifact {row['artifact_id']}, {row['op']})"
    return serialize.loads(blob_of(blobs, row), where)


def meta_row(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ``meta_model`` artifact of a stacked chain's rows (its only ``fold_final`` row); None for another chain."""
    metas = [r for r in rows if r["artifact_type"] == "meta_model"]
    if not metas:
        return None
    if len(metas) != 1 or metas[0]["fold_id"] != FOLD_FINAL:
        raise BundleError(f"stacked chain {metas[0]['chain_id']}: expected one {FOLD_FINAL} meta_model artifact, "
                          f"found {[(m['artifact_id'], m['fold_id']) for m in metas]}")
    return metas[0]


def stack_base_rows(session: WorkspaceSession, run_id: str, meta: Row) -> list[tuple[str, list[Row]]]:
    """(chain_id, fold_final artifact rows) of each base chain of a stack, in the meta-model's column order (its
    ``depends_on``: the base chains' fold_final models)."""
    rows = queries.fold_artifact_rows(session, run_id, FOLD_FINAL)
    by_id = {r["artifact_id"]: r for r in rows}
    out = []
    for aid in meta["depends_on"]:
        model = by_id.get(aid)
        if model is None or model["artifact_type"] != "model":
            raise BundleError(f"meta_model artifact {meta['artifact_id']} depends on {aid}, which is not a "
                              f"{FOLD_FINAL} model artifact of run {run_id!r}")
        out.append((model["chain_id"], [r for r in rows if r["chain_id"] == model["chain_id"]]))
    return out


def load_workspace_chain(workspace: Workspace, run_id: str, chain_id: str, targets: tuple[str, ...],
                         wavelengths: Any, wavelength_unit: str, classes: tuple[str, ...] = ()) -> FittedChain:
    """Chain replay: the chain's fitted objects loaded from the workspace blobs; a stacked chain with its base
    chains' fold_final fitted objects."""
    session = workspace.session()
    rows = chain_rows(session, run_id, chain_id)
    facts = {"targets": targets, "wavelengths": wavelengths, "wavelength_unit": wavelength_unit, "classes": classes}

    def load(row: Row) -> Any:
        return load_blob(workspace.blobs, row)

    meta = meta_row(rows)
    if meta is not None:
        bases = []
        for base_id, base_rows in stack_base_rows(session, run_id, meta):
            model = next(r for r in base_rows if r["artifact_type"] == "model")
            bases.append(FittedChain(chain_id=base_id, n_components=model["n_components"],
                                     stages=stages_from_rows(base_rows, load), **facts))
        stage = FittedStage(FOLD_FINAL, (), load(meta), None)
        return FittedChain(chain_id=chain_id, n_components=meta["n_components"], stages=(stage,), bases=tuple(bases),
                           **facts)
    model = next(r for r in rows if r["artifact_type"] == "model")
    return FittedChain(chain_id=chain_id, n_components=model["n_components"], stages=stages_from_rows(rows, load),
                       **facts)
