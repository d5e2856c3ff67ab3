"""A small pipeline run through ``nirdag.run`` on the same spectra given as xlsx and as a MATLAB file: both load,
run and rank the same chains as the CSV (real Hamilton, Delta and SQL)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pyarrow.compute as pc
import scipy.io

import nirdag

SPEC = {
    "name": "formats_pls", "target": "fat", "seed": 0,
    "pipeline": [{"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
                 {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
                 {"model": {"op": "pls", "n_components": [1, 2, 3]}}],
}


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic spectra rounded to 9 decimals: openpyxl writes numbers with 15-16 significant digits (Excel keeps
    15), so unrounded float64 values would not survive the xlsx file exactly."""
    ds = nirdag.datasets.synthetic(40, 30, seed=3)
    y = ds.target(sorted(ds.targets)[0])
    return (np.round(ds.spectra, 9), np.round(ds.wavelengths, 6), np.round(y, 9),
            np.where(np.arange(40) < 30, "train", "test"))


def _xlsx(path: Path) -> Path:
    X, axis, y, partition = _data()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "partition", "fat", *map(float, axis)])
    for i in range(X.shape[0]):
        sheet.append([f"s{i + 1}", str(partition[i]), float(y[i]), *map(float, X[i])])
    book.save(path)
    return path


def _mat(path: Path) -> Path:
    X, axis, y, partition = _data()
    scipy.io.savemat(path, {"X": X, "y": y, "wavelengths": axis, "target_names": np.array(["fat"]),
                            "sample_ids": np.array([f"s{i + 1}" for i in range(40)], dtype=object),
                            "partition": np.asarray(partition, dtype=object)})
    return path


def test_xlsx_and_mat_runs_rank_the_same_chains(tmp_path: Path) -> None:
    from_xlsx = nirdag.load_dataset(_xlsx(tmp_path / "lab.xlsx"), targets=["fat"], id_column="id",
                                    partition_column="partition")
    from_mat = nirdag.load_dataset(_mat(tmp_path / "lab.mat"))
    assert from_xlsx.content_hash == from_mat.content_hash
    runs = [nirdag.run(SPEC, ds, workspace=tmp_path / f"ws_{name}")
            for name, ds in (("xlsx", from_xlsx), ("mat", from_mat))]
    tops = [run.top(6) for run in runs]
    assert tops[0].num_rows == 6
    assert tops[0].column("rmsecv").to_pylist() == tops[1].column("rmsecv").to_pylist()
    assert pc.all(pc.is_finite(tops[0].column("rmsecv"))).as_py()
    assert runs[0].dataset_hash == runs[1].dataset_hash == from_xlsx.content_hash
