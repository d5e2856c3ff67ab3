"""`nirdag predict` and the applicability domain: the verdict counts and the flagged spectra on stderr, `--fail-on
outlier|extreme` exiting 3, and the line saying a bundle carries no domain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import nirdag
from nirdag.bundle.signing import KEY_ENV


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def _shifted(X: np.ndarray, amplitude: float = 1.0) -> np.ndarray:
    """A spectrum with a strong sloped baseline added: 0 at the first wavelength, ``amplitude`` at the last."""
    return X + amplitude * np.linspace(0.0, 1.0, X.shape[-1])


def _verdicts(bundle: Path, X: np.ndarray) -> list[str]:
    return nirdag.predict(bundle, np.atleast_2d(X)).column("domain").to_pylist()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=cwd)


def _csv(path: Path, ids: list[str], X: np.ndarray, wavelengths: np.ndarray) -> Path:
    columns = {"id": pa.array(ids)}
    columns.update({repr(float(w)): pa.array(col) for w, col in zip(wavelengths, X.T, strict=True)})
    pacsv.write_csv(pa.table(columns), path)
    return path


def _extreme(bundle: Path, x: np.ndarray) -> np.ndarray:
    """``x`` (regular) with a sloped baseline just large enough to be extreme (beyond 95 %, within 99 %): bisect
    the amplitude between regular (0) and outlier (1); T² and Q are continuous in it, so extreme lies between."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        verdict = _verdicts(bundle, _shifted(x, middle))[0]
        if verdict == "extreme":
            return _shifted(x, middle)
        low, high = (middle, high) if verdict == "regular" else (low, middle)
    raise AssertionError("no amplitude gives an extreme spectrum")


@pytest.fixture(scope="module")
def spectra_files(bundle_file, test_rows, tmp_path_factory) -> dict[str, Path]:
    """CSV files of regular test spectra only, of those plus a shifted outlier, and plus one extreme spectrum."""
    folder = tmp_path_factory.mktemp("domain_cli")
    X, ids, axis = np.asarray(test_rows.spectra), test_rows.sample_ids.tolist(), test_rows.wavelengths
    regular = np.asarray(_verdicts(bundle_file, X)) == "regular"
    Xr, idr = X[regular], [i for i, keep in zip(ids, regular, strict=True) if keep]
    assert len(idr) >= 30
    return {
        "regular": _csv(folder / "regular.csv", idr, Xr, axis),
        "outlier": _csv(folder / "outlier.csv", [*idr, "shifted"], np.vstack([Xr, _shifted(Xr[0])]), axis),
        "extreme": _csv(folder / "extreme.csv", [*idr, "nudged"], np.vstack([Xr, _extreme(bundle_file, Xr[0])]),
                        axis),
    }


def test_the_cli_counts_the_verdicts_and_names_the_spectra_that_are_not_regular(bundle_file, spectra_files,
                                                                                 tmp_path):
    done = _cli("predict", str(bundle_file), str(spectra_files["outlier"]), "--id-column", "id", "-o", "p.csv",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    n = len((tmp_path / "p.csv").read_text().splitlines()) - 1
    assert f"domain: {n - 1} regular, 0 extreme, 1 outlier of {n} spectra (T² or Q above the 95 % / 99 % limits)" \
        in done.stderr
    assert "not regular: shifted (outlier)" in done.stderr
    header = (tmp_path / "p.csv").read_text().splitlines()[0]
    assert header == '"sample_id","target","y_pred","t2","q","t2_ratio","q_ratio","domain"'


def test_fail_on_outlier_exits_3_only_when_an_outlier_is_present(bundle_file, spectra_files, tmp_path):
    for name, code in (("regular", 0), ("extreme", 0), ("outlier", 3)):
        done = _cli("predict", str(bundle_file), str(spectra_files[name]), "--id-column", "id", "--fail-on",
                    "outlier", "-o", f"{name}.csv", cwd=tmp_path)
        assert done.returncode == code, (name, done.stderr)
        assert (tmp_path / f"{name}.csv").is_file()  # the predictions are written before failing
    assert "failing (--fail-on outlier): 1 of" in done.stderr


def test_fail_on_extreme_exits_3_on_an_extreme_spectrum_and_on_an_outlier(bundle_file, spectra_files, tmp_path):
    for name, code in (("regular", 0), ("extreme", 3), ("outlier", 3)):
        done = _cli("predict", str(bundle_file), str(spectra_files[name]), "--id-column", "id", "--fail-on",
                    "extreme", cwd=tmp_path)
        assert done.returncode == code, (name, done.stderr)
        if name == "extreme":
            assert "not regular: nudged (extreme)" in done.stderr


def test_an_unknown_fail_on_level_is_a_usage_error(bundle_file, spectra_files, tmp_path):
    done = _cli("predict", str(bundle_file), str(spectra_files["regular"]), "--id-column", "id", "--fail-on",
                "severe", cwd=tmp_path)
    assert done.returncode == 2 and "severe" in done.stderr and "outlier" in done.stderr


def test_the_cli_says_when_a_bundle_carries_no_domain_and_fail_on_refuses_it(v1_bundle, spectra_files, tmp_path):
    done = _cli("predict", str(v1_bundle), str(spectra_files["outlier"]), "--id-column", "id", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "domain: not judged: the model carries no applicability domain (the bundle was written before" \
        in done.stderr
    done = _cli("predict", str(v1_bundle), str(spectra_files["outlier"]), "--id-column", "id", "--fail-on",
                "outlier", cwd=tmp_path)
    assert done.returncode == 1 and "error: --fail-on outlier: the predictions cannot be judged" in done.stderr
