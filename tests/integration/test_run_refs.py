"""A run is named by its id, a unique prefix of it, or `latest`; hostile or ambiguous references are typed errors."""

from __future__ import annotations

import pytest

import nirdag
from datafusion_engine import Workspace
from semantics import queries
from semantics.errors import RunNotFound

SPEC = {"target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3}}, {"model": {"op": "pls", "n_components": [2]}}]}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, tecator):
    ws = tmp_path_factory.mktemp("refs") / "ws"
    first = nirdag.run(SPEC, tecator, workspace=ws)
    second = nirdag.run(SPEC, tecator, workspace=ws, reuse=False)
    return ws, first.run_id, second.run_id


def test_latest_prefix_and_full_id(two_runs):
    ws, first, second = two_runs
    session = Workspace.of(ws).session()
    assert queries.resolve_run(session, "latest") == second
    assert queries.resolve_run(session, first) == first
    assert queries.resolve_run(session, second[:-3]) == second  # the random suffix tells them apart


@pytest.mark.parametrize("ref", ["", "nope", "x' OR '1'='1", "%"])
def test_unknown_references_are_refused(two_runs, ref):
    ws, _, _ = two_runs
    with pytest.raises(RunNotFound, match="no run"):
        queries.resolve_run(Workspace.of(ws).session(), ref)


def test_an_ambiguous_prefix_lists_the_matches(two_runs):
    ws, first, second = two_runs
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    with pytest.raises(RunNotFound, match="matches several runs"):
        queries.resolve_run(Workspace.of(ws).session(), first[:common])
