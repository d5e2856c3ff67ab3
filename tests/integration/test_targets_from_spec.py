"""The spec says what its target is: a column loaded as metadata becomes the target, integer class codes declared
labels (`target: {name, kind: label}` or `label_targets=`) are modelled as classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nirdag
from nirs_core.data import SpectraDataset
from relspec import CompileError

SPLIT = {"split": {"kind": "kfold", "n_splits": 3}}


def _graded(tecator) -> SpectraDataset:
    grade = np.digitize(tecator.target("fat"), [10, 25]) + 1.0  # 1, 2, 3 as numbers
    return SpectraDataset(name="g", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                          wavelengths=tecator.wavelengths, wavelength_unit="nm", partition=tecator.partition,
                          targets={"grade": grade})


def test_integer_codes_declared_labels_are_classes(tecator, tmp_path):
    spec = {"target": {"name": "grade", "kind": "label"}, "pipeline": [
        SPLIT, {"model": {"op": "plsda", "n_components": [3]}}]}
    run = nirdag.run(spec, _graded(tecator), workspace=tmp_path / "ws")
    assert run.plan.task == "classification" and run.plan.classes == ("1", "2", "3")
    labels = set(run.sql("SELECT DISTINCT label_true FROM predictions").column("label_true").to_pylist())
    assert labels == {"1", "2", "3"}


def test_plsda_on_numeric_codes_says_how_to_declare_them(tecator):
    spec = {"target": "grade", "pipeline": [SPLIT, {"model": {"op": "plsda", "n_components": [3]}}]}
    with pytest.raises(CompileError, match=r"target: \{name: grade, kind: label\}.*--label-target grade"):
        nirdag.compile(spec, _graded(tecator))


def test_a_label_target_declared_numeric_is_refused(labelled):
    spec = {"target": {"name": "grade", "kind": "numeric"}, "pipeline": [
        SPLIT, {"model": {"op": "pls", "n_components": [3]}}]}
    with pytest.raises(CompileError, match=r"declared numeric \(at `\$.target.kind`\)"):
        nirdag.compile(spec, labelled)


def _csv(tecator, path: Path, target: str) -> Path:
    header = ["sample_id", "partition", target, *(str(w) for w in tecator.wavelengths)]
    rows = [",".join(header)]
    for i in range(60):
        values = [f"s{i}", "train" if i < 45 else "test", str(tecator.target("fat")[i]),
                  *(f"{v:.6f}" for v in tecator.spectra[i])]
        rows.append(",".join(values))
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_column_not_named_in_targets_is_read_as_the_spec_target(tecator, tmp_path):
    data = nirdag.load_dataset(_csv(tecator, tmp_path / "my.csv", "oil"))
    assert data.load_notes == ("id column 'sample_id'", "partition column 'partition'")
    assert data.target_names == () and "oil" in data.metadata.column_names
    spec = {"target": "oil", "pipeline": [SPLIT, {"model": {"op": "pls", "n_components": [3]}}]}
    run = nirdag.run(spec, data, workspace=tmp_path / "ws")
    named = nirdag.run(spec, nirdag.load_dataset(tmp_path / "my.csv", targets=["oil"]), workspace=tmp_path / "ws2")
    assert run.best["rmsecv"] == named.best["rmsecv"] and run.best["rmsep"] == named.best["rmsep"]


def test_label_targets_on_load(tecator, tmp_path):
    path = _csv(tecator, tmp_path / "g.csv", "grade")
    text = path.read_text().splitlines()
    out = [text[0]]
    for line in text[1:]:
        cells = line.split(",")
        cells[2] = str(int(np.digitize(float(cells[2]), [10, 25]) + 1))
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")
    data = nirdag.load_dataset(path, targets=["grade"], label_targets=["grade"])
    assert data.is_label_target("grade") and set(data.target("grade")) <= {"1", "2", "3"}
