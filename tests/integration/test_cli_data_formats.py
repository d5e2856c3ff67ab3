"""`nirdag run --data` on files a lab would hand over, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import nirdag

SPEC = """\
name: snv_pls
target: y
seed: 0
pipeline:
  - split: {kind: kfold, n_splits: 3, shuffle: true}
  - branch:
      snv: [{op: snv}]
  - model: {op: pls, n_components: {_range_: [1, 5]}}
"""


def nirdag_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def _spec(folder: Path) -> Path:
    path = folder / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _write_rows(path: Path, rows: np.ndarray, sep: str) -> None:
    path.write_text("".join(sep.join(repr(float(v)) for v in row) + "\n" for row in np.atleast_2d(rows)),
                    encoding="utf-8")


def test_run_on_a_headerless_nirs4all_folder_prints_the_ranked_chains(tmp_path):
    data = nirdag.datasets.synthetic(80, 40, seed=11, test_fraction=0.25)  # rows 0-59 train (cal), 60-79 test (val)
    folder = tmp_path / "lab"
    folder.mkdir()
    cal, val = data.rows("train"), data.rows("test")
    _write_rows(folder / "Xcal.csv", data.spectra[cal], ";")
    _write_rows(folder / "Xval.csv", data.spectra[val], ";")
    _write_rows(folder / "Ycal.csv", data.target("y")[cal][:, None], ";")
    _write_rows(folder / "Yval.csv", data.target("y")[val][:, None], ";")
    out = nirdag_cli("run", str(_spec(tmp_path)), "--data", str(folder), "--workspace", str(tmp_path / "ws"),
                     "--top", "5")
    assert out.returncode == 0, out.stderr
    assert "80 samples (60 train, 20 test) x 40 spectral columns, axis 0..39 index" in out.stdout
    assert "Top 5 of 5 chains by RMSECV (target 'y'" in out.stdout
    for column in ("rank", "preprocessing", "n_components", "rmsecv", "rmsep"):
        assert column in out.stdout
    assert "snv" in out.stdout
    assert str((tmp_path / "ws").resolve()) in out.stdout


def test_nan_spectrum_fails_with_one_line_unless_dropped(tmp_path):
    data = nirdag.datasets.synthetic(30, 20, seed=5)
    spectra = data.spectra.copy()
    spectra[7, 3] = np.nan
    path = tmp_path / "lab.csv"
    lines = [",".join(["sample", "y", *(repr(float(w)) for w in data.wavelengths)])]
    for i in range(data.n_samples):
        lines.append(",".join([f"lab-{i:03d}", repr(float(data.target("y")[i])),
                               *(repr(float(v)) for v in spectra[i])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = _spec(tmp_path)
    common = ("--data", str(path), "--id-column", "sample", "--top", "1")

    refused = nirdag_cli("run", str(spec), *common, "--workspace", str(tmp_path / "ws1"))
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("error:")
    assert "lab-007 (row 8)" in refused.stderr and "NaN or inf" in refused.stderr
    assert not (tmp_path / "ws1").exists()

    dropped = nirdag_cli("run", str(spec), *common, "--drop-nonfinite", "--workspace", str(tmp_path / "ws2"))
    assert dropped.returncode == 0, dropped.stderr
    warning = [line for line in dropped.stderr.splitlines() if line.startswith("warning:") and "dropped" in line]
    assert len(warning) == 1 and "dropped 1 spectra" in warning[0] and "lab-007" in warning[0]
    assert "29 samples (29 train, 0 test) x 20 spectral columns" in dropped.stdout
    assert "Top 1 of 5 chains" in dropped.stdout
