"""Data in and out as a new user meets them on the command line (real subprocesses): conventional id/partition
columns detected and said, warnings on the terminal, dag on your data, run references, vendor-free predict files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nirdag

SPEC = """target: fat
pipeline:
  - split: {kind: kfold, n_splits: 4, shuffle: true}
  - {op: snv}
  - model: {op: pls, n_components: [3, 6]}
"""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def _csv(path: Path, *, headers: str = "nm", labels=("cal", "val"), gaps: tuple[int, ...] = ()) -> Path:
    ds = nirdag.datasets.tecator()
    axis = [f"ch{i:03d}" for i in range(ds.n_wavelengths)] if headers == "ch" else [f"{w:g}" for w in ds.wavelengths]
    lines = ["sample_id,Set,fat," + ",".join(axis)]
    for i in range(ds.n_samples):
        fat = "" if i in gaps else repr(float(ds.target("fat")[i]))
        label = labels[0] if ds.partition[i] == "train" else labels[1]
        lines.append(f"s{i},{label},{fat}," + ",".join(f"{v:.6f}" for v in ds.spectra[i]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("dio")
    (root / "spec.yaml").write_text(SPEC)
    _csv(root / "my.csv", gaps=(3,))
    out = cli("run", str(root / "spec.yaml"), "--data", str(root / "my.csv"), "-w", str(root / "ws"), "--top", "2")
    assert out.returncode == 0, out.stderr
    return root, out


def test_the_summary_says_what_was_detected_and_the_test_set_is_kept_apart(folder):
    _, out = folder
    assert "215 samples (172 train, 43 test)" in out.stdout
    assert "detected id column 'sample_id' and partition column 'Set'" in out.stdout
    best = next(line for line in out.stdout.splitlines() if "True" in line)
    assert "│ -" not in best.split("snv")[1]  # the refit chain has an RMSEP: the test rows were not trained on


def test_warnings_reach_the_terminal_once_and_quiet_silences_them(folder):
    root, out = folder
    assert out.stderr.count("warning [missing_target]") == 1 and "'s3'" in out.stderr
    quiet = cli("run", str(root / "spec.yaml"), "--data", str(root / "my.csv"), "-w", str(root / "ws"), "--quiet")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_dag_draws_a_spec_on_your_data(folder):
    root, _ = folder
    out = cli("dag", str(root / "spec.yaml"), "--data", str(root / "my.csv"), "-o", str(root / "dag.dot"))
    assert out.returncode == 0, out.stderr
    assert "digraph" in (root / "dag.dot").read_text()


def test_runs_are_named_by_prefix_or_latest(folder):
    root, _ = folder
    ws = str(root / "ws")
    listed = json.loads(cli("runs", "list", "-w", ws, "--format", "json").stdout)
    latest = listed[0]["run_id"]
    shown = cli("runs", "show", "latest", "-w", ws)
    assert shown.returncode == 0 and latest in shown.stdout
    assert latest in cli("runs", "show", latest[:-2], "-w", ws).stdout
    table = cli("runs", "list", "-w", ws).stdout
    assert all(r["run_id"] in table for r in listed)  # whole ids, never split across lines
    tree = cli("provenance", "latest", "-w", ws)
    assert tree.returncode == 0 and "view_join" not in tree.stdout and "view join decision(s) not shown" in tree.stdout
    assert "view_join" in cli("provenance", "latest", "-w", ws, "--verbose").stdout
    assert cli("export", "--run", "latest", "-o", str(root / "m.nirdag"), "-w", ws).returncode == 0
    missing = cli("runs", "show", "nope", "-w", ws)
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr


def test_predict_ignores_target_columns_and_maps_an_unnamed_axis_on_request(folder):
    root, _ = folder
    if not (root / "m.nirdag").exists():
        assert cli("export", "--run", "latest", "-o", str(root / "m.nirdag"), "-w", str(root / "ws")).returncode == 0
    new = _csv(root / "new.csv")  # holds the reference values too: `fat` must not be read as a spectrum
    out = cli("predict", str(root / "m.nirdag"), str(new), "-o", str(root / "p.csv"))
    assert out.returncode == 0, out.stderr
    assert "non-spectral column(s) 'fat'" in out.stderr
    unnamed = _csv(root / "ch.csv", headers="ch")
    refused = cli("predict", str(root / "m.nirdag"), str(unnamed), "-o", str(root / "q.csv"))
    assert refused.returncode == 1 and "wavelength" in refused.stderr
    mapped = cli("predict", str(root / "m.nirdag"), str(unnamed), "-o", str(root / "q.csv"), "--bundle-axis")
    assert mapped.returncode == 0, mapped.stderr
    assert (root / "p.csv").read_text().splitlines()[1:4] == (root / "q.csv").read_text().splitlines()[1:4]


def test_version_help_and_unknown_tables(folder):
    root, _ = folder
    assert cli("--version").stdout.startswith("nirdag ")
    assert "<bool>" not in cli("run", "--help").stdout
    out = cli("query", "SELECT * FROM nosuch", "-w", str(root / "ws"))
    assert out.returncode == 1 and "tables: artifacts, chains" in out.stderr and "views: v_aggregated" in out.stderr


def test_integer_grades_as_labels_from_the_command_line(tmp_path):
    ds = nirdag.datasets.tecator()
    grade = np.digitize(ds.target("fat"), [10, 25]) + 1
    lines = ["id,grade," + ",".join(f"{w:g}" for w in ds.wavelengths)]
    lines += [f"s{i},{grade[i]}," + ",".join(f"{v:.6f}" for v in ds.spectra[i]) for i in range(120)]
    (tmp_path / "g.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "s.yaml").write_text("target: grade\npipeline:\n  - split: {kind: kfold, n_splits: 3}\n"
                                     "  - model: {op: plsda, n_components: [2, 4]}\n")
    out = cli("run", str(tmp_path / "s.yaml"), "--data", str(tmp_path / "g.csv"), "--label-target", "grade",
              "-w", str(tmp_path / "ws"))
    assert out.returncode == 0, out.stderr
    assert "(class labels: grade)" in out.stdout and "3 classes" in out.stdout
