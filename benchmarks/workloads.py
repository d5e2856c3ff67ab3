"""Benchmark workloads: fixed-seed data written once per run as .npz, and the task JSON every contender reads."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nirs_core.data import SpectraDataset, tecator
from nirs_core.data.synthetic import synthetic

GRID = ("snv", "msc", "sg1", "detrend")
SG = {"window_length": 11, "polyorder": 2, "deriv": 1}
SEED = 0


@dataclass(frozen=True)
class Case:
    """One measured case: a workload at one size, with the pipeline every contender runs."""

    workload: str
    size: int  # samples
    n_wavelengths: int
    preprocessings: tuple[str, ...]
    components: tuple[int, ...]
    n_splits: int = 5
    seed: int = SEED

    @property
    def key(self) -> str:
        return f"{self.workload}[{self.size}x{self.n_wavelengths}]"

    @property
    def n_chains(self) -> int:
        return len(self.preprocessings) * len(self.components)

    @property
    def cv_fits(self) -> int:
        """Model fits a plain loop performs in CV (one per chain and fold)."""
        return self.n_chains * self.n_splits


@dataclass(frozen=True)
class Task:
    case: Case
    task_file: Path
    data_file: Path
    extra: dict = field(default_factory=dict)


def _dataset(case: Case) -> SpectraDataset:
    if case.workload == "tecator_grid":
        return tecator()
    return synthetic(case.size, case.n_wavelengths, seed=case.seed + case.size)


def cases(suite: str) -> list[Case]:
    """The cases of a suite: ``smoke`` (tiny, for the test suite), ``ci`` (a few minutes without nirs4all: the
    check every change can afford), ``quick`` or ``full`` (adds the 2,000 x 1,000 grid and 8,000 to 50,000
    spectra)."""
    tec = Case("tecator_grid", 215, 100, GRID, tuple(range(1, 21)))
    if suite == "smoke":
        return [Case("synthetic_grid_S", 120, 60, ("snv", "msc"), tuple(range(1, 6)), n_splits=3)]
    scale = [500, 2_000] if suite in ("quick", "ci") else [500, 2_000, 8_000, 20_000, 50_000]
    grid = [] if suite in ("quick", "ci") else [Case("synthetic_grid_M", 2_000, 1_000, GRID, tuple(range(1, 21)))]
    return [tec, *grid, *(Case("synthetic_scale", n, 1_000, ("snv",), (10,)) for n in scale)]


def materialise(case: Case, folder: Path) -> Task:
    """Write the case's data (.npz: X_train, y_train, X_test, y_test) and its task JSON into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = _dataset(case)
    y = ds.target("fat" if case.workload == "tecator_grid" else "y")
    train, test = ds.rows("train"), ds.rows("test")
    data_file = folder / "data.npz"
    np.savez(data_file, X_train=ds.spectra[train], y_train=y[train], X_test=ds.spectra[test], y_test=y[test],
             wavelengths=ds.wavelengths)
    task = {
        "workload": case.workload, "case": case.key, "data": str(data_file), "seed": case.seed,
        "n_splits": case.n_splits, "preprocessings": list(case.preprocessings), "sg": SG, "detrend_order": 1,
        "components": list(case.components), "workdir": str(folder / "work"),
    }
    task_file = folder / "task.json"
    task_file.write_text(json.dumps(task, indent=1), encoding="utf-8")
    return Task(case=case, task_file=task_file, data_file=data_file, extra={"case": asdict(case)})
