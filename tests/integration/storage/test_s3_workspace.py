"""A workspace on a real S3-compatible server (moto): a run writes every table, blob, document and cache entry into
the bucket and answers exactly as the same run into a folder; export to s3:// and predict from there; the CLI takes
s3:// workspaces; no object and no row holds the secret; bad locations fail in one line, writing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from tests.integration.storage.moto_server import ACCESS_KEY, SECRET_KEY

import nirdag
from nirs_core.errors import NirdagError

SPEC = {"name": "s3_small", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 6]}}}], "refit": {"metric": "rmse", "top_k": 1}}
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "tecator_pls.yaml"
PREDICTIONS = ("SELECT chain_id, fold_id, partition, sample_id, target, y_pred FROM predictions "
               "ORDER BY chain_id, fold_id, partition, sample_id, target")


@pytest.fixture(scope="module")
def s3_run(moto_s3, tecator):
    bucket = moto_s3.create_bucket("nirdag-ws-module")
    handle = nirdag.Workspace(f"s3://{bucket}/lab/ws", storage_options=moto_s3.options)
    # every node stored: what the cost-based admission keeps depends on measured seconds, not on the store
    result = nirdag.run(SPEC, tecator, workspace=handle, seed=0, cache_admission="all")
    return bucket, handle, result


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory, tecator):
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("s3ref") / "ws", seed=0)


def _rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def test_a_run_into_s3_writes_every_table_and_answers_like_a_folder_run(s3_run, folder_run):
    _, handle, result = s3_run
    tables = handle.handle.layout.existing_tables()
    assert set(tables) == set(folder_run.handle.layout.existing_tables())
    assert all(url.startswith("s3://nirdag-ws-module/lab/ws/tables/") for url in tables.values())
    s3_predictions = nirdag.query(PREDICTIONS, handle, max_rows=None)
    assert s3_predictions.num_rows > 0
    assert s3_predictions.equals(nirdag.query(PREDICTIONS, folder_run.workspace, max_rows=None))
    ranked = "SELECT chain_id, rank, cv_loss FROM chains ORDER BY rank"
    assert _rows(nirdag.query(ranked, handle)) == _rows(nirdag.query(ranked, folder_run.workspace))
    assert result.best["chain_id"] == folder_run.best["chain_id"]


def test_blobs_documents_and_cache_entries_are_objects_of_the_bucket(moto_s3, s3_run, tecator):
    bucket, handle, result = s3_run
    keys = set(moto_s3.objects(bucket))
    assert any(k.startswith("lab/ws/blobs/sha256/") for k in keys)
    assert f"lab/ws/provenance/{result.run_id}/decision_provenance.json" in keys
    assert any(k.startswith("lab/ws/cache/v1/") and k.endswith(".entry") for k in keys)
    blobs = nirdag.query("SELECT DISTINCT blob_sha256 FROM artifacts", handle).column(0).to_pylist()
    assert blobs and all(len(handle.handle.blobs.get(b)) > 0 for b in blobs)  # each verified by its sha256
    assert result.provenance.run_id == result.run_id  # the document read back from the bucket
    assert handle.cache_stats().entries > 0
    again = nirdag.run(SPEC, tecator, workspace=handle, seed=0, reuse=False, cache_admission="all")
    hits = handle.handle.session().query("SELECT count(*) AS n FROM node_metrics WHERE run_id = $run AND "
                                         "cache = 'hit'", run=again.run_id).column("n")[0].as_py()
    assert hits > 0  # the second run reused the node cache stored in the bucket
    _, _, scan = nirdag.query_with_metrics("SELECT count(*) FROM scores", handle)
    assert scan.startswith(f"s3://{bucket}/lab/ws/provenance/scans/") and scan.split(f"s3://{bucket}/")[1] in \
        moto_s3.objects(bucket)
    handle.delete_run(again.run_id)  # rows and documents of the run go; the first run stays whole
    keys = set(moto_s3.objects(bucket))
    assert not any(k.startswith(f"lab/ws/provenance/{again.run_id}/") for k in keys)
    assert f"lab/ws/provenance/{result.run_id}/decision_provenance.json" in keys
    left = nirdag.query("SELECT DISTINCT run_id FROM predictions", handle, all_runs=True).column(0).to_pylist()
    assert left == [result.run_id]


def test_export_to_s3_and_predict_from_there_equal_the_workspace_replay(moto_s3, s3_run, tecator):
    bucket, handle, result = s3_run
    uri = f"s3://{bucket}/bundles/fat.nirdag"
    assert nirdag.export(handle, result.run_id, uri) == uri
    new = tecator.select("test", copy=True)
    from_bundle = nirdag.predict(uri, new, storage_options=moto_s3.options)
    assert from_bundle.equals(nirdag.replay(handle, result.run_id, new))


def test_no_object_and_no_row_of_the_workspace_holds_the_secret(moto_s3, s3_run):
    bucket, handle, _ = s3_run
    for key, data in moto_s3.objects(bucket).items():
        assert SECRET_KEY.encode() not in data, key
        assert ACCESS_KEY.encode() not in data, key
    for table in handle.handle.layout.existing_tables():
        text = str(nirdag.query(f"SELECT * FROM {table}", handle, max_rows=None, all_runs=True).to_pylist())
        assert SECRET_KEY not in text and ACCESS_KEY not in text, table
    assert SECRET_KEY not in repr(handle) and SECRET_KEY not in str(handle.handle)


def _nirdag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_the_cli_reads_exports_and_predicts_through_s3(moto_s3, s3_run, tecator, tmp_path):
    bucket, _, result = s3_run
    env = {**os.environ, **{k: v for k, v in moto_s3.options.items() if k != "AWS_ENDPOINT_URL"}}
    endpoint = ["--storage-option", f"AWS_ENDPOINT_URL={moto_s3.endpoint}"]
    listed = _nirdag(*endpoint, "runs", "list", "-w", f"s3://{bucket}/lab/ws", env=env)
    assert listed.returncode == 0, listed.stderr
    assert result.run_id in listed.stdout
    out = f"s3://{bucket}/cli/model.nirdag"
    exported = _nirdag(*endpoint, "export", "--run", result.run_id, "-w", f"s3://{bucket}/lab/ws", "-o", out,
                       env=env)
    assert exported.returncode == 0, exported.stderr
    assert f"wrote {out}" in exported.stdout
    assert "lab/ws" not in {k.split("/cli/")[0] for k in moto_s3.objects(bucket) if "/cli/" in k}
    assert "cli/model.nirdag" in moto_s3.objects(bucket)
    new = tecator.select("test", copy=True)
    csv = tmp_path / "new.csv"
    pacsv.write_csv(pa.table({"id": [str(i) for i in new.sample_ids],
                              **{f"{w:g}": new.spectra[:, j] for j, w in enumerate(new.wavelengths)}}), csv)
    predicted = _nirdag(*endpoint, "predict", out, str(csv), "--id-column", "id", "-o", str(tmp_path / "p.csv"),
                        env=env)
    assert predicted.returncode == 0, predicted.stderr
    got = pacsv.read_csv(tmp_path / "p.csv").column("y_pred").to_numpy()
    expected = nirdag.predict(out, new, storage_options=moto_s3.options).column("y_pred").to_numpy()
    assert got.shape == expected.shape and abs(got - expected).max() < 1e-9  # the CSV round-trips the floats
    unknown = _nirdag("--storage-option", "AWS_SECRET=x", "runs", "list", "-w", f"s3://{bucket}/lab/ws", env=env)
    assert unknown.returncode == 1 and "unknown storage option 'AWS_SECRET'" in unknown.stderr
    alone = _nirdag("run", str(EXAMPLE), "--scheduler", "tcp://127.0.0.1:1", env=env)
    assert alone.returncode == 2 and "--scheduler needs --executor dask" in alone.stderr


@pytest.mark.parametrize("case", ["unreachable", "missing bucket", "no credentials"])
def test_a_run_into_a_bad_s3_location_fails_in_one_line_and_writes_nothing(moto_s3, bucket, tecator, case,
                                                                             monkeypatch):
    options = dict(moto_s3.options)
    uri = f"s3://{bucket}/ws"
    if case == "unreachable":
        options["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    elif case == "missing bucket":
        uri = "s3://nirdag-no-such-bucket/ws"
    else:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(key, raising=False)
        options = {k: v for k, v in options.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    start = time.monotonic()
    with pytest.raises(NirdagError) as failed:  # a StoreError or StorageError: the CLI prints one line
        nirdag.run(SPEC, tecator, workspace=nirdag.Workspace(uri, storage_options=options), seed=0)
    assert time.monotonic() - start < 20.0
    message = str(failed.value)
    assert "\n" not in message and SECRET_KEY not in message
    assert {"unreachable": "cannot reach", "missing bucket": "does not exist",
            "no credentials": "no credentials"}[case] in message
    assert moto_s3.objects(bucket) == {}
