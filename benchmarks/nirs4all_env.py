"""The nirs4all contender's own virtual environment, outside the source tree (never a project dependency)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NIRS4ALL_VERSION = "1.4.10"


def env_dir() -> Path:
    base = Path(os.environ.get("NIRDAG_BENCH_CACHE", Path.home() / ".cache" / "nirdag-bench"))
    return base / f"nirs4all-{NIRS4ALL_VERSION}"


def ensure_nirs4all(install: bool = True) -> tuple[Path | None, str]:
    """Python of a venv holding nirs4all==1.4.10 (created on first use), or None and the reason."""
    venv = env_dir()
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import nirs4all; print(nirs4all.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python, f"nirs4all {NIRS4ALL_VERSION} in {venv}"
    if not install:
        return None, f"nirs4all venv missing at {venv} (run without --no-install to create it)"
    print(f"installing nirs4all=={NIRS4ALL_VERSION} into {venv} (once; about a minute) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"nirs4all=={NIRS4ALL_VERSION}"],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"could not install nirs4all: {' / '.join(tail)}"
    return python, f"nirs4all {NIRS4ALL_VERSION} in {venv}"
