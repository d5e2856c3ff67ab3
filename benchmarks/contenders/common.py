"""What every contender script shares: reading the task, timing, peak RSS, writing the result."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np


def read_task() -> tuple[dict, dict[str, np.ndarray], Path]:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} TASK_JSON RESULT_JSON")
    task = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with np.load(task["data"]) as npz:
        data = {k: npz[k] for k in npz.files}
    return task, data, Path(sys.argv[2])


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_result(path: Path, **fields: object) -> None:
    path.write_text(json.dumps({**fields, "peak_rss_mb": peak_rss_mb()}, indent=1), encoding="utf-8")


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.ravel(y_pred) - np.ravel(y_true)) ** 2)))
