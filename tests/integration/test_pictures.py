"""DAG pictures: folds collapsed unless asked, readable labels, executed runs coloured by duration."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import nirdag
from hamilton_pipeline.errors import PictureError
from hamilton_pipeline.picture import write_dag


def test_folds_are_collapsed_by_default_and_expanded_on_request(tecator):
    dr = nirdag.build_driver("examples/tecator_pls.yaml", tecator)
    collapsed = nirdag.api.dag_graph(dr).source
    expanded = nirdag.api.dag_graph(dr, folds=True).source
    assert len(re.findall(r"^\s*pls_sweep__folds__[0-9a-f]{8} \[", collapsed, re.M)) == 4
    assert len(re.findall(r"^\s*pls_sweep__fold_\d__[0-9a-f]{8} \[", expanded, re.M)) == 20
    assert "PLS 1..15 · 5 folds" in collapsed and "PLS 1..15 · fold_3" in expanded
    assert "snv · all rows" in collapsed and "CV · snv > savgol(window_length=15, polyorder=2, deriv=1)" in collapsed


def test_an_executed_run_is_drawn_with_durations(tecator_run, tmp_path):
    source = tecator_run.dag().source
    assert re.search(r"PLS 1\.\.15 · 5 folds\n\d+\.\d ms", source)
    assert "fillcolor=\"#ff" in source


def test_a_workspace_run_is_rebuilt_from_what_the_workspace_stores(tecator_run):
    again = nirdag.Workspace(tecator_run.workspace).run(tecator_run.run_id)
    assert [c.chain_id for c in again.plan.chains] == [c.chain_id for c in tecator_run.plan.chains]
    assert again.dataset.content_hash == tecator_run.dataset_hash


def test_cli_draws_a_run_and_refuses_spec_and_run_together(tecator_run, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "nirdag", "dag", *args], capture_output=True, text=True,
                              timeout=120, check=False)

    out = cli("--run", tecator_run.run_id, "-w", str(tecator_run.workspace), "-o", str(tmp_path / "run.dot"))
    assert out.returncode == 0, out.stderr
    assert " ms" in (tmp_path / "run.dot").read_text()
    both = cli("examples/tecator_pls.yaml", "--run", tecator_run.run_id, "-o", str(tmp_path / "x.dot"))
    assert both.returncode == 2 and "one of them" in both.stderr


def test_without_the_dot_binary_svg_says_how_to_install_and_dot_still_works(tecator, tmp_path, monkeypatch):
    dr = nirdag.build_driver("examples/tecator_pls.yaml", tecator)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on this PATH
    with pytest.raises(PictureError, match=r"apt-get install -y graphviz.*-o dag\.dot"):
        write_dag(dr, tmp_path / "dag.svg")
    assert write_dag(dr, tmp_path / "dag.dot").read_text().startswith("digraph nirdag")
