"""Bundles derived from a bundle: a calibration transfer attached (`transfer`), the chain retrained (`retrain`)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

import nirdag
from nirdag.bundle.archive import read_bundle
from nirdag.bundle.derive import DeriveError
from nirdag.bundle.errors import BundleError, SpectraMismatchError
from nirs_core.data import SpectraDataset
from nirs_core.transfer import fit_pds

KEY = "derived-bundle-test-key"


def _instrument_b(X: np.ndarray) -> np.ndarray:
    idx = np.arange(X.shape[1], dtype=np.float64)
    return gaussian_filter1d(np.stack([np.interp(idx - 1.0, idx, row) for row in X]), 1.5, axis=1, mode="nearest")


def _like(
    ds: SpectraDataset,
    spectra: np.ndarray | None = None,
    *,
    ids=None,
    targets=None,
    wavelengths=None,
    name: str = "derived",
) -> SpectraDataset:
    return SpectraDataset(
        name=name,
        sample_ids=ds.sample_ids if ids is None else ids,
        spectra=ds.spectra if spectra is None else spectra,
        wavelengths=ds.wavelengths if wavelengths is None else wavelengths,
        wavelength_unit=ds.wavelength_unit,
        targets={"fat": ds.target("fat")} if targets is None else targets,
        partition=np.full(ds.n_samples, "train"),
    )


@pytest.fixture(scope="module")
def signed_bundle(bundle_run, tmp_path_factory):
    return nirdag.export(
        bundle_run.workspace, bundle_run.run_id, tmp_path_factory.mktemp("signed") / "s.nirdag", key=KEY
    )


@pytest.fixture(scope="module")
def train_rows(tecator_ds):
    return tecator_ds.select("train", copy=True)


@pytest.fixture(scope="module")
def standards(train_rows):
    primary = train_rows.slice(0, 25)
    return primary, _like(primary, _instrument_b(primary.spectra))


def _pred(bundle, data) -> np.ndarray:
    return nirdag.predict(bundle, data).column("y_pred").to_numpy()


def test_a_pds_transfer_is_applied_before_the_chain_and_the_bundle_records_its_parent(
    signed_bundle, standards, test_rows, tmp_path
):
    bundle_file = signed_bundle
    primary, secondary = standards
    out = nirdag.attach_transfer(
        bundle_file, primary, secondary, tmp_path / "b.nirdag", method="pds", window=3, key=KEY
    )
    loaded = read_bundle(out, key=KEY)
    m, parent = loaded.manifest, read_bundle(bundle_file, key=KEY)
    assert loaded.signature_verified and m.schema_version == 3 and m.derived_by == "transfer_pds"
    assert m.parent_bundle_hash == hashlib.sha256(bundle_file.read_bytes()).hexdigest()
    assert m.data_hash == hashlib.sha256(f"{primary.content_hash}\n{secondary.content_hash}".encode()).hexdigest()
    assert m.members == parent.manifest.members  # the chain's objects are the parent's
    X_b = _instrument_b(test_rows.spectra)
    expected = parent.chain.predict(fit_pds(primary.spectra, secondary.spectra, window=3).apply(X_b))["y_pred"][:, 0]
    np.testing.assert_allclose(_pred(loaded, X_b), expected, rtol=1e-12, atol=1e-12)
    y = test_rows.target("fat")
    rmse = {
        name: float(np.sqrt(np.mean((p - y) ** 2)))
        for name, p in (
            ("primary", _pred(parent, test_rows.spectra)),
            ("raw", _pred(parent, X_b)),
            ("transferred", _pred(loaded, X_b)),
        )
    }
    assert rmse["transferred"] < rmse["raw"], rmse
    with pytest.raises(BundleError):
        read_bundle(out, key="another key")


def test_a_slope_bias_transfer_corrects_the_predictions(bundle_file, standards, tmp_path):
    primary, secondary = standards
    out = nirdag.attach_transfer(bundle_file, primary, secondary, tmp_path / "sb.nirdag", method="slope-bias")
    parent = read_bundle(bundle_file).chain
    y_p, y_s = parent.predict(primary.spectra)["y_pred"][:, 0], parent.predict(secondary.spectra)["y_pred"][:, 0]
    slope, intercept = np.polyfit(y_s, y_p, 1)
    correction = read_bundle(out).manifest.correction
    assert abs(slope - 1) > 1e-3 or abs(intercept) > 1e-3  # the instruments' predictions really differ
    np.testing.assert_allclose([correction.slope[0], correction.intercept[0]], [slope, intercept], rtol=1e-9)
    np.testing.assert_allclose(_pred(out, secondary.spectra), intercept + slope * y_s, rtol=1e-9)


def test_transfer_standards_that_do_not_pair_are_refused_with_counts(bundle_file, standards, tmp_path):
    primary, secondary = standards
    out = tmp_path / "never.nirdag"
    renamed = _like(secondary, ids=[*secondary.sample_ids[:-2], "x1", "x2"])
    with pytest.raises(DeriveError, match="25 primary, 25 secondary, 23 matched"):
        nirdag.attach_transfer(bundle_file, primary, renamed, out)
    few = primary.slice(0, 3)
    with pytest.raises(DeriveError, match="3 matched transfer pairs, at least 5"):
        nirdag.attach_transfer(bundle_file, few, _like(few, few.spectra + 0.01), out)
    other_axis = _like(secondary, wavelengths=secondary.wavelengths + 5.0)
    with pytest.raises(DeriveError, match="resample them onto one axis"):
        nirdag.attach_transfer(bundle_file, primary, other_axis, out)
    assert not out.exists()


def test_full_retrain_on_the_training_rows_gives_the_engines_refit(signed_bundle, train_rows, test_rows, tmp_path):
    bundle_file = signed_bundle
    out = nirdag.retrain(bundle_file, train_rows, tmp_path / "full.nirdag", mode="full", key=KEY)
    loaded = read_bundle(out, key=KEY)
    assert loaded.manifest.derived_by == "retrain_full" and loaded.manifest.data_hash == train_rows.content_hash
    assert [f.fold_id for f in loaded.manifest.folds] == ["fold_final"]
    assert loaded.manifest.domain is not None and loaded.manifest.domain.n == train_rows.n_samples
    parent = read_bundle(bundle_file, key=KEY)
    np.testing.assert_allclose(_pred(loaded, test_rows), _pred(parent, test_rows), rtol=1e-9, atol=1e-9)


def test_full_retrain_fits_new_data_and_transfer_mode_keeps_the_preprocessing(bundle_file, test_rows, tmp_path):
    shifted = _like(test_rows, targets={"fat": test_rows.target("fat") + 3.0})
    full = read_bundle(nirdag.retrain(bundle_file, shifted, tmp_path / "f.nirdag", mode="full"))
    kept = read_bundle(nirdag.retrain(bundle_file, shifted, tmp_path / "t.nirdag", mode="transfer"))
    parent = read_bundle(bundle_file)
    assert kept.manifest.folds[0].steps == parent.manifest.folds[0].steps  # the same fitted step objects
    assert kept.manifest.folds[0].model != parent.manifest.folds[0].model
    for derived in (full, kept):  # a model of the new data: its calibration bias is ~0 on the +3 targets
        assert abs(np.mean(_pred(derived, shifted) - shifted.target("fat"))) < 1e-8


def test_bias_retrain_fits_slope_and_intercept_on_reference_samples(bundle_file, test_rows, tmp_path):
    y_pred = _pred(bundle_file, test_rows)
    reference = _like(test_rows, targets={"fat": 1.5 + 1.1 * test_rows.target("fat")})
    out = nirdag.retrain(bundle_file, reference, tmp_path / "bias.nirdag", mode="bias")
    slope, intercept = np.polyfit(y_pred, reference.target("fat"), 1)
    loaded = read_bundle(out)
    assert loaded.manifest.members == read_bundle(bundle_file).manifest.members
    np.testing.assert_allclose(_pred(loaded, test_rows), intercept + slope * y_pred, rtol=1e-9)


def test_retrain_data_without_the_target_or_on_another_axis_is_refused_before_writing(bundle_file, test_rows, tmp_path):
    out = tmp_path / "never.nirdag"
    no_target = _like(test_rows, targets={"protein": test_rows.target("protein")})
    with pytest.raises(DeriveError, match=r"has no target column \['fat'\]"):
        nirdag.retrain(bundle_file, no_target, out, mode="full")
    with pytest.raises(SpectraMismatchError, match="differs from training"):
        nirdag.retrain(bundle_file, _like(test_rows, wavelengths=test_rows.wavelengths * 1.1), out, mode="bias")
    missing = test_rows.target("fat").copy()
    missing[:4] = np.nan
    with pytest.raises(DeriveError, match="retrain mode 'partial' is not one of"):
        nirdag.retrain(bundle_file, test_rows, out, mode="partial")
    with pytest.raises(DeriveError, match="transfer method 'lsq' is not one of"):
        nirdag.attach_transfer(bundle_file, test_rows, test_rows, out, method="lsq")
    with pytest.raises(DeriveError, match="4 of 43 rows have no value"):
        nirdag.retrain(bundle_file, _like(test_rows, targets={"fat": missing}), out, mode="transfer")
    assert not out.exists()


@pytest.fixture(scope="module")
def classifier_bundle(labelled, tmp_path_factory):
    spec = {
        "target": "grade",
        "seed": 0,
        "pipeline": [
            {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
            {"op": "snv"},
            {"model": {"op": "plsda", "n_components": 5}},
        ],
    }
    run = nirdag.run(spec, labelled, workspace=tmp_path_factory.mktemp("cls") / "ws")
    return run.export(tmp_path_factory.mktemp("cls_export") / "cls.nirdag")


def _graded(labelled, rows, grades=None) -> SpectraDataset:
    return SpectraDataset(
        name="graded",
        sample_ids=labelled.sample_ids[rows],
        spectra=labelled.spectra[rows],
        wavelengths=labelled.wavelengths,
        wavelength_unit="nm",
        partition=np.full(rows.size, "train"),
        targets={"grade": labelled.target("grade")[rows] if grades is None else grades},
    )


def test_a_classifier_retrains_on_labels_and_refuses_unknown_ones(classifier_bundle, labelled, tmp_path):
    train, test = labelled.rows("train"), labelled.rows("test")
    out = nirdag.retrain(classifier_bundle, _graded(labelled, train), tmp_path / "cls.nirdag", mode="full")
    got = nirdag.predict(out, labelled.spectra[test]).column("y_pred").to_pylist()
    assert got == nirdag.predict(classifier_bundle, labelled.spectra[test]).column("y_pred").to_pylist()
    assert 0.5 < read_bundle(out).manifest.metrics["retrain_accuracy"] <= 1.0
    odd = np.where(np.arange(test.size) < 3, "extra", labelled.target("grade")[test])
    with pytest.raises(DeriveError, match=r"labels \['extra'\] of 'grade' are not classes of the chain"):
        nirdag.retrain(classifier_bundle, _graded(labelled, test, odd), tmp_path / "never.nirdag", mode="transfer")
    with pytest.raises(DeriveError, match="classifier: retrain --mode bias"):
        nirdag.retrain(classifier_bundle, _graded(labelled, test), tmp_path / "never.nirdag", mode="bias")
    assert not (tmp_path / "never.nirdag").exists()
