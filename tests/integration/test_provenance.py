"""The decision provenance graph of a run: stored, golden-file pinned, and able to answer "why (not) refit"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

import nirdag
from nirdag.run_provenance import join_warnings
from relspec.provenance import DecisionProvenanceGraph, decode_provenance, why_not_refit
from semantics.records import read_view_decisions

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "decision_provenance_generated_spec.json"
SPEC = {"target": "fat", "name": "generated", "seed": 2, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
    {"_or_": [{"op": "snv"}, {"op": "msc"}, None]},
    {"model": {"op": "pls", "n_components": {"_range_": [2, 6]}}}]}


@pytest.fixture(scope="module")
def run(tecator, tmp_path_factory):
    # every cacheable node stored (no cost-based admission: what is stored would depend on timings)
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("prov") / "ws", cache_admission="all")


def _stable(graph: DecisionProvenanceGraph) -> dict:
    """The graph's JSON without what legitimately varies between runs (run id, timings, worker names)."""
    data = json.loads(graph.to_json())
    data["run_id"] = "<run_id>"
    for d in data["decisions"]:
        if d["id"] == "executor":
            d["evidence"] = {k: "<varies>" for k in d["evidence"]}
        for key in ("metric_values", "margin_to_runner_up"):  # floats: pinned to 9 digits, not to the last ulp
            value = d["evidence"].get(key)
            if value is not None:
                d["evidence"][key] = [f"{v:.9g}" for v in value] if isinstance(value, list) else f"{value:.9g}"
    return data


def test_golden_decision_provenance(run):
    text = json.dumps(_stable(run.provenance), indent=2, sort_keys=True) + "\n"
    if os.environ.get("NIRDAG_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_every_edge_points_to_an_earlier_decision(run):
    graph = run.provenance
    order = {d.id: i for i, d in enumerate(graph.decisions)}
    assert graph.edges()
    assert all(order[dep] < order[d] for d, dep in graph.edges())
    assert decode_provenance(graph.to_json()) == graph


def test_generator_expansion_and_ranking_evidence(run):
    graph = run.provenance
    expansions = [d for d in graph.decisions if d.kind == "generator_expansion"]
    assert [(d.evidence["path"], d.evidence["keyword"], d.evidence["alternatives"]) for d in expansions] == [
        ("$.pipeline[1]", "_or_", 3), ("$.pipeline[2].model.n_components", "_range_", 5)]
    ranking = graph.get("ranking").evidence
    assert len(ranking["chain_ids"]) == 15 and ranking["metric_values"] == sorted(ranking["metric_values"])
    assert graph.get("refit_selection").evidence["chain_ids"] == [run.best["chain_id"]]
    assert ranking["metric_values"][0] == pytest.approx(run.best["rmsecv"], abs=1e-12)


def test_why_not_refit_answers_from_the_stored_graph(run):
    graph = run.provenance
    best, other = graph.get("ranking").evidence["chain_ids"][0], graph.get("ranking").evidence["chain_ids"][7]
    assert why_not_refit(graph, best[:10]).startswith(f"chain {best[:8]} was refit: rank 1 of 15")
    answer = why_not_refit(graph, other)
    assert answer.startswith(f"chain {other[:8]} was not refit: rank 8 of 15") and best[:8] in answer
    with pytest.raises(KeyError, match="0 chains"):
        why_not_refit(graph, "zzzz")


def test_cli_prints_the_tree_json_and_why(run):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "nirdag", "provenance", run.run_id, "-w", str(run.workspace),
                               *args], capture_output=True, text=True, timeout=120, check=False)

    tree = cli()
    assert tree.returncode == 0, tree.stderr
    assert "refit_selection" in tree.stdout and "generator_expansion" in tree.stdout
    as_json = cli("--format", "json")
    assert json.loads(as_json.stdout)["run_id"] == run.run_id
    why = cli("--why", run.best["chain_id"][:8])
    assert "was refit: rank 1" in why.stdout
    missing = subprocess.run([sys.executable, "-m", "nirdag", "provenance", "nope", "-w", str(run.workspace)],
                             capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr


def test_a_rerun_records_its_cache_hits_and_draws_them(run, tecator):
    again = nirdag.run(SPEC, tecator, workspace=run.workspace, cache_admission="all", reuse=False)
    first, second = run.provenance.get("cache").evidence, again.provenance.get("cache").evidence
    assert first["hits"] == [] and len(first["misses"]) > 0
    assert sorted(second["hits"]) == sorted(first["misses"]) and second["misses"] == []
    assert "cached" in again.dag().source


def test_the_joins_views_infer_are_decisions_of_the_run(run):
    joins = [d for d in run.provenance.decisions if d.kind == "view_join"]
    aggregated = [d for d in joins if d.id.startswith("join_v_aggregated_predictions_")]
    assert any(d.evidence["roles"] == ["dataset_id", "sample_id"] for d in aggregated)
    assert all(d.evidence["confidence"] in ("exact", "coerced") for d in joins)


def test_exact_view_joins_record_no_warning_and_a_coerced_one_is_a_validation_warning(run):
    views = read_view_decisions(run.handle, run.run_id)
    assert all(j.confidence == "exact" for v in views.views for j in v.joins)
    validation = nirdag.Workspace(run.workspace).validation(run.run_id)
    assert not [f for f in validation.findings if f.code == "coerced_join"]
    assert not [d for d in run.provenance.decisions if d.evidence.get("code") == "coerced_join"]
    # the same views with one join coerced: its warning follows the join decision the stored graph holds
    view = next(v for v in views.views if v.joins)
    coerced = msgspec.structs.replace(views, views=tuple(
        msgspec.structs.replace(v, joins=(msgspec.structs.replace(v.joins[0], confidence="coerced"), *v.joins[1:]))
        if v is view else v for v in views.views))
    (warning,) = join_warnings(coerced)
    assert warning.depends_on == (f"join_{view.view}_0",) and f"join_{view.view}_0" in {
        d.id for d in run.provenance.decisions}
    assert warning.kind == "validation" and warning.evidence["severity"] == "warning"
    assert f"view {view.view}:" in warning.summary and "coerced, not exact" in warning.summary
