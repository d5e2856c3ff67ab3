"""Start-up: the read-only verbs load only what they use (a fresh interpreter per verb, its modules listed after)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Run the CLI in this interpreter, then print which heavy libraries it had loaded (exit codes are the CLI's own).
_PROBE = """
import json, sys
watch = json.loads(sys.argv[2])
sys.argv = ["nirdag", *json.loads(sys.argv[1])]
from nirdag.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nLOADED " + json.dumps(sorted(m for m in watch if m in sys.modules)) + "\\n")
"""
ENGINE = ["sklearn", "scipy", "hamilton", "skops", "matplotlib", "jinja2", "openpyxl", "h5py"]
EVERY = [*ENGINE, "pandas", "datafusion", "deltalake", "optuna"]


def loaded(args: list[str], watch: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(watch)], capture_output=True,
                          text=True, timeout=120, check=False)
    line = next((x for x in done.stderr.splitlines() if x.startswith("LOADED ")), None)
    assert line is not None, done.stderr
    assert "error:" not in done.stderr, done.stderr
    return json.loads(line.removeprefix("LOADED "))


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["predict", "--help"], ["report", "--help"],
                                  ["--version"]])
def test_help_loads_no_engine_and_no_storage(args):
    assert loaded(args, EVERY) == []


def test_read_only_verbs_load_no_modelling_engine(tecator_run):
    ws = str(tecator_run.workspace)
    for args in (["runs", "list", "-w", ws], ["runs", "show", "latest", "-w", ws],
                 ["query", "SELECT count(*) AS n FROM predictions", "-w", ws], ["views", "-w", ws]):
        assert loaded(args, ENGINE) == [], args


def test_a_run_without_tune_loads_no_optuna(tmp_path):
    spec = tmp_path / "plain.yaml"
    spec.write_text("target: fat\npipeline:\n  - split: {kind: kfold, n_splits: 3}\n  - model: {op: pls, "
                    "n_components: 3}\n", encoding="utf-8")
    assert loaded(["run", str(spec), "-w", str(tmp_path / "ws"), "--quiet"], ["optuna", "sklearn"]) == ["sklearn"]
