"""A tuned spec's trials as plain specs, and a batch of their compiled plans merged into one plan.

A trial is the spec as written with every ``_tune_`` marker replaced by the trial's value: it decodes and compiles
like any spec, so its folds, chain ids and scores are those of the same spec run without tuning. Plans of one
study share their folds (the split is never tuned); :func:`merge_plans` lays several out as one DAG, sharing the
hoisted nodes and sweep groups whose content ids are equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry
from relspec.errors import CompileError, SpecError
from relspec.hashing import sha256_of
from relspec.plan import ChainSpec, CompiledPlan, HoistedNode, SweepGroup
from relspec.policy import ExecutionPolicy
from relspec.spec import PipelineSpec, decode_spec
from relspec.tune_spec import substitute


def trial_spec(raw: dict[str, Any] | None, values: dict[str, Any], *, seed: int,
               operators: OperatorRegistry = DEFAULT_OPERATORS) -> PipelineSpec:
    """The plain spec of one trial: ``raw`` (the tuned spec as written) with the marker at each spec path of
    ``values`` replaced by its value and no ``tune`` block, decoded with ``seed``."""
    if raw is None:
        raise SpecError("a tuned spec is tuned from its source (a YAML/JSON file or a mapping), not from a "
                        "PipelineSpec built in Python")
    return decode_spec(substitute(raw, values), seed=seed, operators=operators)


def merge_plans(plans: Sequence[CompiledPlan], policy: ExecutionPolicy) -> CompiledPlan:
    """One plan running the chains of every plan of ``plans`` (trials of one study) with ``policy``.

    Hoisted nodes and sweep groups are deduplicated by their ids (which are content hashes: equal ids compute the
    same thing); chains keep the ids of their own plan and appear once. The merged pipeline hash is the sha256 of
    the trials' pipeline hashes in order.

    Raises
    ------
    CompileError
        The plans do not share their dataset, targets, folds, test rows and refit (not trials of one study), or one
        stacks models (``merge: predictions`` is not tuned).
    """
    first = plans[0]
    same = ("dataset_hash", "targets", "folds", "final_fold", "test_rows", "refit", "task", "classes")
    for plan in plans[1:]:
        for name in same:
            if getattr(plan, name) != getattr(first, name):
                raise CompileError(f"the trials of a study must share their {name}: a tuned value changed it")
    if any(plan.stacks for plan in plans):
        raise CompileError("a spec with `merge: predictions` cannot be tuned (yet): tune the base models in a run "
                           "of their own")
    hoisted: dict[str, HoistedNode] = {}
    groups: dict[str, SweepGroup] = {}
    chains: dict[str, ChainSpec] = {}
    for plan in plans:
        hoisted.update((h.node_id, h) for h in plan.hoisted if h.node_id not in hoisted)
        groups.update((g.group_id, g) for g in plan.groups if g.group_id not in groups)
        chains.update((c.chain_id, c) for c in plan.chains if c.chain_id not in chains)
    pipeline_hash = sha256_of("tuned", [plan.pipeline_hash for plan in plans])
    validation = first.validation
    if validation is not None:
        validation = msgspec.structs.replace(validation, pipeline_hash=pipeline_hash, policy=policy)
    return msgspec.structs.replace(
        first, pipeline_hash=pipeline_hash, hoisted=tuple(hoisted.values()), groups=tuple(groups.values()),
        chains=tuple(chains.values()), policy=policy, validation=validation)
