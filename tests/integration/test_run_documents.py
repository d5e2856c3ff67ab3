"""Typed run documents (the PolicyValidation artifact) are stored with the run and deleted with it."""

from __future__ import annotations

import json

import pytest

import nirdag
from datafusion_engine import StoreError, Workspace


def test_policy_validation_is_stored_with_the_run_and_read_back(tecator_run):
    stored = tecator_run.validation
    assert stored == tecator_run.plan.validation
    path = tecator_run.workspace / "provenance" / tecator_run.run_id / "policy_validation.json"
    assert json.loads(path.read_bytes())["kind"] == "policy_validation"


def test_deleting_a_run_deletes_its_documents(tecator, tmp_path):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                          {"model": {"op": "pls", "n_components": 2}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    nirdag.Workspace(run.workspace).delete_run(run.run_id)
    assert not (run.workspace / "provenance" / run.run_id).exists()
    with pytest.raises(StoreError, match=r"has no policy_validation\.json"):
        run.handle.read_document(run.run_id, "policy_validation.json")


@pytest.mark.parametrize("run_id, name", [("../x", "a.json"), ("r1", "../a.json"), ("r1", "A.json"), ("", "a.json")])
def test_document_paths_cannot_escape_the_workspace(tmp_path, run_id, name):
    with pytest.raises(StoreError, match="invalid"):
        Workspace(tmp_path).write_document(run_id, name, b"{}")
    assert not any(tmp_path.rglob("*.json"))
