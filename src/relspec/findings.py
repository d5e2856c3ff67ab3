"""Findings the compiler reports about a laid-out spec: what was hoisted or shared, and what deserves a warning."""

from __future__ import annotations

from collections.abc import Sequence

from relspec.plan import FoldSpec, HoistedNode, StepRef, SweepGroup
from relspec.policy import ExecutionPolicy, RuntimePolicy
from relspec.validation import Finding


def hoisting_findings(where: dict[str, str], hoisted: Sequence[HoistedNode]) -> list[Finding]:
    """One info finding per hoisted node (first spec path that produced it)."""
    return [Finding(code="hoisted_step", severity="info", path=where[h.node_id],
                    message=f"{h.step.label} is row-wise stateless: computed once on all rows, above the folds")
            for h in hoisted]


def sharing_findings(
    hoisted_uses: int, hoisted: Sequence[HoistedNode], paths: int, groups: Sequence[SweepGroup], n_folds: int,
) -> list[Finding]:
    """How much work identical prefixes save: step applications and per-fold fits, naive vs compiled."""
    out = []
    if hoisted_uses > len(hoisted):
        out.append(Finding(code="shared_prefix", severity="info", path="$.pipeline",
                           message=f"{hoisted_uses} hoisted step applications over {paths} paths compile to "
                                   f"{len(hoisted)} shared node(s)"))
    if paths > len(groups):
        out.append(Finding(code="shared_fit", severity="info", path="$.pipeline",
                           message=f"{paths} paths need only {len(groups)} distinct fitted pipelines: "
                                   f"{len(groups) * n_folds} fold fits instead of {paths * n_folds}"))
    return out


def before_split_findings(fitted: Sequence[tuple[StepRef, str]], split_index: int) -> list[Finding]:
    """Fitted steps written before ``split``: a leakage hazard elsewhere, here fitted on fold training rows only."""
    out, seen = [], set()
    for ref, where in fitted:
        index = int(where.split("[", 2)[1].split("]")[0])
        if index < split_index and not ref.row_wise_stateless and where not in seen:
            seen.add(where)
            out.append(Finding(
                code="fitted_before_split", severity="warning", path=where,
                message=f"{ref.label} is fitted (it learns from the rows it sees) and is written before `split`; "
                        "nirdag fits it on each fold's training rows only, never on validation or test rows - "
                        "move it after `split` to say so in the spec"))
    return out


def policy_findings(runtime: RuntimePolicy, policy: ExecutionPolicy, reasons: Sequence[str]) -> list[Finding]:
    out = [Finding(code="policy", severity="info", path="$runtime", message=r) for r in reasons]
    if runtime.workers is not None and policy.workers < runtime.workers:
        out.append(Finding(code="workers_capped", severity="warning", path="$runtime.workers",
                           message=f"{runtime.workers} workers asked, {policy.workers} used: the widest layer of "
                                   f"the DAG has {policy.workers} independent node(s)"))
    return out


def data_findings(test_rows: Sequence[int], folds: Sequence[FoldSpec], y_ref: StepRef | None,
                  y_where: str | None) -> list[Finding]:
    out = []
    if not test_rows:
        out.append(Finding(code="no_test_rows", severity="warning", path="$dataset",
                           message="the dataset has no test rows: chains are ranked by RMSECV and no RMSEP is "
                                   "computed"))
    if y_ref is not None and y_where is not None:
        out.append(Finding(code="y_processing", severity="info", path=y_where,
                           message=f"{y_ref.label} is fitted on each fold's training targets ({len(folds)} folds "
                                   "and fold_final) and inverted before predictions are scored or stored"))
    return out


def target_findings(targets: Sequence[str], stratified_at: str | None) -> list[Finding]:
    """Several targets: what is predicted together, and which target a ``stratified`` split bins."""
    if len(targets) < 2:
        return []
    out = [Finding(code="multi_target", severity="info", path="$.target",
                   message=f"{len(targets)} targets {list(targets)} are predicted together by every chain")]
    if stratified_at is not None:
        out.append(Finding(code="stratified_first_target", severity="info", path=stratified_at,
                           message=f"`stratified` bins one target: the folds are stratified on {targets[0]!r}, "
                                   "the first of the targets"))
    return out
