"""docs/tutorial.md runs as written: every ```bash block, in order, in one folder, with this environment's
`nirdag` and `python` first on PATH; each must succeed, and the files it promises exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def test_the_tutorial_runs_as_written(tmp_path):
    blocks = BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for i, block in enumerate(blocks):
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=600, check=False)
        assert out.returncode == 0, f"block {i + 1} failed:\n{block}\n{out.stdout}\n{out.stderr}"
        if "nirdag run" in block:
            assert "172 train, 43 test" in out.stdout and "partition column 'set'" in out.stdout
    for promised in ("my_spectra.csv", "report.html", "influence.svg", "fat.nirdag", "predictions.csv"):
        assert (tmp_path / promised).stat().st_size > 0, promised
    predictions = (tmp_path / "predictions.csv").read_text().splitlines()
    assert predictions[0].startswith('"sample_id","target","y_pred"') and len(predictions) == 216
