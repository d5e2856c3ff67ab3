"""A swept Savitzky-Golay window whose best value is the largest the run tried: a warning finding in the run's
provenance, re-derived here from the stored chains table, printed by `nirdag run` (and silent with --quiet)."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

import nirdag

SPEC = {"name": "edge", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3}},
    {"op": "savgol", "window_length": {"_range_": [5, 21, 4]}, "polyorder": 2, "deriv": 1},
    {"model": {"op": "pls", "n_components": [6, 8]}}]}


def test_a_best_window_at_the_top_of_its_range_is_a_warning(tmp_path):
    path, ws = tmp_path / "edge.yaml", tmp_path / "ws"
    path.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nirdag", "run", str(path), "-w", str(ws)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "warning: the best chain" in done.stderr and "a larger value might do better" in done.stderr
    quiet = subprocess.run([sys.executable, "-m", "nirdag", "run", str(path), "-w", str(ws), "--quiet"],
                           capture_output=True, text=True, check=False)  # the same run, reused
    assert quiet.returncode == 0 and "warning" not in quiet.stderr

    run = nirdag.Workspace(ws).run("latest")
    rows = run.sql(f"SELECT preprocessing, rank FROM chains WHERE run_id = '{run.run_id}'").to_pylist()
    window = {r["rank"]: int(re.search(r"window_length=(\d+)", r["preprocessing"]).group(1)) for r in rows}
    tried = sorted(set(window.values()))
    assert tried == [5, 9, 13, 17, 21]
    edges = [d for d in run.provenance.decisions if d.evidence.get("code") == "swept_at_edge"]
    assert bool(edges) == (window[1] in (tried[0], tried[-1]))
    assert window[1] == 21  # on Tecator the widest window wins: the range should go on
    (edge,) = edges
    assert edge.evidence["path"] == "$.pipeline[1].window_length" and edge.depends_on == ("ranking",)
    assert "window_length=21, the largest of the values the run tried (5, 9, 13, 17, 21)" in edge.summary
    assert edge.summary in done.stderr.replace("\n", " ")
