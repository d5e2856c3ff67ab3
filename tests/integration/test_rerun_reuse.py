"""An identical re-run returns the finished run; the node cache stores only what is worth reading back."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nirdag
from hamilton_pipeline import cache as node_cache
from relspec.policy import AdmissionCosts

SPEC = {"name": "rerun", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2,
                                                  "deriv": 1}]}},
    {"model": {"op": "pls", "n_components": [1, 2, 3, 4]}}]}


def runs_in(ws) -> list[str]:
    return nirdag.query("SELECT run_id FROM runs ORDER BY run_id", ws).column("run_id").to_pylist()


def test_an_identical_rerun_returns_the_finished_run(tmp_path, tecator):
    ws = tmp_path / "ws"
    first = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    again = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    assert again.reused and not first.reused
    assert again.run_id == first.run_id and again.best == first.best
    assert runs_in(ws) == [first.run_id]
    assert again.export(tmp_path / "m.nirdag").exists()  # the returned run is whole: it exports


@pytest.mark.parametrize("change", ["seed", "spec", "refit", "reuse", "cache"])
def test_anything_that_changes_the_plan_or_asks_to_compute_runs_again(tmp_path, tecator, change):
    ws = tmp_path / "ws"
    first = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    kwargs = {"seed": 1 if change == "seed" else 0, "reuse": change != "reuse", "cache": change != "cache"}
    spec = {**SPEC, "pipeline": [*SPEC["pipeline"][:2], {"model": {"op": "pls", "n_components": [1, 2, 3]}}]} \
        if change == "spec" else SPEC
    if change == "refit":  # the same pipeline (pipeline_hash) with another refit rule is another plan
        spec = {**SPEC, "refit": {"select": "one_se"}}
    again = nirdag.run(spec, tecator, workspace=ws, **kwargs)
    assert not again.reused and again.run_id != first.run_id
    assert len(runs_in(ws)) == 2


def test_a_run_whose_fitted_objects_were_purged_or_that_was_deleted_is_not_reused(tmp_path, tecator):
    ws = tmp_path / "ws"
    first = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    nirdag.Workspace(ws).purge(first.dataset_hash)
    second = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    assert not second.reused
    nirdag.Workspace(ws).delete_run(second.run_id)
    third = nirdag.run(SPEC, tecator, workspace=ws, seed=0)
    assert not third.reused and third.run_id not in (first.run_id, second.run_id)


def test_the_cli_says_it_reused_and_force_runs_again(tmp_path, example_spec):
    ws = str(tmp_path / "ws")
    cli = [sys.executable, "-m", "nirdag", "run", str(example_spec), "-w", ws, "--top", "1", "--quiet"]
    first = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and "(reused" in again.stdout and "--force" in again.stdout
    forced = subprocess.run([*cli, "--force"], capture_output=True, text=True, check=False)
    assert forced.returncode == 0 and "(reused" not in forced.stdout and "engine time" in forced.stdout
    assert len(runs_in(ws)) == 2


def test_cost_admission_skips_nodes_cheaper_to_recompute_and_results_do_not_change(tmp_path, tecator, monkeypatch):
    def outcomes(result):
        rows = result.sql(f"SELECT node, cache FROM events WHERE run_id = '{result.run_id}' "
                          "AND cache IN ('hit', 'miss', 'skipped')")
        return {r["node"]: r["cache"] for r in rows.to_pylist()}

    stored = nirdag.run(SPEC, tecator, workspace=tmp_path / "all", seed=0, cache_admission="all")
    assert set(outcomes(stored).values()) == {"miss"}
    monkeypatch.setattr(node_cache, "worth_storing", lambda *_: False)  # nothing is worth writing
    skipped = nirdag.run(SPEC, tecator, workspace=tmp_path / "cost", seed=0)
    assert set(outcomes(skipped).values()) == {"skipped"}
    assert nirdag.Workspace(tmp_path / "cost").cache_stats().entries == 0
    again = nirdag.run(SPEC, tecator, workspace=tmp_path / "cost", seed=0, reuse=False)  # nothing to serve
    assert set(outcomes(again).values()) == {"skipped"}
    for other in (skipped, again):
        assert other.best == {**stored.best, "chain_id": other.best["chain_id"]}
        a, b = (r.sql(f"SELECT chain_id, fold_id, partition, sample_id, y_pred FROM predictions WHERE run_id = "
                      f"'{r.run_id}' ORDER BY chain_id, fold_id, partition, sample_id") for r in (stored, other))
        assert a.equals(b)


def test_worth_storing_weighs_compute_against_write_and_read():
    assert not node_cache.worth_storing(0.4, 160 * 10**6)  # a 20,000-spectrum SNV: recompute
    assert node_cache.worth_storing(0.2, 100_000)  # a PLS fold fit: keep
    assert not node_cache.worth_storing(0.0005, 8_000)  # a tiny transform: the file costs more
    slow_disk = AdmissionCosts(write_bytes_per_s=1.0)  # the policy's costs decide: at one byte a second, never
    assert not node_cache.worth_storing(0.2, 100_000, slow_disk)
