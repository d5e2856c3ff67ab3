"""Run -> export -> predict gives the run's stored test predictions (1e-12), via the API, the CLI and replay."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from tests.integration.bundles.helpers import column, stored

import nirdag
from nirdag.bundle import read_bundle

TOL = 1e-12


def refit_chains(run) -> list[str]:
    return run.sql(f"SELECT chain_id FROM chains WHERE run_id = '{run.run_id}' AND refit ORDER BY chain_id"
                   ).column("chain_id").to_pylist()


def test_bundle_predictions_equal_the_stored_refit_test_predictions(bundle_run, bundle_file, test_rows):
    out = nirdag.predict(bundle_file, test_rows)
    expected = stored(bundle_run, bundle_run.best["chain_id"], "fold_final")
    ids = out.column("sample_id").to_pylist()
    assert sorted(ids) == sorted(expected) and len(ids) == 43
    np.testing.assert_allclose(column(out, "y_pred"), [expected[i] for i in ids], rtol=0, atol=TOL)
    assert set(out.column("target").to_pylist()) == {"fat"}


def test_every_refit_chain_and_every_fold_model_reproduces_its_stored_predictions(bundle_run, test_rows, tmp_path):
    chains = refit_chains(bundle_run)
    assert len(chains) == 3
    for chain_id in chains:
        loaded = read_bundle(bundle_run.export(tmp_path / f"{chain_id[:8]}.nirdag", chain=chain_id))
        assert loaded.manifest.chain.chain_id == chain_id
        fitted = loaded.chain
        ids = test_rows.sample_ids.tolist()
        for stage in fitted.stages:
            expected = stored(bundle_run, chain_id, stage.fold_id)
            got = stage.predict(np.asarray(test_rows.spectra), fitted.n_components)[:, 0]  # (n, 1): one target
            np.testing.assert_allclose(got, [expected[i] for i in ids], rtol=0, atol=TOL, err_msg=stage.fold_id)
        folds = [stored(bundle_run, chain_id, f"fold_{k}") for k in range(3)]
        mean = fitted.predict(np.asarray(test_rows.spectra), fold_mean=True)["y_pred_fold_mean"][:, 0]
        np.testing.assert_allclose(mean, [np.mean([f[i] for f in folds]) for i in ids], rtol=0, atol=TOL)


def test_train_rows_give_the_stored_in_sample_refit_predictions(bundle_run, bundle_file, tecator_ds):
    train = tecator_ds.select("train", copy=True)
    out = nirdag.predict(bundle_file, np.asarray(train.spectra), sample_ids=train.sample_ids)
    expected = stored(bundle_run, bundle_run.best["chain_id"], "fold_final", "train")
    np.testing.assert_allclose(column(out, "y_pred"), [expected[i] for i in out.column("sample_id").to_pylist()],
                               rtol=0, atol=TOL)


def test_chain_replay_from_the_workspace_equals_the_bundle(bundle_run, bundle_file, test_rows):
    replayed = nirdag.replay(bundle_run.workspace, bundle_run.run_id, test_rows, fold_mean=True)
    from_bundle = nirdag.predict(bundle_file, test_rows, fold_mean=True)
    assert replayed.equals(from_bundle)


def test_manifest_records_chain_axis_target_dataset_and_metrics(bundle_run, bundle_file, tecator_ds):
    m = read_bundle(bundle_file).manifest
    assert m.run_id == bundle_run.run_id and m.training_dataset_hash == tecator_ds.content_hash
    assert m.target_names == ("fat",) and m.wavelength_unit == tecator_ds.wavelength_unit
    assert np.array_equal(m.wavelengths, tecator_ds.wavelengths)
    assert m.chain.steps[0].op == "snv" and len(m.chain.steps) == 3 and m.chain.steps[-1].role == "model"
    assert m.chain.n_components == bundle_run.best["n_components"]
    assert m.metrics["cv_rmse"] == pytest.approx(bundle_run.best["rmsecv"], rel=1e-12)
    assert m.metrics["final_test_rmse"] == pytest.approx(bundle_run.best["rmsep"], rel=1e-12)
    assert [f.fold_id for f in m.folds] == ["fold_final", "fold_0", "fold_1", "fold_2"]


def test_cli_export_then_predict_a_csv_without_targets(bundle_run, test_rows, tmp_path):
    spectra = {"id": pa.array(test_rows.sample_ids)}
    spectra.update({repr(float(w)): pa.array(col) for w, col in zip(test_rows.wavelengths, test_rows.spectra.T,
                                                                    strict=True)})
    pacsv.write_csv(pa.table(spectra), tmp_path / "new.csv")
    bundle = tmp_path / "cli.nirdag"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                              check=False, cwd=tmp_path)

    out = cli("export", "--run", bundle_run.run_id, "-w", str(bundle_run.workspace), "-o", str(bundle))
    assert out.returncode == 0, out.stderr
    assert "unsigned" in out.stdout
    out = cli("predict", str(bundle), "new.csv", "--id-column", "id", "-o", "pred.csv", "--fold-mean")
    assert out.returncode == 0, out.stderr
    with (tmp_path / "pred.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    expected = stored(bundle_run, bundle_run.best["chain_id"], "fold_final")
    assert len(rows) == 43 and list(rows[0]) == ["sample_id", "target", "y_pred", "y_pred_fold_mean", "t2",
                                                "q", "t2_ratio", "q_ratio", "domain"]
    assert max(abs(float(r["y_pred"]) - expected[r["sample_id"]]) for r in rows) <= TOL
    out = cli("predict", "new.csv", "--run", bundle_run.run_id, "-w", str(bundle_run.workspace), "--id-column", "id",
              "-o", "replay.csv")
    assert out.returncode == 0, out.stderr
    with (tmp_path / "replay.csv").open() as fh:
        replay = {r["sample_id"]: float(r["y_pred"]) for r in csv.DictReader(fh)}
    assert max(abs(replay[k] - expected[k]) for k in expected) <= TOL


@pytest.mark.parametrize("y_op", ["standard", "power"])
def test_a_chain_with_y_processing_predicts_on_the_target_scale(tecator_ds, test_rows, tmp_path, y_op):
    spec = {"name": "y", "target": "fat", "seed": 0, "refit": {"metric": "rmse", "top_k": 1},
            "pipeline": [{"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}}, {"op": "msc"},
                         {"y_processing": {"op": y_op}}, {"model": {"op": "pls", "n_components": [4, 8]}}]}
    run = nirdag.run(spec, tecator_ds, workspace=tmp_path / "ws", seed=0)
    types = run.sql("SELECT DISTINCT artifact_type FROM artifacts ORDER BY artifact_type").column(0).to_pylist()
    assert types == ["model", "transformer", "y_transform"]
    loaded = read_bundle(run.export(tmp_path / "y.nirdag"))
    assert all(f.y_transform is not None for f in loaded.manifest.folds)
    assert [s.role for s in loaded.manifest.chain.steps] == ["transformer", "y_transform", "model"]
    out = nirdag.predict(loaded, test_rows, fold_mean=True)
    chain_id = run.best["chain_id"]
    expected = stored(run, chain_id, "fold_final")
    ids = out.column("sample_id").to_pylist()
    np.testing.assert_allclose(column(out, "y_pred"), [expected[i] for i in ids], rtol=0, atol=TOL)
    folds = [stored(run, chain_id, f"fold_{k}") for k in range(3)]
    np.testing.assert_allclose(column(out, "y_pred_fold_mean"), [np.mean([f[i] for f in folds]) for i in ids],
                               rtol=0, atol=TOL)
