"""A run's decision provenance graph, assembled from its plan, what the engine did and what its views inferred."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow.compute as pc

from hamilton_pipeline import EngineResult
from nirs_modelling.compute import hoisted_refs
from relspec.generators import generator_sites
from relspec.hashing import short
from relspec.plan import FOLD_FINAL, CompiledPlan
from relspec.provenance import Decision, DecisionProvenanceGraph, RankedEntry, build_provenance
from semantics.records import ViewDecisions, join_findings


def _join_decisions(views: ViewDecisions) -> list[Decision]:
    """Each join a catalog view infers from typed column roles, with its confidence and the candidates seen."""
    return [Decision(
        id=f"join_{view.view}_{i}", kind="view_join",
        summary=f"{view.view}: {j.how} join on {', '.join(j.left_keys)} = {', '.join(j.right_keys)}",
        reason=j.reason,
        evidence={"roles": list(j.roles), "confidence": j.confidence,
                  "candidates": [f"{c.role}: {'/'.join(c.left)} ~ {'/'.join(c.right)}" for c in j.candidates]})
        for view in views.views for i, j in enumerate(view.joins)]


def join_warnings(views: ViewDecisions) -> list[Decision]:
    """The validation warning of each join inferred with less than exact confidence, after its join decision."""
    join_ids = {f"$views.{view.view}.joins[{i}]": f"join_{view.view}_{i}"
                for view in views.views for i in range(len(view.joins))}
    return [Decision(id=f"validation_{join_ids[f.path]}", kind="validation", summary=f.message,
                     reason=f"view finding {f.code} ({f.severity})",
                     evidence={"path": f.path, "severity": f.severity, "code": f.code},
                     depends_on=(join_ids[f.path],))
            for f in join_findings(views)]


def filter_decisions(plan: CompiledPlan, result: EngineResult) -> list[Decision]:
    """One decision per sample filter of each fitted group: how many training rows it dropped on each CV fold and on
    the refit (``fold_final``, when a chain of the group was refit), and which samples, from the run's
    ``sample_exclusions`` (one chain of the group stands for all: they share their fold fits)."""
    table = result.fold_tables.get("sample_exclusions")
    if table is None:
        return []
    refit = {f.chain_id for f in result.fits}
    out = []
    for group in plan.groups:
        filters = [(i, ref) for i, ref in enumerate(group.fitted_steps) if ref.where is not None]
        if not filters:
            continue
        chains = [c.chain_id for c in plan.chains_of(group.group_id)]
        refit_chain = next((c for c in chains if c in refit), None)
        folds = [(f.fold_id, chains[0]) for f in plan.folds]
        folds += [(FOLD_FINAL, refit_chain)] if refit_chain is not None else []
        offset = len(hoisted_refs(plan, group))
        for i, ref in filters:
            mine = table.filter(pc.equal(table["step"], offset + i))
            dropped = []
            for fold_id, chain_id in folds:
                rows = mine.filter(pc.and_(pc.equal(mine["fold_id"], fold_id), pc.equal(mine["chain_id"], chain_id)))
                dropped.append({"fold_id": fold_id, "dropped": rows.num_rows,
                                "sample_ids": rows.column("sample_id").to_pylist()})
            counts = ", ".join(f"{d['dropped']} ({d['fold_id']})" for d in dropped)
            out.append(Decision(
                id=f"sample_filter_{short(group.group_id)}_{offset + i}", kind="sample_filter",
                summary=f"{ref.label} at {ref.where} dropped {counts} training rows",
                reason="decided on each fold's training rows alone (all train rows for fold_final); the dropped rows "
                       "are left out of the fit of the later steps and the model, never out of the validation or "
                       "test predictions",
                evidence={"op": ref.op, "path": ref.where, "step": offset + i, "group_id": group.group_id,
                          "chains": len(chains), "folds": dropped},
                depends_on=("layout", "fold_plan")))
    return out


def run_provenance(run_id: str, plan: CompiledPlan, raw: dict[str, Any] | None, result: EngineResult,
                   views: ViewDecisions, calibration: Sequence[Decision] = ()) -> DecisionProvenanceGraph:
    """The run's DecisionProvenanceGraph: the plan's decisions, the engine's (executor, cache, ranking) and the
    joins its views infer, and the ``calibration`` decisions that changed its policy. ``raw`` is the spec as
    written (None for a PipelineSpec built in Python)."""
    sites = generator_sites(raw.get("pipeline", [])) if raw is not None else []
    ranking = [RankedEntry(chain_id=r.chain_id, n_components=r.n_components, metric_value=r.cv_value)
               for r in result.ranking]
    workers = sorted({e.worker for e in result.events})
    executor = Decision(
        id="executor", kind="executor", summary=f"ran {len(result.events)} nodes with executor "
                                                f"{plan.policy.executor} on {plan.policy.workers} worker(s)",
        reason="the ExecutionPolicy decided at compile time", evidence={"workers_seen": workers,
                                                                       "engine_seconds": round(result.seconds, 6)},
        depends_on=("layout",))
    choice = result.choice
    return build_provenance(run_id, plan, [(f"$.pipeline{p[1:]}", k, n) for p, k, n in sites], ranking,
                            [*calibration, executor, _cache_decision(plan, result), *filter_decisions(plan, result),
                             *_join_decisions(views), *join_warnings(views)],
                            chosen=None if choice is None else [c.chain_id for c in choice.chosen],
                            choices=() if choice is None else choice.evidence)


def _cache_decision(plan: CompiledPlan, result: EngineResult) -> Decision:
    """Which nodes the workspace cache served, and why the others were computed."""
    by_status: dict[str, list[str]] = {}
    for e in result.events:
        by_status.setdefault(e.cache, []).append(e.node)
    hits, misses = by_status.get("hit", []), by_status.get("miss", [])
    skipped = by_status.get("skipped", [])
    if not plan.policy.cache.enabled:
        summary, reason = "no node served from the cache", "the ExecutionPolicy turned the cache off"
    else:
        summary = f"{len(hits)} node(s) served from the cache, {len(misses)} computed and stored"
        summary += f", {len(skipped)} computed and not stored (cheaper to recompute)" if skipped else ""
        reason = ("a node is served when its key (step identity, input-data fingerprint, code fingerprint) has a "
                  "verified entry; a miss means no such entry (new step, changed parameter or data, evicted)")
        if plan.policy.cache.admission == "cost":
            reason += ("; a computed node is stored only when computing it again costs more than writing and "
                       "reading it back (admission: cost)")
    evidence = {"hits": sorted(hits), "misses": sorted(misses), "cacheable_kinds": list(plan.policy.cache.nodes)}
    if skipped:
        evidence["skipped"] = sorted(skipped)
    return Decision(id="cache", kind="cache", summary=summary, reason=reason, evidence=evidence,
                    depends_on=("layout",))
