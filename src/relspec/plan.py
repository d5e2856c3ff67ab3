"""The compiled plan: frozen, fingerprinted, and consumed unchanged by the engine."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from nirs_core.augment import Augmenter
from relspec.hashing import sha256_of
from relspec.policy import ExecutionPolicy
from relspec.refit_spec import RefitSpec
from relspec.validation import PolicyValidation

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

FOLD_FINAL = "fold_final"
STEP_SEPARATOR = " > "  # between the step labels of a chain's `preprocessing` (never inside a label)
Task = Literal["regression", "classification"]
POOLED_CV = "cv"  # scores.fold_id of the pooled out-of-fold score over all CV folds (not a fold itself)
ALL_TARGETS = "*"  # scores.target of the pooled mean_nrmse over all targets of a multi-target plan


def largest_count(values: tuple[int | None, ...]) -> int | None:
    """The largest component count of a sweep (the one fit that serves them all); None for ``(None,)``."""
    return None if values == (None,) else max(v for v in values if v is not None)


def fold_key(i: int) -> str:
    """The one spelling of a CV fold key: ``fold_0`` .. ``fold_{k-1}``."""
    return f"fold_{i}"


class StepRef(msgspec.Struct, omit_defaults=True, **_FROZEN):
    """One configured operator: identity = sha256(class path, canonical params). ``where`` (a sample filter's spec
    path, for its errors at run time) is omitted at its default, so the other steps encode as they always did."""

    op: str
    class_path: str
    params: dict[str, Any]
    step_hash: str
    row_wise_stateless: bool
    label: str
    axis: tuple[float, ...] | None = None  # input wavelength axis of a wavelength-aware step (not in step_hash)
    where: str | None = None  # the spec path of a sample filter (not in step_hash); None for any other step


class HoistedNode(msgspec.Struct, **_FROZEN):
    """A row-wise stateless step computed once on all rows; ``node_id`` identifies the whole prefix."""

    node_id: str
    step: StepRef
    parent: str | None  # node_id of the previous hoisted step; None = the raw spectra


class AugmentRef(msgspec.Struct, **_FROZEN):
    """One augment step: the augmenter, its identity (sha256 of its canonical form) and its seed (the step's own,
    else the run's); each fold draws from ``SeedSequence([seed, sha256(fold key, step_hash)])``. ``by_class``: the
    targets are class codes (mixup mixes within a class)."""

    augmenter: Augmenter
    step_hash: str
    seed: int
    by_class: bool = False
    label: str = ""


class SweepGroup(msgspec.Struct, **_FROZEN):
    """Chains that share their preprocessing and differ only in PLS components: one fit per fold serves all."""

    group_id: str
    input_node: str | None  # last hoisted node of the path; None = the raw spectra
    fitted_steps: tuple[StepRef, ...]  # fitted per fold on the fold's training rows, in order
    model: StepRef  # the PLS step with the largest component count of the group
    component_values: tuple[int | None, ...]  # (None,) for a model without components
    y_transform: StepRef | None = None  # fitted on the fold's training targets, inverted on the predictions
    # synthetic rows added to each fold's training block after the fitted steps (never to validation or test rows)
    augmenters: tuple[AugmentRef, ...] = ()


class StackGroup(msgspec.Struct, **_FROZEN):
    """A meta-model trained on the out-of-fold predictions of ``base_chains`` (in this order, one column each).

    Its chains (one per meta component count) are scored and ranked like any other; refitting one refits its base
    chains too.
    """

    group_id: str
    base_chains: tuple[str, ...]
    model: StepRef  # the meta-model with the largest component count
    component_values: tuple[int | None, ...]


class ChainSpec(msgspec.Struct, **_FROZEN):
    """One path through the plan: preprocessing + PLS with one component count."""

    chain_id: str
    group_id: str
    branch_path: tuple[int, ...]
    branch_name: str
    preprocessing: str
    step_hashes: tuple[str, ...]
    model: str
    n_components: int | None
    params: dict[str, Any]


class FoldSpec(msgspec.Struct, **_FROZEN):
    """Dataset row indices fitted on (``train_rows``) and predicted out-of-fold (``val_rows``)."""

    fold_id: str
    train_rows: tuple[int, ...]
    val_rows: tuple[int, ...]


class Replicates(msgspec.Struct, **_FROZEN):
    """The dataset's replicate declaration: its column and the physical sample of every dataset row."""

    column: str
    groups: tuple[str, ...]


class CompiledPlan(msgspec.Struct, **_FROZEN):
    """Everything the engine needs, with identities: dataset_hash (data) and pipeline_hash (spec)."""

    name: str
    targets: tuple[str, ...]  # one, or several numeric targets predicted together (PLS2, multi-output models)
    seed: int
    dataset_hash: str
    pipeline_hash: str
    hoisted: tuple[HoistedNode, ...]
    groups: tuple[SweepGroup, ...]
    chains: tuple[ChainSpec, ...]
    folds: tuple[FoldSpec, ...]
    final_fold: FoldSpec
    test_rows: tuple[int, ...]
    refit: RefitSpec
    policy: ExecutionPolicy
    y_transform: StepRef | None = None
    validation: PolicyValidation | None = None  # the compiler's findings, stored with the run
    stacks: tuple[StackGroup, ...] = ()  # meta-models of `merge: predictions`
    task: Task = "regression"  # classification when the target holds class labels
    # classification: the sorted distinct labels of the train and test rows; the engine's targets are their codes
    classes: tuple[str, ...] = ()
    diagnostics: Literal["refit", "all"] = "refit"  # the chains the diagnostics tables cover (the spec's choice)
    # the dataset's replicate declaration (UNSET without one, left out of the plan hash): scores per sample too
    replicates: Replicates | msgspec.UnsetType = msgspec.UNSET

    @property
    def replicate_groups(self) -> Replicates | None:
        """The replicate declaration, or None when the dataset has none."""
        return None if isinstance(self.replicates, msgspec.UnsetType) else self.replicates

    @property
    def rank_level(self) -> str:
        """What the ranking scores: each ``spectrum`` or each ``sample`` (resolved at compile time)."""
        return "spectrum" if isinstance(self.refit.level, msgspec.UnsetType) else self.refit.level

    @property
    def target_label(self) -> str:
        """The target names for messages and titles (``fat`` or ``fat, moisture, protein``)."""
        return ", ".join(self.targets)

    @property
    def rank_metric(self) -> str:
        """The pooled CV metric chains are ranked and refit by (resolved at compile time, never None here)."""
        return self.refit.metric or "rmse"

    @property
    def plan_hash(self) -> str:
        """Fingerprint of the whole plan (sha256 of its canonical form)."""
        return sha256_of(self)

    def chains_of(self, group_id: str) -> tuple[ChainSpec, ...]:
        return tuple(c for c in self.chains if c.group_id == group_id)

    def chain_rows(self, group_id: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Chain ids of a sweep group and, for each, its row in the group's prediction stack.

        Several paths may share one group (identical steps), so a row (a component count) can serve many chains.
        """
        group = next(g for g in (*self.groups, *self.stacks) if g.group_id == group_id)
        chains = self.chains_of(group_id)
        return (tuple(c.chain_id for c in chains),
                tuple(group.component_values.index(c.n_components) for c in chains))
