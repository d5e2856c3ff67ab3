"""The `nirdag` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import pytest


def nirdag(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("cli") / "demo"
    out = nirdag("demo", "--workspace", str(ws), "--top", "5")
    assert out.returncode == 0, out.stderr
    return ws, out.stdout


def test_demo_prints_the_ranked_table_and_the_workspace(demo_ws):
    ws, stdout = demo_ws
    assert "Top 5 of 60 chains by RMSECV" in stdout
    for column in ("rank", "preprocessing", "n_components", "rmsecv", "rmsep"):
        assert column in stdout
    assert str(ws) in stdout


def test_run_with_the_example_spec(tmp_path, example_spec):
    out = nirdag("run", str(example_spec), "--workspace", str(tmp_path / "ws"), "--top", "3")
    assert out.returncode == 0, out.stderr
    assert "Top 3 of 60 chains" in out.stdout and "snv" in out.stdout


def test_query_formats(demo_ws):
    ws, _ = demo_ws
    sql = "SELECT fold_id, count(*) AS n FROM predictions WHERE partition = 'val' GROUP BY fold_id ORDER BY fold_id"
    as_csv = nirdag("query", sql, "--workspace", str(ws), "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["fold_id"] for r in rows] == [f"fold_{i}" for i in range(5)]
    assert sum(int(r["n"]) for r in rows) == 60 * 172
    as_json = nirdag("query", sql, "--workspace", str(ws), "--format", "json")
    assert json.loads(as_json.stdout) == [{"fold_id": r["fold_id"], "n": int(r["n"])} for r in rows]
    as_table = nirdag("query", sql, "--workspace", str(ws))
    assert "fold_4" in as_table.stdout


def test_query_refuses_writes_with_one_line(demo_ws):
    ws, _ = demo_ws
    out = nirdag("query", "DELETE FROM runs", "--workspace", str(ws))
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error:") and len(out.stderr.strip().splitlines()) == 1


def test_query_on_a_missing_workspace(tmp_path):
    out = nirdag("query", "SELECT 1", "--workspace", str(tmp_path / "nothing"))
    assert out.returncode == 1 and "does not exist" in out.stderr


def test_dag_writes_dot_without_graphviz_binary(tmp_path, example_spec):
    out = nirdag("dag", str(example_spec), "-o", str(tmp_path / "dag.dot"))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "dag.dot").read_text()
    assert text.startswith("digraph nirdag") and "pls_sweep__folds__" in text and "snv__" in text
    assert "savgol(window_length=15, polyorder=2, deriv=1)" in text  # labels say operator and params


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` binary not installed")
def test_dag_writes_svg(tmp_path, example_spec):
    out = nirdag("dag", str(example_spec), "-o", str(tmp_path / "dag.svg"))
    assert out.returncode == 0, out.stderr
    assert "<svg" in (tmp_path / "dag.svg").read_text()


def test_bad_spec_is_one_line_and_exit_1(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("target: fat\npipeline:\n  - {op: snv, size: 3}\n", encoding="utf-8")
    out = nirdag("run", str(spec), "--workspace", str(tmp_path / "ws"))
    assert out.returncode == 1
    assert "unknown field `size`" in out.stderr and "$.pipeline[0]" in out.stderr
    assert not (tmp_path / "ws").exists()


def test_run_on_a_csv_with_several_target_columns(tmp_path, example_spec, tecator):
    path = tmp_path / "tec.csv"
    header = ["id", "set", *[f"{w:.4f}" for w in tecator.wavelengths], "fat", "moisture"]
    lines = [",".join(header)]
    for i in range(tecator.n_samples):
        values = [f"{v!r}" for v in tecator.spectra[i].tolist()]
        lines.append(",".join([str(tecator.sample_ids[i]), str(tecator.partition[i]), *values,
                               repr(float(tecator.target("fat")[i])), repr(float(tecator.target("moisture")[i]))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = nirdag("run", str(example_spec), "--data", str(path), "--id-column", "id", "--partition-column", "set",
                 "--targets", "fat,moisture", "--workspace", str(tmp_path / "ws"), "--top", "1")
    assert out.returncode == 0, out.stderr
    assert "215 samples (172 train, 43 test) x 100 spectral columns, axis 850..1050 nm" in out.stdout
    assert "targets ['fat', 'moisture']" in out.stdout
    assert "2.0921" in out.stdout  # same best RMSECV as the embedded Tecator run


def test_dag_labels_name_operators_and_folds(tmp_path, example_spec):
    out = nirdag("dag", str(example_spec), "-o", str(tmp_path / "dag.dot"))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "dag.dot").read_text()
    assert "snv · all rows" in text and "PLS 1..15 · 5 folds" in text
    assert "CV · snv > savgol(window_length=15, polyorder=2, deriv=1) > PLS 1..15" in text


def test_schema_prints_the_json_schema_of_the_spec(tmp_path):
    out = nirdag("schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema["title"] == "nirdag pipeline spec" and "pipeline" in schema["required"]
    assert nirdag("schema", "-o", str(tmp_path / "s.json")).returncode == 0
    assert json.loads((tmp_path / "s.json").read_text()) == schema


def test_a_branch_name_used_twice_is_refused_with_its_lines(tmp_path):
    spec = tmp_path / "dup.yaml"
    spec.write_text("target: fat\npipeline:\n  - split: {kind: kfold}\n  - branch:\n      snv: [{op: snv}]\n"
                    "      snv: [{op: msc}]\n  - model: {op: pls, n_components: 2}\n")
    out = nirdag("run", str(spec), "--workspace", str(tmp_path / "ws"))
    assert out.returncode == 1
    assert "branch name 'snv' used twice in one mapping (lines 5 and 6)" in out.stderr
    assert not (tmp_path / "ws").exists()


def test_views_lists_every_view_with_its_columns(demo_ws):
    ws, _ = demo_ws
    out = nirdag("views", "--workspace", str(ws), "--format", "json")
    assert out.returncode == 0, out.stderr
    listed = {v["view"]: v for v in json.loads(out.stdout)}
    assert list(listed) == ["v_ranked_chains", "v_ranked_classifiers", "v_chain_scores", "v_top_chains",
                            "v_fold_scores", "v_refit", "v_preprocessing_effect", "v_aggregated_predictions",
                            "v_aggregated_scores", "v_runs", "v_sample_domain"]
    assert all(v["description"] and v["columns"] for v in listed.values())
    assert "best_chain_id" in listed["v_runs"]["columns"]


def test_query_metrics_reports_the_scan(demo_ws):
    ws, _ = demo_ws
    out = nirdag("query", "SELECT count(*) AS n FROM v_fold_scores", "--workspace", str(ws), "--metrics",
                 "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1] == "602"  # 60 chains x 5 folds x (val, test) + the refit on train, test
    assert "files (0 pruned)" in out.stderr and "scores@v" in out.stderr and "provenance/scans/" in out.stderr
