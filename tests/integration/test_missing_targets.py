"""Rows without a reference value (an empty cell: NaN, or an empty label) are left out of fitting and scoring with a
warning finding, and the run equals one on the dataset without those rows."""

from __future__ import annotations

import numpy as np

import nirdag
from nirs_core.data import SpectraDataset

SPEC = {"target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}, {"op": "snv"},
    {"model": {"op": "pls", "n_components": [3, 6]}}]}


def _subset(ds: SpectraDataset, rows: np.ndarray, fat: np.ndarray) -> SpectraDataset:
    return SpectraDataset(name="t", sample_ids=ds.sample_ids[rows], spectra=ds.spectra[rows],
                          wavelengths=ds.wavelengths, wavelength_unit="nm", partition=ds.partition[rows],
                          targets={"fat": fat[rows]})


def test_rows_without_a_reference_value_are_left_out_and_reported(tecator, tmp_path):
    fat = tecator.target("fat").copy()
    gaps = [3, 7, 180]
    fat[gaps] = np.nan
    everything = np.arange(tecator.n_samples)
    with_gaps = nirdag.run(SPEC, _subset(tecator, everything, fat), workspace=tmp_path / "a")
    kept = np.setdiff1d(everything, gaps)
    without = nirdag.run(SPEC, _subset(tecator, kept, fat), workspace=tmp_path / "b")
    warnings = [f for f in with_gaps.validation.findings if f.code == "missing_target"]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "2 train and 1 test rows" in warnings[0].message and "'4'" in warnings[0].message
    assert with_gaps.best["rmsecv"] == without.best["rmsecv"]
    assert with_gaps.best["rmsep"] == without.best["rmsep"]
    ids = set(with_gaps.sql("SELECT DISTINCT sample_id FROM predictions").column("sample_id").to_pylist())
    assert not ids & {tecator.sample_ids[g] for g in gaps}


def test_an_empty_label_is_not_measured(labelled, tmp_path):
    grade = labelled.target("grade").copy()
    grade[[0, 1]] = ""
    ds = SpectraDataset(name="g", sample_ids=labelled.sample_ids, spectra=labelled.spectra,
                        wavelengths=labelled.wavelengths, wavelength_unit="nm", partition=labelled.partition,
                        targets={"grade": grade})
    spec = {"target": "grade", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}, {"model": {"op": "plsda", "n_components": 3}}]}
    run = nirdag.run(spec, ds, workspace=tmp_path / "ws")
    assert run.plan.classes == ("high", "low", "mid")
    assert 0 not in run.plan.final_fold.train_rows and 1 not in run.plan.final_fold.train_rows
    assert any(f.code == "missing_target" for f in run.validation.findings)
