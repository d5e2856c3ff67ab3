"""A real run whose refit keeps fitted objects: hoisted SNV, a fitted MSC branch, PLS sweeps, top 3 refit; its
bundle, and that bundle as a version 1 bundle (before domains)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.bundles.helpers import members, resealed, rezip

import nirdag
from nirdag.api import RunResult

SPEC = {
    "name": "bundle_test", "target": "fat", "seed": 0,
    "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
        {"op": "snv"},
        {"branch": {"msc": [{"op": "msc"}], "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2,
                                                      "deriv": 1}]}},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 10]}}},
    ],
    "refit": {"metric": "rmse", "top_k": 3},
}


@pytest.fixture(scope="package")
def tecator_ds():
    return nirdag.datasets.tecator()


@pytest.fixture(scope="package")
def bundle_run(tmp_path_factory, tecator_ds) -> RunResult:
    return nirdag.run(SPEC, tecator_ds, workspace=tmp_path_factory.mktemp("bundle") / "ws", seed=0)


@pytest.fixture(scope="package")
def bundle_file(bundle_run, tmp_path_factory) -> Path:
    return bundle_run.export(tmp_path_factory.mktemp("export") / "model.nirdag")


@pytest.fixture(scope="package")
def test_rows(tecator_ds):
    return tecator_ds.select("test", copy=True)


@pytest.fixture(scope="package")
def v1_bundle(bundle_file, tmp_path_factory) -> Path:
    """The bundle as nirdag wrote it before applicability domains: manifest schema_version 1, no domain."""

    def downgrade(manifest, _):
        manifest["schema_version"] = 1
        del manifest["domain"]
        manifest.pop("calibration", None)

    return rezip(tmp_path_factory.mktemp("v1") / "v1.nirdag", resealed(members(bundle_file), downgrade))
