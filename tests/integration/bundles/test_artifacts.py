"""The artifacts table and the blob store: content addressing, dedup, ref counts, clean-up, failed runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.integration.bundles.conftest import SPEC

import nirdag
from datafusion_engine import Workspace
from datafusion_engine.errors import CorruptBlobError
from nirdag.bundle import BundleError
from nirdag.bundle.artifacts import artifact_id, step_keys


def artifact_rows(run) -> list[dict]:
    return run.sql(f"SELECT * FROM artifacts WHERE run_id = '{run.run_id}'").to_pylist()


def blob_files(ws: Path) -> set[str]:
    return set(Workspace(ws).blobs.digests())


def test_every_fitted_object_of_each_refit_chain_and_fold_is_indexed(bundle_run):
    rows = artifact_rows(bundle_run)
    chains = {r["chain_id"] for r in rows}
    assert len(chains) == 3
    # per chain and fold: SNV (hoisted), MSC or SavGol, PLS = 3 artifacts, for fold_final + 3 CV folds
    assert len(rows) == 3 * 4 * 3
    assert {r["fold_id"] for r in rows} == {"fold_final", "fold_0", "fold_1", "fold_2"}
    assert {r["artifact_type"] for r in rows} == {"transformer", "model"}
    plan_chains = {c.chain_id: c for c in bundle_run.plan.chains}
    for r in rows:
        keys = step_keys(plan_chains[r["chain_id"]].step_hashes)
        assert r["step_key"] in keys and r["artifact_id"] == artifact_id(r["chain_id"], r["step_key"], r["fold_id"])
        assert len(r["blob_sha256"]) == 64 and r["dataset_hash"] == bundle_run.dataset_hash


def test_a_model_depends_on_its_transformers_in_chain_order(bundle_run):
    rows = artifact_rows(bundle_run)
    by_id = {r["artifact_id"]: r for r in rows}
    for model in (r for r in rows if r["artifact_type"] == "model"):
        deps = [by_id[d] for d in model["depends_on"]]
        assert [d["op"] for d in deps] in (["snv", "msc"], ["snv", "savgol"])
        assert all(d["fold_id"] == model["fold_id"] and d["chain_id"] == model["chain_id"] for d in deps)
        assert model["n_components"] == next(c.n_components for c in bundle_run.plan.chains
                                             if c.chain_id == model["chain_id"])


def test_shared_objects_are_stored_once_and_counted(bundle_run):
    rows = artifact_rows(bundle_run)
    blobs = {r["blob_sha256"] for r in rows}
    assert blobs <= blob_files(bundle_run.workspace)
    # the hoisted SNV is the same fitted object for every chain and fold: one blob referenced by 12 rows
    snv = {r["blob_sha256"] for r in rows if r["op"] == "snv"}
    assert len(snv) == 1
    assert all(r["ref_count"] == 12 for r in rows if r["op"] == "snv")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["blob_sha256"]] = counts.get(r["blob_sha256"], 0) + 1
    assert all(r["ref_count"] == counts[r["blob_sha256"]] for r in rows)
    assert len(blobs) < len(rows)


def test_a_second_identical_run_reuses_the_blobs_and_delete_drops_its_references(tmp_path, tecator_ds):
    ws = tmp_path / "ws"
    first = nirdag.run(SPEC, tecator_ds, workspace=ws, seed=0)
    files = blob_files(ws)
    second = nirdag.run(SPEC, tecator_ds, workspace=ws, seed=0, reuse=False)
    assert blob_files(ws) == files  # same data, spec and seed: the same fitted objects, byte for byte
    one, two = artifact_rows(first), artifact_rows(second)
    assert {r["blob_sha256"] for r in one} == {r["blob_sha256"] for r in two}
    snv_count = next(r["ref_count"] for r in two if r["op"] == "snv")
    assert snv_count == 24
    workspace = nirdag.Workspace(ws)
    assert workspace.artifact_stats().rows == 72 and workspace.artifact_stats().orphans == 0
    workspace.delete_run(second.run_id)
    assert all(r["ref_count"] == (12 if r["op"] == "snv" else r["ref_count"]) for r in artifact_rows(first))
    assert next(r["ref_count"] for r in artifact_rows(first) if r["op"] == "snv") == 12
    assert workspace.orphans() == []  # still referenced by the first run
    workspace.delete_run(first.run_id)
    orphans = workspace.orphans()
    assert {d for d, _ in orphans} == files
    assert workspace.cleanup(dry_run=True) == orphans and blob_files(ws) == files
    assert workspace.cleanup() == orphans
    assert blob_files(ws) == set() and workspace.artifact_stats().orphans == 0


def test_purge_drops_the_fitted_objects_of_a_dataset_and_keeps_the_runs(tmp_path, tecator_ds):
    ws = tmp_path / "ws"
    run = nirdag.run(SPEC, tecator_ds, workspace=ws, seed=0)
    workspace = nirdag.Workspace(ws)
    rows, blobs = workspace.purge(run.dataset_hash, dry_run=True)
    assert rows == 36 and set(blobs) == blob_files(ws)
    assert workspace.purge(run.dataset_hash) == (rows, blobs)
    assert blob_files(ws) == set() and artifact_rows(run) == []
    assert workspace.run_summary(run.run_id).column("status").to_pylist() == ["completed"]
    with pytest.raises(BundleError, match="kept no fitted objects"):
        run.export(tmp_path / "m.nirdag")


def test_a_failed_run_leaves_no_rows_and_no_blobs(tmp_path, tecator_ds):
    ws = tmp_path / "ws"
    (ws / "tables").mkdir(parents=True)
    (ws / "tables" / "artifacts").write_text("not a Delta table")  # the artifacts write fails, after the blobs
    with pytest.raises(Exception):  # noqa: B017 - whatever Delta raises; the run must clean up either way
        nirdag.run(SPEC, tecator_ds, workspace=ws, seed=0)
    assert blob_files(ws) == set()
    runs = nirdag.Workspace(ws).runs().to_pylist()
    assert [r["status"] for r in runs] == ["failed"]
    assert nirdag.query("SELECT count(*) AS n FROM predictions", ws).column("n").to_pylist() == [0]


def test_a_corrupted_blob_is_detected_on_load_and_rewritten_by_the_next_put(tmp_path, bundle_run):
    ws = tmp_path / "copy"
    shutil.copytree(bundle_run.workspace, ws)
    row = next(r for r in artifact_rows(bundle_run) if r["artifact_type"] == "model"
               and r["chain_id"] == bundle_run.best["chain_id"] and r["fold_id"] == "fold_final")
    blobs = Workspace(ws).blobs
    path = blobs.path(row["blob_sha256"])
    good = path.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x01
    path.write_bytes(bytes(bad))
    with pytest.raises(CorruptBlobError, match="corrupted"):
        blobs.get(row["blob_sha256"])
    with pytest.raises(BundleError, match=f"blob {path} is corrupted"):
        nirdag.replay(ws, bundle_run.run_id, bundle_run.dataset.select("test", copy=True))
    with pytest.raises(BundleError, match="corrupted"):
        nirdag.export(ws, bundle_run.run_id, tmp_path / "m.nirdag")
    assert blobs.put(good) == (row["blob_sha256"], True)  # dedup re-verified the hash: rewritten, not reused
    assert blobs.get(row["blob_sha256"]) == good
    assert blobs.put(good) == (row["blob_sha256"], False)


def test_exporting_a_chain_that_was_not_refit_names_the_refit_ones(bundle_run, tmp_path):
    other = next(c.chain_id for c in bundle_run.plan.chains
                 if c.chain_id not in {r["chain_id"] for r in artifact_rows(bundle_run)})
    with pytest.raises(BundleError, match="only refit chains"):
        bundle_run.export(tmp_path / "m.nirdag", chain=other)
    with pytest.raises(BundleError, match="chains matching"):
        bundle_run.export(tmp_path / "m.nirdag", chain="00000000")
