"""Shared fixtures: one real run of the Tecator example into a temporary workspace (real Hamilton, Delta, SQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

import nirdag
from nirdag.api import RunResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tecator_pls.yaml"


@pytest.fixture(scope="session")
def tecator():
    return nirdag.datasets.tecator()


@pytest.fixture(scope="session")
def tecator_run(tmp_path_factory, tecator) -> RunResult:
    workspace = tmp_path_factory.mktemp("ws") / "workspace"
    return nirdag.run(EXAMPLE, tecator, workspace=workspace, seed=0)


@pytest.fixture(scope="session")
def example_spec() -> Path:
    return EXAMPLE
