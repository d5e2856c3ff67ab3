"""`nirdag transfer` and `nirdag retrain` as a user runs them (subprocesses): a bundle written, a refusal that writes
nothing (the retrain modes themselves are tested through the API in test_derived_bundles.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from nirdag.bundle.archive import read_bundle
from nirdag.bundle.signing import KEY_ENV


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )


def _csv(path: Path, ds, X: np.ndarray, targets: dict[str, np.ndarray]) -> Path:
    columns = {"id": pa.array(list(ds.sample_ids)), **{k: pa.array(v) for k, v in targets.items()}}
    columns.update({repr(float(w)): pa.array(col) for w, col in zip(ds.wavelengths, X.T, strict=True)})
    pacsv.write_csv(pa.table(columns), path)
    return path


def test_transfer_writes_a_derived_bundle_and_a_refused_retrain_writes_nothing(bundle_file, test_rows, tmp_path):
    X = test_rows.spectra
    primary = _csv(tmp_path / "p.csv", test_rows, X, {})
    secondary = _csv(tmp_path / "s.csv", test_rows, np.roll(X, 1, axis=1), {})
    done = _cli(
        "transfer",
        str(bundle_file),
        "--primary",
        str(primary),
        "--secondary",
        str(secondary),
        "--method",
        "ds",
        "--components",
        "8",
        "--id-column",
        "id",
        "-o",
        "ds.nirdag",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert read_bundle(tmp_path / "ds.nirdag").manifest.transfer.n_components == 8

    no_fat = _csv(tmp_path / "nofat.csv", test_rows, X, {"protein": test_rows.target("protein")})
    refused = _cli(
        "retrain",
        str(bundle_file),
        "--data",
        str(no_fat),
        "--mode",
        "full",
        "--id-column",
        "id",
        "-o",
        "never.nirdag",
        cwd=tmp_path,
    )
    assert refused.returncode == 1 and "fat" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "never.nirdag").exists()
