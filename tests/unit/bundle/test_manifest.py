"""The bundle manifest: canonical JSON (golden file), strict decoding, schema versions."""

from __future__ import annotations

from pathlib import Path

import msgspec
import msgspec.structs
import pytest

from nirdag.bundle.errors import BundleError
from nirdag.bundle.manifest import (
    SCHEMA_VERSION,
    BaseChainEntry,
    ChainEntry,
    FoldEntry,
    Manifest,
    StepEntry,
    decode,
    encode,
)

GOLDEN = Path(__file__).with_name("golden") / "manifest_v1.json"
H = "ab" * 32


def example() -> Manifest:
    obj = f"objects/{'cd' * 32}.skops"
    model = f"objects/{'ef' * 32}.skops"
    return Manifest(
        schema_version=SCHEMA_VERSION, nirdag_version="0.1.0", created_at="2026-11-24T10:00:00+00:00",
        run_id="20261124T100000-0123abcd", training_dataset_hash=H, target_names=("fat",),
        wavelengths=(850.0, 852.5, 855.0), wavelength_unit="nm",
        chain=ChainEntry(chain_id=H, pipeline_hash=H, branch_name="snv", preprocessing="snv", model="pls",
                         n_components=9, steps=(
                             StepEntry(role="transformer", op="snv", class_path="nirs_core.operators.scatter.SNV",
                                       params={}, step_hash=H),
                             StepEntry(role="model", op="pls", class_path="nirs_core.operators.pls.PLSSweep",
                                       params={"n_components": 9, "scale": False}, step_hash=H))),
        metrics={"cv_rmse": 2.09, "final_test_rmse": 2.1},
        folds=(FoldEntry(fold_id="fold_final", steps=(obj,), model=model, y_transform=None),),
        members={obj: "cd" * 32, model: "ef" * 32},
    )


def test_manifest_json_matches_the_golden_file():
    assert encode(example()) == GOLDEN.read_bytes().strip()


def test_manifest_round_trips():
    assert decode(encode(example()), "bundle b") == example()


def test_a_newer_schema_version_is_refused_before_its_fields_are_read():
    data = msgspec.json.encode({"schema_version": SCHEMA_VERSION + 1, "something_new": True})
    with pytest.raises(BundleError, match=f"schema_version {SCHEMA_VERSION + 1} is newer"):
        decode(data, "bundle b")


def test_an_unknown_field_is_refused_with_its_path():
    raw = msgspec.json.decode(encode(example()))
    raw["chain"]["extra"] = 1
    with pytest.raises(BundleError, match=r"unknown field `extra` - at `\$.chain`"):
        decode(msgspec.json.encode(raw), "bundle b")


def test_a_stacked_manifest_records_its_base_chains_and_round_trips():
    plain = example()
    meta = f"objects/{'12' * 32}.skops"
    stacked = msgspec.structs.replace(
        plain, chain=msgspec.structs.replace(plain.chain, branch_name="stack", steps=(
            StepEntry(role="meta_model", op="sklearn:LinearRegression", class_path="x.LinearRegression", params={},
                      step_hash=H),)),
        folds=(FoldEntry(fold_id="fold_final", steps=(), model=meta, y_transform=None),),
        members={**plain.members, meta: "12" * 32},
        base_chains=(BaseChainEntry(chain=plain.chain, fold=plain.folds[0]),))
    assert b'"base_chains"' in encode(stacked) and b'"base_chains"' not in encode(plain)
    assert decode(encode(stacked), "bundle b") == stacked
