"""Counterfactual model decisions: which ranking and refit choices a run would have made under another refit rule
(``refit.metric``, ``refit.select``, ``refit.top_k``), answered from its stored out-of-fold predictions without
retraining. This module is pure: the question is decoded here, and the artifact (``ModelCounterfactual``) compares
the decisions as made with the decisions as re-decided."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal, get_args

import msgspec

from relspec.errors import CounterfactualError
from relspec.hashing import canonical_bytes
from relspec.plan import Task
from relspec.refit_spec import SelectRule

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

SCHEMA_VERSION = 1

CounterfactualKnob = Literal["refit.metric", "refit.select", "refit.top_k"]
COUNTERFACTUAL_KNOBS: tuple[CounterfactualKnob, ...] = get_args(CounterfactualKnob)
SELECT_RULES: tuple[SelectRule, ...] = get_args(SelectRule)
# The pooled CV metrics a counterfactual may rank by, per task. r2 is a ranking metric of counterfactuals only (a
# spec ranks by rmse or mean_nrmse); it ranks descending (nirs_core.metrics.HIGHER_IS_BETTER).
COUNTERFACTUAL_METRICS: dict[Task, tuple[str, ...]] = {
    "regression": ("rmse", "r2", "mean_nrmse"), "classification": ("balanced_accuracy", "accuracy")}


class RefitQuestion(msgspec.Struct, **_FROZEN):
    """The refit rule asked about; None keeps the run's own value."""

    metric: str | None = None
    select: SelectRule | None = None
    top_k: int | None = None

    @property
    def text(self) -> str:
        """The question in the ``--what-if`` form, knobs in a fixed order."""
        parts = [(k, v) for k, v in (("refit.metric", self.metric), ("refit.select", self.select),
                                     ("refit.top_k", self.top_k)) if v is not None]
        return ",".join(f"{k}={v}" for k, v in parts)

    @property
    def document(self) -> str:
        """The run document the answer is stored as: one per distinct question."""
        return f"model_counterfactual_{hashlib.sha256(self.text.encode()).hexdigest()[:16]}.json"


def parse_question(text: str, task: Task, *, over_targets: bool = False) -> RefitQuestion:
    """Decode ``refit.metric=r2,refit.top_k=3`` (comma-separated ``knob=value``). An unknown knob, a value outside
    its choices, a knob given twice or an empty question is a :class:`CounterfactualError` naming the choices.
    ``over_targets``: the run ranks several targets together (no ``refit.target``), which only ``mean_nrmse``
    can rank."""
    asked: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        knob, sep, value = part.partition("=")
        knob, value = knob.strip(), value.strip()
        if knob not in COUNTERFACTUAL_KNOBS:
            raise CounterfactualError(f"--what-if: unknown knob {knob!r}; expected one of "
                                      f"{', '.join(COUNTERFACTUAL_KNOBS)} (as knob=value)")
        if not sep or not value:
            raise CounterfactualError(f"--what-if: {knob} has no value; expected {knob}=VALUE")
        if knob in asked:
            raise CounterfactualError(f"--what-if: {knob} is given twice")
        asked[knob] = value
    if not asked:
        raise CounterfactualError(f"--what-if: no knob given; expected knob=value with knobs "
                                  f"{', '.join(COUNTERFACTUAL_KNOBS)}")
    metric, select, top_k = asked.get("refit.metric"), asked.get("refit.select"), asked.get("refit.top_k")
    if metric is not None and metric not in COUNTERFACTUAL_METRICS[task]:
        raise CounterfactualError(f"--what-if: refit.metric={metric!r} is not a {task} rank metric; expected one "
                                  f"of {', '.join(COUNTERFACTUAL_METRICS[task])}")
    if metric is not None and over_targets and metric != "mean_nrmse":
        raise CounterfactualError(f"--what-if: refit.metric={metric!r} ranks one target, and the run ranks several "
                                  "together; expected mean_nrmse (a spec naming refit.target ranks one)")
    if select is not None and select not in SELECT_RULES:
        raise CounterfactualError(f"--what-if: refit.select={select!r}; expected one of {', '.join(SELECT_RULES)}")
    if top_k is not None and not (top_k.isdigit() and int(top_k) >= 1):
        raise CounterfactualError(f"--what-if: refit.top_k={top_k!r}; expected a whole number >= 1")
    return RefitQuestion(metric=metric, select=select,  # type: ignore[arg-type]  # checked against SELECT_RULES
                         top_k=None if top_k is None else int(top_k))


class Decided(msgspec.Struct, **_FROZEN):
    """One set of model decisions: the refit rule, the ranking (chain ids, best first, with their values of the
    rank metric) and the refit chains (with their component counts)."""

    metric: str
    select: SelectRule
    top_k: int
    ranking: tuple[str, ...]
    metric_values: tuple[float, ...]
    refit: tuple[str, ...]
    refit_components: tuple[int | None, ...]


class DecisionChange(msgspec.Struct, **_FROZEN):
    """A decision the question changes: ``ranking`` (the order) or ``refit_selection`` (the chains refit)."""

    decision: Literal["ranking", "refit_selection"]
    summary: str
    moved: tuple[str, ...] = ()  # chains whose rank changed (ranking) or that enter / leave the refit set
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class ModelCounterfactual(msgspec.Struct, tag="model_counterfactual", tag_field="kind", **_FROZEN):
    """What a run would have decided under another refit rule, from its stored out-of-fold predictions (no model
    was fitted). ``recorded`` is re-decided with the run's own rule (it matches the run's provenance: checked),
    ``asked`` with the question's; ``changes`` lists the decisions that differ."""

    schema_version: int
    run_id: str
    question: str
    recorded: Decided
    asked: Decided
    changes: tuple[DecisionChange, ...]
    unchanged: tuple[Literal["ranking", "refit_selection"], ...]

    def to_json(self) -> bytes:
        return canonical_bytes(self)


def decode_counterfactual(data: bytes) -> ModelCounterfactual:
    return msgspec.json.decode(data, type=ModelCounterfactual)


def _ranking_change(before: Sequence[str], after: Sequence[str]) -> DecisionChange | None:
    if list(before) == list(after):
        return None
    position = {c: i for i, c in enumerate(before)}
    moved = tuple(c for i, c in enumerate(after) if position[c] != i)
    first = next(i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b)
    return DecisionChange(decision="ranking", moved=moved,
                          summary=f"{len(moved)} of {len(before)} chains change rank (first at rank {first + 1}); "
                                  f"best {before[0][:8]} -> {after[0][:8]}")


def _refit_change(before: Decided, after: Decided) -> DecisionChange | None:
    if before.refit == after.refit:
        return None
    added = tuple(c for c in after.refit if c not in before.refit)
    removed = tuple(c for c in before.refit if c not in after.refit)
    counts = {c: k for c, k in zip((*before.refit, *after.refit),
                                   (*before.refit_components, *after.refit_components), strict=True)}
    show = ", ".join(f"{c[:8]} ({counts[c]} components)" if counts[c] is not None else c[:8] for c in after.refit)
    what = "the same chains in another order" if not added and not removed else (
        f"{len(added)} chain(s) added to and {len(removed)} removed from the refit set")
    return DecisionChange(decision="refit_selection", added=added, removed=removed, moved=added + removed,
                          summary=f"{what}: refit {show}")


def compare(run_id: str, question: RefitQuestion, recorded: Decided, asked: Decided) -> ModelCounterfactual:
    """The artifact: the decisions of ``recorded`` and ``asked`` and which of them change."""
    changes = [c for c in (_ranking_change(recorded.ranking, asked.ranking), _refit_change(recorded, asked))
               if c is not None]
    changed = {c.decision for c in changes}
    return ModelCounterfactual(
        schema_version=SCHEMA_VERSION, run_id=run_id, question=question.text, recorded=recorded, asked=asked,
        changes=tuple(changes),
        unchanged=tuple(d for d in ("ranking", "refit_selection") if d not in changed))  # type: ignore[misc]
