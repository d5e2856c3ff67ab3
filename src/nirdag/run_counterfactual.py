"""``nirdag provenance RUN --what-if refit.metric=r2``: a run's model decisions re-decided under another refit rule
from its stored predictions (nothing is fitted), stored as the run document ``model_counterfactual_<hash>.json``."""

from __future__ import annotations

from pathlib import Path

import msgspec

from nirdag.workspace import Workspace
from nirs_modelling.counterfactual import rebuild_cvs, redecide
from nirs_modelling.targets import target_values
from relspec.counterfactual import Decided, ModelCounterfactual, compare, parse_question
from relspec.errors import CounterfactualError
from relspec.provenance import DecisionProvenanceGraph
from relspec.refit_spec import RefitSpec
from semantics import queries


def _recorded_rule(graph: DecisionProvenanceGraph, refit: RefitSpec) -> RefitSpec:
    """The refit rule the run decided with, from its provenance: the stored spec is kept once per pipeline hash,
    which leaves the refit block out, so two runs differing only in their refit rule share one stored spec."""
    evidence = graph.get("refit_selection").evidence
    if "top_k" not in evidence or "metric" not in evidence:
        raise CounterfactualError(f"run {graph.run_id} recorded its refit selection without its rule (top_k, "
                                  "metric): it was made by an older nirdag; run it again to ask what-if questions")
    return msgspec.structs.replace(refit, select=evidence["select"], top_k=evidence["top_k"],
                                   metric=evidence["metric"])


def _check_recorded(graph: DecisionProvenanceGraph, recorded: Decided) -> None:
    """The run's own rule re-decided from its stored predictions must give the decisions it recorded: else the
    stored rows are not what it ranked, and no counterfactual drawn from them would be honest."""
    ranking = tuple(graph.get("ranking").evidence["chain_ids"])  # type: ignore[arg-type]
    refit = tuple(graph.get("refit_selection").evidence["chain_ids"])  # type: ignore[arg-type]
    if ranking != recorded.ranking or refit != recorded.refit:
        raise CounterfactualError(f"run {graph.run_id}: its stored predictions, re-ranked with its own rule, do not "
                                  "give the ranking and refit chains its provenance records")


def model_what_if(workspace: Path | str, run_ref: str, question_text: str) -> tuple[ModelCounterfactual, Path]:
    """Answer ``question_text`` (``refit.metric=r2,refit.select=one_se,refit.top_k=3``) for a completed run and
    write the answer as a run document; returns it and the document's path. Nothing else is written."""
    stored = Workspace(workspace)
    run = stored.run(run_ref)
    question = parse_question(question_text, run.plan.task,
                              over_targets=len(run.plan.targets) > 1 and run.plan.refit.target is None)
    graph = stored.provenance(run.run_id)
    plan = msgspec.structs.replace(run.plan, refit=_recorded_rule(graph, run.plan.refit))
    predictions = queries.cv_val_predictions(stored.handle.require().session(), run.run_id)
    cvs = rebuild_cvs(plan, run.dataset.sample_ids, predictions)
    targets = target_values(plan, run.dataset)
    recorded = redecide(plan, None, cvs, targets)
    _check_recorded(graph, recorded)
    answer = compare(run.run_id, question, recorded, redecide(plan, question, cvs, targets))
    return answer, stored.handle.write_document(run.run_id, question.document, answer.to_json())
