"""Compile ``merge: predictions``: the meta-model over the base chains' out-of-fold predictions."""

from __future__ import annotations

import numpy as np

from relspec.errors import CompileError, SpecError
from relspec.hashing import sha256_of
from relspec.layout import Layout, Path
from relspec.operator_map import instantiate, model_ref
from relspec.plan import ChainSpec, FoldSpec, StackGroup, largest_count

STACK_BRANCH = "stack"  # branch_name of stacked chains


def _meta_ref(layout: Layout, k: int | None, seed: int):
    try:
        return model_ref(layout.model, k, seed)
    except SpecError as exc:
        raise SpecError(f"{exc} - at `$.pipeline[{layout.model_index}].model`") from None


def _probe_meta(layout: Layout, n_bases: int, folds: tuple[FoldSpec, ...], seed: int, n_targets: int) -> None:
    """The meta-model sees one column per base chain and target: check its components and fit it on a seeded
    probe (a 2-D ``y`` when there are several targets)."""
    values = layout.model.component_values()
    smallest = min(len(f.train_rows) for f in folds)
    width = n_bases * n_targets
    limit = min(smallest - 1, width)
    too_big = [k for k in values if k is not None and k > limit]
    if too_big:
        raise CompileError(f"n_components {too_big} of the meta-model exceed its {width} inputs (one per base "
                           f"chain and target), so at most {limit} - at "
                           f"`$.pipeline[{layout.model_index}].model.n_components`")
    rng = np.random.default_rng(0)
    n = min(smallest, 256)
    X = rng.normal(size=(n, width))
    y = rng.normal(size=(n, n_targets)) if n_targets > 1 else rng.normal(size=n)
    largest = largest_count(values)
    try:
        instantiate(_meta_ref(layout, largest, seed)).fit(X, y)
    except (ValueError, TypeError) as exc:
        raise CompileError(f"meta-model cannot be fitted on {width} base predictions ({n_targets} target(s)): "
                           f"{exc} - at `$.pipeline[{layout.model_index}].model`") from None


def stack_layout(
    layout: Layout, paths: list[Path], chains: list[ChainSpec], folds: tuple[FoldSpec, ...], pipeline_hash: str,
    seed: int, n_targets: int = 1,
) -> tuple[tuple[StackGroup, ...], list[ChainSpec]]:
    """The stack group and its chains (one per meta component count); nothing without ``merge``.

    Base chains are the chains of the merged paths in spec order (one per path: a base model has one count).
    """
    if not layout.stacked:
        return (), []
    by_path = {c.branch_path: c for c in chains}
    bases = tuple(by_path[p.branch_path].chain_id for p in paths)
    if len(set(bases)) < 2:
        raise SpecError(f"`merge: predictions` needs at least two base chains, got {len(set(bases))} - at "
                        f"`$.pipeline[{layout.merge_index}]`")
    _probe_meta(layout, len(bases), folds, seed, n_targets)
    values = layout.model.component_values()
    largest = largest_count(values)
    meta = _meta_ref(layout, largest, seed)
    group = StackGroup(group_id=sha256_of("stack", pipeline_hash, list(bases), meta.step_hash), base_chains=bases,
                       model=meta, component_values=values)
    names = ", ".join(p.name for p in paths)
    out = []
    for k in values:
        ref = _meta_ref(layout, k, seed)
        out.append(ChainSpec(
            chain_id=sha256_of("chain", pipeline_hash, "stack", list(bases), ref.step_hash),
            group_id=group.group_id, branch_path=(), branch_name=STACK_BRANCH, preprocessing=f"stack({names})",
            step_hashes=(ref.step_hash,), model=ref.op, n_components=k, params=dict(ref.params),
        ))
    return (group,), out
