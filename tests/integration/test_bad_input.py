"""Bad input gets a typed error naming what is wrong, and leaves no half-written state in the workspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nirdag
from datafusion_engine import StoreError
from hamilton_pipeline.errors import NodeError
from nirs_core.data import SpectraDataset
from nirs_core.data.errors import EmptyDatasetError, MissingColumnError, SpectraFileError
from nirs_modelling import compute
from relspec import CompileError, SpecError

UNKNOWN_OP = """
target: fat
pipeline:
  - split: {kind: kfold, n_splits: 5}
  - branch:
      raw: []
      weird: [{op: wavelet_magic}]
  - model: {op: pls, n_components: 3}
"""


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _spec(target: str = "fat") -> dict:
    return {"target": target, "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                           {"model": {"op": "pls", "n_components": 2}}]}


def test_unknown_operator_names_the_spec_path_and_writes_nothing(tmp_path, tecator):
    spec = tmp_path / "bad.yaml"
    spec.write_text(UNKNOWN_OP, encoding="utf-8")
    ws = tmp_path / "ws"
    with pytest.raises(SpecError) as info:
        nirdag.run(spec, tecator, workspace=ws)
    message = str(info.value)
    assert "wavelet_magic" in message and "$.pipeline[1].branch" in message and "snv" in message
    assert str(spec) in message
    assert not ws.exists()


def test_missing_target_column_in_dataset(tmp_path, tecator):
    with pytest.raises(CompileError, match=r"'protein_x'.*\$\.target"):
        nirdag.run(_spec("protein_x"), tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_missing_target_column_in_csv(tmp_path):
    path = _csv(tmp_path / "spectra.csv", [["id", "900", "902", "904"], ["a", "0.1", "0.2", "0.3"]])
    with pytest.raises(MissingColumnError, match=r"spectra\.csv.*'fat'"):
        nirdag.load_csv(path, targets=["fat"], id_column="id")


def test_non_numeric_cell_names_file_row_and_column(tmp_path):
    rows = [["id", "900", "902", "fat"]] + [[f"s{i}", "0.1", "0.2", "10"] for i in range(6)]
    rows[4][2] = "0.2x"
    path = _csv(tmp_path / "spectra.csv", rows)
    with pytest.raises(SpectraFileError) as info:
        nirdag.load_csv(path, targets=["fat"], id_column="id")
    message = str(info.value)
    assert str(path) in message and "row 5" in message and "'902'" in message and "'0.2x'" in message


def test_empty_dataset(tmp_path):
    path = _csv(tmp_path / "empty.csv", [["id", "900", "902", "fat"]])
    with pytest.raises(EmptyDatasetError, match="no data rows"):
        nirdag.load_csv(path, targets=["fat"], id_column="id")


def test_dataset_without_train_rows_is_refused_before_the_workspace(tmp_path, tecator):
    only_test = SpectraDataset(
        name="only_test", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
        wavelengths=tecator.wavelengths, wavelength_unit="nm", targets=dict(tecator.targets),
        partition=np.full(tecator.n_samples, "test"),
    )
    with pytest.raises(CompileError, match="0 train rows"):
        nirdag.run(_spec(), only_test, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_workspace_path_that_is_a_file(tmp_path, tecator):
    blocker = tmp_path / "ws"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StoreError, match="not a directory"):
        nirdag.run(_spec(), tecator, workspace=blocker)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_missing_target_values_are_left_out_with_a_warning(tmp_path, tecator):
    y = np.array(tecator.target("fat"))
    y[3] = np.nan
    holes = SpectraDataset(
        name="holes", sample_ids=tecator.sample_ids, spectra=tecator.spectra, wavelengths=tecator.wavelengths,
        wavelength_unit="nm", targets={"fat": y}, partition=tecator.partition,
    )
    plan = nirdag.compile(_spec(), holes)
    assert 3 not in plan.final_fold.train_rows
    (finding,) = [f for f in plan.validation.findings if f.code == "missing_target"]
    assert "'fat' (1 train, 0 test)" in finding.message and "'4'" in finding.message


def test_failure_during_execution_marks_the_run_failed(tmp_path, tecator, monkeypatch):
    def broken_fold(*args, **kwargs):  # fault injection: a fold computation that dies mid-run
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(compute, "sweep_fold", broken_fold)
    ws = tmp_path / "ws"
    with pytest.raises(NodeError, match=r"node pls_sweep__fold_\d__\w+ .* failed: RuntimeError: disk on fire") as info:
        nirdag.run(_spec(), tecator, workspace=ws)
    assert isinstance(info.value.__cause__, RuntimeError)
    runs = nirdag.query("SELECT status, error, finished_at FROM runs", ws).to_pylist()
    assert len(runs) == 1
    assert runs[0]["status"] == "failed" and "disk on fire" in runs[0]["error"]
    assert runs[0]["finished_at"] is not None
    assert not (ws / "tables" / "predictions").exists()


@pytest.mark.parametrize(("step", "message"), [
    ({"op": "savgol", "window_length": 4}, "window_length must be an odd integer"),
    ({"op": "crop", "start": 850, "stop": 870}, r"n_components \[12\] exceed .* 10 columns"),
    ({"op": "osc", "n_components": 100}, "osc.*cannot run on this data"),
])
def test_step_parameters_the_data_refuses_fail_at_compile_time(tmp_path, tecator, step, message):
    spec = {"target": "fat", "pipeline": [{"split": {"kind": "kfold"}}, step,
                                          {"model": {"op": "pls", "n_components": 12}}]}
    with pytest.raises(CompileError, match=message):
        nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_label_target_is_refused_for_regression(tmp_path, tecator):
    labelled = SpectraDataset(
        name="labels", sample_ids=tecator.sample_ids, spectra=tecator.spectra, wavelengths=tecator.wavelengths,
        wavelength_unit="nm", targets={"grade": np.where(tecator.target("fat") > 20, "fat", "lean")},
        partition=tecator.partition,
    )
    with pytest.raises(CompileError, match="holds class labels"):
        nirdag.run(_spec("grade"), labelled, workspace=tmp_path / "ws")


def test_seed_override_reaches_generator_expansion(tecator):
    spec = {"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"op": "gaussian", "sigma": {"_sample_": {"distribution": "uniform", "low": 0.5, "high": 3.0, "n": 2}}},
        {"model": {"op": "pls", "n_components": 2}}]}
    labels = {s: sorted({c.preprocessing for c in nirdag.compile(spec, tecator, seed=s).chains}) for s in (1, 2)}
    assert labels[1] != labels[2]
    assert labels[1] == sorted({c.preprocessing for c in nirdag.compile(spec, tecator, seed=1).chains})
