"""The DecisionProvenanceGraph: every decision compile and execution made, with its reason and evidence.

Decisions are nodes, "depends on" links are edges. A run stores its graph as
``provenance/<run_id>/decision_provenance.json``; questions such as "why was chain X refit and not Y" are answered
from it without re-running anything (:func:`why_not_refit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from relspec.hashing import canonical_bytes
from relspec.plan import CompiledPlan
from relspec.sweep_edges import swept_edges
from relspec.validation import Finding

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

SCHEMA_VERSION = 1

DecisionKind = Literal[
    "spec", "generator_expansion", "layout", "fold_plan", "validation", "policy", "executor", "cache", "ranking",
    "refit_selection", "view_join", "workload", "calibration", "sample_filter", "tuning",
]
# values: scalars, lists (of scalars, or of records such as the refit choices) or None
Evidence = dict[str, str | int | float | bool | list[Any] | None]


class Decision(msgspec.Struct, **_FROZEN):
    """One decision: what was decided (summary), why (reason), on what evidence, after which decisions."""

    id: str
    kind: DecisionKind
    summary: str
    reason: str
    evidence: Evidence = msgspec.field(default_factory=dict)
    depends_on: tuple[str, ...] = ()


class DecisionProvenanceGraph(msgspec.Struct, tag="decision_provenance_graph", tag_field="kind", **_FROZEN):
    schema_version: int
    run_id: str
    pipeline_hash: str
    dataset_hash: str
    decisions: tuple[Decision, ...]

    def get(self, decision_id: str) -> Decision:
        for d in self.decisions:
            if d.id == decision_id:
                return d
        raise KeyError(decision_id)

    def edges(self) -> list[tuple[str, str]]:
        """(decision, the decision it depends on) pairs."""
        return [(d.id, dep) for d in self.decisions for dep in d.depends_on]

    def to_json(self) -> bytes:
        return canonical_bytes(self)


def decode_provenance(data: bytes) -> DecisionProvenanceGraph:
    return msgspec.json.decode(data, type=DecisionProvenanceGraph)


class RankedEntry(msgspec.Struct, **_FROZEN):
    """One chain in the ranking the engine computed (the evidence of the refit selection)."""

    chain_id: str
    n_components: int | None
    metric_value: float


def _spec_decisions(plan: CompiledPlan, sites: Sequence[tuple[str, str, int]]) -> list[Decision]:
    out = [Decision(id="spec", kind="spec", summary=f"pipeline {plan.name!r} on target {plan.target_label!r}",
                    reason="decoded once from the spec into frozen structs", evidence={
                        "pipeline_hash": plan.pipeline_hash, "seed": plan.seed})]
    for i, (path, keyword, n) in enumerate(sites):
        out.append(Decision(id=f"generator_{i}", kind="generator_expansion",
                            summary=f"{keyword} at {path} expands to {n} alternatives",
                            reason=f"generator keyword {keyword}, expanded with the seed {plan.seed}",
                            evidence={"path": path, "keyword": keyword, "alternatives": n}, depends_on=("spec",)))
    paths = len({c.branch_path for c in plan.chains})
    out.append(Decision(
        id="layout", kind="layout",
        summary=f"{len(plan.chains)} chains = {paths} preprocessing paths x component counts",
        reason="the cartesian product of the branch alternatives, one chain per model component count",
        evidence={"chains": len(plan.chains), "paths": paths, "hoisted_nodes": len(plan.hoisted),
                  "fitted_groups": len(plan.groups)},
        depends_on=("spec", *(f"generator_{i}" for i in range(len(sites))))))
    sizes = [len(f.val_rows) for f in plan.folds]
    out.append(Decision(
        id="fold_plan", kind="fold_plan", summary=f"{len(plan.folds)} CV folds over {len(plan.final_fold.train_rows)} "
                                                  f"train rows, refit on all of them as fold_final",
        reason=f"the spec's split, seeded with {plan.seed}; row indices fixed at compile time",
        evidence={"fold_ids": [f.fold_id for f in plan.folds], "val_sizes": sizes, "test_rows": len(plan.test_rows)},
        depends_on=("spec",)))
    return out


def _workload_decision(plan: CompiledPlan) -> list[Decision]:
    """The plan's workload class: the key its calibration history is kept under."""
    workload = plan.validation.workload if plan.validation is not None else None
    if workload is None:
        return []
    return [Decision(id="workload", kind="workload", summary=f"workload class {workload.key}",
                     reason="rows, wavelengths, chains and folds bucketed to powers of 4, with the model kinds; "
                            "runs of one class are the evidence of its calibration",
                     evidence={"rows": workload.rows, "wavelengths": workload.wavelengths, "chains": workload.chains,
                               "folds": workload.folds, "models": list(workload.models)},
                     depends_on=("layout", "fold_plan"))]


def _finding_decisions(findings: Sequence[Finding]) -> list[Decision]:
    out = []
    for i, f in enumerate(findings):
        kind: DecisionKind = "policy" if f.code in {"policy", "workers_capped"} else "validation"
        out.append(Decision(id=f"{kind}_{i}", kind=kind, summary=f.message, reason=f"compiler finding {f.code} "
                            f"({f.severity})", evidence={"path": f.path, "severity": f.severity, "code": f.code},
                            depends_on=("layout",)))
    return out


def _ranked_by(plan: CompiledPlan) -> str:
    """The rank metric, with the target it is computed on when the plan has several, and the level it scores when
    the dataset declares replicates."""
    if len(plan.targets) == 1:
        metric = plan.rank_metric
    elif plan.refit.target is None:
        metric = f"{plan.rank_metric} over targets {', '.join(plan.targets)}"
    else:
        metric = f"{plan.rank_metric} of target {plan.refit.target!r}"
    replicates = plan.replicate_groups
    if replicates is None:
        return metric
    if plan.rank_level == "sample":
        return (f"{metric} per sample (each sample's mean prediction over its replicates, column "
                f"{replicates.column!r})")
    return f"{metric} per spectrum (replicates declared in column {replicates.column!r}; refit.level spectrum)"


_RULES = {
    "min": "the count of lowest pooled CV error",
    "one_se": "the fewest components within one standard error (across folds) of the lowest RMSECV",
    "wold_r": "the count after which one more component lowers PRESS by too little (Wold's R above {r})",
    "randomization": "the fewest components not significantly worse than the minimum (van der Voet's randomization "
                     "test, {n} seeded sign flips, alpha {a})",
}


def _rule_text(plan: CompiledPlan) -> str:
    return _RULES[plan.refit.select].format(r=plan.refit.r_threshold, n=plan.refit.permutations, a=plan.refit.alpha)


def _selection_decisions(plan: CompiledPlan, ranking: Sequence[RankedEntry], chosen_ids: Sequence[str] | None,
                         choices: Sequence[dict[str, Any]]) -> list[Decision]:
    metric = _ranked_by(plan)
    order = "descending" if plan.task == "classification" else "ascending"  # accuracies: higher is better
    values = [r.metric_value for r in ranking]
    ties = [r.chain_id for r in ranking[1:] if ranking and r.metric_value == ranking[0].metric_value]
    by_id = {r.chain_id: r for r in ranking}
    chosen = ranking[: plan.refit.top_k] if chosen_ids is None else [by_id[c] for c in chosen_ids]
    out = [Decision(
        id="ranking", kind="ranking", summary=f"{len(ranking)} chains ranked by pooled CV {metric}",
        reason=f"{order} pooled out-of-fold {metric}; ties go to fewer components, then to the smaller chain_id",
        evidence={"chain_ids": [r.chain_id for r in ranking], "metric_values": values,
                  "n_components": [r.n_components or 0 for r in ranking], "ties_with_best": ties},
        depends_on=("layout", "fold_plan"))]
    runner_up = ranking[len(chosen)] if len(ranking) > len(chosen) else None
    margin = None if runner_up is None or not chosen else abs(runner_up.metric_value - chosen[-1].metric_value)
    out.append(Decision(
        id="refit_selection", kind="refit_selection",
        summary=f"refit the top {len(chosen)}: " + ", ".join(r.chain_id[:8] for r in chosen),
        reason=f"refit rule: top_k={plan.refit.top_k} by pooled CV {metric}; components: {plan.refit.select} "
               f"({_rule_text(plan)})",
        evidence={"chain_ids": [r.chain_id for r in chosen], "metric_values": [r.metric_value for r in chosen],
                  "runner_up": None if runner_up is None else runner_up.chain_id, "margin_to_runner_up": margin,
                  "select": plan.refit.select, "top_k": plan.refit.top_k, "metric": plan.rank_metric,
                  "choices": [dict(c) for c in choices]},
        depends_on=("ranking",)))
    return out


def _edge_decisions(plan: CompiledPlan, ranking: Sequence[RankedEntry], sites: Sequence[tuple[str, str, int]]
                    ) -> list[Decision]:
    """A warning for each swept step parameter whose best value is at the edge of the values tried."""
    found = swept_edges(plan, ranking[0].chain_id, sites) if ranking else ()
    return [Decision(id=f"swept_edge_{i}", kind="validation", summary=f.message, reason=f"run finding {f.code} "
                     f"({f.severity}): the ranking's best chain against the chains that differ from it in one value",
                     evidence={"path": f.path, "severity": f.severity, "code": f.code, "chain_id": ranking[0].chain_id},
                     depends_on=("ranking",))
            for i, f in enumerate(found)]


def build_provenance(
    run_id: str, plan: CompiledPlan, sites: Sequence[tuple[str, str, int]], ranking: Sequence[RankedEntry],
    execution: Sequence[Decision] = (), chosen: Sequence[str] | None = None,
    choices: Sequence[dict[str, Any]] = (),
) -> DecisionProvenanceGraph:
    """The run's graph from its plan, its generator sites, the engine's ranking and execution decisions, and the
    chains the engine refit (``chosen``, default the ranking's top_k) with the evidence of each count's choice."""
    findings = plan.validation.findings if plan.validation is not None else ()
    decisions = [*_spec_decisions(plan, sites), *_workload_decision(plan), *_finding_decisions(findings),
                 *execution, *_selection_decisions(plan, ranking, chosen, choices),
                 *_edge_decisions(plan, ranking, sites)]
    return DecisionProvenanceGraph(schema_version=SCHEMA_VERSION, run_id=run_id, pipeline_hash=plan.pipeline_hash,
                                   dataset_hash=plan.dataset_hash, decisions=tuple(decisions))


def why_not_refit(graph: DecisionProvenanceGraph, chain_id: str) -> str:
    """Answer "why was this chain (not) refit" from the stored ranking evidence alone."""
    ranking, selection = graph.get("ranking").evidence, graph.get("refit_selection").evidence
    ids = list(ranking["chain_ids"])  # type: ignore[arg-type]
    matches = [i for i, c in enumerate(ids) if c.startswith(chain_id)]
    if len(matches) != 1:
        raise KeyError(f"{len(matches)} chains of run {graph.run_id} start with {chain_id!r}")
    rank = matches[0]
    values = list(ranking["metric_values"])  # type: ignore[arg-type]
    chosen = list(selection["chain_ids"])  # type: ignore[arg-type]
    full = ids[rank]
    picked = {c["chain_id"]: c for c in selection.get("choices", [])}  # type: ignore[union-attr]
    if full in chosen:
        why = picked.get(full)
        how = "" if why is None or why["replaces"] == full else (
            f"; {why['rule']} chose {why['n_components']} components in place of the lowest-RMSECV chain "
            f"{why['replaces'][:8]}")
        edge = (f"; warning: {why['n_components']} is the top of the range {why['range'][0]}..{why['range'][1]} "
                "(more components might do better)") if why is not None and why.get("at_edge") else ""
        return (f"chain {full[:8]} was refit: rank {rank + 1} of {len(ids)} by pooled CV ({values[rank]:.6g}){how}"
                f"{edge}; {graph.get('refit_selection').reason}")
    replaced = next((c for c in picked.values() if c["replaces"] == full), None)
    if replaced is not None:
        return (f"chain {full[:8]} was not refit although it ranks {rank + 1} of {len(ids)} (pooled CV "
                f"{values[rank]:.6g}): {replaced['rule']} chose {replaced['n_components']} components, chain "
                f"{replaced['chain_id'][:8]}; {graph.get('refit_selection').reason}")
    last = chosen[-1]
    return (f"chain {full[:8]} was not refit: rank {rank + 1} of {len(ids)} with pooled CV {values[rank]:.6g}, "
            f"against {values[ids.index(last)]:.6g} for {last[:8]} (rank {ids.index(last) + 1}); "
            f"{graph.get('refit_selection').reason}")


def why(graph: DecisionProvenanceGraph, ref: str) -> str:
    """Explain a decision: a knob the calibration changed (``executor``, ``cache.write_bytes_per_s``...), any
    decision id (``workload``, ``cache``...), or else a chain id or prefix (:func:`why_not_refit`)."""
    ids = {d.id for d in graph.decisions}
    for candidate in (f"calibration_{ref}", ref):
        if candidate in ids:
            d = graph.get(candidate)
            shown = {k: v for k, v in d.evidence.items() if not isinstance(v, list)}
            evidence = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
            return f"{d.kind} {d.id}: {d.summary}; because {d.reason}" + (f" [{evidence}]" if evidence else "")
    return why_not_refit(graph, ref)
