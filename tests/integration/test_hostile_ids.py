"""Run and chain ids are values, never SQL: an id holding a quote, or an injection attempt, finds nothing from every
verb (and never another run), and deletes nothing."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import nirdag
from datafusion_engine import StoreError, Workspace
from nirdag.bundle import BundleError
from semantics import open_session, queries
from semantics.errors import RunNotFound

INJECTION = "x' OR '1'='1"
HOSTILE = (INJECTION, "'", "a'); DROP TABLE runs; --")
SPEC = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"op": "snv"},
                                      {"model": {"op": "pls", "n_components": [2, 3]}}]}


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory, tecator):
    folder = tmp_path_factory.mktemp("hostile")
    run = nirdag.run(SPEC, tecator, workspace=folder / "ws", seed=0)
    spectra = {"id": pa.array(tecator.sample_ids[:5])}
    spectra.update({repr(float(w)): pa.array(col) for w, col in zip(tecator.wavelengths, tecator.spectra[:5].T,
                                                                    strict=True)})
    pacsv.write_csv(pa.table(spectra), folder / "new.csv")
    return run, folder


def _cli(folder, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=folder)


@pytest.mark.parametrize("run_id", HOSTILE)
def test_named_queries_match_a_hostile_run_id_literally(hostile_ws, run_id):
    run, _ = hostile_ws
    session = open_session(Workspace(run.workspace))
    assert queries.run_row(session, run_id) is None
    assert queries.run_summary(session, run_id).num_rows == 0
    assert queries.best_refit_chain(session, run_id) is None
    assert queries.node_events(session, run_id) == []
    assert queries.chain_ids_with_prefix(session, run.run_id, INJECTION) == []
    assert queries.run_row(session, run.run_id)["run_id"] == run.run_id


@pytest.mark.parametrize("run_id", HOSTILE)
def test_the_api_says_not_found_for_a_hostile_run_id(hostile_ws, run_id, tmp_path):
    run, _ = hostile_ws
    ws = nirdag.Workspace(run.workspace)
    for verb in (ws.run_summary, ws.run, ws.delete_run, ws.provenance):
        with pytest.raises((StoreError, RunNotFound), match=r"no run|invalid run id|has no decision_provenance"):
            verb(run_id)
    with pytest.raises((BundleError, RunNotFound), match="no run"):
        nirdag.export(run.workspace, run_id, tmp_path / "m.nirdag")
    assert ws.runs().column("run_id").to_pylist() == [run.run_id]  # nothing was deleted


def test_every_cli_verb_says_not_found_for_an_injected_run_id(hostile_ws):
    run, folder = hostile_ws
    ws = str(run.workspace)
    verbs = {
        "runs show": ("runs", "show", INJECTION, "-w", ws),
        "runs delete": ("runs", "delete", INJECTION, "-w", ws),
        "export": ("export", "--run", INJECTION, "-w", ws, "-o", "m.nirdag"),
        "provenance": ("provenance", INJECTION, "-w", ws),
        "dag --run": ("dag", "--run", INJECTION, "-w", ws, "-o", "run.dot"),
        "predict --run": ("predict", "new.csv", "--run", INJECTION, "-w", ws, "--id-column", "id"),
    }
    for verb, args in verbs.items():
        out = _cli(folder, *args)
        assert out.returncode == 1, (verb, out.stdout, out.stderr)
        assert "no run" in out.stderr or "has no decision_provenance" in out.stderr, (verb, out.stderr)
    assert nirdag.Workspace(run.workspace).runs().column("run_id").to_pylist() == [run.run_id]
    assert not (folder / "m.nirdag").exists()


def test_a_hostile_chain_id_matches_no_chain(hostile_ws):
    run, folder = hostile_ws
    for chain in (INJECTION, "aaaaaaaa' OR '1'='1"):
        out = _cli(folder, "export", "--run", run.run_id, "-w", str(run.workspace), "--chain", chain, "-o", "c.nirdag")
        assert out.returncode == 1 and "0 chains matching" in out.stderr, out.stderr
        with pytest.raises(BundleError, match="0 chains matching"):
            nirdag.replay(run.workspace, run.run_id, run.dataset.spectra[:2], chain=chain)
