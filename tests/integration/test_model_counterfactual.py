"""`nirdag provenance RUN --what-if`: a run's ranking and refit choice re-decided under another refit rule from its
stored out-of-fold predictions, checked against real runs made with that rule, and writing nothing but its
document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nirdag
from nirdag.run_counterfactual import model_what_if
from relspec.counterfactual import decode_counterfactual
from relspec.errors import CounterfactualError


def spec(select: str = "min", top_k: int = 1) -> dict:
    return {"name": "whatif", "target": "fat", "seed": 0, "refit": {"select": select, "top_k": top_k},
            "pipeline": [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
                         {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
                         {"model": {"op": "pls", "n_components": list(range(1, 13))}}]}


@pytest.fixture(scope="module")
def runs(tecator, tmp_path_factory):
    ws = tmp_path_factory.mktemp("whatif") / "ws"
    return {"min": nirdag.run(spec(), tecator, workspace=ws, seed=0),
            "one_se": nirdag.run(spec("one_se"), tecator, workspace=ws, seed=0),
            "top3": nirdag.run(spec(top_k=3), tecator, workspace=ws, seed=0)}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file()}


def refit_counts(run) -> list[int]:
    return sorted(run.sql(f"SELECT n_components FROM chains WHERE run_id = '{run.run_id}' AND refit").column(
        "n_components").to_pylist())


def test_the_runs_own_rule_changes_nothing(runs):
    answer, _ = model_what_if(runs["min"].workspace, runs["min"].run_id, "refit.select=min")
    assert answer.changes == () and answer.unchanged == ("ranking", "refit_selection")
    assert answer.recorded == answer.asked
    assert list(answer.recorded.ranking) == runs["min"].provenance.get("ranking").evidence["chain_ids"]


def test_one_se_re_decided_matches_a_run_made_with_one_se(runs):
    answer, _ = model_what_if(runs["min"].workspace, runs["min"].run_id, "refit.select=one_se")
    assert list(answer.asked.refit_components) == refit_counts(runs["one_se"])
    assert answer.asked.ranking == answer.recorded.ranking  # the rule chooses counts, not the order
    if refit_counts(runs["one_se"]) != refit_counts(runs["min"]):
        (change,) = answer.changes
        assert change.decision == "refit_selection" and change.removed == answer.recorded.refit


def test_top_k_re_decided_matches_a_run_made_with_top_k(runs):
    answer, _ = model_what_if(runs["min"].workspace, runs["min"].run_id, "refit.top_k=3")
    assert sorted(answer.asked.refit_components) == refit_counts(runs["top3"])
    assert len(answer.asked.refit) == 3 and answer.asked.refit[0] == answer.recorded.refit[0]
    assert [c.decision for c in answer.changes] == ["refit_selection"]


def test_r2_ranks_descending_and_the_ranking_change_is_listed(runs):
    answer, _ = model_what_if(runs["min"].workspace, runs["min"].run_id, "refit.metric=r2,refit.top_k=2")
    values = np.array(answer.asked.metric_values)
    assert answer.asked.metric == "r2" and np.all(np.diff(values) <= 0)  # higher r2 first
    stored = dict(zip(*(runs["min"].sql(
        f"SELECT chain_id, value FROM scores WHERE run_id = '{runs['min'].run_id}' AND fold_id = 'cv' "
        "AND metric = 'r2'").column(c).to_pylist() for c in ("chain_id", "value")), strict=True))
    assert [stored[c] for c in answer.asked.ranking] == pytest.approx(list(values), rel=1e-12)
    # r2 and rmse of one target's pooled CV order chains the same way except where ties break differently
    assert answer.asked.ranking[0] == answer.recorded.ranking[0]


def test_the_cli_writes_only_its_document(runs):
    run = runs["min"]
    before = snapshot(run.workspace)
    out = subprocess.run([sys.executable, "-m", "nirdag", "provenance", run.run_id, "-w", str(run.workspace),
                          "--what-if", "refit.select=wold_r,refit.top_k=2"],
                         capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stderr
    assert "refit_selection" in out.stdout and "wrote model_counterfactual_" in out.stdout
    after = snapshot(run.workspace)
    new = set(after) - set(before)
    (doc,) = new
    assert doc.startswith(f"provenance/{run.run_id}/model_counterfactual_") and doc.endswith(".json")
    assert {k: v for k, v in after.items() if k != doc} == before  # nothing else written or touched
    stored = decode_counterfactual((run.workspace / doc).read_bytes())
    assert stored.schema_version == 1 and stored.question == "refit.select=wold_r,refit.top_k=2"
    as_json = subprocess.run([sys.executable, "-m", "nirdag", "provenance", run.run_id, "-w", str(run.workspace),
                              "--what-if", "refit.top_k=2,refit.select=wold_r", "--format", "json"],
                             capture_output=True, text=True, timeout=180, check=False)
    assert json.loads(as_json.stdout)["asked"]["refit"] == list(stored.asked.refit)
    assert set(snapshot(run.workspace)) == set(after)  # the same question, the same document


@pytest.mark.parametrize(("question", "message"), [
    ("refit.alpha=0.1", "unknown knob 'refit.alpha'; expected one of refit.metric, refit.select, refit.top_k"),
    ("refit.select=best", "refit.select='best'; expected one of min, one_se, wold_r, randomization"),
    ("refit.metric=accuracy", "not a regression rank metric; expected one of rmse, r2, mean_nrmse"),
    ("refit.top_k=0", "refit.top_k='0'; expected a whole number >= 1"),
    ("", "no knob given"),
])
def test_an_unknown_knob_or_value_is_a_typed_error_with_the_choices(runs, question, message):
    with pytest.raises(CounterfactualError, match=message.replace("(", r"\(").replace(".", r"\.")):
        model_what_if(runs["min"].workspace, runs["min"].run_id, question)


def test_a_classification_run_re_ranks_by_the_other_accuracy(labelled, tmp_path):
    run = nirdag.run({"target": "grade", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
        {"model": {"op": "plsda", "n_components": [1, 2, 3, 4, 5, 6]}}]}, labelled, workspace=tmp_path / "ws")
    answer, _ = model_what_if(run.workspace, run.run_id, "refit.metric=accuracy")
    assert answer.recorded.metric == "balanced_accuracy" and answer.asked.metric == "accuracy"
    assert np.all(np.diff(answer.asked.metric_values) <= 0)  # accuracies rank descending
    with pytest.raises(CounterfactualError, match="expected one of balanced_accuracy, accuracy"):
        model_what_if(run.workspace, run.run_id, "refit.metric=r2")


def test_a_run_ranking_several_targets_together_takes_only_mean_nrmse(tecator, tmp_path):
    run = nirdag.run({"target": ["fat", "moisture"], "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
        {"model": {"op": "pls", "n_components": [2, 4, 6, 8]}}]}, tecator, workspace=tmp_path / "ws")
    answer, _ = model_what_if(run.workspace, run.run_id, "refit.top_k=2")
    assert answer.recorded.metric == "mean_nrmse" and len(answer.asked.refit) == 2
    with pytest.raises(CounterfactualError, match="ranks several together; expected mean_nrmse"):
        model_what_if(run.workspace, run.run_id, "refit.metric=r2")
