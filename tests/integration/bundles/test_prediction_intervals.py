"""Split-conformal prediction intervals of a bundle: equal to a plain numpy computation from the run's stored
out-of-fold predictions, empirical coverage of held-out synthetic rows within ±3 % of 80/90/95 %, the same from a
workspace replay, typed errors for what cannot have one (an old bundle, a classifier, a bad coverage), the CLI."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest
from tests.integration.bundles.helpers import column, members, resealed, rezip

import nirdag
from nirdag.bundle import BundleError, read_bundle, wide_predictions
from nirs_core.data.synthetic import synthetic
from nirs_core.diagnostics import latent_of

COVERAGES = (0.8, 0.9, 0.95)


def _out_of_fold(run, chain_id):
    return run.sql(f"SELECT fold_id, sample_id, y_true, y_pred FROM predictions WHERE run_id = '{run.run_id}' AND "
                   f"chain_id = '{chain_id}' AND partition = 'val' AND fold_id <> 'fold_final'").to_pylist()


def _plain_quantile(scores, coverage):
    ordered = np.sort(np.asarray(scores))
    rank = math.ceil((len(ordered) + 1) * coverage - 1e-9)
    return np.inf if rank > len(ordered) else ordered[rank - 1]


@pytest.mark.parametrize("coverage", COVERAGES)
def test_absolute_interval_is_the_conformal_quantile_of_the_stored_out_of_fold_residuals(
        bundle_run, bundle_file, test_rows, coverage):
    rows = _out_of_fold(bundle_run, bundle_run.best["chain_id"])
    q = _plain_quantile([abs(r["y_true"] - r["y_pred"]) for r in rows], coverage)
    out = nirdag.predict(bundle_file, test_rows, interval=coverage)
    y_pred = column(out, "y_pred")
    np.testing.assert_allclose(column(out, "y_lower"), y_pred - q, rtol=0, atol=1e-12)
    np.testing.assert_allclose(column(out, "y_upper"), y_pred + q, rtol=0, atol=1e-12)
    assert out.column_names[:5] == ["sample_id", "target", "y_pred", "y_lower", "y_upper"]


def _stored_dataset(run):
    from datafusion_engine import Workspace
    from datafusion_engine.spectra_store import load_stored_dataset

    handle = Workspace.of(run.workspace)
    return load_stored_dataset(handle, run.sql(f"SELECT dataset_hash FROM runs WHERE run_id = '{run.run_id}'"
                                                ).column(0)[0].as_py())


def test_leverage_scores_use_each_fold_models_own_training_rows(bundle_run, bundle_file):
    """Independently: the fold's training rows are the refit rows minus its validation rows (checked by the fold
    model's own x_mean_), and h = 1/n + diag(Tv (T'T)^-1 Tv') by a matrix inverse rather than the score sums."""
    chain = read_bundle(bundle_file).chain
    rows = _out_of_fold(bundle_run, chain.chain_id)
    data = _stored_dataset(bundle_run)
    index = {s: i for i, s in enumerate(data.sample_ids.tolist())}
    train_ids = [r["sample_id"] for r in bundle_run.sql(
        f"SELECT sample_id FROM predictions WHERE run_id = '{bundle_run.run_id}' AND chain_id = '{chain.chain_id}' "
        "AND fold_id = 'fold_final' AND partition = 'train'").to_pylist()]
    expected = []
    for stage in chain.folds:
        fold = [r for r in rows if r["fold_id"] == stage.fold_id]
        held = {r["sample_id"] for r in fold}
        X_train = stage.transform(data.spectra[[index[s] for s in train_ids if s not in held]])
        latent = latent_of(stage.model, chain.n_components)
        np.testing.assert_allclose(latent.x_mean, X_train.mean(axis=0), rtol=0, atol=1e-10)
        T = (X_train - X_train.mean(axis=0)) @ latent.rotations
        X_val = stage.transform(data.spectra[[index[r["sample_id"]] for r in fold]])
        Tv = (X_val - latent.x_mean) @ latent.rotations
        h = 1.0 / X_train.shape[0] + np.einsum("ij,jk,ik->i", Tv, np.linalg.inv(T.T @ T), Tv)
        expected += (abs(r["y_true"] - r["y_pred"]) / np.sqrt(1.0 + hi) for r, hi in zip(fold, h, strict=True))
    stored = read_bundle(bundle_file).manifest.calibration.leverage[0]
    np.testing.assert_allclose(stored, np.sort(expected), rtol=1e-9, atol=1e-12)


def test_leverage_interval_widens_with_the_new_spectrums_leverage(bundle_run, bundle_file, test_rows):
    chain = read_bundle(bundle_file).chain
    q = _plain_quantile(chain.calibration.leverage[0], 0.9)
    out = nirdag.predict(bundle_file, test_rows, interval=0.9, interval_scale="leverage")
    diag = {r["sample_id"]: r["leverage"] for r in bundle_run.sql(
        f"SELECT sample_id, leverage FROM sample_diagnostics WHERE run_id = '{bundle_run.run_id}' AND chain_id = "
        f"'{chain.chain_id}' AND partition = 'test'").to_pylist()}
    h = np.asarray([diag[s] for s in out.column("sample_id").to_pylist()])
    half = (column(out, "y_upper") - column(out, "y_lower")) / 2
    np.testing.assert_allclose(half, q * np.sqrt(1.0 + h), rtol=1e-9)


def test_replay_from_the_workspace_gives_the_bundles_intervals(bundle_run, bundle_file, test_rows):
    for scale in ("absolute", "leverage"):
        from_bundle = nirdag.predict(bundle_file, test_rows, interval=0.9, interval_scale=scale)
        replayed = nirdag.replay(bundle_run.workspace, bundle_run.run_id, test_rows, interval=0.9,
                                 interval_scale=scale)
        assert replayed.select(["y_lower", "y_upper"]).equals(from_bundle.select(["y_lower", "y_upper"]))


def test_wide_predictions_name_the_bounds_after_the_target(bundle_file, test_rows):
    wide = wide_predictions(nirdag.predict(bundle_file, test_rows, interval=0.9))
    assert wide.column_names[:4] == ["sample_id", "fat", "fat_lower", "fat_upper"]


def test_a_version_2_bundle_asked_for_an_interval_says_it_has_no_calibration(bundle_file, test_rows, tmp_path):
    def downgrade(manifest, _):
        manifest["schema_version"] = 2
        del manifest["calibration"]

    old = rezip(tmp_path / "v2.nirdag", resealed(members(bundle_file), downgrade))
    assert nirdag.predict(old, test_rows).num_rows == test_rows.n_samples  # still predicts without one
    with pytest.raises(BundleError, match=r"no calibration residuals.*schema_version 2.*export the chain again"):
        nirdag.predict(old, test_rows, interval=0.9)


@pytest.mark.parametrize("coverage", [0.0, 1.0, 90.0, -0.5])
def test_a_coverage_outside_zero_one_is_a_typed_error(bundle_file, test_rows, coverage):
    with pytest.raises(BundleError, match="strictly between 0 and 1"):
        nirdag.predict(bundle_file, test_rows, interval=coverage)


def test_a_classifier_gets_a_typed_error_not_an_interval(bundle_file):
    chain = dataclasses.replace(read_bundle(bundle_file).chain, calibration=None, classes=("low", "high"))
    with pytest.raises(BundleError, match="is a classifier: prediction intervals are for regression"):
        chain.check_interval(0.9, "absolute")


def test_cli_predict_interval_adds_the_bounds_and_refuses_a_bad_coverage(bundle_file, test_rows, tmp_path):
    data = tmp_path / "new.csv"
    lines = ["sample_id," + ",".join(f"{w:g}" for w in test_rows.wavelengths)]
    lines += [f"{sid}," + ",".join(repr(float(v)) for v in row)
              for sid, row in zip(test_rows.sample_ids, test_rows.spectra, strict=True)]
    data.write_text("\n".join(lines) + "\n")
    run = [sys.executable, "-m", "nirdag", "predict", str(bundle_file), str(data), "-o", str(tmp_path / "p.csv")]
    ok = subprocess.run([*run, "--interval", "0.9"], capture_output=True, text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    header = (tmp_path / "p.csv").read_text().splitlines()[0].replace('"', "").split(",")
    assert header[:5] == ["sample_id", "target", "y_pred", "y_lower", "y_upper"]
    bad = subprocess.run([*run, "--interval", "90"], capture_output=True, text=True, timeout=300, check=False)
    assert bad.returncode == 1 and "strictly between 0 and 1" in bad.stderr


@pytest.fixture(scope="module")
def synthetic_bundle(tmp_path_factory):
    """2,000 calibration rows (5-fold CV out-of-fold residuals) and 3,000 held-out rows of seeded synthetic data."""
    data = synthetic(5000, 64, seed=3, test_fraction=0.6, noise=2e-3)
    spec = {"name": "coverage", "target": "y", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 8]}}}], "refit": {"metric": "rmse", "top_k": 1}}
    root = tmp_path_factory.mktemp("coverage")
    run = nirdag.run(spec, data, workspace=root / "ws", seed=0)
    return run.export(root / "m.nirdag"), data.select("test", copy=True)


@pytest.mark.parametrize("scale", ["absolute", "leverage"])
@pytest.mark.parametrize("coverage", COVERAGES)
def test_empirical_coverage_of_held_out_rows_is_within_three_percent_of_nominal(synthetic_bundle, scale, coverage):
    # with 2,000 calibration and 3,000 test rows the coverage's standard deviation is about 1 % at 80 % (the
    # calibration's Beta spread and the test rows' binomial spread together): ±3 % is about 3 of them
    bundle, test = synthetic_bundle
    out = nirdag.predict(bundle, test, interval=coverage, interval_scale=scale)
    y = test.target("y")
    covered = (y >= column(out, "y_lower")) & (y <= column(out, "y_upper"))
    assert abs(covered.mean() - coverage) <= 0.03
