"""The steps of a spec sorted by role, and every path through its branches (nested ones included).

A path is one choice at every branch step: its transforms and the model that ends it. Without ``merge`` every path
ends with the spec's final model. With ``merge: predictions`` each alternative of the merged branch ends with its
own (base) model, and the final model is the meta-model trained on the base models' out-of-fold predictions. With
``merge: features`` the merged branch becomes one step (:class:`FeatureMerge`) whose members' outputs are
concatenated column-wise.
"""

from __future__ import annotations

from dataclasses import dataclass

from nirs_core.augment import Augmenter
from relspec.errors import SpecError
from relspec.model_specs import ModelSpec
from relspec.spec import (
    AugmentStep,
    BranchItem,
    BranchStep,
    MergeStep,
    ModelStep,
    PipelineSpec,
    SplitStep,
    TransformStep,
    YProcessingStep,
    YTransformSpec,
)
from relspec.split_specs import SplitSpec


@dataclass(frozen=True)
class FeatureMerge:
    """A branch merged by ``merge: features``: every way through it (its members), outputs side by side."""

    members: tuple[tuple[str, tuple[TransformStep, ...], tuple[str, ...]], ...]  # (name, steps, spec paths)
    where: str

    @property
    def name(self) -> str:
        return "concat(" + ", ".join(name for name, _, _ in self.members) + ")"


@dataclass(frozen=True)
class Path:
    """One path: its structural branch path, display name, transforms (with their spec paths) and model."""

    branch_path: tuple[int, ...]
    name: str
    steps: tuple[TransformStep | FeatureMerge, ...]
    where: tuple[str, ...]  # the spec path of each step, for messages and findings
    model: ModelSpec
    model_where: str


_Alternative = tuple[tuple[int, ...], tuple[str, ...], tuple[BranchItem, ...], tuple[str, ...]]


def count_alternatives(steps: tuple[BranchItem, ...]) -> int:
    """How many ways :func:`_alternatives` finds through ``steps``, counted without building them (the product over
    the branch steps of the sum of their alternatives' counts)."""
    total = 1
    for step in steps:
        if isinstance(step, BranchStep):
            total *= sum(count_alternatives(tuple(sub)) for _, sub in step.named())
    return total


def _alternatives(steps: tuple[BranchItem, ...], where: tuple[str, ...]) -> list[_Alternative]:
    """Every way through a sequence of steps and (nested) branch steps: (branch_path, names, steps, where)."""
    out: list[_Alternative] = [((), (), (), ())]
    for step, at in zip(steps, where, strict=True):
        if not isinstance(step, BranchStep):
            out = [(bp, names, (*st, step), (*wh, at)) for bp, names, st, wh in out]
            continue
        options = []
        for i, (name, sub) in enumerate(step.named()):
            inner = tuple(f"{at}.branch.{name}[{j}]" for j in range(len(sub)))
            options += [((i, *bp), (name, *names), st, wh) for bp, names, st, wh in _alternatives(sub, inner)]
        out = [(bp + obp, names + (("/".join(onames),) if onames else ()), st + ost, wh + owh)
               for bp, names, st, wh in out for obp, onames, ost, owh in options]
    return out


@dataclass(frozen=True)
class Layout:
    """One split, transforms and branches in order, an optional y_processing, an optional merge, a final model."""

    steps: tuple[TransformStep | BranchStep | FeatureMerge, ...]
    where: tuple[str, ...]
    split: SplitSpec
    split_index: int
    y_transform: YTransformSpec | None
    y_index: int | None
    model: ModelSpec  # the final model: the meta-model when `merge` is used
    model_index: int
    merge_index: int | None = None  # the `merge: predictions` step (stacking)
    augmenters: tuple[tuple[Augmenter, str], ...] = ()  # the augment steps (with their spec paths), in order

    @property
    def stacked(self) -> bool:
        return self.merge_index is not None

    def n_paths(self) -> int:
        """How many paths :meth:`paths` gives, counted without building them."""
        return count_alternatives(tuple(self.steps))

    def paths(self) -> list[Path]:
        """Every combination of the branch alternatives (their cartesian product), in spec order."""
        out = []
        for bp, names, steps, where in _alternatives(self.steps, self.where):
            merged = [s.name for s in steps if isinstance(s, FeatureMerge)]
            name = "+".join([*names, *merged]) or "main"
            models = [i for i, s in enumerate(steps) if isinstance(s, ModelStep)]
            if not self.stacked:
                if models:
                    raise SpecError(f"a model inside a branch must end an alternative that feeds `merge: "
                                    f"predictions` - at `{where[models[0]]}`")
                out.append(Path(bp, name, steps, where, self.model, f"$.pipeline[{self.model_index}].model"))
                continue
            if models != [len(steps) - 1]:
                raise SpecError(f"with `merge: predictions` (at `$.pipeline[{self.merge_index}]`) every alternative "
                                f"of the merged branch ends with exactly one model; path {name!r} does not")
            base = steps[-1]
            assert isinstance(base, ModelStep)
            if len(base.model.component_values()) != 1:
                raise SpecError(f"a base model of `merge: predictions` gives one prediction per sample: one "
                                f"n_components, not {list(base.model.component_values())} - at `{where[-1]}.model`")
            out.append(Path(bp, name, steps[:-1], where[:-1], base.model, f"{where[-1]}.model"))
        return out


def _merge(steps: list[TransformStep | BranchStep | FeatureMerge], where: list[str], index: int) -> None:
    if not steps or not isinstance(steps[-1], BranchStep) or where[-1] != f"$.pipeline[{index - 1}]":
        raise SpecError(f"`merge` without branches - at `$.pipeline[{index}]`: it must directly follow a `branch` "
                        "step")


def _feature_merge(branch: BranchStep, at: str, index: int) -> FeatureMerge:
    """The merged branch's members: every way through it (nested branches give more members)."""
    members = []
    for name, sub in branch.named():
        inner = tuple(f"{at}.branch.{name}[{j}]" for j in range(len(sub)))
        for _, names, steps, where in _alternatives(sub, inner):
            models = [w for s, w in zip(steps, where, strict=True) if isinstance(s, ModelStep)]
            if models:
                raise SpecError(f"`merge: features` (at `$.pipeline[{index}]`) concatenates transforms; a model "
                                f"inside its branch is for `merge: predictions` - at `{models[0]}`")
            members.append(("/".join((name, *names)), steps, where))
    return FeatureMerge(members=tuple(members), where=at)


def lay_out(spec: PipelineSpec) -> Layout:
    """Sort the spec's steps by role; SpecError naming the path when they do not form a pipeline."""
    steps: list[TransformStep | BranchStep] = []
    where: list[str] = []
    split: tuple[SplitSpec, int] | None = None
    y_transform: tuple[YTransformSpec, int] | None = None
    merge: int | None = None
    augment: list[tuple[Augmenter, str]] = []
    for i, step in enumerate(spec.pipeline):
        at = f"$.pipeline[{i}]"
        if isinstance(step, ModelStep):
            if i != len(spec.pipeline) - 1:
                raise SpecError(f"the model must be the last step, found more steps after it - at `{at}`")
            if split is None:
                raise SpecError(f"no `split` step before the model - at `{at}`")
            y_spec, y_index = y_transform or (None, None)
            return Layout(tuple(steps), tuple(where), split[0], split[1], y_spec, y_index, step.model, i, merge,
                          tuple(augment))
        if isinstance(step, AugmentStep):
            if merge is not None:
                raise SpecError(f"`augment` with `merge: predictions` (at `$.pipeline[{merge}]`) is not supported: the "
                                f"meta-model learns from out-of-fold predictions of real rows - at `{at}`")
            augment.append((step.augment, f"{at}.augment"))
            continue
        if augment and not isinstance(step, YProcessingStep | SplitStep):
            raise SpecError(f"an `augment` step (at `{augment[0][1]}`) makes synthetic spectra from the preprocessed "
                            f"training rows: it comes after every transform and branch, right before the model - "
                            f"at `{at}`")
        if merge is not None:
            raise SpecError(f"after `merge` (at `$.pipeline[{merge}]`) only the meta-model may follow - at `{at}`")
        if isinstance(step, SplitStep):
            if split is not None:
                raise SpecError(f"a second `split` step - at `{at}`; a pipeline has exactly one")
            split = (step.split, i)
        elif isinstance(step, YProcessingStep):
            if y_transform is not None:
                raise SpecError(f"a second `y_processing` step - at `{at}`; a pipeline has at most one")
            y_transform = (step.y_processing, i)
        elif isinstance(step, MergeStep):
            _merge(steps, where, i)
            if step.merge == "predictions":
                merge = i
            else:
                branch = steps.pop()
                assert isinstance(branch, BranchStep)
                steps.append(_feature_merge(branch, where[-1], i))
        else:
            steps.append(step)
            where.append(at)
    raise SpecError("the pipeline has no `model` step (it must be the last step) - at `$.pipeline`")
