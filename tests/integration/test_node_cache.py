"""The workspace node cache, end to end: real Hamilton runs into real workspaces, outcomes read back by SQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from deltalake import write_deltalake

import nirdag
from datafusion_engine.cache_store import TEMP_PREFIX
from hamilton_pipeline.driver_factory import hoisted_name, sweep_name
from nirdag.api import RunResult
from nirs_core.data import SpectraDataset
from relspec import CompiledPlan

COMPONENTS = [1, 2, 3, 4, 5]


def run(*args, **kwargs) -> RunResult:
    """A run that stores every cacheable node (no cost-based admission) and never returns an earlier identical
    run: these tests count hits and misses node by node."""
    return nirdag.run(*args, **{"cache_admission": "all", "reuse": False, **kwargs})


def sg1(window: int = 15) -> dict:
    return {"op": "savgol", "window_length": window, "polyorder": 2, "deriv": 1}


def spec(branches: dict[str, list[dict]]) -> dict:
    return {"name": "cache_test", "target": "fat", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
        {"branch": branches},
        {"model": {"op": "pls", "n_components": COMPONENTS}},
    ]}


BASE = {"raw": [], "snv": [{"op": "snv"}], "sg1": [sg1()], "snv_sg1": [{"op": "snv"}, sg1()], "msc": [{"op": "msc"}]}


def cacheable_nodes(plan: CompiledPlan) -> set[str]:
    hoisted = {hoisted_name(plan, h.node_id) for h in plan.hoisted}
    return hoisted | {sweep_name(f.fold_id, g) for g in plan.groups for f in plan.folds}


def outcomes(result: RunResult) -> dict[str, str]:
    rows = result.sql(f"SELECT node, cache FROM events WHERE run_id = '{result.run_id}'").to_pylist()
    return {r["node"]: r["cache"] for r in rows}


def with_status(result: RunResult, status: str) -> set[str]:
    return {node for node, cache in outcomes(result).items() if cache == status}


def predictions(result: RunResult) -> np.ndarray:
    table = result.sql(
        "SELECT y_pred FROM predictions WHERE run_id = "
        f"'{result.run_id}' ORDER BY chain_id, fold_id, partition, sample_id")
    return table.column("y_pred").to_numpy()


@pytest.fixture
def ws(tmp_path) -> Path:
    return tmp_path / "ws"


def test_a_rerun_hits_every_cacheable_node_and_predicts_bit_identically(ws, tmp_path, tecator):
    first = run(spec(BASE), tecator, workspace=ws)
    second = run(spec(BASE), tecator, workspace=ws)
    uncached = run(spec(BASE), tecator, workspace=tmp_path / "plain", cache=False)
    expected = cacheable_nodes(first.plan)
    assert len(expected) == 3 + 5 * 3  # snv, savgol, snv>savgol hoisted; 5 groups x 3 folds
    assert with_status(first, "miss") == expected
    assert with_status(second, "hit") == expected
    assert with_status(second, "miss") == set()
    assert predictions(second).tobytes() == predictions(first).tobytes() == predictions(uncached).tobytes()


def test_adding_a_branch_computes_only_its_nodes(ws, tecator):
    before = run(spec({k: BASE[k] for k in ("raw", "snv", "msc")}), tecator, workspace=ws)
    after = run(spec({**{k: BASE[k] for k in ("raw", "snv", "msc")}, "sg1": [sg1()]}), tecator, workspace=ws)
    new = cacheable_nodes(after.plan) - cacheable_nodes(before.plan)
    assert len(new) == 1 + 3  # the savgol hoisted node and the new group's three fold fits
    assert with_status(after, "miss") == new
    assert with_status(after, "hit") == cacheable_nodes(before.plan)


def test_changing_one_parameter_recomputes_exactly_the_affected_nodes(ws, tmp_path, tecator):
    run(spec(BASE), tecator, workspace=ws)
    changed = {**BASE, "sg1": [sg1(11)], "snv_sg1": [{"op": "snv"}, sg1(11)]}
    result = run(spec(changed), tecator, workspace=ws)
    plan = result.plan
    savgol = {h.node_id for h in plan.hoisted if h.step.op == "savgol"}
    affected = {hoisted_name(plan, n) for n in savgol}
    affected |= {sweep_name(f.fold_id, g) for g in plan.groups if g.input_node in savgol for f in plan.folds}
    assert len(affected) == 2 + 2 * 3
    assert with_status(result, "miss") == affected
    assert with_status(result, "hit") == cacheable_nodes(plan) - affected
    fresh = run(spec(changed), tecator, workspace=tmp_path / "fresh", cache=False)
    assert predictions(result).tobytes() == predictions(fresh).tobytes()


def test_changing_only_the_component_list_refits_the_fold_nodes(ws, tecator):
    run(spec({"snv": [{"op": "snv"}]}), tecator, workspace=ws)
    more = spec({"snv": [{"op": "snv"}]})
    more["pipeline"][-1]["model"]["n_components"] = [2, 5]  # same largest count: same group_id, other outputs
    result = run(more, tecator, workspace=ws)
    folds = {sweep_name(f.fold_id, g) for g in result.plan.groups for f in result.plan.folds}
    assert with_status(result, "miss") == folds
    assert with_status(result, "hit") == cacheable_nodes(result.plan) - folds


def test_one_changed_spectrum_value_misses_everything(ws, tecator):
    run(spec(BASE), tecator, workspace=ws)
    spectra = np.array(tecator.spectra)
    spectra[7, 42] += 1e-9
    changed = SpectraDataset(
        name=tecator.name, sample_ids=tecator.sample_ids, spectra=spectra, wavelengths=tecator.wavelengths,
        wavelength_unit=tecator.wavelength_unit, targets=dict(tecator.targets), partition=tecator.partition,
    )
    assert changed.content_hash != tecator.content_hash
    result = run(spec(BASE), changed, workspace=ws)
    assert with_status(result, "hit") == set()
    assert with_status(result, "miss") == cacheable_nodes(result.plan)


def _entries(ws: Path) -> list[Path]:
    return sorted((ws / "cache").rglob("*.entry"))


def test_damaged_and_swapped_entries_are_misses_never_errors_nor_stale(ws, tecator):
    first = run(spec(BASE), tecator, workspace=ws)
    entries = _entries(ws)
    fold_entries = [p for p in entries if p.parts[-3] == "fold_fit"]
    truncated, garbage, swapped, source = fold_entries[:4]
    truncated.write_bytes(truncated.read_bytes()[:-100])
    garbage.write_bytes(b"\0" * 64)
    shutil.copyfile(source, swapped)  # a whole, valid entry of another node under this node's key
    second = run(spec(BASE), tecator, workspace=ws)
    assert len(with_status(second, "miss")) == 3
    assert len(with_status(second, "hit")) == len(entries) - 3
    assert predictions(second).tobytes() == predictions(first).tobytes()


def test_an_entry_left_half_written_by_a_killed_process_is_never_served(ws, tecator):
    first = run(spec(BASE), tecator, workspace=ws)
    victim, other = [p for p in _entries(ws) if p.parts[-3] == "fold_fit"][:2]
    key = victim.name.removesuffix(".entry")
    # What a writer killed before its rename leaves: a temp file (here even a whole entry, of the wrong node).
    (victim.parent / f"{TEMP_PREFIX}{key}-4242-dead").write_bytes(other.read_bytes())
    (victim.parent / f"{TEMP_PREFIX}{key}-4243-beef").write_bytes(victim.read_bytes()[:50])
    victim.unlink()
    second = run(spec(BASE), tecator, workspace=ws)
    assert len(with_status(second, "miss")) == 1
    assert predictions(second).tobytes() == predictions(first).tobytes()
    assert nirdag.Workspace(ws).cache_stats().temp_files == 2  # young temp files are left to their writers


def test_eviction_keeps_the_cache_under_its_cap(ws, tecator):
    cap = 150_000
    result = run(spec(BASE), tecator, workspace=ws, cache_max_bytes=cap)
    stats = nirdag.Workspace(ws).cache_stats()
    assert 0 < stats.entries < len(cacheable_nodes(result.plan))
    assert stats.bytes <= cap


def test_no_cache_computes_everything_and_leaves_the_cache_alone(ws, tecator):
    run(spec(BASE), tecator, workspace=ws)
    before = {p: p.stat().st_mtime_ns for p in _entries(ws)}
    result = run(spec(BASE), tecator, workspace=ws, cache=False)
    assert not result.plan.policy.cache.enabled
    assert with_status(result, "off") == cacheable_nodes(result.plan)
    assert {"hit", "miss"}.isdisjoint(outcomes(result).values())
    assert {p: p.stat().st_mtime_ns for p in _entries(ws)} == before
    fresh = run(spec(BASE), tecator, workspace=ws.parent / "never", cache=False)
    assert not (ws.parent / "never" / "cache").exists()
    assert predictions(fresh).tobytes() == predictions(result).tobytes()


def test_where_the_time_went_is_one_sql_query_over_events(ws, tecator):
    run(spec(BASE), tecator, workspace=ws)
    second = run(spec(BASE), tecator, workspace=ws)
    table = second.sql(
        "SELECT cache, count(*) AS nodes, sum(seconds) AS seconds FROM events "
        f"WHERE run_id = '{second.run_id}' GROUP BY cache ORDER BY cache")
    rows = {r["cache"]: r for r in table.to_pylist()}
    assert set(rows) == {"hit", "uncached"}
    assert rows["hit"]["nodes"] == len(cacheable_nodes(second.plan))
    assert all(r["seconds"] >= 0 for r in rows.values())
    keys = second.sql(f"SELECT cache_key FROM events WHERE run_id = '{second.run_id}' AND cache = 'hit'")
    assert all(len(k) == 8 for k in keys.column("cache_key").to_pylist())
    on_disk = {p.name[:8] for p in _entries(ws)}
    assert set(keys.column("cache_key").to_pylist()) <= on_disk


def test_an_events_table_written_before_the_cache_gains_the_new_columns(ws, tecator):
    old = pa.table({"run_id": ["old"], "event": ["node"], "node": ["spectra"],
                    "started_at": pa.array([dt.datetime.now(dt.UTC)], pa.timestamp("us", tz="UTC")),
                    "seconds": [0.5], "status": ["ok"], "worker": ["1:MainThread"]})
    write_deltalake(ws / "tables" / "events", old)
    result = run(spec({"snv": [{"op": "snv"}]}), tecator, workspace=ws)
    # run 'old' has no runs row, so only a reader of every run's rows sees it
    rows = nirdag.query("SELECT run_id, cache FROM events WHERE run_id = 'old'", ws, all_runs=True).to_pylist()
    assert rows == [{"run_id": "old", "cache": None}]
    assert with_status(result, "miss") == cacheable_nodes(result.plan)


def test_adding_y_processing_refits_the_fold_nodes_and_keeps_the_preprocessing(ws, tmp_path, tecator):
    run(spec({"snv": [{"op": "snv"}]}), tecator, workspace=ws)
    with_y = spec({"snv": [{"op": "snv"}]})
    with_y["pipeline"].insert(2, {"y_processing": {"op": "standard"}})
    result = run(with_y, tecator, workspace=ws)
    folds = {sweep_name(f.fold_id, g) for g in result.plan.groups for f in result.plan.folds}
    assert with_status(result, "miss") == folds
    assert with_status(result, "hit") == cacheable_nodes(result.plan) - folds
    fresh = run(with_y, tecator, workspace=tmp_path / "fresh", cache=False)
    assert predictions(result).tobytes() == predictions(fresh).tobytes()


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_parallel_executors_share_the_cache_with_sync_runs(ws, tecator, executor):
    first = run(spec(BASE), tecator, workspace=ws, executor=executor, workers=2)
    assert with_status(first, "miss") == cacheable_nodes(first.plan)
    again = run(spec(BASE), tecator, workspace=ws)  # sync, served from what the workers computed
    assert with_status(again, "hit") == cacheable_nodes(again.plan)
    parallel_again = run(spec(BASE), tecator, workspace=ws, executor=executor, workers=2)
    assert with_status(parallel_again, "hit") == cacheable_nodes(parallel_again.plan)
    assert predictions(first).tobytes() == predictions(again).tobytes() == predictions(parallel_again).tobytes()
